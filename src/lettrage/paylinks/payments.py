"""What a PSP tells us, applied to requests and payments: once, forward only, never lost.

Every notification (Ogone post-sale request or browser redirect, Worldline webhook, DirectLink
answer) is first stored as received in `psp_events` (append-only, its own transaction), then
applied in a second transaction that locks the request row:
- a notification seen before (same order, PAYID, PAYIDSUB and status; same Worldline event id)
  is recorded and changes nothing;
- statuses only move forward: a late "pending" after "paid" is recorded and ignored;
- each outcome records exactly one response to the guest and one notice to the hotel
  (`link_sends` with an idempotency key the database keeps unique), in the same transaction as
  the status change, so a crash never loses or doubles a message.

Parts: a request is paid in one or more `payments` rows. A sale or a pre-authorisation has one
part; installments have n parts, the first paid by the guest (card kept as an alias with their
consent), the next ones charged on their due date as merchant-initiated; a split bill has one part
per payer, each reserved under a row lock so that parts can never add up to more than the total.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lettrage.paylinks import store
from lettrage.paylinks.psp import ogone
from lettrage.paylinks.status import MONEY, RANK, can_move
from lettrage.paylinks.store import LinkRequest, Payment, PspEvent

log = logging.getLogger("lettrage.payments")

# Payment (part) statuses and their ranks: like a request, a part only moves forward. Before money
# moved, a refused or abandoned attempt may be followed by a new attempt that succeeds.
PART_RANK = {"planned": 0, "pending": 10, "uncertain": 15, "error": 18, "refused": 20, "cancelled": 25,
             "expired": 26, "authorised": 40, "released": 45, "paid": 50, "partially_refunded": 60,
             "refunded": 70}
PART_BEFORE_MONEY = {"planned", "pending", "uncertain", "error", "refused", "cancelled", "expired"}
# Parts holding (or having taken) money: they count against a split bill's total.
PART_HOLDING = {"authorised", "paid", "partially_refunded"}
HOTEL_OUTCOMES = {"paid", "authorised", "refused", "cancelled", "pending", "captured", "released",
                  "partially_refunded", "refunded"}


class PaymentError(Exception):
    """A payment action that cannot be done (one line, shown to the user as is)."""


class ShareTooLarge(PaymentError):
    """A split-bill share larger than what is left to pay (`left_cents`, maybe 0)."""

    def __init__(self, left_cents: int):
        self.left_cents = left_cents
        super().__init__(f"only {left_cents} cents are left to pay" if left_cents else
                         "the whole bill is paid or being paid")


def part_can_move(current: str, new: str) -> bool:
    """Forward only. Before money moved, a later attempt may still succeed (refused -> paid)."""
    if current in PART_BEFORE_MONEY:
        return new in {"authorised", "paid"} or (new in PART_BEFORE_MONEY and PART_RANK[new] > PART_RANK[current])
    allowed = {"authorised": {"released", "paid"}, "paid": {"partially_refunded", "refunded"},
               "partially_refunded": {"refunded"}}
    return new in allowed.get(current, set())


@dataclass(frozen=True)
class Notification:
    """A PSP message read into our terms (whatever the provider and channel)."""

    provider: str
    via: str                 # notification | redirect | webhook | directlink
    order_id: str
    pay_id: str
    pay_id_sub: str
    status_code: str
    psp_status: str          # DOMAIN.md psp status
    operation: str
    amount_cents: int | None
    currency: str
    card_brand: str = ""
    card_last4: str = ""
    alias: str = ""
    event_id: str = ""       # Worldline's own event id

    @property
    def key(self) -> str:
        """What makes two messages the same news."""
        if self.event_id:
            return f"{self.provider}:event:{self.event_id}"
        return f"{self.provider}:{self.order_id}:{self.pay_id}:{self.pay_id_sub}:{self.status_code}"


@dataclass
class Outcome:
    event_id: int
    applied: bool
    detail: str
    request_id: int | None = None
    request_status: str | None = None
    part_status: str | None = None
    messages: int = 0


def from_ogone(feedback: ogone.Feedback, via: str) -> Notification:
    return Notification("ogone", via, feedback.order_id, feedback.pay_id, feedback.pay_id_sub,
                        feedback.status_code, feedback.status.status, feedback.status.operation,
                        feedback.amount_cents, feedback.currency, feedback.card_brand, feedback.card_last4,
                        feedback.alias)


def from_directlink(result: ogone.DirectLinkResult, order_id: str, currency: str) -> Notification:
    return Notification("ogone", "directlink", result.order_id or order_id, result.pay_id, result.pay_id_sub,
                        str(result.status.code), result.status.status, result.status.operation,
                        result.amount_cents, result.raw.get("CURRENCY", currency), alias=result.raw.get("ALIAS", ""))


# --- step 1: store as received -----------------------------------------------------------------

def record_event(sessions, provider: str, raw: dict, signature_ok: bool, note: Notification | None,
                 detail: str = "") -> int:
    """Append the message as received, before anything else; returns its id."""
    raw = _masked(raw)  # a full card number is never stored, whoever sent it (PCI DSS)
    if note is not None:
        raw = {**raw, "key": note.key}  # what makes it the same news as another message
    with store.transaction(sessions) as s:
        event = PspEvent(provider=provider, raw=raw, signature_ok=signature_ok, applied=False,
                         order_id=(note.order_id[:40] if note else None) or _raw_order_id(raw),
                         payid=note.pay_id if note else None, status_code=note.status_code if note else None,
                         mapped_status=note.psp_status if note else None,
                         amount_cents=note.amount_cents if note else None,
                         currency=note.currency if note else None, detail=detail or None)
        s.add(event)
        s.flush()
        return event.id


def _masked(value):
    from lettrage.recon.masking import mask_text

    if isinstance(value, str):
        return mask_text(value)[0]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _raw_order_id(raw: dict) -> str | None:
    """The order a refused message claims to be about (not trusted; for a person to search)."""
    params = raw.get("params") or []
    pairs = params.items() if isinstance(params, dict) else params
    value = next((str(v) for k, v in pairs if str(k).upper() == "ORDERID"), None)
    if value is None and raw.get("body"):
        try:
            body = json.loads(raw["body"])
            obj = body.get("payment") or body.get("refund") or {}
            out = obj.get("paymentOutput") or obj.get("refundOutput") or {}
            value = (out.get("references") or {}).get("merchantReference")
        except (ValueError, AttributeError):
            value = None
    return str(value)[:40] if value else None


# --- step 2: apply -----------------------------------------------------------------------------

_PART_SUFFIX = re.compile(r"-P\d+$")


def _find_part(s: Session, order_id: str) -> tuple[LinkRequest | None, Payment | None]:
    part = s.execute(select(Payment).where(Payment.order_id == order_id)).scalar_one_or_none()
    if part is not None:
        return part.request, part
    request = s.execute(select(LinkRequest).where(LinkRequest.order_id.in_(
        {order_id, _PART_SUFFIX.sub("", order_id)}))).scalars().first()
    return request, None


def _lock_request(s: Session, request_id: int) -> LinkRequest:
    # FOR UPDATE on PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) already serialises.
    return s.execute(select(LinkRequest).where(LinkRequest.id == request_id).with_for_update()
                     .execution_options(populate_existing=True)).scalar_one()


def _seen_before(s: Session, note: Notification, event_id: int) -> int | None:
    rows = s.execute(select(PspEvent.id, PspEvent.raw).where(
        PspEvent.order_id == note.order_id[:40], PspEvent.applied.is_(True), PspEvent.id != event_id,
        PspEvent.provider == note.provider)).all()
    return next((rid for rid, raw in rows if raw.get("key") == note.key), None)


def apply_event(sessions, event_id: int, note: Notification, settings=None, outbox=None) -> Outcome:
    """Apply a stored, verified notification. Safe to call again: it changes nothing twice.

    Messages are recorded through the links layer's outbox (`paylinks.outbox.open_outbox`); with
    neither `outbox` nor `settings`, statuses move and no message is recorded."""
    if outbox is None and settings is not None:
        from lettrage.paylinks.outbox import open_outbox

        with open_outbox(settings, sessions, email=False, sms=False) as recorder:
            return apply_event(sessions, event_id, note, None, recorder)
    for attempt in range(3):
        try:
            with store.transaction(sessions) as s:
                return _apply(s, event_id, note, outbox)
        except StaleDataError:  # another writer moved the row between our read and write
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply(s: Session, event_id: int, note: Notification, outbox) -> Outcome:
    event = s.get(PspEvent, event_id)
    request, part = _find_part(s, note.order_id)
    if request is None:
        event.detail = f"no payment request with order id {note.order_id!r}"
        return Outcome(event_id, False, event.detail)
    request = _lock_request(s, request.id)
    event.request_id = request.id
    if part is None:
        part = _new_part(s, request, note.order_id)
    s.refresh(part)
    event.payment_id = part.id
    previous = _seen_before(s, note, event_id)
    if previous is not None:
        event.detail = f"duplicate of event {previous}: nothing changed"
        return Outcome(event_id, False, event.detail, request.id, request.status, part.status)

    new_part = _part_status(s, part, note)
    # A further partial refund leaves the status as it is but still counts (its PAYIDSUB is new).
    counts = note.psp_status == "refunded" and part.status in ("paid", "partially_refunded")
    changes: list[str] = []
    moved = bool(new_part) and part_can_move(part.status, new_part)
    if moved:
        changes.append(f"part {part.seq}: {part.status} -> {new_part}")
        if new_part in ("authorised", "paid") and part.status != "authorised" and \
                note.amount_cents not in (None, part.amount_cents):
            # Money moved: recorded as the PSP says, and shown to whoever reads the event.
            changes.append(f"the PSP says {note.amount_cents} cents, {part.amount_cents} were asked")
        part.status = new_part
        if new_part == "paid" and part.paid_at is None:
            part.paid_at = store.utcnow()
    elif not counts:
        event.detail = f"status {note.status_code} ({note.psp_status}) after {part.status}: recorded, not applied"
        return Outcome(event_id, False, event.detail, request.id, request.status, part.status)
    if note.pay_id and note.psp_status in ("authorised", "paid") and not part.psp_reference:
        part.psp_reference = note.pay_id
    if note.alias and note.psp_status in ("authorised", "paid") and not part.alias:
        part.alias = note.alias

    messages = 0
    target = _request_target(request, part)
    if target and _advance(request, target):
        changes.append(f"request -> {request.status}")
        messages += record_messages(s, request, part, request.status, outbox, note)
    elif moved and (request.kind == "split" or (request.kind == "installments" and part.seq > 1)) and \
            part.status in HOTEL_OUTCOMES:
        # One payer's share, or an installment charged later: its own messages.
        messages += record_messages(s, request, part, part.status, outbox, note,
                                    guest=request.kind == "installments")
    if request.kind == "installments" and part.seq == 1 and part.status == "paid":
        plan_installments(s, request, part)
    event.applied = True
    event.detail = "; ".join(changes) or "counted"
    return Outcome(event_id, True, event.detail, request.id, request.status, part.status, messages)


def _part_status(s: Session, part: Payment, note: Notification) -> str | None:
    """The part's next status for this news, refunds counted in cents."""
    status = note.psp_status
    if status == "cancelled":
        # Cancelling an authorisation gives it back; STATUS 1 is the guest abandoning the page.
        return "released" if part.status == "authorised" or note.operation == "cancel" else "cancelled"
    if status == "refunded":
        refunded = _counted(s, part, "refunded") + (note.amount_cents or 0)
        return "refunded" if refunded >= (captured_cents(s, part) or part.amount_cents) else "partially_refunded"
    return status if status in PART_RANK else None


def _counted(s: Session, part: Payment, mapped: str) -> int:
    total = s.execute(select(func.coalesce(func.sum(PspEvent.amount_cents), 0)).where(
        PspEvent.payment_id == part.id, PspEvent.applied.is_(True), PspEvent.mapped_status == mapped)).scalar_one()
    return int(total)


def captured_cents(s: Session, part: Payment) -> int:
    """Money taken on a part (the sale, or the capture of its authorisation)."""
    return _counted(s, part, "paid")


def refunded_cents(s: Session, part: Payment) -> int:
    return _counted(s, part, "refunded")


def _request_target(request: LinkRequest, part: Payment) -> str | None:
    status = part.status
    if request.kind == "split":
        if status in PART_HOLDING:
            paid = sum(p.amount_cents for p in request.payments if p.status in PART_HOLDING)
            return "paid" if paid >= request.amount_cents else None
        return None
    if request.kind == "installments" and part.seq > 1:
        return status if status in ("partially_refunded", "refunded") else None
    if status == "paid" and request.kind == "preauth":
        return "captured"
    if status == "uncertain":
        return "pending"
    return status if status in RANK else None


def _advance(request: LinkRequest, target: str) -> bool:
    """Move the request forward to `target`, through 'authorised' when a capture arrives first."""
    if request.status == target:
        return False
    path = [target]
    if target == "captured" and request.status not in ("authorised",):
        path = ["authorised", "captured"]
    moved = False
    for step in path:
        if request.status != step and can_move(request.status, step):
            request.status = step
            request.status_changed_at = store.utcnow()
            moved = True
    return moved and request.status == target


GUEST_TEMPLATES = {"paid": "response_paid", "captured": "response_paid", "authorised": "response_authorised",
                   "refused": "response_refused", "cancelled": "response_cancelled", "pending": "response_pending",
                   "refunded": "response_refunded", "partially_refunded": "response_refunded"}


def record_messages(s: Session, request: LinkRequest, part: Payment, outcome: str, outbox, note: Notification,
                    guest: bool = True) -> int:
    """Record the response to the guest and the notice to the hotel for one outcome, each once.

    The links layer refuses a second record with the same idempotency key (kind, request,
    outcome, part, channel), and we hold the request's row lock: a replayed notification finds
    the record and adds nothing. A hotel without readable rules gets no message (reported)."""
    if outbox is None:
        return 0
    from lettrage.paylinks import sending, templates
    from lettrage.paylinks.messages import STATUS_LABELS
    from lettrage.paylinks.rules import RulesError

    try:
        profile = outbox.rules.get(request.hotel_id).profile
    except RulesError as exc:
        log.warning("request %s: no message recorded for %s: %s", request.id, outcome, exc)
        return 0
    suffix = f":p{part.seq}" if request.kind in ("installments", "split") else ""
    if outcome in ("refunded", "partially_refunded") and note.pay_id_sub:
        suffix += f":r{note.pay_id_sub}"  # every refund is news of its own
    money = {}
    if request.kind in ("installments", "split") or outcome == "captured":
        amount = captured_cents(s, part) if outcome == "captured" else part.amount_cents
        money["amount"] = templates.format_money(amount, part.currency, request.language)
    if outcome in ("refunded", "partially_refunded") and note.amount_cents:
        money["refund_amount"] = templates.format_money(note.amount_cents, part.currency, request.language)
    if part.psp_reference:
        money["psp_reference"] = part.psp_reference
    wanted = []
    if guest and outcome in GUEST_TEMPLATES:
        channel = "email" if request.email else ("sms" if request.phone else None)
        if channel:
            wanted.append(("response", channel, GUEST_TEMPLATES[outcome], money))
    if outcome in HOTEL_OUTCOMES:
        label = STATUS_LABELS.get(profile.language, STATUS_LABELS["en"]).get(outcome, outcome)
        wanted.append(("hotel_notice", "email", "hotel_notice", {**money, "status_label": label}))
    made = 0
    for kind, channel, template, extra in wanted:
        key = f"{kind}:{request.id}:{outcome}{suffix}:{channel}"
        if sending.record_send(s, request, outbox, kind=kind, channel=channel, template=template, key=key,
                               merge_values=extra or None) is not None:
            made += 1
    return made


# --- parts: opening a link, split bills, installments ------------------------------------------

def part_order_id(request: LinkRequest, seq: int) -> str:
    """ORDERID sent to the PSP: the request's own for one payment, `<order id>-P<n>` for a part."""
    return request.order_id if request.kind in ("sale", "preauth") else f"{request.order_id}-P{seq}"[:40]


def _new_part(s: Session, request: LinkRequest, order_id: str) -> Payment:
    """A part the PSP reports on that we had not recorded (e.g. the guest paid twice): kept."""
    m = re.search(r"-P(\d+)$", order_id)
    seq = int(m[1]) if m else 1
    part = Payment(request_id=request.id, seq=seq, amount_cents=request.amount_cents, currency=request.currency,
                   status="planned", order_id=order_id, payer_label=request.payer_label)
    s.add(part)
    s.flush()
    return part


def _ensure_installments(s: Session, request: LinkRequest, today: dt.date) -> None:
    """Requests made by hand get their plan here (the rules make it when they create a request)."""
    if request.payments:
        return
    from lettrage.paylinks.requests import installment_plan

    for seq, amount, due in installment_plan(request.amount_cents, max(1, request.installments or 1), today, 30):
        s.add(Payment(request_id=request.id, seq=seq, amount_cents=amount, currency=request.currency,
                      status="planned", due_date=due, order_id=part_order_id(request, seq)))
    s.flush()
    s.refresh(request)


def open_part(sessions, request_id: int) -> Payment:
    """The part a guest pays on opening the link: the sale, the pre-authorisation, installment 1."""
    with store.transaction(sessions) as s:
        request = _lock_request(s, request_id)
        if request.kind == "installments":
            _ensure_installments(s, request, store.utcnow().date())
            part = min(request.payments, key=lambda p: p.seq)
        else:
            order_id = part_order_id(request, 1)
            part = s.execute(select(Payment).where(Payment.order_id == order_id)).scalar_one_or_none() or \
                _new_part(s, request, order_id)
            if part.status in PART_BEFORE_MONEY and part.amount_cents != request.amount_cents:
                part.amount_cents = request.amount_cents  # the reservation changed since the last attempt
        if request.status in ("sent", "scheduled") and can_move(request.status, "opened"):
            request.status = "opened"
            request.status_changed_at = store.utcnow()
        s.flush()
        s.expunge(part)
        return part


@dataclass(frozen=True)
class SplitState:
    total_cents: int
    paid_cents: int
    held_cents: int        # reserved by payers on the PSP page right now
    payers: int
    currency: str

    @property
    def left_cents(self) -> int:
        return max(0, self.total_cents - self.paid_cents - self.held_cents)


def split_state(s: Session, request: LinkRequest, hold_minutes: int = 30, now: dt.datetime | None = None) -> SplitState:
    now = now or store.utcnow()
    parts = s.execute(select(Payment).where(Payment.request_id == request.id)).scalars().all()
    paid = sum(p.amount_cents for p in parts if p.status in PART_HOLDING)
    held = sum(p.amount_cents for p in parts if _holds(p, hold_minutes, now))
    payers = sum(1 for p in parts if p.status in PART_HOLDING)
    return SplitState(request.amount_cents, paid, held, payers, request.currency)


def _holds(part: Payment, hold_minutes: int, now: dt.datetime) -> bool:
    """A payer on the PSP page keeps their share for a while; an abandoned page frees it later."""
    if part.status not in ("planned", "pending", "uncertain"):
        return False
    if part.status == "uncertain":
        return True  # the bank may still take the money: never offer it to someone else
    return part.created_at >= now - dt.timedelta(minutes=hold_minutes)


def reserve_split_part(sessions, request_id: int, amount_cents: int, payer_label: str,
                       hold_minutes: int = 30) -> Payment:
    """Reserve one payer's share, under the request's row lock: two payers asking for the last
    part at the same moment are serialised, and the second is told what is left."""
    if amount_cents <= 0:
        raise PaymentError("the amount must be more than zero")
    with store.transaction(sessions) as s:
        request = _lock_request(s, request_id)
        if request.kind != "split":
            raise PaymentError("this request is not a split bill")
        if request.status in MONEY or request.status in ("cancelled", "expired"):
            raise PaymentError("this bill is already settled" if request.status in MONEY else "this link is closed")
        state = split_state(s, request, hold_minutes)
        if amount_cents > state.left_cents:
            raise ShareTooLarge(state.left_cents)
        seq = (s.execute(select(func.max(Payment.seq)).where(Payment.request_id == request.id)).scalar() or 0) + 1
        part = Payment(request_id=request.id, seq=seq, amount_cents=amount_cents, currency=request.currency,
                       status="pending", order_id=part_order_id(request, seq),
                       payer_label=(payer_label or "").strip()[:100] or None)
        s.add(part)
        if request.status in ("sent", "scheduled") and can_move(request.status, "opened"):
            request.status = "opened"
            request.status_changed_at = store.utcnow()
        s.flush()
        s.expunge(part)
        return part


def plan_installments(s: Session, request: LinkRequest, first: Payment) -> int:
    """Once part 1 is paid with the card kept, parts 2..n carry its alias and are charged when due."""
    planned = [p for p in request.payments if p.seq > 1 and p.status == "planned" and not p.alias]
    for part in planned:
        part.alias = first.alias
    return len(planned) if first.alias else 0


# --- after the payment: capture, release, refund, due installments -----------------------------

def _account(settings):
    return ogone.OgoneAccount.from_settings(settings)


def _money_part(s: Session, request_id: int) -> tuple[LinkRequest, Payment]:
    request = s.get(LinkRequest, request_id)
    if request is None:
        raise PaymentError(f"no payment request {request_id}")
    parts = [p for p in request.payments if p.status in PART_HOLDING | {"released", "refunded"}]
    if not parts:
        raise PaymentError(f"request {request_id} has no payment yet (status {request.status})")
    return request, parts[0]


def _provider(s: Session, part: Payment, settings) -> str:
    """The PSP that took this payment (its notifications say), else the configured one."""
    return s.scalar(select(PspEvent.provider).where(PspEvent.payment_id == part.id, PspEvent.applied.is_(True))
                    .order_by(PspEvent.id).limit(1)) or settings.psp_provider


def _maintain(sessions, settings, request_id: int, action: str, amount_cents: int | None, check) -> Outcome:
    """One maintenance call (capture, release, refund) to the PSP that took the payment; its answer
    is stored and applied like a notification (the PSP's own notification of it is then a duplicate)."""
    with store.transaction(sessions) as s:
        request, part = _money_part(s, request_id)
        amount, operation = check(s, request, part, amount_cents)
        order_id, currency, pay_id = part.order_id, part.currency, part.psp_reference
        provider = _provider(s, part, settings)
    if not pay_id:
        raise PaymentError(f"request {request_id}: the PSP reference (PAYID) of the payment is unknown")
    if provider == "worldline":
        return _maintain_worldline(sessions, settings, action, pay_id, order_id, amount, currency)
    try:
        result = ogone.DirectLink(_account(settings)).maintenance(operation, pay_id=pay_id, amount_cents=amount)
    except ogone.DirectLinkError as exc:
        raise PaymentError(str(exc) + (" (it may have been done: check the PSP before trying again)"
                                       if exc.in_doubt else "")) from None
    note = from_directlink(result, order_id, currency)
    if result.amount_cents is None:
        note = dataclasses.replace(note, amount_cents=amount)
    event_id = record_event(sessions, "ogone", {"via": "directlink", "params": result.raw}, True, note,
                            "" if result.ok else f"refused by the PSP: {result.nc_error} {result.nc_error_plus}")
    if not result.ok:
        raise PaymentError(f"the PSP refused: {result.nc_error_plus or result.nc_error} (NCERROR {result.nc_error})")
    return apply_event(sessions, event_id, note, settings)


def _maintain_worldline(sessions, settings, action: str, payment_id: str, order_id: str, amount: int | None,
                        currency: str) -> Outcome:
    """Worldline answers 'requested'; its webhook (payment.captured, .cancelled, .refunded) settles it."""
    from lettrage.paylinks.psp import worldline

    try:
        with worldline.WorldlineClient(worldline.WorldlineAccount.from_settings(settings)) as wl:
            if action == "capture":
                status = wl.capture(payment_id, amount, final=True)
            elif action == "release":
                status = wl.cancel(payment_id)
            else:
                status = wl.refund(payment_id, amount, currency)
    except Exception as exc:  # noqa: BLE001 - the SDK's errors, shown in one line
        raise PaymentError(f"Worldline refused or could not be reached: {type(exc).__name__}: {exc}") from None
    note = Notification("worldline", "api", order_id, payment_id, action, status, worldline.status_of(status, ""),
                        {"capture": "capture", "release": "cancel"}.get(action, "refund"), amount, currency)
    event_id = record_event(sessions, "worldline", {"via": "api", "action": action, "status": status}, True, note)
    return apply_event(sessions, event_id, note, settings)


def capture(sessions, settings, request_id: int, amount_cents: int | None = None) -> Outcome:
    """Capture a pre-authorisation (no-show): all of it, or a part and release the rest (SAS)."""
    def check(s, request, part, amount):
        if part.status != "authorised":
            raise PaymentError(f"request {request_id} is {request.status}: only an authorised payment can be captured")
        left = part.amount_cents - captured_cents(s, part)
        amount = left if amount is None else amount
        if not 0 < amount <= left:
            raise PaymentError(f"cannot capture {amount} cents: {left} cents are authorised and not captured")
        return amount, "SAS"

    return _maintain(sessions, settings, request_id, "capture", amount_cents, check)


def release(sessions, settings, request_id: int) -> Outcome:
    """Give a pre-authorisation back (the guest came): DES closes it."""
    def check(s, request, part, amount):
        if part.status != "authorised" or captured_cents(s, part):
            raise PaymentError(f"request {request_id} is {request.status}: only an authorisation never captured "
                               "can be released")
        return None, "DES"

    return _maintain(sessions, settings, request_id, "release", None, check)


def refund(sessions, settings, request_id: int, amount_cents: int | None = None) -> Outcome:
    """Refund a payment in whole (RFS) or in part (RFD, more may follow)."""
    def check(s, request, part, amount):
        if part.status not in ("paid", "partially_refunded"):
            raise PaymentError(f"request {request_id} is {request.status}: nothing was taken to refund")
        left = (captured_cents(s, part) or part.amount_cents) - refunded_cents(s, part)
        amount = left if amount is None else amount
        if not 0 < amount <= left:
            raise PaymentError(f"cannot refund {amount} cents: {left} cents are left to refund")
        return amount, "RFS" if amount == left else "RFD"

    return _maintain(sessions, settings, request_id, "refund", amount_cents, check)


def due_installments(s: Session, today: dt.date) -> list[Payment]:
    return list(s.execute(select(Payment).join(LinkRequest).where(
        LinkRequest.kind == "installments", Payment.status == "planned", Payment.due_date <= today,
        Payment.alias.is_not(None)).order_by(Payment.due_date, Payment.id)).scalars())


IN_DOUBT_AFTER = dt.timedelta(minutes=10)


def _charge(sessions, settings, link: ogone.DirectLink, part_id: int) -> Outcome | None:
    with store.transaction(sessions) as s:  # claim it first: a second run never charges it twice
        part = s.get(Payment, part_id)
        if part.status != "planned":
            return None
        part.status = "pending"
        order_id, alias, amount, currency = part.order_id, part.alias, part.amount_cents, part.currency
    try:
        result = link.alias_payment(order_id=order_id, alias=alias, amount_cents=amount, currency=currency,
                                    description=f"installment {order_id}")
    except ogone.DirectLinkError as exc:
        log.warning("installment %s not charged: %s", order_id, exc)
        if not exc.in_doubt:  # nothing reached the PSP: due again next run
            with store.transaction(sessions) as s:
                s.get(Payment, part_id).status = "planned"
        return None  # in doubt: stays pending, looked up by the next run
    note = from_directlink(result, order_id, currency)
    event_id = record_event(sessions, "ogone", {"via": "directlink", "params": result.raw}, True, note)
    return apply_event(sessions, event_id, note, settings)


def _look_up_in_doubt(sessions, settings, link: ogone.DirectLink) -> list[Outcome]:
    """Installments whose charge got no answer: ask the PSP (Direct Query) before anything else."""
    cutoff = store.utcnow() - IN_DOUBT_AFTER
    with store.transaction(sessions) as s:
        stuck = [(p.id, p.order_id, p.currency) for p in s.execute(select(Payment).join(LinkRequest).where(
            LinkRequest.kind == "installments", Payment.seq > 1, Payment.status == "pending",
            Payment.psp_reference.is_(None), Payment.updated_at < cutoff)).scalars()]
    outcomes = []
    for part_id, order_id, currency in stuck:
        try:
            result = link.query(order_id=order_id)
        except ogone.DirectLinkError:
            continue  # still cannot tell: ask again next run
        if not result.ok:  # the PSP never heard of it: charge it at the next run
            with store.transaction(sessions) as s:
                s.get(Payment, part_id).status = "planned"
            continue
        note = from_directlink(result, order_id, currency)
        event_id = record_event(sessions, "ogone", {"via": "directlink", "params": result.raw}, True, note)
        outcomes.append(apply_event(sessions, event_id, note, settings))
    return outcomes


def charge_due_installments(sessions, settings, today: dt.date | None = None) -> list[Outcome]:
    """Charge every installment due by `today` on the card kept at the first payment (MIT)."""
    today = today or dt.date.today()
    link = ogone.DirectLink(_account(settings))
    outcomes = _look_up_in_doubt(sessions, settings, link)
    with store.transaction(sessions) as s:
        due = [p.id for p in due_installments(s, today)]
    for part_id in due:
        outcome = _charge(sessions, settings, link, part_id)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
