"""The matching assets in real Dagster runs on a temporary warehouse: checks, metadata, and
people's decisions surviving re-runs."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd

from lettrage.recon import decisions
from lettrage.recon.explain import explain
from lettrage.recon.matching.store import rematch
from lettrage.recon.warehouse import open_warehouse
from tests.recon.matching import fixtures

DAY = dt.date(2026, 3, 3)
SHIFT = pd.Timedelta(days=(DAY - fixtures.DAY).days)


def _warehouse(path):
    p, t = fixtures.postings(), fixtures.tickets()
    now = pd.Timestamp("2026-03-04", tz="UTC")
    p = p.assign(business_date=DAY, posted_at=p["posted_at"] + SHIFT, ingested_at=now)
    t = t.assign(business_date=DAY, txn_at=t["txn_at"] + SHIFT, ingested_at=now)
    with open_warehouse(path) as conn:
        for table, frame in (("pms_postings", p), ("tpe_transactions", t)):
            conn.register("_rows", frame)
            cols = ", ".join(frame.columns)
            conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows")
            conn.unregister("_rows")


def _materialize(path):
    from lettrage.assets.matching import matching
    from lettrage.resources.warehouse import WarehouseResource

    return dg.materialize([matching], partition_key=DAY.isoformat(), instance=dg.DagsterInstance.ephemeral(),
                          resources={"warehouse": WarehouseResource(path=str(path))})


def test_matching_assets_checks_and_decisions(var_dir):
    path = var_dir / "warehouse.duckdb"
    _warehouse(path)
    result = _materialize(path)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {"every_record_once", "no_record_in_two_matches",
                                              "ecart_is_sum_of_exceptions"}
    assert all(c.passed for c in checks)
    meta = {e.event_specific_data.materialization.asset_key.path[-1]: e.event_specific_data.materialization.metadata
            for e in result.get_asset_materialization_events()}
    assert meta["daily_summary"]["ecart_total"].value.startswith("63.44")
    assert "MISSING_IN_TPE" in meta["exceptions"]["open_by_code"].value
    with open_warehouse(path) as conn:
        # a person pins 92.70 with the 567.44 posting, splits the keyed-wrong match, resolves a 6.00
        decisions.record(conn, "pin", "claire", "pms_tpe", ["P-115"], ["T-A1006"], comment="same guest")
        decisions.record(conn, "split", "claire", "pms_tpe", ["P-123"], ["T-A1007"], comment="not this card")
        decisions.record(conn, "resolve", "claire", exception_id="pms_tpe:MISSING_IN_TPE:P-310A",
                         comment="cash, posted on the wrong code")
        rematch(conn, DAY, DAY + dt.timedelta(days=1))
        lines = explain(conn, "P-123")
    assert any("T-A1007" in line and "now" in line for line in lines)
    result = _materialize(path)  # a re-run keeps the decisions
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    with open_warehouse(path, read_only=True) as conn:
        manual = conn.execute("SELECT record_id, rule FROM card_matches WHERE stage = 'manual' ORDER BY 1").fetchall()
        assert [r[0] for r in manual] == ["P-115", "T-A1006"] and "claire" in manual[0][1]
        together = conn.execute("""SELECT count(*) FROM card_matches a JOIN card_matches b USING (match_id, leg)
            WHERE a.record_id = 'P-123' AND b.record_id = 'T-A1007'""").fetchall()[0][0]
        assert together == 0
        resolved = conn.execute("SELECT resolution FROM exceptions WHERE exception_id = "
                                "'pms_tpe:MISSING_IN_TPE:P-310A'").fetchall()[0][0]
        assert "cash" in resolved and "claire" in resolved
        assert conn.execute("SELECT sum(resolved_cents) FROM daily_summary").fetchall()[0][0] == 600
