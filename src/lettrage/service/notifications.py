"""PSP notifications, the source of truth: Ogone's server-to-server requests (`/psp/ogone/notify`,
GET or POST) and Worldline's webhooks (`/psp/worldline/webhook`).

Every message is stored as received before anything else; a bad signature is refused with 403
and logged without any secret; a good one is applied once (paylinks/payments.py), and the
messages its outcome calls for go out after the commit.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import payments
from lettrage.paylinks.psp import ogone, worldline

log = logging.getLogger("lettrage.service.notifications")
router = APIRouter()


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _after(request: Request, outcome: payments.Outcome, tasks: BackgroundTasks | None) -> None:
    """Hand the outcome's messages over once the response is on its way."""
    if outcome.messages and outcome.request_id is not None:
        from lettrage.service.outbox import deliver

        settings, sessions = request.app.state.settings, request.app.state.sessions
        if tasks is not None:
            tasks.add_task(deliver, settings, sessions, outcome.request_id)
        else:
            deliver(settings, sessions, outcome.request_id)


def receive_ogone(request: Request, items: list[tuple[str, str]], via: str,
                  tasks: BackgroundTasks | None = None) -> payments.Notification | None:
    """Store, verify and apply one Ogone feedback; None when it is not signed by the PSP."""
    settings, sessions = request.app.state.settings, request.app.state.sessions
    raw = {"via": via, "method": request.method, "client": _client(request), "params": [list(p) for p in items]}
    # UTF-8 unless the account is set to ISO-8859-1 (Ogone's two charsets); ASCII reads the same in both.
    signed = any(ogone.verify_sha_out(items, settings.ogone_sha_out, settings.ogone_algorithm, charset)
                 for charset in ("utf-8", "iso-8859-1"))
    note, detail = None, ""
    if signed:
        try:
            note = payments.from_ogone(ogone.read_feedback(dict(items)), via)
        except ValueError as exc:
            detail = f"signed but unreadable: {exc}"
    else:
        detail = "SHA-OUT signature missing or wrong: refused"
    event_id = payments.record_event(sessions, "ogone", raw, signed, note, detail)
    if note is None:
        log.warning("Ogone %s refused (event %s from %s): %s", via, event_id, raw["client"], detail)
        return None
    outcome = payments.apply_event(sessions, event_id, note, settings)
    log.info("Ogone %s event %s order %s STATUS %s: %s", via, event_id, note.order_id, note.status_code,
             outcome.detail)
    _after(request, outcome, tasks)
    return note


@router.api_route("/psp/ogone/notify", methods=["GET", "POST"])
async def ogone_notify(request: Request, tasks: BackgroundTasks):
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        items += [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    note = await run_in_threadpool(receive_ogone, request, items, "notification", tasks)
    if note is None:
        return PlainTextResponse("signature refused", status_code=403)
    return PlainTextResponse("OK")


@router.get("/psp/worldline/webhook")
async def worldline_verification(request: Request):
    """Worldline checks the endpoint before using it: answer the header's value as text."""
    value = request.headers.get(worldline.VERIFICATION_HEADER)
    if value is None:
        return PlainTextResponse("missing verification header", status_code=400)
    return PlainTextResponse(value)


def receive_worldline(request: Request, body: bytes, tasks: BackgroundTasks | None) -> int:
    """Store, verify and apply one webhook; the HTTP status to answer."""
    settings, sessions = request.app.state.settings, request.app.state.sessions
    headers = list(request.headers.items())
    raw = {"via": "webhook", "client": _client(request), "body": body.decode("utf-8", "replace"),
           "signature": request.headers.get("x-gcs-signature", ""), "key_id": request.headers.get("x-gcs-keyid", "")}
    note, detail = None, ""
    try:
        worldline.verify_webhook(body, headers, settings.worldline_webhook_secret, settings.worldline_webhook_key_id)
        signed = True
        event = worldline.read_webhook(body)
        note = payments.Notification("worldline", "webhook", event.order_id, event.payment_id, "",
                                     event.status_code, event.status, event.operation, event.amount_cents,
                                     event.currency, event.card_brand, event.card_last4, event.token,
                                     event_id=event.event_id)
    except worldline.WebhookRefused as exc:
        signed, detail = False, str(exc)
    except (ValueError, KeyError, TypeError) as exc:
        signed, detail = True, f"signed but unreadable: {type(exc).__name__}"
    event_id = payments.record_event(sessions, "worldline", raw, signed, note, detail)
    if note is None:
        log.warning("Worldline webhook refused (event %s from %s): %s", event_id, raw["client"], detail)
        return 400 if signed else 403
    outcome = payments.apply_event(sessions, event_id, note, settings)
    _after(request, outcome, tasks)
    return 200


@router.post("/psp/worldline/webhook")
async def worldline_webhook(request: Request, tasks: BackgroundTasks):
    body = await request.body()
    status = await run_in_threadpool(receive_worldline, request, body, tasks)
    answers = {200: "OK", 400: "signed but unreadable", 403: "signature refused"}
    return PlainTextResponse(answers[status], status_code=status)
