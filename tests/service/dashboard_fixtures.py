"""Users, requests and logged-in clients for the dashboard tests (a real app over a real ops store)."""

from __future__ import annotations

import datetime as dt
import re

from lettrage.paylinks import store
from lettrage.service.dashboard.passwords import hash_password

PASSWORD = "front-desk-2026"
USERS = {  # username: (role, hotels)
    "rita": ("reception", ["H1"]),
    "ravi": ("reception", ["H2"]),
    "fanny": ("finance", ["*"]),
    "adam": ("admin", ["*"]),
}
_HASH = hash_password(PASSWORD)  # one scrypt for every user: the tests stay fast


def seed_users(sessions) -> None:
    with store.transaction(sessions) as s:
        for name, (role, hotels) in USERS.items():
            s.add(store.User(username=name, password_hash=_HASH, role=role, hotel_ids=hotels, active=True))


def add_request(sessions, hotel="H1", status="paid", amount_cents=25_000, confirmation_no="CONF1001",
                last_name="Martin", channel="email", kind="sale", paid=True) -> int:
    now = dt.datetime.now(dt.UTC)
    with store.transaction(sessions) as s:
        n = s.query(store.LinkRequest).count() + 1
        req = store.LinkRequest(
            link_key=f"{n:032x}", hotel_id=hotel, confirmation_no=confirmation_no, reservation_id=f"R{n}",
            kind=kind, amount_cents=amount_cents, currency="EUR", status=status, channel=channel, language="fr",
            order_id=f"{confirmation_no}-{n}", guest_first_name="Claire", guest_last_name=last_name,
            email="claire.martin@example.org", expires_at=now + dt.timedelta(days=7), created_by="rules",
            created_at=now, status_changed_at=now)
        if paid:
            req.payments.append(store.Payment(seq=1, amount_cents=amount_cents, currency="EUR", status="paid",
                                              psp_reference=f"PAY{n:06d}", order_id=f"{confirmation_no}-{n}",
                                              paid_at=now))
        s.add(req)
        s.flush()
        return req.id


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path="/dashboard/") -> str:
    page = client.get(path)
    m = CSRF.search(page.text)
    assert m, f"no CSRF token on {path}: {page.status_code} {page.text[:300]}"
    return m[1]


def login(client, username: str, password: str = PASSWORD):
    token = csrf(client, "/dashboard/login")
    resp = client.post("/dashboard/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)
    return resp
