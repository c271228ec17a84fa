"""The DuckDB warehouse: creating it, migrating it, and replacing a window of a table.

Only Dagster runs (and the command line, when no Dagster run is going) write here; one writer
at a time, as DuckDB allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from lettrage.recon import schemas


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path), read_only=read_only)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


@contextmanager
def open_warehouse(path: Path | str, read_only: bool = False):
    conn = connect(path, read_only=read_only)
    try:
        if not read_only:
            migrate(conn)
        yield conn
    finally:
        conn.close()


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and add columns that the models gained since the file was made."""
    for table in schemas.TABLES:
        conn.execute(schemas.ddl(table))
        existing = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'",
            [table]).fetchall()}
        for name, col in schemas.model(table).to_schema().columns.items():
            if name not in existing:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {schemas.sql_type(col)}")


def replace_window(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    hotel_ids: Iterable[str] | None = None,
) -> int:
    """Replace the rows of [start, end) (for some hotels, or all) with `frame`, in one transaction.

    Re-running the same window with the same input leaves the table as it was: idempotent."""
    _, _, date_col = schemas.TABLES[table]
    where = f"{date_col} >= ? AND {date_col} < ?"
    params: list = [start, end]
    hotel_ids = list(hotel_ids) if hotel_ids is not None else None
    if hotel_ids is not None:
        where += " AND hotel_id IN (SELECT unnest(?))"
        params.append(hotel_ids)
    return _delete_then_insert(conn, table, frame, f"DELETE FROM {table} WHERE {where}", params)


def replace_reference(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace a whole reference table (hotels, trx_codes)."""
    return _delete_then_insert(conn, table, frame, f"DELETE FROM {table}")


def replace_matching(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, match: list[str]) -> int:
    """Insert `frame`, first deleting the rows that share its values of the `match` columns (the
    rejects of a file read again, the registry row of a file seen again), in one transaction."""
    if frame.empty:
        return 0
    on = " AND ".join(f"{table}.{c} = incoming_rows.{c}" for c in match)
    return _delete_then_insert(conn, table, frame, f"DELETE FROM {table} USING (SELECT DISTINCT "
                               f"{', '.join(match)} FROM incoming_rows) AS incoming_rows WHERE {on}")


def replace_rejects(conn: duckdb.DuckDBPyConnection, kind: str, file_shas: list[str], frame: pd.DataFrame) -> int:
    """The rejects of the files just read replace whatever earlier reads of them left."""
    return _delete_then_insert(conn, "rejects", frame,
                               "DELETE FROM rejects WHERE kind = ? AND file_sha256 IN (SELECT unnest(?))",
                               [kind, file_shas])


def _delete_then_insert(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, delete_sql: str,
                        params: list | None = None) -> int:
    """Delete what `delete_sql` names (it may refer to `incoming_rows`), then insert `frame`: one transaction."""
    cols = ", ".join(schemas.columns(table))
    conn.register("incoming_rows", frame.reindex(columns=schemas.columns(table)))
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(delete_sql, params or [])
        conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming_rows")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.unregister("incoming_rows")
    return len(frame)
