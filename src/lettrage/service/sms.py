"""`/sms/status`: Twilio's delivery callbacks for the SMS we sent, verified with
`X-Twilio-Signature` (the twilio library's RequestValidator) against the public URL Twilio called.

Callbacks repeat and arrive out of order: a send's delivery status only moves forward.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import store
from lettrage.paylinks.store import LinkSend

log = logging.getLogger("lettrage.service.sms")
router = APIRouter()

# Twilio's message statuses, in the order they can happen; the last four are final.
DELIVERY_RANK = {"accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4, "partially_delivered": 5,
                 "delivered": 6, "undelivered": 6, "failed": 6, "canceled": 6, "read": 7}


def public_url(settings, request: Request) -> str:
    """The URL Twilio called, as it knows it (behind a proxy, the public base URL, not ours)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return settings.public_base_url.rstrip("/") + request.url.path + query


def record_status(sessions, sid: str, status: str, error_code: str) -> str:
    with store.transaction(sessions) as s:
        send = s.execute(select(LinkSend).where(LinkSend.provider_id == sid)).scalar_one_or_none()
        if send is None:
            return "unknown message"
        current = DELIVERY_RANK.get(send.delivery_status or "", 0)
        if DELIVERY_RANK.get(status, 0) <= current:
            return f"kept {send.delivery_status}"
        send.delivery_status = status
        if status in ("undelivered", "failed"):
            send.error = f"Twilio says {status}" + (f" (error {error_code})" if error_code else "")
        return f"now {status}"


@router.post("/sms/status")
async def sms_status(request: Request):
    from twilio.request_validator import RequestValidator

    settings, sessions = request.app.state.settings, request.app.state.sessions
    form = await request.form()
    params = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    signature = request.headers.get("x-twilio-signature", "")
    token = settings.twilio_auth_token
    if not token or not RequestValidator(token).validate(public_url(settings, request), params, signature):
        log.warning("SMS status callback refused: X-Twilio-Signature does not match (from %s)",
                    request.client.host if request.client else "?")
        return PlainTextResponse("signature refused", status_code=403)
    sid = params.get("MessageSid") or params.get("SmsSid", "")
    status = (params.get("MessageStatus") or params.get("SmsStatus", "")).lower()
    result = await run_in_threadpool(record_status, sessions, sid, status, params.get("ErrorCode", ""))
    log.info("SMS %s: %s (%s)", sid, status, result)
    return PlainTextResponse("OK")
