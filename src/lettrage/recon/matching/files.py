"""Canonical files (parquet, CSV, folders of parts) seen as the canonical tables, for `lettrage
match` and the benchmark: each file becomes a view with the columns of DOMAIN.md (a column the file
lacks reads as NULL), so the engine runs on files exactly as it runs on the warehouse."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import duckdb

from lettrage.recon import schemas
from lettrage.recon.matching.sides import table_exists


class BadFile(ValueError):
    """A file that cannot serve as a canonical table; the message names it and the problem."""


def _reader(path: Path) -> str:
    """The DuckDB reader of a canonical file: parquet, CSV (also gzipped), or a folder of either
    (a dataset as Spark or pyarrow write it, in parts, hive partitions such as
    business_date=2025-03-01 read as columns; the parts need not all have every column)."""
    source, parts = str(path).replace("'", "''"), ""
    if path.is_dir():
        kind = next((k for k in ("parquet", "csv") if next(path.rglob(f"*.{k}"), None)), None)
        if kind is None:
            raise BadFile(f"{path}: a folder with no parquet or CSV file in it")
        source, parts = f"{source}/**/*.{kind}", ", union_by_name = true"
    else:
        kind = "csv" if path.name.lower().endswith((".csv", ".csv.gz")) else "parquet"
    return f"read_csv('{source}', header = true{parts})" if kind == "csv" else f"read_parquet('{source}'{parts})"


def register(conn: duckdb.DuckDBPyConnection, table: str, path: Path, required: tuple[str, ...]) -> int:
    """Create view `table` over the file; returns its row count."""
    path = Path(path)
    if not path.exists():
        raise BadFile(f"{path}: no such file")
    try:
        have = {r[0]: r[1] for r in conn.execute(f"DESCRIBE SELECT * FROM {_reader(path)}").fetchall()}
    except duckdb.Error as exc:
        raise BadFile(f"{path}: not a readable {path.suffix.lstrip('.') or 'parquet'} file "
                      f"({str(exc).splitlines()[0]})") from exc
    missing = [c for c in required if c not in have]
    if missing:
        raise BadFile(f"{path}: missing column(s) {', '.join(missing)} for {table}")
    dated_by = [c for c in DATED_BY.get(table, ()) if c in have]
    if "business_date" not in have and not dated_by:
        raise BadFile(f"{path}: no business_date, nor {' or '.join(DATED_BY[table])} to tell it, for {table}")
    cols = []
    for name, col in schemas.model(table).to_schema().columns.items():
        sql_type = schemas.sql_type(col)
        if name == "business_date" and name not in have:
            cols.append(f"{_business_date(conn, dated_by)} AS {name}")
        elif name in have:
            value = f"CAST({name} AS {sql_type})" if have[name] != sql_type else name
            if name in ENUMERATED.get(table, ()):
                value = _as_written_here(conn, path, name, value)
            cols.append(f"{value} AS {name}")
        else:
            cols.append(f"CAST(NULL AS {sql_type}) AS {name}")
    conn.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {', '.join(cols)} FROM {_reader(path)}")
    return conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


# Columns whose values DOMAIN.md names in lower case ('sale', 'terminal'): another tool may write
# 'SALE' or ' Terminal '.
ENUMERATED = {"pms_postings": ("channel",), "tpe_transactions": ("txn_type",),
              "psp_transactions": ("operation", "status"), "remittances": ("line_type",)}


def _as_written_here(conn, path: Path, name: str, value: str) -> str:
    """`value` with the file's spellings of a DOMAIN value put right (a CASE over the few distinct
    values that need it; the column as it is when none does)."""
    seen = [r[0] for r in conn.execute(f"SELECT DISTINCT {value} FROM {_reader(path)}").fetchall()]
    fix = {v: v.strip().lower() for v in seen if v is not None and v != v.strip().lower()}
    if not fix:
        return value
    whens = " ".join("WHEN '" + raw.replace("'", "''") + "' THEN '" + good.replace("'", "''") + "'"
                     for raw, good in sorted(fix.items()))
    return f"(CASE {value} {whens} ELSE {value} END)"


REQUIRED = {
    "pms_postings": ("posting_id", "hotel_id", "business_date", "posted_at", "amount_cents"),
    "tpe_transactions": ("tpe_txn_id", "hotel_id", "txn_at", "business_date", "amount_cents"),
    "remittances": ("remittance_line_id", "hotel_id", "line_type"),
    "psp_transactions": ("psp_txn_id", "hotel_id", "event_at", "amount_cents", "operation", "status"),
}
# DOMAIN.md gives PSP payments and remittance lines no business date (the warehouse's readers add
# it): a file without one gets it from these columns, the first not NULL, as the readers do.
DATED_BY = {"psp_transactions": ("event_at",), "remittances": ("txn_at", "remittance_date")}


def _business_date(conn: duckdb.DuckDBPyConnection, columns: list[str]) -> str:
    """SQL: the business date of a row, from the first of `columns` not NULL: a time is read on
    its hotel's clock and night audit (`hotels` table, registered first; a hotel not in it as the
    engine takes it: UTC, audit at midnight), a date is the date."""
    from lettrage.recon.hotels import Hotel

    zones, offsets = {}, {}
    if table_exists(conn, "hotels"):
        for hotel_id, zone, audit in conn.execute("SELECT hotel_id, timezone, night_audit_time FROM hotels").fetchall():
            hotel = Hotel(hotel_id, hotel_id, zone or "UTC", night_audit_time=audit or "00:00")
            zones[hotel_id], offsets[hotel_id] = hotel.timezone, int(hotel.audit_offset.total_seconds())

    def literal(values: dict) -> str:
        return "MAP {" + ", ".join(f"{_quote(k)}: {_quote(v) if isinstance(v, str) else v}"
                                   for k, v in values.items()) + "}"

    key = "CAST(hotel_id AS VARCHAR)"  # a CSV of numeric hotel ids reads them as numbers
    zone = f"coalesce({literal(zones)}[{key}], 'UTC')" if zones else "'UTC'"
    offset = f"coalesce({literal(offsets)}[{key}], 0)" if offsets else "0"
    days = [f"CAST(timezone({zone}, CAST({c} AS TIMESTAMPTZ)) - to_seconds({offset}) AS DATE)" if c.endswith("_at")
            else f"CAST({c} AS DATE)" for c in columns]
    return days[0] if len(days) == 1 else f"coalesce({', '.join(days)})"


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def register_hotels(conn: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The hotels' settings (hotels.csv) as table `hotels`."""
    from lettrage.recon.hotels import Hotel, load_hotels

    try:
        hotels = load_hotels(Path(path))
    except (FileNotFoundError, ValueError) as exc:
        raise BadFile(str(exc)) from exc
    types = {f.name: "BIGINT" if f.type == "int" else "VARCHAR" for f in fields(Hotel)}
    conn.execute(f"CREATE OR REPLACE TEMP TABLE hotels ({', '.join(f'{c} {t}' for c, t in types.items())})")
    # a list a column, unnested side by side: one statement, not one a hotel
    conn.execute(f"INSERT INTO hotels SELECT {', '.join(f'unnest(?::{t}[])' for t in types.values())}",
                 [[getattr(h, c) for h in hotels.values()] for c in types])
    return len(hotels)
