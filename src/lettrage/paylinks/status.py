"""The life of a payment-link request: its statuses and the moves allowed between them.

Statuses only move forward. Each status has a rank and every allowed move goes to a higher rank,
so no sequence of moves can come back: a late or replayed notification ("pending" after "paid")
is refused by `can_move`, and the caller records it without applying it.

    draft -> pending_approval -> scheduled -> sent -> opened -> pending -> refused
          -> authorised -> captured | released            (pre-authorisation, no-show guarantee)
          -> paid -> partially_refunded -> posted -> refunded
    before any money moved: cancelled (by the hotel or the guest), expired, failed (not deliverable)

Money the PSP says moved always wins over what happened to the link: a payment that lands on a
link just expired or cancelled is still recorded as paid (or authorised), never lost.
"""

from __future__ import annotations

RANK = {
    "draft": 0,                # created by hand, not submitted yet
    "pending_approval": 10,    # step-by-step mode: waits for a person to approve it
    "scheduled": 20,           # will be sent at send_after
    "sent": 30,                # the link went out (at least one channel)
    "opened": 40,              # the guest opened the link
    "pending": 50,             # the PSP has not decided yet (3-D Secure, offline, uncertain)
    "refused": 55,             # an attempt was refused; the guest may try again
    "failed": 60,              # the message could not be delivered (refused address, bad number)
    "cancelled": 61,           # withdrawn by the hotel, or abandoned by the guest, before any money
    "expired": 62,             # nobody paid before expires_at
    "authorised": 70,          # pre-authorisation held on the card
    "released": 71,            # pre-authorisation given back (guest came)
    "paid": 75,                # money taken (sale, or a captured pre-authorisation)
    "captured": 76,            # pre-authorisation captured (no-show)
    "partially_refunded": 80,
    "posted": 85,              # the night auditor posted it on the PMS folio
    "refunded": 90,
}
STATUSES = list(RANK)

# Before the guest paid: what rules may still update and the hotel may still withdraw.
OPEN = {"draft", "pending_approval", "scheduled", "sent", "opened", "refused", "pending"}
# The request will not be sent (any more).
NOT_SENDABLE = {"failed", "cancelled", "expired"}
# Money moved: the request can no longer be cancelled, only released or refunded.
MONEY = {"authorised", "released", "paid", "captured", "partially_refunded", "posted", "refunded"}
# Requests the night auditor may mark POSTED.
POSTABLE = {"paid", "captured", "partially_refunded"}

_BEFORE_MONEY = OPEN | NOT_SENDABLE
_MOVES: dict[str, set[str]] = {
    "draft": {"pending_approval", "scheduled", "cancelled", "expired"},
    "pending_approval": {"scheduled", "cancelled", "expired"},
    "scheduled": {"sent", "failed", "cancelled", "expired"},
    "sent": {"opened", "pending", "refused", "cancelled", "expired"},
    "opened": {"pending", "refused", "cancelled", "expired"},
    # A late "pending" never undoes a refusal; a new attempt ends in paid or refused again.
    "pending": {"refused", "cancelled", "expired"},
    # A refusal is not the end: the guest may try another card on the same link.
    "refused": {"cancelled", "expired"},
    "authorised": {"released", "paid", "captured"},
    "paid": {"partially_refunded", "posted", "refunded"},
    "captured": {"partially_refunded", "posted", "refunded"},
    "partially_refunded": {"posted", "refunded"},
    "posted": {"refunded"},
}
for _status in _BEFORE_MONEY:
    _MOVES.setdefault(_status, set()).update({"authorised", "paid"})


class StatusError(ValueError):
    """A move the state machine does not allow (reported, never applied)."""


def can_move(current: str, new: str) -> bool:
    """True when a request in `current` may move to `new` (a move to itself is not a move)."""
    if current not in RANK or new not in RANK:
        raise StatusError(f"unknown status {current if current not in RANK else new!r}")
    return new in _MOVES.get(current, set())


def check_move(current: str, new: str) -> None:
    if not can_move(current, new):
        raise StatusError(f"a request cannot go from {current!r} to {new!r}")
