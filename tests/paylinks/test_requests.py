"""Requests in the store from the rules: one per reservation, kept up to date, never doubled."""

import datetime as dt

import pytest
from sqlalchemy import select

from lettrage.paylinks import requests, rules, store
from lettrage.paylinks.messages import Composer
from lettrage.paylinks.status import StatusError
from lettrage.paylinks.store import AuditEntry, LinkRequest, Payment
from lettrage.paylinks.templates import TemplateLibrary

from .servers import reservation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
COMPOSER = Composer(TemplateLibrary(), "https://pay.example", "secret")


@pytest.fixture
def sessions(tmp_path):
    return store.session_factory(f"sqlite:///{tmp_path / 'ops.sqlite'}")


def example(mode="automatic"):
    link_rules = rules.load_rules(rules.EXAMPLE, "H1", "Hôtel Lutèce", "Europe/Paris")
    return link_rules if mode == "automatic" else rules.LinkRules(**{**vars(link_rules), "mode": mode})


def run(sessions, rows, now=NOW, link_rules=None):
    return requests.apply_rules(sessions, link_rules or example(), COMPOSER, rows, now)


def all_requests(sessions):
    with sessions() as s:
        return s.scalars(select(LinkRequest).order_by(LinkRequest.id)).all()


def test_each_reservation_gets_one_request_with_our_order_reference(sessions):
    result = run(sessions, [reservation(), reservation(reservation_id="R2", confirmation_no="40012346",
                                                       non_refundable=False)])
    assert (result.created, result.skipped) == (1, {"no rule applies": 1})
    [req] = all_requests(sessions)
    assert (req.reservation_id, req.status, req.amount_cents, req.order_id) == ("R1", "scheduled", 48_650, "40012345-1")
    assert (req.guest_first_name, req.arrival_date, req.adults, req.children) == ("Émilie", dt.date(2026, 6, 12), 2, 1)
    assert len(req.link_key) == 32 and req.problem is None


def test_running_again_changes_nothing_and_a_changed_reservation_updates_its_request(sessions):
    run(sessions, [reservation()])
    again = run(sessions, [reservation()], NOW + dt.timedelta(hours=1))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = run(sessions, [reservation(total_cents=52_000, email="e.durand@example.org")],
                  NOW + dt.timedelta(hours=2))
    assert (changed.created, changed.updated) == (0, 1)
    [req] = all_requests(sessions)
    assert (req.amount_cents, req.email, req.send_after) == (52_000, "e.durand@example.org", NOW)
    with sessions() as s:
        detail = s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "request updated"))
    assert "amount 486.50 € -> 520.00 €" in detail and "e.durand@example.org" in detail


def test_a_cancelled_reservation_withdraws_its_request_and_a_reinstated_one_gets_a_new_one(sessions):
    run(sessions, [reservation()])
    assert run(sessions, [reservation(status="cancelled")]).cancelled == 1
    [req] = all_requests(sessions)
    assert (req.status, req.problem) == ("cancelled", requests.RESERVATION_CANCELLED)
    assert run(sessions, [reservation()]).created == 1
    assert [r.order_id for r in all_requests(sessions)] == ["40012345-1", "40012345-2"]


def test_a_paid_request_is_never_followed_by_a_second_one(sessions):
    run(sessions, [reservation()])
    with store.transaction(sessions) as s:
        req = s.scalar(select(LinkRequest))
        requests.move(req, "sent", NOW)
        requests.move(req, "paid", NOW)
    later = run(sessions, [reservation(total_cents=60_000)])
    assert (later.created, later.updated) == (0, 0)
    assert [r.status for r in all_requests(sessions)] == ["paid"]


def test_a_request_already_sent_follows_the_amount_but_keeps_its_schedule(sessions):
    run(sessions, [reservation()])
    with store.transaction(sessions) as s:
        requests.move(s.scalar(select(LinkRequest)), "sent", NOW)
    run(sessions, [reservation(total_cents=50_000)], NOW + dt.timedelta(days=1))
    [req] = all_requests(sessions)
    assert (req.status, req.amount_cents, req.send_after) == ("sent", 50_000, NOW)


def test_a_missing_merge_value_holds_the_request_as_a_draft_until_the_reservation_is_fixed(sessions):
    held = run(sessions, [reservation(guest_first_name=None)])
    assert held.held == [(1, "reservation/fr/link.j2: the merge value 'first_name' is missing (used in the text)")]
    [req] = all_requests(sessions)
    assert req.status == "draft" and "first_name" in req.problem
    run(sessions, [reservation()])
    [req] = all_requests(sessions)
    assert (req.status, req.problem) == ("scheduled", None)


def test_step_by_step_requests_wait_for_approval(sessions):
    run(sessions, [reservation()], link_rules=example("step_by_step"))
    [req] = all_requests(sessions)
    assert req.status == "pending_approval"
    with store.transaction(sessions) as s:
        requests.approve(s, [req.id], "marie")
    [req] = all_requests(sessions)
    assert (req.status, req.approved_by) == ("scheduled", "marie")
    with pytest.raises(StatusError, match="not waiting for approval"), store.transaction(sessions) as s:
        requests.approve(s, [req.id], "marie")
    with pytest.raises(LookupError, match="no link request 99"), store.transaction(sessions) as s:
        requests.approve(s, [99], "marie")


def test_installments_get_their_plan_and_nobody_pays_a_cent_too_much(sessions):
    run(sessions, [reservation(non_refundable=False, total_cents=400_001, arrival_date=dt.date(2026, 7, 1))])
    with sessions() as s:
        parts = s.scalars(select(Payment).order_by(Payment.seq)).all()
    assert [p.amount_cents for p in parts] == [133_335, 133_333, 133_333]
    assert [p.due_date for p in parts] == [dt.date(2026, 3, 2), dt.date(2026, 4, 1), dt.date(2026, 5, 1)]
    assert [p.order_id for p in parts] == ["40012345-1-P1", "40012345-1-P2", "40012345-1-P3"]


def test_requests_nobody_paid_in_time_expire(sessions):
    run(sessions, [reservation()])
    with store.transaction(sessions) as s:
        assert requests.expire_overdue(s, NOW + dt.timedelta(days=2)) == 0
        assert requests.expire_overdue(s, NOW + dt.timedelta(days=3)) == 1
    assert all_requests(sessions)[0].status == "expired"


def test_two_hotels_with_the_same_confirmation_number_never_share_an_order_reference(sessions):
    run(sessions, [reservation()])
    other = rules.LinkRules(**{**vars(example()), "hotel_id": "H2"})
    run(sessions, [reservation(hotel_id="H2")], link_rules=other)
    assert [(r.hotel_id, r.order_id) for r in all_requests(sessions)] == [("H1", "40012345-1"), ("H2", "40012345-2")]
