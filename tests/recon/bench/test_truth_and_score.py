"""The benchmark's truth and scorer on hand-made records: an unposted charge identical to another
one minutes before is a duplicate (nothing in the data tells it from one), and which of two
identical charges an exception names is arbitrary; and the truth of generated data names card
postings only with the codes about card payments."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lettrage.recon.bench.generate import _repeats, generate
from lettrage.recon.bench.score import score


def test_an_unposted_charge_next_to_an_identical_one_is_a_duplicate():
    # hotel, last 4, amount, time (s); missing: no posting for it
    rows = [
        (0, 4242, 8000, 1000, False),  # paid and posted
        (0, 4242, 8000, 1060, True),   # the same again a minute later, never posted: a duplicate
        (0, 4242, 8000, 9000, True),   # the same card and amount two hours later: a payment of its own
        (0, 1111, 4500, 2000, True),   # unposted, then the identical charge 90 s later was posted:
        (0, 1111, 4500, 2090, False),  # which of the two is "the duplicate" is arbitrary
        (0, 5555, 3000, 3000, True),   # two identical charges, neither posted: the second repeats
        (0, 5555, 3000, 3100, True),   # the first
        (1, 4242, 8000, 1030, True),   # another hotel
        (0, 4242, 8100, 1030, True),   # another amount
    ]
    h, c, a, t, m = (np.array(x) for x in zip(*rows, strict=True))
    assert _repeats(h, c, a, t, m, 240).tolist() == [False, True, False, True, False, False, True, False, False]


def test_a_cash_posting_of_an_event_is_never_the_card_posting_the_truth_flags(tmp_path):
    """An event whose card payment was posted with a mismatch may also have a cash or transfer
    posting: the truth's AMOUNT/BRAND/PAN_MISMATCH and LATE_POSTING name the card posting, never
    that one (which the engine rightly leaves out of card matching)."""
    generate(tmp_path, 50_000, "default", seed=7)
    flagged = duckdb.sql(f"""
        SELECT p.channel, count(*) FROM '{tmp_path}/truth_anomalies.parquet' a
        JOIN '{tmp_path}/pms_postings.parquet' p ON p.posting_id = a.record_id
        WHERE a.code IN ('AMOUNT_MISMATCH', 'BRAND_MISMATCH', 'PAN_MISMATCH', 'LATE_POSTING')
        GROUP BY ALL""").fetchall()
    assert [channel for channel, _ in flagged] == ["terminal"]


def _write(path, table: dict):
    pq.write_table(pa.table(table), path)


def test_an_exception_on_the_other_of_two_identical_charges_counts_as_value_equivalent(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    ts = pa.timestamp("us", tz="UTC")
    t0 = 1_741_946_400_000_000
    _write(tmp_path / "tpe.parquet", {
        "tpe_txn_id": ["T-A", "T-B", "T-C", "T-D"], "hotel_id": ["H1"] * 4,
        "txn_at": pa.array([t0, t0 + 60_000_000, t0 + 3_600_000_000, t0 + 3_660_000_000], ts),
        "amount_cents": [8000, 8000, 4500, 4600], "card_last4": ["4242", "4242", "1111", "1111"]})
    _write(tmp_path / "pms.parquet", {
        "posting_id": ["P-1", "P-2"], "hotel_id": ["H1"] * 2, "posted_at": pa.array([t0 + 90_000_000, t0 + 3_700_000_000], ts),
        "amount_cents": [8000, 4500], "card_last4": ["4242", "1111"]})
    matches = {"match_id": ["M1", "M1", "M2", "M2"], "leg": ["pms_tpe"] * 4, "side": ["left", "right"] * 2,
               "record_id": ["P-1", "T-A", "P-2", "T-D"], "stage": ["exact"] * 4, "flags": pa.array([[]] * 4, pa.list_(pa.string()))}
    _write(out / "card_matches.parquet", matches)
    # the engine: T-B repeats T-A; T-C (45.00) never posted, T-D (46.00) matched with a wrong amount
    _write(out / "exceptions.parquet", {"code": ["DUPLICATE_TPE", "MISSING_IN_PMS"], "record_id": ["T-B", "T-C"]})
    _write(tmp_path / "truth_matches.parquet", {
        "match_id": ["G1", "G1", "G2", "G2"], "leg": ["pms_tpe"] * 4, "kind": ["one_to_one"] * 4,
        "side": ["left", "right"] * 2, "record_id": ["P-1", "T-B", "P-2", "T-C"]})
    # the truth: T-A is the repeat (arbitrary); T-D, not T-C, was never posted (not identical: an error)
    _write(tmp_path / "truth_anomalies.parquet", {"code": ["DUPLICATE_TPE", "MISSING_IN_PMS"], "record_id": ["T-A", "T-D"]})
    s = score(out, tmp_path / "truth_matches.parquet", tmp_path / "truth_anomalies.parquet",
              {"pms_postings": tmp_path / "pms.parquet", "tpe_transactions": tmp_path / "tpe.parquet"})
    dup, missing = s["codes"]["DUPLICATE_TPE"], s["codes"]["MISSING_IN_PMS"]
    assert dup["precision"] == 0 and dup["precision_value_equivalent"] == 1 and dup["recall_value_equivalent"] == 1
    assert missing["precision"] == 0 and missing["precision_value_equivalent"] == 0
    one = s["kinds"]["pms_tpe:one_to_one"]
    assert one["precision"] == 0 and one["precision_value_equivalent"] == 0.5
