"""Small hand-made days a credit manager would recognise: identical charges minutes apart, and a
PMS whose clock was an hour off for a day."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lettrage.recon.matching.engine import run_matching

DAY = dt.date(2025, 3, 14)


def _at(hhmmss: str, day: dt.date = DAY) -> pd.Timestamp:
    """A time of DAY, or a date and time ('2025-03-11 10:00:00')."""
    return pd.Timestamp(hhmmss if " " in hhmmss else f"{day} {hhmmss}", tz="UTC")


def _run(tickets, postings, **run):
    """tickets: (id, time, last 4, amount cents[, reference]); postings: the same. `run`: for
    run_matching (start=DAY: the days before are not the run's)."""
    t = pd.DataFrame([{"tpe_txn_id": i, "hotel_id": "H1", "terminal_id": "T1", "txn_at": _at(when),
                       "business_date": _at(when).date(), "txn_type": "sale" if amount > 0 else "refund",
                       "amount_cents": amount, "currency": "EUR", "card_brand": "VISA", "card_last4": last4,
                       "remise_ref": (ref or [None])[0], "source_file": "case"}
                      for i, when, last4, amount, *ref in tickets])
    p = pd.DataFrame([{"posting_id": i, "hotel_id": "H1", "business_date": _at(when).date(), "posted_at": _at(when),
                       "trx_code": "9012", "amount_cents": amount, "currency": "EUR", "card_last4": last4,
                       "card_brand": "VISA", "channel": "terminal", "room": "101", "cashier_id": "1",
                       "reference": (ref or [None])[0], "confirmation_no": None, "source_file": "case"}
                      for i, when, last4, amount, *ref in postings])
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.register("_p", p)
    conn.register("_t", t)
    conn.execute("CREATE TABLE pms_postings AS SELECT * FROM _p")
    conn.execute("CREATE TABLE tpe_transactions AS SELECT * FROM _t")
    out = run_matching(conn, **run)
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


def test_a_posting_carrying_its_ticket_s_reference_is_matched_by_it_and_blank_ones_pair_nothing():
    # The night auditor posted ticket T1/074/001 three hours late with a mistyped card: the
    # terminal's reference on the posting says which ticket it is. Two other records carry an empty
    # reference (a PMS export writes '' for none): nothing ties them together.
    pairs, codes = _run(
        tickets=[("T-R", "10:00:00", "1111", 5000, "T1/074/001"), ("T-X", "11:00:00", "2222", 7000, "")],
        postings=[("P-R", "13:00:00", "9999", 5000, "T1/074/001"), ("P-X", "11:05:00", "3333", 9000, "")])
    assert pairs == {("P-R", "T-R"): ("ticket_reference", [])}
    assert codes == {("P-X", "MISSING_IN_TPE"), ("T-X", "MISSING_IN_PMS")}


def _hour_off_day(offset_s: int = 3600):
    """Eight payments on the terminal; the PMS clock was an hour ahead that day (summer time set
    twice): each posting shows 1 h (`offset_s`) plus its real delay after its ticket."""
    tickets, postings = [], []
    for k, amount in enumerate([12000, 8950, 30000, 4500, 21075, 9900, 15000, 6720]):
        t = dt.datetime(2025, 3, 14, 8, 0) + dt.timedelta(minutes=75 * k)
        delay = dt.timedelta(seconds=offset_s + 120 + 40 * k)
        tickets.append((f"T-{k}", t.strftime("%H:%M:%S"), f"{1000 + k}", amount))
        postings.append((f"P-{k}", (t + delay).strftime("%H:%M:%S"), f"{1000 + k}", amount))
    return tickets, postings


def test_a_charge_repeated_up_to_five_minutes_later_is_the_duplicate():
    # The terminal seemed to fail; the cashier charged the card again 4 min 30 s later. One
    # posting: the repeat is a duplicate charge to refund, not a payment the PMS never saw.
    for gap, code in (("09:49:30", "DUPLICATE_TPE"), ("09:50:00", "DUPLICATE_TPE"), ("09:50:01", "MISSING_IN_PMS")):
        pairs, codes = _run(tickets=[("T1", "09:45:00", "1234", 15000), ("T2", gap, "1234", 15000)],
                            postings=[("P1", "09:47:00", "1234", 15000)])
        assert set(pairs) == {("P1", "T1")}
        assert codes == {("T2", code)}, gap


def test_a_day_the_pms_clock_was_an_hour_off_is_not_a_day_of_late_postings():
    tickets, postings = _hour_off_day()
    # one of them really was posted late (50 min after the payment, on the shifted clock 1 h 50)
    postings[3] = ("P-3", "13:35:00", "1003", 4500)  # ticket T-3 at 11:45
    # and one was posted with a different amount (a 5.00 tip), still within the window
    postings[5] = ("P-5", "15:41:00", "1005", 10400)  # ticket T-5 at 14:15, 99.00
    pairs, codes = _run(tickets, postings)
    assert len(pairs) == 8
    assert pairs[("P-0", "T-0")] == ("card_amount_window_pms_clock", [])
    assert pairs[("P-3", "T-3")] == ("late_posting_pms_clock", ["LATE_POSTING"])
    assert pairs[("P-5", "T-5")] == ("amount_within_tolerance_pms_clock", ["AMOUNT_MISMATCH"])
    assert codes == {("P-3", "LATE_POSTING"), ("P-5", "AMOUNT_MISMATCH")}


def test_a_few_late_postings_are_not_a_clock_offset():
    tickets, postings = _hour_off_day()
    # a normal day: postings follow their tickets by minutes, two of them over an hour late
    postings = [(i, (dt.datetime.combine(DAY, dt.time.fromisoformat(when)) - dt.timedelta(hours=1)).strftime("%H:%M:%S"),
                 c, a) for i, when, c, a in postings]
    postings[2] = ("P-2", "11:25:00", "1002", 30000)  # ticket T-2 at 10:30
    postings[6] = ("P-6", "16:05:00", "1006", 15000)  # ticket T-6 at 15:30... 35 min
    pairs, codes = _run(tickets, postings)
    assert len(pairs) == 8 and all(not rule.endswith("_pms_clock") for rule, _ in pairs.values())
    assert codes == {("P-2", "LATE_POSTING"), ("P-6", "LATE_POSTING")}


def test_the_same_round_amount_on_another_card_is_not_a_keying_error():
    # A busy morning: 80.00 on card ...0924 at the terminal at 10:00, never posted; 80.00 posted on
    # card ...5331 at 09:43, no ticket for it. Same amount, but another card altogether, posted
    # before the payment: two exceptions, not one payment keyed wrong.
    # At 12:00 150.00 on ...1243, posted at 12:20 on ...1234: two digits swapped, a typo.
    # At 15:00 423.30 on ...7331, posted at 15:02 on ...9434: another card number, but right after
    # the payment with the same rare amount: matched, for a look.
    pairs, codes = _run(
        tickets=[("T-1", "10:00:00", "0924", 8000), ("T-2", "12:00:00", "1243", 15000),
                 ("T-3", "15:00:00", "7331", 42330)],
        postings=[("P-1", "09:43:00", "5331", 8000), ("P-2", "12:20:00", "1234", 15000),
                  ("P-3", "15:02:00", "9434", 42330)])
    assert pairs == {("P-2", "T-2"): ("last4_differs", ["PAN_MISMATCH"]),
                     ("P-3", "T-3"): ("last4_differs", ["PAN_MISMATCH"])}
    assert codes == {("P-1", "MISSING_IN_TPE"), ("T-1", "MISSING_IN_PMS"), ("P-2", "PAN_MISMATCH"),
                     ("P-3", "PAN_MISMATCH")}


def test_a_posting_repeated_before_its_payment_is_the_duplicate():
    # 374.97 on card ...8113 posted at 09:00, the guest pays it at the terminal at 09:08, and it is
    # posted again at 09:14:30. The ticket goes with the posting after it; the one left over is
    # the same payment posted twice, not a posting without a ticket.
    pairs, codes = _run(tickets=[("T-1", "09:08:12", "8113", 37497)],
                        postings=[("P-1", "09:00:00", "8113", 37497), ("P-2", "09:14:30", "8113", 37497)])
    assert set(pairs) == {("P-2", "T-1")}
    assert codes == {("P-1", "DUPLICATE_PMS")}


def test_a_refund_a_minute_before_the_sale_on_another_terminals_clock_has_its_original():
    # 243.10 paid on card ...1426 at 14:27:39 on a terminal whose clock is two minutes ahead; 97.24
    # of it refunded at 14:26:12 on another terminal. The card did pay here: no REFUND_UNMATCHED.
    # A refund to card ...5550, which paid nothing here, is one.
    pairs, codes = _run(
        tickets=[("T-SALE", "14:27:39", "1426", 24310), ("T-REF", "14:26:12", "1426", -9724),
                 ("T-ODD", "16:00:00", "5550", -5000)],
        postings=[("P-SALE", "14:31:00", "1426", 24310), ("P-REF", "14:29:00", "1426", -9724),
                  ("P-ODD", "16:03:00", "5550", -5000)])
    assert len(pairs) == 3
    assert codes == {("T-ODD", "REFUND_UNMATCHED")}


def test_a_refund_whose_sale_was_days_before_the_run_has_its_original_whatever_the_masking():
    # Today's run (start=DAY): card ...1426 paid 243.10 three days ago, the terminal journal then
    # printing the number masked; 97.24 of it refunded today, printed as its last 4. The sale is
    # looked up before the run's days, on the same last 4 however they were written.
    pairs, codes = _run(
        tickets=[("T-SALE", "2025-03-11 10:00:00", "XXXXXXXXXXXX1426", 24310), ("T-REF", "09:00:00", "1426", -9724),
                 ("T-ODD", "16:00:00", "5550", -5000)],
        postings=[("P-SALE", "2025-03-11 10:03:00", "XXXXXXXXXXXX1426", 24310), ("P-REF", "09:02:00", "1426", -9724),
                  ("P-ODD", "16:03:00", "5550", -5000)], start=DAY)
    assert set(pairs) == {("P-REF", "T-REF"), ("P-ODD", "T-ODD")}
    assert codes == {("T-ODD", "REFUND_UNMATCHED")}


def test_a_pms_clock_an_hour_behind_is_read_too():
    tickets, postings = _hour_off_day(-3600)
    pairs, codes = _run(tickets, postings)
    assert len(pairs) == 8 and {rule for rule, _ in pairs.values()} == {"card_amount_window_pms_clock"}
    assert codes == set()
