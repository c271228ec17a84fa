"""The split-bill page: the total, what is paid and by how many payers; each payer pays a part
until the total is reached, never more, even when two pay the last part at the same moment
(the reservation of a share is made under the request's row lock, paylinks/payments.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import payments, store
from lettrage.paylinks.store import LinkRequest
from lettrage.recon.money import format_cents, parse_amount
from lettrage.service.guest_pages import message_page, render

router = APIRouter()

PROBLEMS = {
    "en": {"amount": "Please enter an amount such as 45.50.", "name": "Please enter your name.",
           "left": "Only {left} is left to pay.", "none": "The whole bill is paid, or being paid right now.",
           "closed": "This bill is settled."},
    "fr": {"amount": "Indiquez un montant, par exemple 45,50.", "name": "Indiquez votre nom.",
           "left": "Il ne reste que {left} à payer.", "none": "La note est payée, ou en train de l’être.",
           "closed": "Cette note est réglée."},
}


def _state(request: Request, row: LinkRequest) -> payments.SplitState:
    settings, sessions = request.app.state.settings, request.app.state.sessions
    with store.transaction(sessions) as s:
        return payments.split_state(s, s.get(LinkRequest, row.id), settings.split_hold_minutes)


def _suggested(row: LinkRequest, state: payments.SplitState) -> str:
    share = state.total_cents // row.installments if row.installments else state.left_cents
    cents = min(state.left_cents, max(share, 1))
    return f"{cents // 100}.{cents % 100:02d}"


async def split_page(request: Request, row: LinkRequest, token: str, problem: str = "", status_code: int = 200):
    state = await run_in_threadpool(_state, request, row)
    lang = "fr" if (row.language or "").startswith("fr") else "en"
    return render(request, "guest/split.html", lang, status_code, state=state, problem=problem,
                  action=f"/l/{token}/split", suggested=_suggested(row, state), reference=row.confirmation_no)


@router.post("/l/{token}/split")
async def pay_share(request: Request, token: str):
    from lettrage.service.links import find_request, to_psp

    row, problem = find_request(request, token)
    if row is None:
        return message_page(request, problem, status_code=404 if problem == "invalid" else 410)
    if row.kind != "split":
        return message_page(request, "invalid", row.language, 404)
    lang = "fr" if (row.language or "").startswith("fr") else "en"
    form = await request.form()
    payer = str(form.get("payer", "")).strip()
    try:
        amount = parse_amount(str(form.get("amount", "")))
    except ValueError:
        return await split_page(request, row, token, PROBLEMS[lang]["amount"], 422)
    if not payer:
        return await split_page(request, row, token, PROBLEMS[lang]["name"], 422)
    settings, sessions = request.app.state.settings, request.app.state.sessions
    try:
        part = await run_in_threadpool(payments.reserve_split_part, sessions, row.id, amount, payer,
                                       settings.split_hold_minutes)
    except payments.ShareTooLarge as exc:
        words = PROBLEMS[lang]
        text = words["left"].format(left=format_cents(exc.left_cents, row.currency)) if exc.left_cents else \
            words["none"]
        return await split_page(request, row, token, text, 409)
    except payments.PaymentError:
        return await split_page(request, row, token, PROBLEMS[lang]["closed"], 409)
    return await run_in_threadpool(to_psp, request, row, part)
