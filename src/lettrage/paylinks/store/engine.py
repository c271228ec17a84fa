"""Reaching the operational store: engines and sessions, safe for several processes at once.

SQLite (the default, a file under var/) runs in WAL mode, so readers never block the writer, with
a busy timeout, so a writer waits for another instead of failing. Write transactions start with
BEGIN IMMEDIATE: taking the write lock up front means two processes never both read, then both
try to upgrade to writing and deadlock. Keep transactions short (one send, one request).
PostgreSQL is used as is (optimistic locking on the rows that are updated concurrently).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000
_engines: dict[tuple[str, bool], Engine] = {}
_lock = threading.Lock()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_engine(url: str, read_only: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is always DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe in WAL mode
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def engine_for(url: str, read_only: bool = False) -> Engine:
    """One engine per store URL and process (its pool is shared by the sessions)."""
    key = (url, read_only)
    with _lock:
        if key not in _engines:
            _engines[key] = _sqlite_engine(url, read_only) if is_sqlite(url) else \
                create_engine(url, pool_pre_ping=True)
        return _engines[key]


def session_factory(url: str, read_only: bool = False, migrate: bool = True) -> sessionmaker[Session]:
    """Sessions on the store at `url`, migrated to the latest schema first (once per process).

    `read_only` sessions (the sensor's) neither migrate nor take the write lock."""
    if migrate and not read_only:
        from lettrage.paylinks.store.migrations import migrate as run_migrations

        run_migrations(url)
    return sessionmaker(engine_for(url, read_only), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One short unit of work: committed when the block ends, rolled back on an error."""
    with factory() as session, session.begin():
        yield session


def dispose_all() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
