"""From a file's records to canonical rows, the same way for every format.

A format module splits its file into `Record`s (line number, raw text, fields as text) and
gives a `convert(fields) -> dict` that returns one canonical row or raises `RowProblem`.
`build()` then does what every format needs, once:
1. masks card numbers in every field and in the raw text, counting them,
2. converts each record; a failure becomes a reject (line, reason, masked raw text),
3. fills lineage, the hotel's currency, the card brand and channel of PMS codes (trx_codes),
   the business date from the hotel's night audit, and stable ids (the source's own key, else a
   hash of the row's content and its position among identical rows),
4. validates every row against the table's pandera model; a failing row is rejected with the
   check it failed, a duplicate id with the line it repeats.
So `rows_in == len(rows) + len(rejects)` always holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.errors

from lettrage.recon import schemas
from lettrage.recon.masking import mask, mask_text
from lettrage.recon.readers import REJECT_COLUMNS, ReadResult
from lettrage.recon.readers.conventions import RowProblem, date_in_name

ID_COLUMN = {"pms_postings": "posting_id", "tpe_transactions": "tpe_txn_id", "remittances": "remittance_line_id",
             "psp_transactions": "psp_txn_id", "reservations": "reservation_id"}
# The time whose business date places a row, per table.
TIME_COLUMN = {"pms_postings": "posted_at", "tpe_transactions": "txn_at", "remittances": "txn_at",
               "psp_transactions": "event_at"}


@dataclass
class Record:
    line_no: int
    raw: str
    fields: dict[str, str | None]
    raw_masked: bool = False  # the reader masked `raw` itself (fixed-width: field by field)


def mask_record(record: Record) -> int:
    """Mask card numbers in a record's fields (in place); raw text is masked deep. Returns the count."""
    count = 0
    for key, value in record.fields.items():
        if isinstance(value, str):
            record.fields[key], n = mask_text(value)
            count += n
    if not record.raw_masked:
        record.raw = mask(record.raw)
    return count


def build(path, kind: str, hotel, records: Iterable[Record], convert: Callable[[dict], dict], *,
          trx_codes: pd.DataFrame | None = None, file_date: dt.date | None = None,
          encoding: str = "", id_prefix: str | None = None) -> ReadResult:
    """Canonical rows and rejects of one file. Ids get `id_prefix` (default: the hotel id and ':'),
    so that two hotels' source keys never collide; the generic format's ids are taken as written."""
    table = schemas.SOURCE_KINDS[kind]
    source_file = mask(str(path))
    file_date = file_date or date_in_name(Path(path).name) or _modified_date(path, hotel)
    rows, lines, raws, rejects = [], [], [], []
    masked = rows_in = 0
    for record in records:
        rows_in += 1
        masked += mask_record(record)
        if "__problem__" in record.fields:  # the splitter already knows the record is broken
            rejects.append((record.line_no, record.fields["__problem__"], record.raw))
            continue
        try:
            row = convert(record.fields)
        except RowProblem as exc:
            rejects.append((record.line_no, mask(str(exc)), record.raw))
            continue
        rows.append(row)
        lines.append(record.line_no)
        raws.append(record.raw)
    frame = pd.DataFrame(rows, columns=schemas.columns(table)) if rows else schemas.empty_frame(table).iloc[0:0]
    frame = frame.astype(object).where(frame.notna(), None) if len(frame) else frame
    if len(frame):
        frame["hotel_id"] = hotel.hotel_id
        frame["source_file"] = source_file
        frame["ingested_at"] = pd.Timestamp(dt.datetime.now(dt.UTC))
        if "currency" in frame.columns:
            frame["currency"] = frame["currency"].map(lambda c: (c or hotel.currency).upper())
        if table == "pms_postings":
            frame = apply_trx_codes(frame, trx_codes)
        frame = fill_business_dates(frame, table, hotel, file_date)
        frame = fill_ids(frame, table, f"{hotel.hotel_id}:" if id_prefix is None else id_prefix)
    if len(frame):
        frame["_line_no"], frame["_raw"] = lines, raws
    return ReadResult(rows=frame, rejects=reject_frame(source_file, rejects), rows_in=rows_in, masked_pans=masked,
                      encoding=encoding)


def reject_frame(source_file: str, rejects: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame([(source_file, line, reason, raw) for line, reason, raw in sorted(rejects, key=lambda r: r[0])],
                         columns=REJECT_COLUMNS)
    frame["line_no"] = frame["line_no"].astype("Int64")
    return frame


def finish(result: ReadResult, kind: str) -> ReadResult:
    """Validate the rows of one file: a row failing the schema, or repeating an id, joins the rejects."""
    table = schemas.SOURCE_KINDS[kind]
    rows = result.rows
    if "_line_no" not in rows.columns:
        result.rows = validate(rows, table)[0] if len(rows) else schemas.empty_frame(table)
        return result
    lines, raws = list(rows["_line_no"]), list(rows["_raw"])
    valid, bad = validate(rows.drop(columns=["_line_no", "_raw"]), table, lines)
    source_file = rows["source_file"].iloc[0]
    extra = [(lines[i], reason, raws[i]) for i, reason in bad]
    kept = list(result.rejects.itertuples(index=False, name=None))
    result.rows = valid
    result.rejects = reject_frame(source_file, [(line, reason, raw) for _, line, reason, raw in kept] + extra)
    return result


def _modified_date(path, hotel) -> dt.date | None:
    """The business date a file was delivered on, for rows that carry no date of their own (a
    reservation export named without its date)."""
    try:
        return hotel.business_date(dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.UTC))
    except OSError:
        return None


def apply_trx_codes(frame: pd.DataFrame, trx_codes: pd.DataFrame | None) -> pd.DataFrame:
    """Card brand and channel of each posting from the hotel's code table (DOMAIN.md: the brand of a
    PMS posting is its code's). A code the table does not know keeps what its file said."""
    if trx_codes is None or trx_codes.empty:
        return frame
    codes = trx_codes.drop_duplicates("trx_code", keep="last").set_index(trx_codes.drop_duplicates(
        "trx_code", keep="last")["trx_code"].astype(str).str.strip())
    known = frame["trx_code"].astype(str).str.strip()
    brand = known.map(codes["card_brand"]) if "card_brand" in codes else None
    channel = known.map(codes["channel"]) if "channel" in codes else None
    if brand is not None:
        frame["card_brand"] = brand.where(brand.notna(), frame["card_brand"])
    if channel is not None:
        frame["channel"] = channel.where(channel.notna(), frame["channel"])
    frame = frame.astype(object).where(frame.notna(), None)
    return frame


def fill_business_dates(frame: pd.DataFrame, table: str, hotel, file_date: dt.date | None) -> pd.DataFrame:
    """Business date from the row's time and the hotel's night audit, where the file gave none."""
    if "business_date" not in frame.columns:
        return frame
    missing = frame["business_date"].isna()
    col = TIME_COLUMN.get(table)
    if missing.any() and col:
        times = pd.to_datetime(frame.loc[missing, col], utc=True)
        dates = hotel.business_dates(times)
        frame.loc[missing, "business_date"] = [d if t is not pd.NaT and not pd.isna(t) else None
                                               for d, t in zip(dates, times, strict=True)]
    if table == "remittances":
        still = frame["business_date"].isna()
        frame.loc[still, "business_date"] = frame.loc[still, "remittance_date"]
    still = frame["business_date"].isna()
    if still.any() and file_date is not None:
        frame.loc[still, "business_date"] = file_date
    return frame


def fill_ids(frame: pd.DataFrame, table: str, prefix: str) -> pd.DataFrame:
    """Ids stable across re-ingestion: the source's key, else a hash of the row's content and its
    position among identical rows (so the same file read twice gives the same ids)."""
    id_col = ID_COLUMN.get(table)
    if id_col is None or id_col not in frame.columns:
        return frame
    missing = frame[id_col].isna()
    if missing.any():
        content_cols = [c for c in frame.columns if c not in (id_col, "ingested_at", "source_file")]
        content = frame.loc[missing, content_cols].astype(str).agg("\x1f".join, axis=1)
        occurrence = content.groupby(content).cumcount()
        frame.loc[missing, id_col] = [
            prefix + hashlib.sha256(f"{c}\x1e{n}".encode()).hexdigest()[:20]
            for c, n in zip(content, occurrence, strict=True)]
    have = ~missing
    frame.loc[have, id_col] = prefix + frame.loc[have, id_col].astype(str)
    return frame


def validate(frame: pd.DataFrame, table: str, lines: list[int] | None = None) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Rows that pass the pandera model, and (position, reason) for those that do not. With `lines`
    (one file), a repeated id is also a failure naming the line it repeats."""
    model = schemas.model(table)
    if frame.empty:
        return schemas.empty_frame(table), []
    frame = frame.reset_index(drop=True)
    bad: dict[int, str] = {}
    id_col = ID_COLUMN.get(table)
    key = list(schemas.TABLES[table][1])
    if id_col and lines is not None:
        dup = frame.duplicated(key, keep="first")
        if dup.any():
            first = {tuple(r): i for i, r in reversed(list(enumerate(frame[key].itertuples(index=False))))}
            for i in frame.index[dup]:
                bad[i] = f"{id_col} {frame.at[i, id_col]} repeats line {lines[first[tuple(frame.loc[i, key])]]}"
    candidates = frame.drop(index=list(bad))
    for _ in range(3):  # rows that fail coercion are found a few at a time
        try:
            valid = model.validate(candidates[schemas.columns(table)], lazy=True)
            break
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            rows_failed = cases[cases["index"].notna()]
            if rows_failed.empty:
                raise
            for _, case in rows_failed.iterrows():
                i = int(case["index"])
                if i not in bad:
                    bad[i] = _reason(case)
            candidates = frame.drop(index=list(bad))
    else:  # pragma: no cover - three rounds always settle a file
        valid = model.validate(candidates[schemas.columns(table)], lazy=True)
    return valid.reset_index(drop=True), sorted(bad.items())


def _reason(case) -> str:
    column, check, value = case.get("column"), str(case.get("check")), case.get("failure_case")
    if check == "not_nullable":
        return f"{column} is missing"
    if check.startswith("isin"):
        return f"{column} {value!r} is not one of the allowed values"
    if check.startswith("str_matches"):
        return f"{column} {value!r} has the wrong form"
    if check.startswith("coerce_dtype"):
        return f"{column} {value!r} is not a {check.split('(')[-1].rstrip(')')}"
    return f"{column} {value!r} fails {check}"
