"""Link requests in the store: created and kept up to date from the rules' plan, approved,
expired, created by hand. Every change a person would ask about goes to the audit log.

A reservation never gets a second request from the rules: a changed reservation updates its open
request (amount, guest, dates) and a link already sent then opens with the new amount. A request
whose reservation was cancelled, or no longer needs paying, is cancelled while nobody has paid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lettrage.paylinks import status as st
from lettrage.paylinks.rules import Plan, PlannedRequest
from lettrage.paylinks.store import AuditEntry, LinkRequest, Payment
from lettrage.paylinks.tokens import new_link_key
from lettrage.recon.money import format_cents

RESERVATION_CANCELLED = "reservation cancelled in the PMS"
# Rules may still change these requests; "pending" is left alone (the guest is paying right now).
UPDATABLE = st.OPEN - {"pending"}
NOT_SENT_YET = {"draft", "pending_approval", "scheduled"}
# Fields the rules keep in line with the reservation.
TRACKED = ("rule", "kind", "amount_cents", "currency", "installments", "channel", "language", "service",
           "template", "reminder_days", "guest_first_name", "guest_last_name", "email", "phone",
           "arrival_date", "arrival_time", "departure_date", "adults", "children", "payment_method",
           "payer_label", "confirmation_no")


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    held: list[tuple[int, str]] = field(default_factory=list)  # (request id, problem)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> reservations


def audit(session: Session, username: str, action: str, target: str | None = None, detail: str | None = None,
          at: dt.datetime | None = None) -> None:
    session.add(AuditEntry(username=username, action=action, target=target, detail=detail,
                           at=at or dt.datetime.now(dt.UTC)))


def move(request: LinkRequest, new: str, now: dt.datetime) -> None:
    """Change a request's status through the state machine (StatusError if not allowed)."""
    st.check_move(request.status, new)
    request.status = new
    request.status_changed_at = now


def installment_plan(amount_cents: int, parts: int, first_due: dt.date, every_days: int) -> list[tuple[int, int, dt.date]]:
    """(seq, amount, due date) of each part; the cents that do not divide go on the first part."""
    base, rest = divmod(amount_cents, parts)
    return [(i + 1, base + (rest if i == 0 else 0), first_due + dt.timedelta(days=every_days * i))
            for i in range(parts)]


def _describe(name: str, old, new, currency: str) -> str:
    if name == "amount_cents":
        return f"amount {format_cents(old, currency)} -> {format_cents(new, currency)}"
    return f"{name} {old!r} -> {new!r}"


def _next_order_ids(session: Session) -> dict[str, int]:
    """Requests so far per confirmation number, across hotels: two hotels' PMS may number alike,
    and the PSP refuses an ORDERID it has seen (one account may serve the group)."""
    rows = session.execute(select(LinkRequest.confirmation_no, func.count()).group_by(LinkRequest.confirmation_no))
    return {conf: n for conf, n in rows}


def _order_id(confirmation_no: str, used: dict[str, int]) -> str:
    used[confirmation_no] = used.get(confirmation_no, 0) + 1
    return f"{confirmation_no}-{used[confirmation_no]}"[:40]


def _new_request(p: PlannedRequest, order_id: str, actor: str, now: dt.datetime) -> LinkRequest:
    req = LinkRequest(
        link_key=new_link_key(), hotel_id=p.hotel_id, reservation_id=p.reservation_id, origin="rules",
        order_id=order_id, status=p.status, send_after=p.send_after, expires_at=p.expires_at,
        created_by=actor, created_at=now, updated_at=now, status_changed_at=now,
        **{name: getattr(p, name) for name in TRACKED},
    )
    if p.kind == "installments" and p.installments:
        first = p.send_after.date()
        for seq, amount, due in installment_plan(p.amount_cents, p.installments, first, p.every_days):
            req.payments.append(Payment(seq=seq, amount_cents=amount, currency=p.currency, status="planned",
                                        due_date=due, order_id=f"{order_id}-P{seq}"[:40]))
    return req


def _reschedule(req: LinkRequest, p: PlannedRequest, now: dt.datetime) -> list[str]:
    """A request not sent yet follows the reservation's dates; one whose time has come stays due."""
    if req.status not in NOT_SENT_YET:
        return []
    due_now = req.send_after is not None and req.send_after <= now
    wanted = p.send_after if p.send_after > now else (req.send_after if due_now else now)
    if wanted == req.send_after:
        return []
    change = f"send_after {req.send_after:%Y-%m-%d %H:%M} -> {wanted:%Y-%m-%d %H:%M} UTC"
    req.send_after, req.expires_at = wanted, p.expires_at
    return [change]


def sync(session: Session, hotel_id: str, plan: Plan, now: dt.datetime | None = None, actor: str = "rules",
         check: Callable[[LinkRequest], str | None] | None = None) -> SyncResult:
    """Bring one hotel's rule-made requests in line with `plan` (in the caller's transaction).

    `check(request)` returns a problem (e.g. a missing merge value) or None; a request with a
    problem is held as a draft, with the problem shown, instead of being sent."""
    now = now or dt.datetime.now(dt.UTC)
    result = SyncResult()
    for _rid, reason in plan.skipped:
        key = reason.split(":")[-1].strip()
        result.skipped[key] = result.skipped.get(key, 0) + 1
    existing: dict[str, list[LinkRequest]] = {}
    for req in session.scalars(select(LinkRequest).where(LinkRequest.hotel_id == hotel_id,
                                                         LinkRequest.origin == "rules").order_by(LinkRequest.id)):
        existing.setdefault(req.reservation_id, []).append(req)
    used = _next_order_ids(session)
    planned_ids = set()
    to_check: list[tuple[LinkRequest, str]] = []  # new or changed requests not sent yet, and their status
    new: set[LinkRequest] = set()
    for p in plan.planned:
        planned_ids.add(p.reservation_id)
        mine = existing.get(p.reservation_id, [])
        open_req = next((r for r in reversed(mine) if r.status in st.OPEN), None)
        if open_req is None:
            last = mine[-1] if mine else None
            if last is not None and not (last.status == "cancelled" and last.problem == RESERVATION_CANCELLED):
                result.unchanged += 1  # paid, expired, failed or withdrawn by a person: the rules stop here
                continue
            req = _new_request(p, _order_id(p.confirmation_no, used), actor, now)
            session.add(req)
            new.add(req)
            to_check.append((req, p.status))
            result.created += 1
            continue
        if open_req.status not in UPDATABLE:
            result.unchanged += 1
            continue
        changes = [_describe(n, getattr(open_req, n), getattr(p, n), p.currency)
                   for n in TRACKED if getattr(open_req, n) != getattr(p, n)]
        for name in TRACKED:
            setattr(open_req, name, getattr(p, name))
        changes += _reschedule(open_req, p, now)
        if not changes:
            result.unchanged += 1
            continue
        open_req.updated_at = now
        result.updated += 1
        audit(session, actor, "request updated", f"link_request:{open_req.id}", "; ".join(changes), now)
        if open_req.status in NOT_SENT_YET:
            to_check.append((open_req, p.status))
    for rid in plan.seen:
        if rid in planned_ids:
            continue
        for req in existing.get(rid, []):
            if req.status in UPDATABLE:
                why = RESERVATION_CANCELLED if rid in plan.cancelled else "no rule asks for a payment any more"
                move(req, "cancelled", now)
                req.problem = why
                result.cancelled += 1
                audit(session, actor, "request cancelled", f"link_request:{req.id}", why, now)
    session.flush()
    for req, wanted in to_check:
        problem = check(req) if check else None
        if problem:
            if req in new:
                req.status = "draft"  # a new request with a problem starts as a draft
            req.problem = problem
            result.held.append((req.id, problem))
        elif req.problem and req.status in NOT_SENT_YET:
            req.problem = None
            if req.status == "draft":
                move(req, wanted, now)
    if result.created:
        audit(session, actor, "requests created", f"hotel:{hotel_id}", f"{result.created} request(s) from the link rules",
              now)
    return result


def approve(session: Session, request_ids: list[int], username: str, now: dt.datetime | None = None) -> list[LinkRequest]:
    """Step-by-step mode: let requests waiting for approval go out (StatusError for the others)."""
    now = now or dt.datetime.now(dt.UTC)
    requests = session.scalars(select(LinkRequest).where(LinkRequest.id.in_(request_ids))).all()
    missing = sorted(set(request_ids) - {r.id for r in requests})
    if missing:
        raise LookupError(f"no link request {', '.join(map(str, missing))}")
    for req in requests:
        if req.status != "pending_approval":
            raise st.StatusError(f"request {req.id} is {req.status}, not waiting for approval")
        move(req, "scheduled", now)
        req.approved_by, req.approved_at = username, now
        audit(session, username, "request approved", f"link_request:{req.id}", None, now)
    return list(requests)


def expire_overdue(session: Session, now: dt.datetime | None = None) -> int:
    """Requests nobody paid before their expiry become expired."""
    now = now or dt.datetime.now(dt.UTC)
    overdue = session.scalars(select(LinkRequest).where(
        LinkRequest.status.in_(sorted(st.OPEN - {"pending"})), LinkRequest.expires_at <= now)).all()
    for req in overdue:
        move(req, "expired", now)
    return len(overdue)


def create_manual(session: Session, *, hotel_id: str, amount_cents: int, kind: str, channel: str,
                  language: str, service: str, created_by: str, expires_at: dt.datetime,
                  send_after: dt.datetime | None = None, confirmation_no: str | None = None,
                  status: str = "scheduled", **fields) -> LinkRequest:
    """A request made by a person for one reservation (the dashboard, the command line)."""
    now = dt.datetime.now(dt.UTC)
    used = _next_order_ids(session)
    order_id = _order_id(confirmation_no, used) if confirmation_no else None
    req = LinkRequest(
        link_key=new_link_key(), hotel_id=hotel_id, origin="manual", amount_cents=amount_cents, kind=kind,
        channel=channel, language=language, service=service, created_by=created_by, status=status,
        send_after=send_after or now, expires_at=expires_at, confirmation_no=confirmation_no,
        order_id=order_id or f"LNK-{new_link_key()[:10].upper()}", created_at=now, updated_at=now,
        status_changed_at=now, **fields,
    )
    session.add(req)
    session.flush()
    audit(session, created_by, "request created", f"link_request:{req.id}",
          f"{kind} {format_cents(amount_cents, req.currency or 'EUR')} by {channel}", now)
    return req


def apply_rules(sessions, link_rules, composer, reservations, now: dt.datetime | None = None,
                actor: str = "rules") -> SyncResult:
    """One hotel's reservation export through its rules into the store, in one transaction;
    each new or changed request is rendered once to catch a missing merge value."""
    from lettrage.paylinks import rules
    from lettrage.paylinks.store import transaction

    now = now or dt.datetime.now(dt.UTC)
    plan = rules.plan(reservations, link_rules, now)
    with transaction(sessions) as s:
        return sync(s, link_rules.hotel_id, plan, now, actor,
                    check=lambda req: composer.problem(req, link_rules.profile))
