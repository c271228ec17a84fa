"""The PSP events our service received, as rows of the warehouse's `psp_transactions` table, so
that a paid link is matched against the PMS deposit posting whose reference carries our order id.

One row per applied event (duplicates and ignored late statuses are not money), in the canonical
columns (DOMAIN.md), `source_file` = SOURCE. The PSP's own report (an inbox file) wins: an event
it already lists (same provider, PAYID and status) is left out, so a payment is never counted twice.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select

from lettrage.paylinks.psp import worldline
from lettrage.paylinks.store import LinkRequest, Payment, PspEvent
from lettrage.recon import schemas
from lettrage.recon.readers.conventions import card_brand, last4

SOURCE = "lettrage-service:psp_events"


def _card(event: PspEvent) -> tuple[str | None, str | None, str | None]:
    """(brand, last 4 digits, auth code) as the event carried them."""
    raw = event.raw or {}
    if raw.get("body"):
        try:
            hook = worldline.read_webhook(raw["body"].encode())
        except ValueError:
            return None, None, None
        return card_brand(hook.card_brand) if hook.card_brand else None, hook.card_last4 or None, None
    params = raw.get("params") or []
    pairs = params.items() if isinstance(params, dict) else params
    up = {str(k).upper(): str(v) for k, v in pairs}
    return card_brand(up.get("BRAND")), last4(up.get("CARDNO")), up.get("ACCEPTANCE") or None


def _operation(status: str, after_authorisation: bool) -> str:
    if status == "paid":
        return "capture" if after_authorisation else "sale"
    if status == "cancelled":
        return "cancel" if after_authorisation else "sale"  # a release, or a guest leaving the page
    return {"authorised": "authorisation", "refunded": "refund"}.get(status, "sale")


def journal_rows(session, start: dt.date, end: dt.date, hotels: dict, now: dt.datetime | None = None) -> pd.DataFrame:
    """Rows of business dates [start, end) for `hotels` (hotel_id -> recon Hotel)."""
    now = now or dt.datetime.now(dt.UTC)
    # Wide enough in UTC for any time zone and night audit; the business date filters exactly.
    lo = dt.datetime.combine(start - dt.timedelta(days=2), dt.time(), dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), dt.UTC)
    rows = session.execute(
        select(PspEvent, LinkRequest.hotel_id, LinkRequest.id, Payment.order_id, Payment.psp_reference)
        .join(LinkRequest, PspEvent.request_id == LinkRequest.id)
        .join(Payment, PspEvent.payment_id == Payment.id)
        .where(PspEvent.applied.is_(True), PspEvent.received_at >= lo, PspEvent.received_at < hi,
               LinkRequest.hotel_id.in_(list(hotels)))
        .order_by(PspEvent.id)).all()
    # When each payment was first authorised: a later "paid" is its capture.
    authorised = dict(session.execute(select(PspEvent.payment_id, func.min(PspEvent.id)).where(
        PspEvent.applied.is_(True), PspEvent.mapped_status == "authorised").group_by(PspEvent.payment_id)).all())
    out = []
    for event, hotel_id, request_id, order_id, part_reference in rows:
        hotel = hotels[hotel_id]
        business_date = hotel.business_date(event.received_at)
        if not start <= business_date < end or event.amount_cents is None:
            continue
        brand, four, auth = _card(event)
        operation = _operation(event.mapped_status, authorised.get(event.payment_id, event.id) < event.id)
        amount = -abs(event.amount_cents) if operation == "refund" else event.amount_cents
        pay_id = event.payid or part_reference or ""
        sub = next((str(v) for k, v in _pairs(event) if str(k).upper() == "PAYIDSUB"), "")
        out.append({
            "psp_txn_id": f"svc:{event.provider}:{pay_id}:{sub}:{event.status_code}:{event.id}",
            "hotel_id": hotel_id, "provider": event.provider, "order_id": order_id, "link_id": str(request_id),
            "psp_reference": pay_id or None, "operation": operation, "status": event.mapped_status,
            "status_code": event.status_code, "event_at": pd.Timestamp(event.received_at),
            "business_date": business_date, "amount_cents": amount, "currency": event.currency or hotel.currency,
            "card_brand": brand, "card_last4": four, "auth_code": auth,
            "source_file": SOURCE, "ingested_at": pd.Timestamp(now),
        })
    frame = pd.DataFrame(out, columns=schemas.columns("psp_transactions")) if out else \
        schemas.empty_frame("psp_transactions")
    return schemas.model("psp_transactions").validate(frame) if out else frame


def _pairs(event: PspEvent):
    params = (event.raw or {}).get("params") or []
    return params.items() if isinstance(params, dict) else params


def replace_service_rows(conn, frame: pd.DataFrame, start: dt.date, end: dt.date, hotel_ids: list[str]) -> tuple[int, int]:
    """Replace this source's rows of the window in the warehouse (one transaction). Rows the PSP's
    report already holds are skipped. Returns (written, skipped)."""
    cols = schemas.columns("psp_transactions")
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM psp_transactions WHERE source_file = ? AND business_date >= ? AND business_date < ? "
                     "AND hotel_id IN (SELECT unnest(?))", [SOURCE, start, end, hotel_ids])
        reported = {tuple(r) for r in conn.execute(
            "SELECT provider, psp_reference, status_code FROM psp_transactions WHERE source_file <> ? "
            "AND business_date >= ? AND business_date < ? AND psp_reference IS NOT NULL",
            [SOURCE, start - dt.timedelta(days=3), end + dt.timedelta(days=3)]).fetchall()}
        keep = ~frame.apply(lambda r: (r["provider"], r["psp_reference"], r["status_code"]) in reported, axis=1) \
            if len(frame) else pd.Series([], dtype=bool)
        fresh = frame[keep] if len(frame) else frame
        if len(fresh):
            conn.register("service_rows", fresh[cols])
            conn.execute(f"INSERT INTO psp_transactions ({', '.join(cols)}) SELECT {', '.join(cols)} FROM service_rows")
            conn.unregister("service_rows")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return len(fresh), len(frame) - len(fresh)


def new_events_since(session, after_id: int) -> tuple[int, list[dt.datetime]]:
    """(the last applied event id, when each newer one arrived): the sensor's question."""
    rows = session.execute(select(PspEvent.id, PspEvent.received_at).where(
        PspEvent.id > after_id, PspEvent.applied.is_(True)).order_by(PspEvent.id)).all()
    return (rows[-1][0] if rows else after_id), [r[1] for r in rows]

