"""`lettrage backfill`: a disputed period re-run as ONE run of the daily reconciliation in the
instance at DAGSTER_HOME, limited to the hotels asked for, with the marts and reports rebuilt."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from lettrage.cli import main

FIRST = dt.date(2026, 3, 2)


@pytest.fixture
def inbox(var_dir):
    from lettrage.recon.generate import generate_group

    generate_group(var_dir / "inbox", hotels=2, days=2, seed=7, start=FIRST, formats="generic")
    from lettrage.recon.inbox import hotels_of

    return sorted(hotels_of(var_dir / "inbox"))


def test_a_period_for_one_hotel_is_one_run_that_rebuilds_its_marts_and_reports(var_dir, inbox, capsys):
    hotel = inbox[0]
    assert main(["backfill", "--from", "2026-03-02", "--to", "2026-03-03", "--hotel", hotel]) == 0
    out = capsys.readouterr().out
    assert "Re-running business dates 2026-03-02 to 2026-03-03" in out
    assert str(var_dir / "reports" / "index.html") in out

    with dg.DagsterInstance.from_config(str(var_dir / "dagster_home")) as instance:
        runs = instance.get_runs()
    assert len(runs) == 1  # the whole period in one run
    [run] = runs
    assert run.job_name == "daily_reconciliation" and run.is_success
    assert run.tags["dagster/asset_partition_range_start"] == "2026-03-02"
    assert run.tags["dagster/asset_partition_range_end"] == "2026-03-03"
    assert run.tags["lettrage/hotels"] == hotel

    with duckdb.connect(str(var_dir / "warehouse.duckdb"), read_only=True) as conn:
        days = conn.execute("SELECT DISTINCT hotel_id, business_date FROM marts.daily_summary ORDER BY ALL").fetchall()
        pms = conn.execute("SELECT sum(pms_cents) FROM marts.daily_summary").fetchone()[0]
        posted = conn.execute("SELECT sum(amount_cents) FROM pms_postings WHERE hotel_id = ? AND channel IN "
                              "('terminal', 'distance', 'psp')", [hotel]).fetchone()[0]
    assert days == [(hotel, FIRST), (hotel, FIRST + dt.timedelta(days=1))]  # the other hotel untouched
    assert pms == posted and pms > 0
    for day in ("2026-03-02", "2026-03-03"):
        assert (var_dir / "reports" / hotel / f"{hotel}_{day}.html").exists()
        assert (var_dir / "reports" / hotel / f"{hotel}_{day}.xlsx").exists()
    assert not (var_dir / "reports" / inbox[1]).exists()


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-03-05", "--to", "2026-03-01"], "--from 2026-03-05 is after --to 2026-03-01"),
    (["--from", "2025-03-01", "--to", "2025-03-02"], "before the first business date"),
    (["--from", "2026-03-01", "--to", "2999-01-01"], "not a closed business date yet"),
    (["--from", "2026-03-02", "--to", "2026-03-02", "--hotel", "NOPE"], "unknown hotel NOPE (hotels: PAR1)"),
])
def test_a_bad_period_or_hotel_is_one_clear_line(var_dir, capsys, args, message):
    from lettrage.recon.hotels import Hotel, write_hotels

    write_hotels([Hotel("PAR1", "Hôtel du Parc", "Europe/Paris")], var_dir / "inbox" / "hotels.csv")
    assert main(["backfill", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (var_dir / "dagster_home" / "dagster.yaml").exists()  # nothing was run
