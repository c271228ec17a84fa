"""`/l/<token>`: the link a guest opens. It leads to the PSP's hosted page (3-D Secure there), or
to the split-bill page; then the guest comes back to a result page in their language.

A guessed, altered or unknown link shows the same clear page and reveals nothing about any
request. The result pages trust only what is signed: Ogone's redirect parameters (SHA-OUT,
applied like a notification) or our own signature on the Worldline return URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import payments, store, tokens
from lettrage.paylinks.psp import ogone
from lettrage.paylinks.status import MONEY
from lettrage.paylinks.store import LinkRequest, Payment
from lettrage.service import guest_pages
from lettrage.service.guest_pages import message_page, render

router = APIRouter()

PAID_PAGES = {"paid": "paid", "captured": "paid", "partially_refunded": "paid", "posted": "paid", "refunded": "paid",
              "authorised": "authorised", "released": "closed"}
PART_PAGES = {"paid": "paid", "partially_refunded": "paid", "refunded": "paid", "authorised": "authorised",
              "released": "closed", "refused": "refused", "error": "refused", "cancelled": "cancelled",
              "expired": "cancelled", "pending": "pending", "uncertain": "pending", "planned": "unknown"}


def service_state(request: Request):
    return request.app.state.settings, request.app.state.sessions


def find_request(request: Request, token: str) -> tuple[LinkRequest | None, str]:
    """(the request, "") for a genuine link, else (None, "invalid" | "expired")."""
    settings, sessions = service_state(request)
    try:
        found = tokens.read_token(token, settings.link_secret)
    except tokens.ExpiredLink:
        return None, "expired"
    except tokens.InvalidLink:
        return None, "invalid"
    with store.transaction(sessions) as s:
        row = s.execute(select(LinkRequest).where(LinkRequest.link_key == found.link_key)).scalar_one_or_none()
        if row is not None:
            s.expunge(row)
    return row, "" if row is not None else "invalid"


def retry_url(settings, row: LinkRequest) -> str | None:
    if row.expires_at is None:
        return None
    return tokens.link_url(settings.public_base_url, row.link_key, row.expires_at, settings.link_secret)


def result_signature(settings, order_id: str) -> str:
    return hmac.new(settings.link_secret.encode(), f"result:{order_id}".encode(), hashlib.sha256).hexdigest()[:24]


def alias_for(row: LinkRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"LTR-{row.hotel_id}-{row.order_id}")[:50]


def alias_usage(row: LinkRequest, language: str) -> str:
    n = max(1, (row.installments or 1) - 1)
    if language == "fr":
        return f"J’accepte que ma carte soit conservée pour les {n} prochain(s) paiement(s) de ce plan."
    return f"I agree that my card is kept for the next {n} payment(s) of this plan."


def to_psp(request: Request, row: LinkRequest, part: Payment):
    """The guest's way to the PSP: an auto-submitted signed form (Ogone) or a redirect (Worldline)."""
    settings, _ = service_state(request)
    lang = guest_pages.language_of(None, row.language)
    base = settings.public_base_url.rstrip("/")
    installments_first = row.kind == "installments" and part.seq == 1
    if settings.psp_provider == "worldline":
        from lettrage.paylinks.psp import worldline

        with worldline.WorldlineClient(worldline.WorldlineAccount.from_settings(settings)) as wl:
            checkout = wl.create_hosted_checkout(
                order_id=part.order_id, amount_cents=part.amount_cents, currency=part.currency, language=row.language,
                return_url=f"{base}/result/wl/{part.order_id}/{result_signature(settings, part.order_id)}",
                email=row.email or "", pre_authorisation=row.kind == "preauth", tokenize=installments_first)
        return RedirectResponse(checkout.redirect_url, status_code=303)
    page = ogone.hosted_page(
        ogone.OgoneAccount.from_settings(settings), order_id=part.order_id, amount_cents=part.amount_cents,
        currency=part.currency, language=row.language, accept_url=f"{base}/result/accepted",
        decline_url=f"{base}/result/declined", exception_url=f"{base}/result/exception",
        cancel_url=f"{base}/result/cancelled", operation="RES" if row.kind == "preauth" else "SAL",
        guest_name=part.payer_label or row.guest_name, email=row.email or "",
        description=f"{row.confirmation_no or row.order_id}",
        alias=alias_for(row) if installments_first else "",
        alias_usage=alias_usage(row, lang) if installments_first else "")
    return render(request, "guest/to_psp.html", lang, action=page.action, fields=page.fields,
                  amount_cents=part.amount_cents, currency=part.currency)


@router.get("/l/{token}")
async def open_link(request: Request, token: str):
    row, problem = find_request(request, token)
    if row is None:
        return message_page(request, problem, status_code=404 if problem == "invalid" else 410)
    lang = row.language
    if row.status in ("cancelled", "expired"):
        return message_page(request, "closed" if row.status == "cancelled" else "expired", lang, 410)
    if row.status in MONEY:
        return message_page(request, PAID_PAGES.get(row.status, "paid"), lang, amount_cents=row.amount_cents,
                            currency=row.currency, reference=row.confirmation_no)
    if row.kind == "split":
        from lettrage.service.split import split_page

        return await split_page(request, row, token)
    _, sessions = service_state(request)
    if await run_in_threadpool(_uncertain, sessions, row.id):
        # The bank may still take the money (Ogone: the guest must not try again): wait for it.
        return message_page(request, "pending", lang, amount_cents=row.amount_cents, currency=row.currency,
                            reference=row.confirmation_no, refresh=True)
    part = await run_in_threadpool(payments.open_part, sessions, row.id)
    return await run_in_threadpool(to_psp, request, row, part)


def _uncertain(sessions, request_id: int) -> bool:
    with store.transaction(sessions) as s:
        return s.execute(select(Payment.id).where(Payment.request_id == request_id,
                                                  Payment.status == "uncertain")).first() is not None


def _show_part(request: Request, order_id: str):
    settings, sessions = service_state(request)
    with store.transaction(sessions) as s:
        part = s.execute(select(Payment).where(Payment.order_id == order_id)).scalar_one_or_none()
        if part is None:
            return message_page(request, "unknown")
        row = part.request
        key = PART_PAGES.get(part.status, "unknown")
        retry = None
        if key in ("refused",) and row.status not in MONEY | {"cancelled", "expired"}:
            retry = retry_url(settings, row)
        return message_page(request, key, row.language, amount_cents=part.amount_cents, currency=part.currency,
                            reference=row.confirmation_no, retry_url=retry, refresh=key in ("pending", "unknown"))


@router.get("/result/{outcome}")
async def ogone_result(request: Request, outcome: str, tasks: BackgroundTasks):
    """Where Ogone sends the guest back (ACCEPT/DECLINE/EXCEPTION/CANCEL URL)."""
    from lettrage.service.notifications import receive_ogone

    items = list(request.query_params.multi_items())
    if outcome not in ("accepted", "declined", "exception", "cancelled") or not items:
        return message_page(request, "unknown")
    result = await run_in_threadpool(receive_ogone, request, items, "redirect", tasks)
    if result is None:  # not signed by the PSP: say nothing about any order
        return message_page(request, "unknown")
    return await run_in_threadpool(_show_part, request, result.order_id)


@router.get("/result/wl/{order_id}/{signature}")
async def worldline_result(request: Request, order_id: str, signature: str):
    settings, _ = service_state(request)
    if not hmac.compare_digest(signature, result_signature(settings, order_id)):
        return message_page(request, "unknown")
    return await run_in_threadpool(_show_part, request, order_id)
