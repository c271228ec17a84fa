"""Generic CSV: one column per canonical column (DOMAIN.md names), ISO dates and times.

Times with an offset are taken as written; times without one are the hotel's local time.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.readers import REJECT_COLUMNS, ReadResult, UnreadableFile

KIND_TABLES = schemas.SOURCE_KINDS


def _to_utc(values: pd.Series, hotel) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=False)
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_convert("UTC")
    # mixed or naive: parse element-wise so local times get the hotel's zone
    out = []
    for v in values:
        if v is None or pd.isna(v) or v == "":
            out.append(pd.NaT)
            continue
        ts = pd.Timestamp(v)
        if ts.tzinfo is None:
            ts = ts.tz_localize(hotel.timezone, ambiguous=True, nonexistent="shift_forward")
        out.append(ts.tz_convert("UTC"))
    return pd.to_datetime(pd.Series(out, index=values.index, dtype="object"), utc=True)


def read(path: Path, kind: str, hotel, trx_codes: pd.DataFrame | None = None) -> ReadResult:
    table = KIND_TABLES.get(kind)
    if table is None:
        raise UnreadableFile(path, f"unknown kind {kind!r}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise UnreadableFile(path, "the file is empty") from exc
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"not UTF-8 text ({exc.reason})") from exc
    model = schemas.model(table)
    cols = model.to_schema().columns
    required = [c for c, col in cols.items() if not col.nullable and c not in ("source_file", "ingested_at", "hotel_id")]
    missing = [c for c in required if c not in raw.columns and not (c == "business_date")]
    if missing:
        raise UnreadableFile(path, f"missing columns: {', '.join(missing)}", line=1)
    frame = raw.replace({"": None})
    for name, col in cols.items():
        if name not in frame.columns:
            frame[name] = None
            continue
        dtype = str(col.dtype)
        if dtype.startswith("datetime64"):
            frame[name] = _to_utc(frame[name], hotel)
        elif dtype == "Int64":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int64")
        elif dtype == "date":
            frame[name] = pd.to_datetime(frame[name], errors="coerce", format="ISO8601").dt.date
        elif dtype == "boolean":
            frame[name] = frame[name].map(
                lambda v: None if v is None else str(v).strip().lower() in ("1", "true", "yes", "y", "t"))
    frame["hotel_id"] = frame["hotel_id"].fillna(hotel.hotel_id) if "hotel_id" in raw.columns else hotel.hotel_id
    frame["source_file"] = str(path)
    # a row whose required value did not parse is rejected with its line number (header is line 1)
    bad = pd.Series(False, index=frame.index)
    reasons = pd.Series("", index=frame.index)
    for name in required:
        if name in frame.columns:
            miss = frame[name].isna()
            reasons = reasons.where(~miss | (reasons != ""), f"{name} is missing or unreadable")
            bad |= miss
    rejects = pd.DataFrame({
        "source_file": str(path),
        "line_no": frame.index[bad] + 2,
        "reason": reasons[bad].values,
        "raw": raw[bad].astype(str).agg(",".join, axis=1).values if bad.any() else [],
    }, columns=REJECT_COLUMNS)
    return ReadResult(rows=frame[~bad].reset_index(drop=True), rejects=rejects, rows_in=len(raw), format="generic")
