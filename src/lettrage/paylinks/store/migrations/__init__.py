"""Schema migrations of the operational store (Alembic), applied by `migrate(url)`.

A new schema change: add `versions/NNNN_what.py` (`down_revision` = the previous one), or let
Alembic draft it from the models:
    python -c "from lettrage.paylinks.store.migrations import revision; revision('sqlite:///var/ops.sqlite', 'what')"
"""

from __future__ import annotations

import threading
from pathlib import Path

HERE = Path(__file__).parent
_done: set[str] = set()
_lock = threading.Lock()


def _config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the store at `url` to the latest schema (creating it if new). Safe to call from
    several processes at once: on SQLite the first takes the write lock, the others then find
    the schema current; on PostgreSQL the DDL runs in one transaction."""
    with _lock:
        if url in _done:
            return
        from alembic import command

        from lettrage.paylinks.store.engine import engine_for

        cfg = _config(url)
        with engine_for(url).begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        _done.add(url)


def current(url: str) -> str | None:
    """The revision the store is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from lettrage.paylinks.store.engine import engine_for

    with engine_for(url, read_only=True).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config("sqlite://")).get_current_head()


def revision(url: str, message: str) -> None:
    """Draft a migration from the difference between the models and the store at `url`."""
    from alembic import command

    from lettrage.paylinks.store.engine import engine_for

    cfg = _config(url)
    with engine_for(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
