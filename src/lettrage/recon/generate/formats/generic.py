"""The generic canonical CSV: one column per canonical column of DOMAIN.md, as
`recon/readers/generic.py` reads it. Times are ISO 8601 local time with the UTC offset, dates ISO,
money integer cents, booleans true/false, empty cells for nulls."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.generate.formats.files import iso_dates, local_iso, write_by_day
from lettrage.recon.generate.group import HotelProfile


@functools.cache
def column_types(table: str) -> dict[str, str]:
    """Canonical column -> its pandera dtype name, lineage columns aside (readers add those)."""
    cols = schemas.model(table).to_schema().columns
    return {name: str(col.dtype) for name, col in cols.items() if name not in ("source_file", "ingested_at")}


def as_text(table: str, rows: pd.DataFrame, timezone: str) -> dict[str, np.ndarray]:
    """The canonical columns of `rows`, each turned into the text the generic CSV holds."""
    out = {}
    for name, dtype in column_types(table).items():
        col = rows[name]
        if dtype.startswith("datetime64"):
            out[name] = local_iso(col, timezone, offset=True)
        elif dtype == "date":
            out[name] = iso_dates(col)
        elif dtype == "boolean":
            out[name] = col.map({True: "true", False: "false"}).to_numpy(dtype=object)
        else:
            out[name] = col.astype(object).where(col.notna(), None).to_numpy()
    return out


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column: str | None) -> list[Path]:
    text = as_text(schemas.SOURCE_KINDS[kind], rows, profile.hotel.timezone)
    return write_by_day(directory, kind + ("_{date}.csv" if date_column else ".csv"), text,
                        rows[date_column].to_numpy() if date_column else None)
