"""Schema migrations of the operational store (Alembic), applied by `migrate(url)`.

A new schema change: add `versions/NNNN_what.py` (`down_revision` = the previous one), or let
Alembic draft it from the models:
    python -c "from lettrage.paylinks.store.migrations import revision; revision('sqlite:///var/ops.sqlite', 'what')"
"""

from __future__ import annotations

import re
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


def _head_in_files() -> str | None:
    """The head revision, read from the files (importing Alembic costs a second per process)."""
    revisions, parents = set(), set()
    for path in (HERE / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\b[^=]*=\s*['\"](\w+)['\"]", text, re.MULTILINE)
        down = re.search(r"^down_revision\b[^=]*=\s*(.+)$", text, re.MULTILINE)
        if rev:
            revisions.add(rev[1])
        if down:
            parents.update(re.findall(r"['\"](\w+)['\"]", down[1]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(url: str) -> bool:
    from sqlalchemy.exc import DBAPIError

    from lettrage.paylinks.store.engine import engine_for

    try:
        with engine_for(url, read_only=True).connect() as conn:
            found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:
        return False
    return found is not None and found == _head_in_files()


def migrate(url: str) -> None:
    """Bring the store at `url` to the latest schema (creating it if new). Safe to call from
    several processes at once: on SQLite the first takes the write lock, the others then find
    the schema current; on PostgreSQL the DDL runs in one transaction."""
    with _lock:
        if url in _done:
            return
        if _at_head(url):
            _done.add(url)
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
