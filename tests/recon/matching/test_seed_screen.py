"""The brochure's reconciliation screen gives the matches and exceptions a credit manager expects."""

from __future__ import annotations

from lettrage.recon.matching.checks import register_output, run_checks
from lettrage.recon.matching.engine import run_matching
from tests.recon.matching import fixtures


def _run():
    conn = fixtures.warehouse()
    return conn, run_matching(conn)


def test_seed_screen_outcome():
    conn, out = _run()
    m = out.card_matches.to_pandas()
    pairs = {(g.loc[g.side == "left", "record_id"].iloc[0], g.loc[g.side == "right", "record_id"].iloc[0]):
             (g["stage"].iloc[0], sorted(g["flags"].iloc[0])) for _, g in m.groupby("match_id")}
    # A1001..A1005 and E1149: same card, same amount, minutes apart; CB on the terminal is the
    # Visa/Mastercard code in the PMS (co-badging), refunds match refunds.
    assert pairs[("P-223", "T-A1001")] == ("exact", [])
    assert pairs[("P-9050", "T-A1002")] == ("exact", [])
    assert pairs[("P-301", "T-A1003")] == ("exact", [])
    assert pairs[("P-306", "T-A1004")] == ("exact", [])
    assert pairs[("P-306C", "T-E1149")] == ("exact", [])
    # -4.19 refunded to card 8015, which paid nothing before it here: matched, flagged for a look.
    assert pairs[("P-140", "T-A1005")] == ("exact", ["REFUND_UNMATCHED"])
    # A1007: 423.30 posted on card ...9434, the terminal took it on ...7331: keyed wrong.
    assert pairs[("P-123", "T-A1007")] == ("tolerant", ["PAN_MISMATCH"])
    assert len(pairs) == 7
    x = out.exceptions.to_pandas()
    open_codes = {(r.record_id, r.code): r.amount_cents for r in x.itertuples()}
    assert open_codes == {
        ("P-115", "MISSING_IN_TPE"): 56744, ("P-310A", "MISSING_IN_TPE"): 600, ("P-310B", "MISSING_IN_TPE"): 600,
        ("T-A1006", "MISSING_IN_PMS"): -9270,       # 92.70 taken, never posted
        ("T-A1008", "DUPLICATE_TPE"): -42330,       # the same 423.30 on ...7331 again 2 min later
        ("P-123", "PAN_MISMATCH"): 0, ("T-A1005", "REFUND_UNMATCHED"): 0,
    }
    s = out.daily_summary.to_pandas()
    assert int(s["pms_cents"].sum()) - int(s["tpe_cents"].sum()) == int(s["ecart_cents"].sum()) == 6344
    assert int(x["amount_cents"].sum()) == 6344  # the écart, explained line by line
    register_output(conn, out)
    assert all(c["passed"] for c in run_checks(conn).values())
