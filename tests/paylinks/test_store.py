"""The operational store: migrations, WAL, aware times, optimistic locking, two processes at once."""

import datetime as dt
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm.exc import StaleDataError

from lettrage.paylinks import store
from lettrage.paylinks.store.migrations import current, head

TABLES = {"link_requests", "link_sends", "psp_events", "payments", "templates", "users", "audit_log"}


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'ops.sqlite'}"


def test_migrate_creates_every_table_at_the_head_revision_and_matches_the_models(url):
    store.migrate(url)
    engine = store.engine_for(url)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert current(url) == head() == "0001"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), store.Base.metadata)
    assert diff == [], f"the models differ from the migrations: {diff}"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(url):
    sessions = store.session_factory(url)
    with sessions() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA busy_timeout")).scalar() >= 10_000


def _request(**kw):
    values = dict(link_key=kw.pop("link_key", "k" * 32), hotel_id="H1", kind="sale", amount_cents=12_345,
                  status="scheduled", channel="email", order_id=kw.pop("order_id", "40012345-1"))
    values.update(kw)
    return store.LinkRequest(**values)


def test_times_come_back_aware_in_utc_and_naive_ones_are_refused(url):
    sessions = store.session_factory(url)
    paris = dt.timezone(dt.timedelta(hours=2))
    with store.transaction(sessions) as s:
        s.add(_request(send_after=dt.datetime(2026, 6, 1, 10, 0, tzinfo=paris)))
    with sessions() as s:
        got = s.scalar(select(store.LinkRequest))
        assert got.send_after == dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
        assert got.send_after.tzinfo is not None and got.version == 1
    with pytest.raises(Exception, match="naive datetime"), store.transaction(sessions) as s:
        s.add(_request(link_key="j" * 32, order_id="x-2", send_after=dt.datetime(2026, 6, 1)))


def test_an_update_from_a_stale_copy_fails_instead_of_overwriting(url):
    sessions = store.session_factory(url)
    with store.transaction(sessions) as s:
        s.add(_request())
    with sessions() as desk:  # the dashboard shows the request (its transaction ends, the copy stays)
        shown = desk.scalar(select(store.LinkRequest))
        desk.commit()
        with store.transaction(sessions) as psp:  # meanwhile the PSP's notification lands
            psp.scalar(select(store.LinkRequest)).status = "paid"
        shown.status = "cancelled"  # the desk acts on what it saw
        with pytest.raises(StaleDataError):
            desk.commit()
    with sessions() as s:
        assert s.scalar(select(store.LinkRequest.status)) == "paid"


WRITER = """
import sys
from lettrage.paylinks import store
sessions = store.session_factory(sys.argv[1])
for i in range(50):
    with store.transaction(sessions) as s:
        n = s.query(store.AuditEntry).count()   # read, then write: the case that deadlocks without BEGIN IMMEDIATE
        s.add(store.AuditEntry(username=sys.argv[2], action="write", detail=str(n)))
"""


def test_two_processes_write_at_the_same_time_without_losing_anything(url):
    store.migrate(url)
    other = subprocess.Popen([sys.executable, "-c", WRITER, url, "service"], stderr=subprocess.PIPE, text=True)
    exec(WRITER.replace("sys.argv[1]", repr(url)).replace("sys.argv[2]", '"dagster"'))  # this process, meanwhile
    _, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    with store.session_factory(url)() as s:
        counts = dict(s.execute(select(store.AuditEntry.username, func.count())
                                .group_by(store.AuditEntry.username)).all())
    assert counts == {"service": 50, "dagster": 50}


def test_the_head_read_from_the_files_is_alembics():
    from lettrage.paylinks.store.migrations import _head_in_files

    assert _head_in_files() == head()
