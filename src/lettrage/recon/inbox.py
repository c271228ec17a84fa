"""The inbox: `inbox/<hotel_id>/<kind>/<file>` as the hotels deliver them.

`load()` reads every file of one kind that may hold rows of a business-date window and keeps
those rows, with these rules:
- **Delivered twice**: files with the same content (sha256) are one delivery; the copies are
  recorded as `duplicate` of the first and not read again.
- **Corrected file**: files whose names differ only by a version mark (`_v2`, `-corrige`,
  `_rectif`, ` (1)`, ...) are versions of one delivery; the highest version (then the latest
  delivered) is read and the others are recorded as `replaced` by it. A file re-delivered under
  the same name simply replaces the old bytes. A row id that still appears in two files (an
  overlapping export) is kept from the later file and rejected in the earlier, naming both.
- **Unreadable file**: moved to `quarantine/<hotel_id>/<kind>/` beside the inbox with a
  `<name>.reason.txt`; the other files still load.
- **Accounting**: per file, rows in = rows out + rows rejected; every reject keeps its line,
  reason and (masked) raw text. Card numbers are masked and counted by the readers.
`business_dates_of()` tells the inbox sensor which business dates a file feeds, from its content
(or its name, for a file too big to peek at or that cannot be read).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.hotels import HOTELS_FILE, Hotel, load_hotels
from lettrage.recon.masking import mask
from lettrage.recon.readers import UnreadableFile, read_file
from lettrage.recon.readers.conventions import date_in_name
from lettrage.recon.readers.hotel_config import hotel_mappings
from lettrage.recon.readers.records import ID_COLUMN, validate

# How far around a window a file's own date may lie and still hold rows of it
# (remittances arrive days after the sale; an export may run just after midnight).
FILE_DATE_SLACK = {"remittances": (2, 6), "reservations": (0, 0)}
DEFAULT_SLACK = (1, 2)
REJECT_COLUMNS = ["hotel_id", "kind", "source_file", "file_sha256", "line_no", "reason", "raw", "ingested_at"]
# A corrected delivery: the same name with a version mark before the extension.
_VERSION = re.compile(r"(?:[ _.\-](?:v|version|rev|corr|corrige|corrected|correction|rectif|rectificatif|bis|ter|"
                      r"new|final)(\d*)|\s*\((\d+)\))$", re.IGNORECASE)
PEEK_LIMIT_BYTES = 20_000_000


@dataclass(frozen=True)
class InboxFile:
    path: Path
    hotel_id: str
    kind: str

    @property
    def file_date(self) -> dt.date | None:
        return date_in_name(self.path.name)

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @property
    def delivery(self) -> tuple[str, int]:
        """(name without version marks, version): files sharing the name are versions of one delivery."""
        stem, suffix = self.path.stem, self.path.suffix
        version = 0
        while m := _VERSION.search(stem):
            number = m[1] or m[2]
            version = max(version, int(number) if number else 1)
            stem = stem[: m.start()]
        return stem.lower() + suffix.lower(), version


@dataclass
class LoadResult:
    rows: pd.DataFrame
    rejects: pd.DataFrame
    files: list[dict] = field(default_factory=list)  # the file registry rows (inbox_files)
    unreadable: list[tuple[InboxFile, str]] = field(default_factory=list)

    @property
    def masked_pans(self) -> int:
        return sum(f["masked_pans"] or 0 for f in self.files)

    def registry(self) -> pd.DataFrame:
        """The `inbox_files` rows of this load."""
        frame = pd.DataFrame(self.files, columns=schemas.columns("inbox_files"))
        return schemas.model("inbox_files").validate(frame) if len(frame) else schemas.empty_frame("inbox_files")

    def reject_rows(self) -> pd.DataFrame:
        """The `rejects` rows of this load, each with a stable id (file content, line, reason)."""
        if self.rejects.empty:
            return schemas.empty_frame("rejects")
        frame = self.rejects.copy()
        frame["reject_id"] = [
            hashlib.sha256(f"{sha}|{line}|{reason}".encode()).hexdigest()[:24]
            for sha, line, reason in zip(frame["file_sha256"], frame["line_no"], frame["reason"], strict=True)]
        frame = frame.drop_duplicates("reject_id")
        return schemas.model("rejects").validate(frame[schemas.columns("rejects")])

    def read_shas(self) -> list[str]:
        return [f["sha256"] for f in self.files if f["status"] == "read"]


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


def file_period(f: InboxFile, table: str) -> tuple[dt.date | None, dt.date | None]:
    """The business dates a file may hold, from the date in its name (None, None without one)."""
    day = f.file_date
    if day is None:
        return None, None
    before, after = FILE_DATE_SLACK.get(table, DEFAULT_SLACK)
    return day - dt.timedelta(days=after), day + dt.timedelta(days=before)


def _may_hold(f: InboxFile, table: str, start: dt.date, end: dt.date) -> bool:
    first, last = file_period(f, table)
    return first is None or (first < end and last >= start)


def plan(files: list[InboxFile]) -> dict[Path, dict]:
    """Which files to read, and why the others are not: duplicates by content, replaced versions."""
    decisions: dict[Path, dict] = {}
    by_content: dict[tuple, InboxFile] = {}
    ordered = sorted(files, key=lambda f: (f.path.stat().st_mtime_ns, f.path.name))
    shas = {f.path: f.sha256() for f in ordered}
    for f in ordered:
        key = (f.hotel_id, f.kind, shas[f.path])
        if key in by_content:
            decisions[f.path] = {"status": "duplicate", "detail": f"same content as {by_content[key].path.name}",
                                 "sha256": shas[f.path]}
        else:
            by_content[key] = f
            decisions[f.path] = {"status": "read", "detail": None, "sha256": shas[f.path]}
    latest: dict[tuple, InboxFile] = {}
    for f in ordered:
        if decisions[f.path]["status"] != "read":
            continue
        name, version = f.delivery
        key = (f.hotel_id, f.kind, name)
        best = latest.get(key)
        if best is None or version >= best.delivery[1]:
            if best is not None:
                decisions[best.path].update(status="replaced", detail=f"replaced by {f.path.name}")
            latest[key] = f
        else:
            decisions[f.path].update(status="replaced", detail=f"replaced by {best.path.name}")
    return decisions


def quarantine(f: InboxFile, reason: str, quarantine_dir: Path, sha256: str) -> Path:
    """Move an unreadable file out of the inbox, with a reason file beside it."""
    target_dir = Path(quarantine_dir) / f.hotel_id / f.kind
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f.path.name
    if target.exists():
        target = target_dir / f"{f.path.stem}.{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}{f.path.suffix}"
    shutil.move(str(f.path), target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {mask(str(f.path))}\nhotel: {f.hotel_id}\nkind: {f.kind}\nsha256: {sha256}\n"
        f"quarantined_at: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\nreason: {mask(reason)}\n",
        encoding="utf-8")
    return target


def load(
    inbox_dir: Path,
    kind: str,
    start: dt.date,
    end: dt.date,
    hotels: dict[str, Hotel],
    trx_codes: pd.DataFrame | None = None,
    ingested_at: dt.datetime | None = None,
    quarantine_dir: Path | None = None,
) -> LoadResult:
    """Canonical rows of one kind with business_date in [start, end), for the given hotels."""
    table = schemas.SOURCE_KINDS[kind]
    ingested_at = ingested_at or dt.datetime.now(dt.UTC)
    stamp = pd.Timestamp(ingested_at)
    files = [f for f in scan(inbox_dir, [kind], list(hotels)) if _may_hold(f, table, start, end)]
    decisions = plan(files)
    frames, rejects, registry, unreadable = [], [], [], []
    mappings, broken = {}, {}
    for h in {f.hotel_id for f in files}:
        try:
            mappings[h] = hotel_mappings(Path(inbox_dir) / h)
        except ValueError as exc:  # the hotel's settings are wrong, not its files: hold them, keep them
            broken[h] = f"not read: {exc}"
    for order, f in enumerate(files):
        decision = decisions[f.path]
        entry = _registry_row(f, table, decision, stamp)
        registry.append(entry)
        if decision["status"] == "read" and f.hotel_id in broken:
            entry.update(status="held", detail=mask(broken[f.hotel_id]))
            unreadable.append((f, entry["detail"]))
        if entry["status"] != "read":
            continue
        codes = trx_codes[trx_codes["hotel_id"] == f.hotel_id] if trx_codes is not None else None
        try:
            result = read_file(f.path, kind, hotels[f.hotel_id], trx_codes=codes, mappings=mappings[f.hotel_id],
                               validate=False)
        except UnreadableFile as exc:
            reason = str(exc)
            unreadable.append((f, reason))
            entry.update(status="unreadable", detail=reason)
            if quarantine_dir is not None:
                moved = quarantine(f, reason, quarantine_dir, decision["sha256"])
                entry.update(status="quarantined", path=mask(str(moved)))
            continue
        if len(result.rows):
            result.rows["_order"] = order
            frames.append(result.rows)
        entry.update(format=result.format, encoding=result.encoding, rows_in=result.rows_in,
                     rows_out=len(result.rows), rejected=len(result.rejects), masked_pans=result.masked_pans)
        if len(result.rejects):
            rejects.append(_rejects(result.rejects, f, decision["sha256"], stamp))
    rows = None
    if frames:
        valid, orders, more = settle(pd.concat(frames, ignore_index=True), table, files, registry, stamp)
        rejects += more
        in_window = valid["business_date"].map(lambda d: start <= d < end).to_numpy()
        counts = pd.Series(orders[in_window]).value_counts()
        for order, entry in enumerate(registry):
            if entry["status"] == "read":
                entry["in_window"] = int(counts.get(order, 0))
        rows = valid[in_window].reset_index(drop=True)
        rows["ingested_at"] = stamp
    rej = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    rows = rows if rows is not None and len(rows) else schemas.empty_frame(table)
    return LoadResult(rows=rows, rejects=rej, files=registry, unreadable=unreadable)


def settle(rows: pd.DataFrame, table: str, files: list[InboxFile], registry: list[dict], stamp):
    """Validate the rows of every file at once. A row whose id repeats an earlier line of its file,
    or that a later file delivers again, or that fails the schema, becomes a reject of its file.
    Returns the valid rows, the file (position) of each, and the rejects."""
    key = list(schemas.TABLES[table][1])
    reasons: dict[int, str] = {}
    if ID_COLUMN.get(table):
        id_col = key[0]
        within = rows.duplicated([*key, "_order"], keep="first")
        if within.any():
            first_line = rows[~within].set_index([*key, "_order"])["_line_no"]
            for i in rows.index[within]:
                line = first_line.get(tuple(rows.loc[i, [*key, "_order"]]))
                reasons[i] = f"{id_col} {rows.at[i, id_col]} repeats line {line}"
        later = rows[~within].duplicated(key, keep="last")
        if later.any():
            last_file = rows[~within][~later].set_index(key)["_order"]
            for i in later[later].index:
                found = last_file.get(tuple(rows.loc[i, key]) if len(key) > 1 else rows.at[i, key[0]])
                reasons[i] = (f"{id_col} {rows.at[i, id_col]} is also in {mask(files[int(found)].path.name)}, "
                              f"delivered later: that row is kept")
    remaining = rows.drop(index=list(reasons))
    valid, bad = validate(remaining.drop(columns=["_order", "_line_no", "_raw"]).reset_index(drop=True), table)
    positions = remaining.index.to_numpy()
    for pos, reason in bad:
        reasons[int(positions[pos])] = reason
    orders = remaining["_order"].to_numpy()[[p for p in range(len(remaining)) if p not in dict(bad)]]
    out = []
    for i, reason in sorted(reasons.items()):
        order = int(rows.at[i, "_order"])
        entry = registry[order]
        entry["rows_out"] -= 1
        entry["rejected"] += 1
        line = rows.at[i, "_line_no"]
        out.append({"hotel_id": entry["hotel_id"], "kind": entry["kind"], "source_file": rows.at[i, "source_file"],
                    "file_sha256": entry["sha256"], "line_no": None if pd.isna(line) else int(line),
                    "reason": reason, "raw": rows.at[i, "_raw"], "ingested_at": stamp})
    return valid, orders, ([pd.DataFrame(out, columns=REJECT_COLUMNS)] if out else [])


def _registry_row(f: InboxFile, table: str, decision: dict, stamp) -> dict:
    first, last = file_period(f, table)
    return {"hotel_id": f.hotel_id, "kind": f.kind, "file_name": mask(f.path.name), "path": mask(str(f.path)),
            "sha256": decision["sha256"], "size_bytes": f.path.stat().st_size, "file_date": f.file_date,
            "period_start": first, "period_end": last, "status": decision["status"], "detail": decision["detail"],
            "format": None, "encoding": None, "rows_in": 0, "rows_out": 0, "rejected": 0, "in_window": 0,
            "masked_pans": 0, "ingested_at": stamp}


def _rejects(frame: pd.DataFrame, f: InboxFile, sha: str, stamp) -> pd.DataFrame:
    out = frame.copy()
    out["hotel_id"], out["kind"], out["file_sha256"], out["ingested_at"] = f.hotel_id, f.kind, sha, stamp
    return out[REJECT_COLUMNS]


def business_dates_of(f: InboxFile, hotel: Hotel, mappings: dict | None = None) -> set[dt.date]:
    """The business dates a delivered file feeds: from its rows when it can be read cheaply, else
    from the date in its name (an unreadable file is quarantined by the run of that date). A
    reservation export feeds the date it is named after."""
    table = schemas.SOURCE_KINDS[f.kind]
    if table == "reservations" and f.file_date:
        return {f.file_date}
    try:
        if f.path.stat().st_size <= PEEK_LIMIT_BYTES and table != "trx_codes":
            rows = read_file(f.path, f.kind, hotel, mappings=mappings, validate=False).rows
            dates = {d.date() if isinstance(d, dt.datetime) else d for d in rows["business_date"]
                     if isinstance(d, dt.date)}
            if dates:
                return dates
    except (UnreadableFile, OSError):
        pass
    return {f.file_date} if f.file_date else set()
