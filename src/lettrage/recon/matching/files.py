"""Canonical files (parquet, CSV) seen as the canonical tables, for `lettrage match` and the
benchmark: each file becomes a view with the columns of DOMAIN.md (a column the file lacks reads
as NULL), so the engine runs on files exactly as it runs on the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lettrage.recon import schemas


class BadFile(ValueError):
    """A file that cannot serve as a canonical table; the message names it and the problem."""


def _reader(path: Path) -> str:
    p = str(path).replace("'", "''")
    if path.suffix.lower() == ".csv":
        return f"read_csv('{p}', header = true, all_varchar = false)"
    return f"read_parquet('{p}')"


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
    cols = []
    for name, col in schemas.model(table).to_schema().columns.items():
        sql_type = schemas.sql_type(col)
        if name in have:
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
    "remittances": ("remittance_line_id", "hotel_id", "business_date", "line_type"),
    "psp_transactions": ("psp_txn_id", "hotel_id", "event_at", "business_date", "amount_cents", "operation",
                         "status"),
}


def register_hotels(conn: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The hotels' settings (hotels.csv) as table `hotels`."""
    import pandas as pd

    from lettrage.recon.hotels import load_hotels

    try:
        hotels = load_hotels(Path(path))
    except (FileNotFoundError, ValueError) as exc:
        raise BadFile(str(exc)) from exc
    frame = pd.DataFrame([vars(h) for h in hotels.values()])
    conn.register("_hotels_file", frame)
    conn.execute("CREATE OR REPLACE TEMP TABLE hotels AS SELECT * FROM _hotels_file")
    conn.unregister("_hotels_file")
    return len(frame)
