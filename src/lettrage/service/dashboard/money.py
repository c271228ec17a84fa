"""Finance's actions on money already held or taken: capture or release a pre-authorisation, refund."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import store
from lettrage.recon.money import format_cents, parse_amount
from lettrage.service.dashboard import queries
from lettrage.service.dashboard.desk import Desk, Refused
from lettrage.service.dashboard.desk import router as desk_router

router = desk_router()
ACTIONS = {"capture": "captured", "release": "released", "refund": "refunded"}


async def _money_action(request: Request, request_id: int, action: str):
    from lettrage.paylinks import payments

    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, action, dict(form))
    with desk.sessions() as s:
        req = queries.one_request(s, user, request_id)  # another hotel's request reads as not found
        currency = req.currency
    amount = None
    text = str(form.get("amount", "")).strip()
    if text and action != "release":
        try:
            amount = parse_amount(text)
        except ValueError:
            raise Refused(422, "Not an amount", f"{text!r} is not an amount (e.g. 50.00).") from None
    operation = getattr(payments, action)
    args = (desk.sessions, desk.settings, request_id) + (() if action == "release" else (amount,))
    try:
        # A DirectLink call to the PSP: off the event loop (the PSP may call this service back meanwhile).
        outcome = await run_in_threadpool(operation, *args)
    except payments.PaymentError as exc:
        with store.transaction(desk.sessions) as s:
            Desk.audit(s, user, f"{action} refused", f"link_request:{request_id}", str(exc))
        return desk.redirect(f"/requests/{request_id}", ("error", f"Not {ACTIONS[action]}: {exc}"))
    how_much = format_cents(amount, currency) if amount is not None else "in full"
    with store.transaction(desk.sessions) as s:
        Desk.audit(s, user, ACTIONS[action], f"link_request:{request_id}",
                   f"{how_much}; request now {outcome.request_status}")
    return desk.redirect(f"/requests/{request_id}",
                         ("ok", f"Request {request_id} {ACTIONS[action]} ({how_much}); now {outcome.request_status}."))


@router.post("/requests/{request_id}/capture")
async def capture(request: Request, request_id: int):
    return await _money_action(request, request_id, "capture")


@router.post("/requests/{request_id}/release")
async def release(request: Request, request_id: int):
    return await _money_action(request, request_id, "release")


@router.post("/requests/{request_id}/refund")
async def refund(request: Request, request_id: int):
    return await _money_action(request, request_id, "refund")
