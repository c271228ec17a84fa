"""Re-running a disputed week reproduces the marts bit for bit; after a corrected file for one
day, only that day changes; manual decisions (in the matching engine's tables) survive."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from tests.dbt import sample

MARTS = ["reconciled_ledger", "daily_summary", "remittance_list", "exceptions_open", "revenue_by_group",
         "cashier_shifts"]
CORRECTED = sample.FIRST_DAY + dt.timedelta(days=3)


def snapshot(path) -> dict[str, list[tuple]]:
    """Every mart's rows, in a total order, as Python values (exact: ints, strings, dates)."""
    with duckdb.connect(str(path), read_only=True) as conn:
        return {name: conn.execute(f"SELECT * FROM marts.{name} ORDER BY ALL").fetchall() for name in MARTS}


def date_index(path, name: str) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        cols = [r[0] for r in conn.execute(f"DESCRIBE marts.{name}").fetchall()]
    return cols.index("business_date")


@pytest.fixture(scope="module")
def reruns(week, tmp_path_factory):
    """The built week copied, re-run as is, then re-run after the corrected PMS file of one day."""
    root = tmp_path_factory.mktemp("rerun")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(week.warehouse, warehouse)
    first = snapshot(warehouse)
    again = sample.reconcile(warehouse, root / "reports", sample.FIRST_DAY, sample.LAST_DAY)
    assert again.success, sample.failures(again)
    second = snapshot(warehouse)
    sample.write(warehouse, corrected_day=CORRECTED, only_day=CORRECTED)  # what ingest does with the late file
    corrected = sample.reconcile(warehouse, root / "reports", sample.FIRST_DAY, sample.LAST_DAY)
    assert corrected.success, sample.failures(corrected)
    return first, second, snapshot(warehouse), warehouse


def test_the_same_week_twice_gives_identical_marts(reruns):
    first, second, _, _ = reruns
    for name in MARTS:
        assert first[name], name
        assert first[name] == second[name], f"{name} changed on a re-run with the same input"


@pytest.mark.parametrize("name", ["reconciled_ledger", "daily_summary", "revenue_by_group", "cashier_shifts"])
def test_a_corrected_day_changes_that_day_only(reruns, name):
    first, _, after, warehouse = reruns
    at = date_index(warehouse, name)

    def by_day(rows):
        return {d: [r for r in rows if r[at] == d] for d in {r[at] for r in rows}}

    before_days, after_days = by_day(first[name]), by_day(after[name])
    assert before_days.keys() == after_days.keys()
    changed = {d for d in before_days if before_days[d] != after_days[d]}
    assert changed == {CORRECTED}, f"{name}: days changed {sorted(changed)}"


def test_the_corrected_figures_are_in_the_summary(reruns):
    first, _, after, warehouse = reruns
    at = date_index(warehouse, "daily_summary")
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        cols = [r[0] for r in conn.execute("DESCRIBE marts.daily_summary").fetchall()]
    pms = cols.index("pms_cents")

    def pms_of(rows):
        return sum(r[pms] for r in rows if r[at] == CORRECTED)

    # each hotel's file gained a forgotten 88.00 posting and had one amount raised by 10.00
    assert pms_of(after["daily_summary"]) - pms_of(first["daily_summary"]) == 2 * (8_800 + 1_000)


def test_manual_decisions_survive_the_reruns(reruns):
    _, _, after, warehouse = reruns
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        stage, status = conn.execute(
            "SELECT match_stage, status FROM marts.reconciled_ledger WHERE record_id = 'P-PAR1-0303-5'").fetchone()
        resolved_open = conn.execute(
            "SELECT count(*) FROM marts.exceptions_open WHERE exception_id = 'E-PAR1-0303-2'").fetchone()[0]
    assert (stage, status) == ("manual", "matched")
    assert resolved_open == 0
