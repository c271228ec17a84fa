"""Small hand-made days a credit manager would recognise: identical charges minutes apart."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lettrage.recon.matching.engine import run_matching

DAY = dt.date(2025, 3, 14)


def _at(hhmmss: str, day: dt.date = DAY) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmmss}", tz="UTC")


def _run(tickets, postings):
    """tickets: (id, time, last 4, amount cents); postings: (id, time, last 4, amount cents)."""
    t = pd.DataFrame([{"tpe_txn_id": i, "hotel_id": "H1", "terminal_id": "T1", "txn_at": _at(when),
                       "business_date": DAY, "txn_type": "sale" if amount > 0 else "refund", "amount_cents": amount,
                       "currency": "EUR", "card_brand": "VISA", "card_last4": last4, "remise_ref": None,
                       "source_file": "case"} for i, when, last4, amount in tickets])
    p = pd.DataFrame([{"posting_id": i, "hotel_id": "H1", "business_date": DAY, "posted_at": _at(when),
                       "trx_code": "9012", "amount_cents": amount, "currency": "EUR", "card_last4": last4,
                       "card_brand": "VISA", "channel": "terminal", "room": "101", "cashier_id": "1",
                       "reference": None, "confirmation_no": None, "source_file": "case"}
                      for i, when, last4, amount in postings])
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.register("_p", p)
    conn.register("_t", t)
    conn.execute("CREATE TABLE pms_postings AS SELECT * FROM _p")
    conn.execute("CREATE TABLE tpe_transactions AS SELECT * FROM _t")
    out = run_matching(conn)
    m = out.card_matches.to_pandas()
    pairs = {(g.loc[g.side == "left", "record_id"].iloc[0], g.loc[g.side == "right", "record_id"].iloc[0]):
             (g["rule"].iloc[0], sorted(g["flags"].iloc[0])) for _, g in m.groupby("match_id")}
    codes = {(r.record_id, r.code) for r in out.exceptions.to_pandas().itertuples()}
    return pairs, codes


def test_third_of_three_identical_charges_is_the_duplicate():
    # Room 101 pays 80.00 with card ...4242 at 10:00; room 102's guest, same card, pays 80.00 again
    # at 10:01:15, and the terminal charges that one twice (10:02:42). Two postings, three tickets:
    # the charge left over is the repeat of the second, not the second itself.
    pairs, codes = _run(
        tickets=[("T-A", "10:00:00", "4242", 8000), ("T-B", "10:01:15", "4242", 8000),
                 ("T-C", "10:02:42", "4242", 8000)],
        postings=[("P-101", "10:01:00", "4242", 8000), ("P-102", "10:04:17", "4242", 8000)])
    assert set(pairs) == {("P-101", "T-A"), ("P-102", "T-B")}
    assert codes == {("T-C", "DUPLICATE_TPE")}
