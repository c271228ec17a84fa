"""What the dashboard reads from the ops store: requests by filter, one request's history, the paid
requests waiting to be posted. Always limited to the hotels the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from lettrage.paylinks import store
from lettrage.paylinks.status import POSTABLE
from lettrage.service.dashboard.desk import DeskUser, Refused
from lettrage.service.dashboard.export import PaidRequest

PAGE_SIZE = 200


@dataclass(frozen=True)
class Filters:
    hotel: str = ""
    date_from: dt.date | None = None  # the day the request was created (UTC)
    date_to: dt.date | None = None
    status: str = ""
    channel: str = ""
    search: str = ""  # confirmation number, guest name, e-mail or order id

    @classmethod
    def from_query(cls, q) -> Filters:
        def day(name):
            try:
                return dt.date.fromisoformat(q.get(name, ""))
            except ValueError:
                return None
        return cls(hotel=q.get("hotel", "").strip(), date_from=day("date_from"), date_to=day("date_to"),
                   status=q.get("status", "").strip(), channel=q.get("channel", "").strip(),
                   search=q.get("search", "").strip())


def visible(user: DeskUser):
    LR = store.LinkRequest
    return LR.hotel_id.in_(user.hotel_ids) if user.hotel_ids else True


def _where(user: DeskUser, f: Filters) -> list:
    LR = store.LinkRequest
    clauses = [visible(user)]
    if f.hotel:
        clauses.append(LR.hotel_id == f.hotel)
    if f.status:
        clauses.append(LR.status == f.status)
    if f.channel:
        clauses.append(LR.channel == f.channel)
    if f.date_from:
        clauses.append(LR.created_at >= dt.datetime.combine(f.date_from, dt.time(), dt.UTC))
    if f.date_to:
        clauses.append(LR.created_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), dt.UTC))
    if f.search:
        like = f"%{f.search.lower()}%"
        clauses.append(or_(func.lower(LR.confirmation_no).like(like), func.lower(LR.order_id).like(like),
                           func.lower(LR.guest_last_name).like(like), func.lower(LR.guest_first_name).like(like),
                           func.lower(LR.email).like(like)))
    return clauses


def list_requests(s, user: DeskUser, f: Filters) -> tuple[list, int]:
    """The newest requests matching the filters (one page), and how many match in all."""
    LR = store.LinkRequest
    where = and_(*_where(user, f))
    total = s.scalar(select(func.count()).select_from(LR).where(where))
    rows = s.scalars(select(LR).where(where).order_by(LR.created_at.desc(), LR.id.desc()).limit(PAGE_SIZE)).all()
    return list(rows), total


def hotels(s, user: DeskUser) -> list[str]:
    LR = store.LinkRequest
    found = set(s.scalars(select(LR.hotel_id).where(visible(user)).distinct()))
    return sorted(found | set(user.hotel_ids))


def one_request(s, user: DeskUser, request_id: int):
    """The request, if the user may see it (another hotel's request reads as not found)."""
    row = s.get(store.LinkRequest, request_id)
    if row is None or not user.sees(row.hotel_id):
        raise Refused(404, "No such request", f"There is no payment request {request_id} for your hotels.")
    return row


@dataclass(frozen=True)
class Event:
    at: dt.datetime | None
    what: str
    detail: str
    who: str = ""


def history(s, request) -> list[Event]:
    """Everything that happened to a request, oldest first: sends, PSP notifications, payments, actions."""
    events = [Event(request.created_at, "created", f"{request.kind}, {request.channel}, by {request.created_by}",
                    request.created_by)]
    for send in request.sends:
        detail = f"{send.channel} {send.kind} to {send.recipient or '?'}: {send.status}"
        if send.delivery_status:
            detail += f" (delivery: {send.delivery_status})"
        if send.error:
            detail += f" ({send.error})"
        events.append(Event(send.sent_at or send.last_attempt_at or send.recorded_at, f"{send.kind} {send.channel}",
                            detail))
    for ev in s.scalars(select(store.PspEvent).where(store.PspEvent.request_id == request.id)
                        .order_by(store.PspEvent.id)):
        detail = f"STATUS {ev.status_code or '?'} → {ev.mapped_status or '?'}"
        if ev.amount_cents is not None:
            detail += f", {ev.amount_cents / 100:.2f} {ev.currency or ''}".rstrip()
        if not ev.signature_ok:
            detail += ", bad signature (refused)"
        elif not ev.applied:
            detail += f", not applied: {ev.detail or 'no change'}"
        events.append(Event(ev.received_at, f"PSP notification ({ev.provider})", detail))
    for entry in s.scalars(select(store.AuditEntry).where(store.AuditEntry.target == f"link_request:{request.id}")
                           .order_by(store.AuditEntry.id)):
        events.append(Event(entry.at, entry.action, entry.detail or "", entry.username))
    if any(e.what == "request created" for e in events):
        events.pop(0)  # the audit log says it, with who
    return sorted(events, key=lambda e: (e.at or dt.datetime.min.replace(tzinfo=dt.UTC)))


def paid_not_posted(s, user: DeskUser, hotel: str = "") -> list[PaidRequest]:
    """Paid requests the night auditor has not posted in the PMS yet, oldest payment first."""
    LR = store.LinkRequest
    where = [visible(user), LR.status.in_(POSTABLE)]
    if hotel:
        where.append(LR.hotel_id == hotel)
    out = []
    for r in s.scalars(select(LR).where(*where).order_by(LR.id)):
        paid = [p for p in r.payments if p.status in ("paid", "captured")]
        paid_at = max((p.paid_at for p in paid if p.paid_at), default=r.status_changed_at)
        refs = ", ".join(p.psp_reference for p in paid if p.psp_reference)
        amount = sum(p.amount_cents for p in paid) if paid else r.amount_cents
        brand, last4 = _card(s, r.id)
        out.append(PaidRequest(request_id=r.id, hotel_id=r.hotel_id, confirmation_no=r.confirmation_no or "",
                               reservation_id=r.reservation_id or "", guest_name=r.guest_name,
                               amount_cents=amount, currency=r.currency, order_id=r.order_id,
                               psp_reference=refs, paid_at=paid_at, card_brand=brand, card_last4=last4))
    return out


def _card(s, request_id: int) -> tuple[str, str]:
    """Brand and last 4 digits of the card, from the PSP's accepted notification (CARDNO comes masked)."""
    ev = s.scalars(select(store.PspEvent).where(store.PspEvent.request_id == request_id,
                                                store.PspEvent.applied.is_(True),
                                                store.PspEvent.mapped_status.in_(("paid", "authorised", "captured")))
                   .order_by(store.PspEvent.id.desc())).first()
    raw = (ev.raw or {}) if ev else {}
    params = raw.get("params", raw)  # the service stores {"via": ..., "params": [[name, value], ...]}
    pairs = params.items() if isinstance(params, dict) else (p for p in params if isinstance(p, list | tuple) and len(p) == 2)
    raw = {str(k).upper(): str(v) for k, v in pairs}
    digits = "".join(ch for ch in raw.get("CARDNO", "")[-4:] if ch.isdigit())
    return raw.get("BRAND", "").upper(), digits if len(digits) == 4 else ""
