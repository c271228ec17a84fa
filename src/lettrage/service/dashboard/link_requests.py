"""The front desk's pages: the list of payment requests, one request and its history, a new request."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import store
from lettrage.paylinks.status import POSTABLE, STATUSES
from lettrage.recon.money import parse_amount
from lettrage.service.dashboard import queries
from lettrage.service.dashboard.desk import Desk, Refused
from lettrage.service.dashboard.desk import router as desk_router

router = desk_router()
KINDS = ("sale", "preauth", "installments", "split")
CHANNELS = ("email", "sms", "both")
SERVICES = ("reservation", "accounting", "restaurant")
LANGUAGES = ("fr", "en")


@router.get("/")
def request_list(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "view_requests")
    f = queries.Filters.from_query(request.query_params)
    with desk.sessions() as s:
        rows, total = queries.list_requests(s, user, f)
        hotels = queries.hotels(s, user)
    return desk.page(request, "requests.html", user, active="requests", rows=rows, total=total, f=f,
                     hotels=hotels, statuses=STATUSES, channels=CHANNELS, postable=POSTABLE,
                     page_size=queries.PAGE_SIZE)


@router.get("/requests/new")
def new_request_form(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "create_request")
    with desk.sessions() as s:
        hotels = queries.hotels(s, user)
    return desk.page(request, "new_request.html", user, active="new", hotels=hotels, kinds=KINDS,
                     channels=CHANNELS, services=SERVICES, languages=LANGUAGES, values={}, error="")


def _form_values(form) -> dict:
    return {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}


def _parse_new_request(v: dict, user) -> dict:
    """The form's values as `requests.create_manual` arguments; ValueError names the field at fault."""
    hotel = v.get("hotel_id", "")
    if not hotel or not user.sees(hotel):
        raise ValueError("choose one of your hotels")
    try:
        amount = parse_amount(v.get("amount", ""))
    except ValueError:
        raise ValueError(f"amount: {v.get('amount', '')!r} is not an amount (e.g. 250.00)") from None
    if amount <= 0:
        raise ValueError("amount: must be more than zero")
    for name, allowed in (("kind", KINDS), ("channel", CHANNELS), ("service", SERVICES), ("language", LANGUAGES)):
        if v.get(name) not in allowed:
            raise ValueError(f"{name}: choose one of {', '.join(allowed)}")
    if v["channel"] in ("email", "both") and "@" not in v.get("email", ""):
        raise ValueError("e-mail: the guest's e-mail address is needed to send by e-mail")
    if v["channel"] in ("sms", "both") and not v.get("phone", "").startswith("+"):
        raise ValueError("phone: the guest's mobile number in international form (+33...) is needed for SMS")
    if not v.get("confirmation_no"):
        raise ValueError("confirmation number: the reservation's confirmation number is needed")
    parts = None
    if v["kind"] in ("installments", "split"):
        try:
            parts = int(v.get("parts") or 0)
        except ValueError:
            parts = 0
        if parts < 2:
            raise ValueError("parts: installments and split bills need 2 parts or more")
    dates = {}
    for name in ("arrival_date", "departure_date"):
        try:
            dates[name] = dt.date.fromisoformat(v[name]) if v.get(name) else None
        except ValueError:
            raise ValueError(f"{name.replace('_', ' ')}: use the date picker (YYYY-MM-DD)") from None
    if dates["arrival_date"] and dates["departure_date"] and dates["departure_date"] <= dates["arrival_date"]:
        raise ValueError("departure date: must be after the arrival date")
    guests = {}
    for name in ("adults", "children"):
        try:
            guests[name] = int(v[name]) if v.get(name) else None
        except ValueError:
            raise ValueError(f"{name}: a number of guests") from None
    arrival_time = v.get("arrival_time") or None
    if arrival_time and not re.fullmatch(r"\d{2}:\d{2}", arrival_time):
        raise ValueError("arrival time: HH:MM")
    try:
        days = int(v.get("expires_days") or 7)
    except ValueError:
        days = 0
    if not 1 <= days <= 60:
        raise ValueError("expiry: between 1 and 60 days")
    return dict(
        hotel_id=hotel, amount_cents=amount, kind=v["kind"], channel=v["channel"], language=v["language"],
        service=v["service"], template=v.get("template") or "link",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=days), confirmation_no=v["confirmation_no"],
        reservation_id=v.get("reservation_id") or None, installments=parts,
        guest_first_name=v.get("guest_first_name") or None, guest_last_name=v.get("guest_last_name") or None,
        email=v.get("email") or None, phone=v.get("phone") or None, arrival_time=arrival_time, **dates, **guests,
        currency=v.get("currency") or "EUR",
    )


@router.post("/requests")
async def create_request(request: Request):
    from lettrage.paylinks import requests as link_requests

    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "create_request", dict(form))
    values = _form_values(form)
    try:
        args = _parse_new_request(values, user)
    except ValueError as exc:
        with desk.sessions() as s:
            hotels = queries.hotels(s, user)
        return desk.page(request, "new_request.html", user, status=422, active="new", hotels=hotels, kinds=KINDS,
                         channels=CHANNELS, services=SERVICES, languages=LANGUAGES, values=values, error=str(exc))
    with store.transaction(desk.sessions) as s:
        req = link_requests.create_manual(s, created_by=user.username, **args)
        request_id = req.id
    sent = await run_in_threadpool(desk.send_now, request_id)
    return desk.redirect(f"/requests/{request_id}", ("ok", f"Request {request_id} created. {sent}"))


@router.get("/requests/{request_id}")
def request_detail(request: Request, request_id: int):
    desk = Desk.of(request)
    user = desk.require(request, "view_requests")
    with desk.sessions() as s:
        row = queries.one_request(s, user, request_id)
        events = queries.history(s, row)
        parts = list(row.payments)
        link = desk.link_url(row)
        return desk.page(request, "request.html", user, active="requests", r=row, events=events, parts=parts,
                         link=link, postable=POSTABLE)


def request_id_list(form) -> list[int]:
    try:
        return sorted({int(v) for v in form.getlist("request_id")})
    except ValueError:
        raise Refused(400, "Bad form", "A request number in the form is not a number.") from None
