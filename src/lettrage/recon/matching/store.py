"""Writing the engine's outputs into the warehouse: a window (and some hotels) replaced in one
transaction, so re-running a day leaves the tables exactly as one run of it would."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from lettrage.recon import decisions, schemas
from lettrage.recon.matching.engine import MatchOutput, run_matching

TABLES = ("card_matches", "exceptions", "daily_summary")


def _plain(table: pa.Table) -> pa.Table:
    cols = []
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        cols.append(col)
    return pa.table(dict(zip(table.column_names, cols, strict=True)))


def save(conn: duckdb.DuckDBPyConnection, out: MatchOutput, start: dt.date, end: dt.date,
         hotel_ids=None) -> dict[str, int]:
    written = {}
    conn.execute("BEGIN TRANSACTION")
    try:
        for table in TABLES:
            where, params = "business_date >= ? AND business_date < ?", [start, end]
            if hotel_ids is not None:
                where += " AND hotel_id IN (SELECT unnest(?::VARCHAR[]))"
                params.append(list(hotel_ids))
            conn.execute(f"DELETE FROM {table} WHERE {where}", params)
            data = _plain(getattr(out, table))
            cols = [c for c in schemas.columns(table) if c in data.column_names]
            conn.register("_incoming", data)
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _incoming")
            conn.unregister("_incoming")
            written[table] = data.num_rows
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return written


def rematch(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, hotel_ids=None) -> MatchOutput:
    """Match a window of the warehouse with every person's decision, and store the result."""
    out = run_matching(conn, start, end, hotel_ids, decisions=decisions.load(conn))
    save(conn, out, start, end, hotel_ids)
    return out
