"""The inbox: `inbox/<hotel_id>/<kind>/<file>` as the hotels deliver them.

`load()` reads every file of one kind that may hold rows of a business-date window, keeps those
rows, and says per file what was read and rejected. A file that cannot be read is reported (and
moved to quarantine by the caller's policy) while the other files still load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.hotels import HOTELS_FILE, Hotel, load_hotels
from lettrage.recon.readers import REJECT_COLUMNS, UnreadableFile, read_file

# The time column whose business date places a row, per canonical table.
TIME_COLUMN = {
    "pms_postings": "posted_at",
    "tpe_transactions": "txn_at",
    "remittances": "txn_at",
    "psp_transactions": "event_at",
}
# How far around a window a file's own date may lie and still hold rows of it
# (remittances arrive days after the sale; an export may run just after midnight).
FILE_DATE_SLACK = {"remittances": (2, 6), "reservations": (0, 0)}
DEFAULT_SLACK = (1, 2)

_DATE_IN_NAME = re.compile(r"(20\d{2})-?(\d{2})-?(\d{2})")


@dataclass(frozen=True)
class InboxFile:
    path: Path
    hotel_id: str
    kind: str

    @property
    def file_date(self) -> dt.date | None:
        m = _DATE_IN_NAME.search(self.path.name)
        if not m:
            return None
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None

    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass
class LoadResult:
    rows: pd.DataFrame
    rejects: pd.DataFrame
    files: list[dict] = field(default_factory=list)  # per file: path, format, rows_in, rows_out, rejected
    unreadable: list[tuple[InboxFile, str]] = field(default_factory=list)


def hotels_of(inbox_dir: Path) -> dict[str, Hotel]:
    return load_hotels(Path(inbox_dir) / HOTELS_FILE)


def scan(inbox_dir: Path, kinds: list[str] | None = None, hotel_ids: list[str] | None = None) -> list[InboxFile]:
    """Every delivered file, in a stable order."""
    inbox_dir = Path(inbox_dir)
    found = []
    for hotel_dir in sorted(p for p in inbox_dir.iterdir() if p.is_dir()) if inbox_dir.exists() else []:
        if hotel_dir.name.startswith("_") or (hotel_ids is not None and hotel_dir.name not in hotel_ids):
            continue  # "_truth" and the like are not hotels
        for kind_dir in sorted(p for p in hotel_dir.iterdir() if p.is_dir()):
            if kind_dir.name not in schemas.SOURCE_KINDS or (kinds is not None and kind_dir.name not in kinds):
                continue
            found += [InboxFile(f, hotel_dir.name, kind_dir.name)
                      for f in sorted(kind_dir.iterdir()) if f.is_file() and not f.name.startswith(".")]
    return found


def _may_hold(f: InboxFile, table: str, start: dt.date, end: dt.date) -> bool:
    day = f.file_date
    if day is None:
        return True
    before, after = FILE_DATE_SLACK.get(table, DEFAULT_SLACK)
    return start - dt.timedelta(days=before) <= day < end + dt.timedelta(days=after)


def add_business_dates(rows: pd.DataFrame, table: str, hotel: Hotel, file_date: dt.date | None) -> pd.DataFrame:
    """Fill business_date where the source did not give one, from the hotel's night audit."""
    if "business_date" not in rows.columns:
        rows["business_date"] = None
    missing = rows["business_date"].isna()
    if not missing.any():
        return rows
    col = TIME_COLUMN.get(table)
    if col is not None and col in rows.columns:
        times = pd.to_datetime(rows.loc[missing, col], utc=True)
        rows.loc[missing, "business_date"] = hotel.business_dates(times).where(times.notna(), None)
    if table == "remittances":
        still = rows["business_date"].isna()
        rows.loc[still, "business_date"] = rows.loc[still, "remittance_date"]
    still = rows["business_date"].isna()
    if still.any() and file_date is not None:
        rows.loc[still, "business_date"] = file_date
    return rows


def load(
    inbox_dir: Path,
    kind: str,
    start: dt.date,
    end: dt.date,
    hotels: dict[str, Hotel],
    trx_codes: pd.DataFrame | None = None,
    ingested_at: dt.datetime | None = None,
) -> LoadResult:
    """Canonical rows of one kind with business_date in [start, end), for the given hotels."""
    table = schemas.SOURCE_KINDS[kind]
    ingested_at = ingested_at or dt.datetime.now(dt.UTC)
    frames, rejects, stats, unreadable = [], [], [], []
    for f in scan(inbox_dir, [kind], list(hotels)):
        if not _may_hold(f, table, start, end):
            continue
        hotel = hotels[f.hotel_id]
        codes = trx_codes[trx_codes["hotel_id"] == f.hotel_id] if trx_codes is not None else None
        try:
            result = read_file(f.path, kind, hotel, trx_codes=codes)
        except UnreadableFile as exc:
            unreadable.append((f, str(exc)))
            continue
        rows = add_business_dates(result.rows, table, hotel, f.file_date)
        rows["ingested_at"] = pd.Timestamp(ingested_at)
        if "business_date" in rows.columns:
            in_window = rows["business_date"].map(lambda d: d is not None and not pd.isna(d) and start <= d < end)
            rows = rows[in_window]
        frames.append(rows)
        if len(result.rejects):
            rejects.append(result.rejects)
        stats.append({"file": str(f.path), "hotel_id": f.hotel_id, "format": result.format,
                      "rows_in": result.rows_in, "rows_read": result.rows_in - len(result.rejects),
                      "rejected": len(result.rejects), "in_window": len(rows), "masked_pans": result.masked_pans})
    model = schemas.model(table)
    rows = pd.concat(frames, ignore_index=True) if frames else schemas.empty_frame(table)
    rows = model.validate(rows[schemas.columns(table)]) if len(rows) else schemas.empty_frame(table)
    rej = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    return LoadResult(rows=rows, rejects=rej, files=stats, unreadable=unreadable)
