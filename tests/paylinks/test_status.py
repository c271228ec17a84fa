"""The request state machine: statuses only move forward, money always lands."""

import itertools

import pytest

from lettrage.paylinks import status as st


def test_every_move_goes_up_in_rank_so_no_sequence_comes_back():
    for a, b in itertools.product(st.STATUSES, repeat=2):
        if st.can_move(a, b):
            assert st.RANK[b] > st.RANK[a], f"{a} -> {b} goes backwards"


def test_a_late_notification_never_undoes_an_outcome():
    assert not st.can_move("paid", "pending")
    assert not st.can_move("paid", "refused")
    assert not st.can_move("authorised", "pending")
    assert not st.can_move("refused", "pending")  # a pending from before the refusal
    assert not st.can_move("refunded", "paid")
    assert not st.can_move("posted", "paid")


def test_money_the_psp_took_is_recorded_even_on_a_closed_link():
    for before in ("sent", "opened", "pending", "refused", "expired", "cancelled", "failed"):
        assert st.can_move(before, "paid")
        assert st.can_move(before, "authorised")


def test_the_usual_journeys_are_allowed():
    journeys = [
        ["draft", "pending_approval", "scheduled", "sent", "opened", "pending", "paid", "posted", "refunded"],
        ["scheduled", "sent", "refused", "paid", "partially_refunded", "posted"],
        ["scheduled", "sent", "authorised", "captured", "posted"],
        ["scheduled", "sent", "authorised", "released"],
        ["scheduled", "failed"],
        ["pending_approval", "cancelled"],
    ]
    for journey in journeys:
        for a, b in itertools.pairwise(journey):
            assert st.can_move(a, b), f"{a} -> {b}"


def test_a_status_is_not_a_move_to_itself_and_unknown_ones_are_refused():
    assert not st.can_move("paid", "paid")
    with pytest.raises(st.StatusError):
        st.can_move("paid", "teleported")
    with pytest.raises(st.StatusError, match="cannot go from 'paid' to 'sent'"):
        st.check_move("paid", "sent")
