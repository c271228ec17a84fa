"""A split bill: payers pay parts until the total is reached, never more, even at the same moment."""

from __future__ import annotations

import re
import threading

import httpx

from lettrage.paylinks import payments
from tests.service.conftest import make_request


def share(live, link: str, payer: str, amount: str) -> httpx.Response:
    return httpx.post(f"{live.url}{link}/split", data={"payer": payer, "amount": amount}, timeout=30)


def test_two_payers_settle_a_bill_and_the_page_shows_it(live, smtp):
    rid = make_request(live.sessions, kind="split", amount_cents=30000, language="en", installments=2)
    link = live.link(rid)
    page = live.http.get(link)
    assert page.status_code == 200 and 'id="total">300.00' in page.text and 'value="150.00"' in page.text

    first = live.pay(share(live, link, "Paul", "100.00"))
    assert "Thank you, your payment is confirmed" in first.text and "100.00" in first.text
    page = live.http.get(link)
    assert 'id="paid">100.00' in page.text and "(1 payer(s))" in page.text and 'id="left">200.00' in page.text

    too_much = share(live, link, "Marie", "250.00")
    assert too_much.status_code == 409 and "Only 200.00" in too_much.text
    live.pay(share(live, link, "Marie", "200.00"))
    live.simulator.wait_for_notifications()
    page = live.http.get(link)
    assert "Thank you, your payment is confirmed" in page.text and "psp-form" not in page.text
    assert live.request(rid).status == "paid"
    parts = live.parts(rid)
    assert [(p.payer_label, p.amount_cents, p.status) for p in parts] == [("Paul", 10000, "paid"),
                                                                         ("Marie", 20000, "paid")]
    assert len({p.order_id for p in parts}) == 2
    # Each payer's share is a notice to the hotel; the guest hears once, when the bill is paid.
    assert live.sends(rid) == [("hotel_notice", "paid"), ("response", "paid"), ("hotel_notice", "paid")]


def test_payers_racing_for_the_last_part_cannot_overpay(live):
    rid = make_request(live.sessions, kind="split", amount_cents=10000, language="en")
    link = live.link(rid)
    live.pay(share(live, link, "First", "60.00"))
    live.simulator.wait_for_notifications()

    racers, answers = 6, []
    start = threading.Barrier(racers)

    def race(n):
        start.wait()
        answers.append(share(live, link, f"Racer {n}", "40.00"))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(a.status_code for a in answers) == [200] + [409] * (racers - 1)
    winner = next(a for a in answers if a.status_code == 200)
    assert "psp-form" in winner.text
    losers = [a for a in answers if a.status_code == 409]
    assert all("being paid right now" in a.text for a in losers)
    live.pay(winner)
    live.simulator.wait_for_notifications()
    parts = live.parts(rid)
    assert sum(p.amount_cents for p in parts if p.status == "paid") == 10000
    assert len(parts) == 2 and live.request(rid).status == "paid"


def test_reservation_guard_under_direct_concurrency(live):
    # The domain guard itself, many threads at once on one store: what is held never exceeds the total.
    rid = make_request(live.sessions, kind="split", amount_cents=9000, language="en")
    won, lost = [], []
    start = threading.Barrier(12)

    def reserve():
        start.wait()
        try:
            won.append(payments.reserve_split_part(live.sessions, rid, 2000, "x"))
        except payments.ShareTooLarge as exc:
            lost.append(exc.left_cents)

    threads = [threading.Thread(target=reserve) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 4 and len(lost) == 8 and set(lost) == {1000}
    assert sum(p.amount_cents for p in live.parts(rid)) == 8000
    assert sorted(p.seq for p in won) == [1, 2, 3, 4]


def test_an_abandoned_share_is_freed(live):
    rid = make_request(live.sessions, kind="split", amount_cents=5000, language="fr")
    link = live.link(rid)
    cancelled = live.pay(share(live, link, "Léa", "50,00"), action="cancel")
    assert "annulé" in cancelled.text
    again = share(live, link, "Léa", "50,00")
    assert again.status_code == 200 and re.search(r'name="AMOUNT" value="5000"', again.text)
