"""The payments API for other systems (a PMS, a script): capture, release, refund a request's
payment. `Authorization: Bearer <LETTRAGE_API_TOKEN>`; without a configured token the API is off.

    POST /api/requests/{id}/capture   {"amount": "120.00"}   (amount optional: all of it)
    POST /api/requests/{id}/release
    POST /api/requests/{id}/refund    {"amount": "30.00"}    (amount optional: what is left)
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import payments
from lettrage.recon.money import parse_amount

router = APIRouter(prefix="/api")


async def _act(request: Request, request_id: int, action: str):
    settings, sessions = request.app.state.settings, request.app.state.sessions
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not settings.api_token or not hmac.compare_digest(given.encode(), settings.api_token.encode()):
        return JSONResponse({"error": "missing or wrong API token"}, status_code=401)
    amount = None
    if action != "release" and (await request.body()).strip():
        try:
            body = await request.json()
            text = body.get("amount") if isinstance(body, dict) else None
            amount = parse_amount(str(text)) if text not in (None, "") else None
        except ValueError:
            return JSONResponse({"error": "the body must be JSON like {\"amount\": \"12.50\"}"}, status_code=422)
    args = (sessions, settings, request_id) + (() if action == "release" else (amount,))
    try:
        outcome = await run_in_threadpool(getattr(payments, action), *args)
    except payments.PaymentError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return {"request_id": request_id, "request_status": outcome.request_status,
            "payment_status": outcome.part_status, "detail": outcome.detail}


@router.post("/requests/{request_id}/capture")
async def capture(request: Request, request_id: int):
    return await _act(request, request_id, "capture")


@router.post("/requests/{request_id}/release")
async def release(request: Request, request_id: int):
    return await _act(request, request_id, "release")


@router.post("/requests/{request_id}/refund")
async def refund(request: Request, request_id: int):
    return await _act(request, request_id, "refund")
