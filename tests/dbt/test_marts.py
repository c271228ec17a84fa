"""The finance marts, built by the real dbt (dbt-duckdb) in a Dagster run, hold the figures
computed independently here from the canonical and matching rows (pandas)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tests.dbt import sample

MARTS = ["reconciled_ledger", "daily_summary", "remittance_list", "exceptions_open", "revenue_by_group",
         "cashier_shifts"]
card_postings, expected_daily_summary = sample.card_postings, sample.expected_daily_summary


def mart(week, name: str) -> pd.DataFrame:
    with duckdb.connect(str(week.warehouse), read_only=True) as conn:
        return conn.execute(f"SELECT * FROM marts.{name}").df()


def sorted_frame(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    frame = frame.assign(business_date=pd.to_datetime(frame["business_date"]).dt.date)
    return frame[keys + columns].sort_values(keys).reset_index(drop=True).astype({c: "int64" for c in columns})


def test_every_dbt_test_ran_as_an_asset_check_and_passed(week):
    checks = week.result.get_asset_check_evaluations()
    failed = [c.check_name for c in checks if not c.passed]
    assert checks and not failed, failed
    checked = {c.asset_key.path[-1] for c in checks}
    assert set(MARTS) <= checked  # every mart has its tests
    names = {c.check_name for c in checks}
    assert {"daily_summary_equals_ledger", "remittance_list_equals_summary", "cashier_shifts_equal_summary",
            "revenue_by_group_equals_summary"} <= names  # the balance identities


def test_daily_summary_equals_the_canonical_figures(week):
    expected = expected_daily_summary(week.tables)
    got = mart(week, "daily_summary")
    keys = ["hotel_id", "business_date", "card_scheme"]
    cols = ["pms_cents", "tpe_cents", "psp_cents", "remitted_cents", "ecart_cents", "pms_count", "matched_count",
            "exception_count", "open_exception_count"]
    pd.testing.assert_frame_equal(sorted_frame(got, keys, cols), sorted_frame(expected, keys, cols))
    assert len(got) == 2 * sample.DAYS * 4  # every scheme of every hotel-day, zeros included
    assert (got["ecart_cents"] != 0).any()  # the sample has écarts to find


def test_remittance_list_equals_the_acquirer_lines_and_the_terminals(week):
    t = week.tables
    refund = t["remittances"]["line_type"] == "refund"  # unsigned in this acquirer's file: given back
    lines = t["remittances"].assign(gross_cents=t["remittances"]["gross_cents"].where(
        ~refund, -t["remittances"]["gross_cents"].abs()))
    assert refund.any()
    matches = t["card_matches"].query("leg == 'tpe_remittance'")
    line_batch = matches.query("side == 'right'").merge(lines, left_on="record_id", right_on="remittance_line_id")
    tpe = t["tpe_transactions"]
    tpe = tpe.assign(amount_cents=tpe["amount_cents"].where(tpe["txn_type"] != "refund", -tpe["amount_cents"].abs()))
    tickets = matches.query("side == 'left'").merge(tpe, left_on="record_id", right_on="tpe_txn_id")
    terminal = tickets.merge(line_batch[["match_id", "remittance_id"]].drop_duplicates("match_id"), on="match_id")
    remitted_ids = set(matches.query("side == 'left'")["record_id"])
    got = mart(week, "remittance_list")
    for row in got.itertuples():
        day = pd.Timestamp(row.business_date).date()
        batch = lines[(lines["remittance_id"] == row.remittance_id) & (lines["business_date"] == day)]
        assert row.gross_cents == batch.query("line_type in ['sale', 'refund']")["gross_cents"].sum()
        assert row.fee_cents == batch["fee_cents"].sum() and row.net_cents == batch["net_cents"].sum()
        assert row.terminal_cents == terminal[terminal["remittance_id"] == row.remittance_id]["amount_cents"].sum()
        left_out = t["tpe_transactions"].query(
            "hotel_id == @row.hotel_id and business_date == @day and txn_type != 'preauth'")
        left_out = left_out[~left_out["tpe_txn_id"].isin(remitted_ids)]
        assert row.not_remitted_count == len(left_out) == 1  # the ticket never posted is not remitted either
        assert not row.covers_terminals
    assert len(got) == lines.groupby(["hotel_id", "business_date", "remittance_id"]).ngroups


def test_exceptions_open_lists_open_ones_oldest_first_with_their_age(week):
    t = week.tables
    got = mart(week, "exceptions_open")
    open_ids = set(t["exceptions"][t["exceptions"]["resolved_at"].isna()]["exception_id"])
    assert set(got["exception_id"]) == open_ids
    assert len(open_ids) < len(t["exceptions"])  # the one a person resolved is gone
    ages = {r.exception_id: (sample.LAST_DAY - pd.Timestamp(r.business_date).date()).days for r in got.itertuples()}
    assert dict(zip(got["exception_id"], got["age_days"], strict=True)) == ages
    assert list(got["age_days"]) == sorted(got["age_days"], reverse=True)


def test_revenue_by_group_and_cashier_shifts_add_up_from_the_postings(week):
    t = week.tables
    p = t["pms_postings"].merge(t["trx_codes"], on=["hotel_id", "trx_code"], suffixes=("", "_code"))
    keys = ["hotel_id", "business_date", "trx_code"]
    expected = p.groupby(keys).agg(posting_count=("posting_id", "count"), amount_cents=("amount_cents", "sum"))
    expected["card_cents"] = p[p["channel"].isin(["terminal", "distance", "psp"])].groupby(keys)["amount_cents"].sum()
    expected = expected.fillna(0).reset_index()
    cols = ["posting_count", "amount_cents", "card_cents"]
    pd.testing.assert_frame_equal(sorted_frame(mart(week, "revenue_by_group"), keys, cols),
                                  sorted_frame(expected, keys, cols))

    posts = card_postings(t).copy()
    tz = {h.hotel_id: h.timezone for h in sample.HOTELS}
    local_hour = posts.apply(lambda r: r["posted_at"].tz_convert(tz[r["hotel_id"]]).hour, axis=1)
    posts["shift"] = local_hour.map(lambda h: "morning" if 6 <= h < 14 else "afternoon" if 14 <= h < 22 else "night")
    keys = ["hotel_id", "business_date", "cashier_id", "shift"]
    expected = posts.groupby(keys).agg(posting_count=("posting_id", "count"), pms_card_cents=("amount_cents", "sum"))
    shifts = mart(week, "cashier_shifts")
    cols = ["posting_count", "pms_card_cents"]
    pd.testing.assert_frame_equal(sorted_frame(shifts, keys, cols), sorted_frame(expected.reset_index(), keys, cols))
    # the split tender (one posting, two tickets) lands whole on its cashier's morning shift
    assert (shifts.query("shift == 'morning' and cashier_id == 'C1'")["ecart_cents"] == 0).all()


def test_the_ledger_keeps_each_record_with_its_match_and_manual_decisions(week):
    t = week.tables
    ledger = mart(week, "reconciled_ledger").set_index(["record_kind", "record_id"])
    assert len(ledger) == len(card_postings(t)) + len(t["tpe_transactions"]) + len(t["remittances"]) + len(
        t["psp_transactions"])
    manual = ledger.loc[("pms_posting", "P-PAR1-0303-5")]
    assert (manual["match_stage"], manual["status"]) == ("manual", "matched")
    resolved = ledger.loc[("pms_posting", "P-PAR1-0303-7")]
    assert resolved["status"] == "resolved"  # a person resolved its MISSING_IN_TPE
    assert ledger.loc[("pms_posting", "P-PAR1-0304-7")]["open_exception_codes"] == "MISSING_IN_TPE"
    lost = ledger.loc[("tpe_transaction", "T-PAR1-0304-8")]
    assert (lost["status"], lost["open_exception_codes"]) == ("exception", "MISSING_IN_PMS,NOT_REMITTED")
    assert ledger.loc[("tpe_transaction", "T-PAR1-0304-9")]["status"] == "out_of_scope"  # a pre-authorisation
    assert ledger.loc[("pms_posting", "P-PAR1-0304-4")]["flags"] == "LATE_POSTING"
    ticket = ledger.loc[("tpe_transaction", "T-PAR1-0304-0")]
    assert ticket["remitted_in_batch"] == "RB03040" and ticket["match_leg"] == "pms_tpe"


def test_marts_are_one_lineage_graph_with_ingest_and_matching():
    import dagster as dg

    from lettrage.assets.marts import finance_marts

    deps = {k.to_user_string() for keys in finance_marts.asset_deps.values() for k in keys}
    assert {"pms_postings", "tpe_transactions", "remittances", "psp_transactions", "card_matches", "exceptions",
            "hotels", "trx_codes"} <= deps
    keys = {k.to_user_string() for k in finance_marts.keys}
    assert {f"marts/{m}" for m in MARTS} <= keys
    assert dg.AssetKey("daily_summary") not in finance_marts.keys  # the matching engine's own table
    assert finance_marts.backfill_policy == dg.BackfillPolicy.single_run()


def test_materialisations_tell_finance_the_figures(week):
    by_key = {}
    for event in week.result.get_asset_materialization_events():
        by_key[event.materialization.asset_key.to_user_string()] = event.materialization.metadata
    summary = by_key["marts/daily_summary"]
    expected = expected_daily_summary(week.tables)
    from lettrage.recon.money import format_cents

    assert summary["ecart"].value == format_cents(int(expected["ecart_cents"].sum()))
    assert summary["open_exceptions"].value == int(expected["open_exception_count"].sum())
    assert "| LON1" in summary["summary"].value
    assert by_key["marts/exceptions_open"]["open_exceptions"].value == len(mart(week, "exceptions_open"))
    reports = by_key["finance_reports"]
    assert reports["group_page"].value == str(week.reports / "index.html")
    assert reports["reports_written"].value == 2 * sample.DAYS


@pytest.mark.parametrize("name", MARTS)
def test_marts_hold_no_float_and_no_load_time(week, name):
    with duckdb.connect(str(week.warehouse), read_only=True) as conn:
        types = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_schema = 'marts' AND table_name = ?", [name]).fetchall())
    assert types and not [c for c, ty in types.items() if ty in ("DOUBLE", "FLOAT", "HUGEINT", "DECIMAL")]
    assert "ingested_at" not in types and "opened_at" not in types
    assert all(types[c] == "BIGINT" for c in types if c.endswith("_cents"))
