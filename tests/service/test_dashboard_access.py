"""The dashboard refuses what it must: no session, an expired or altered one, the wrong role, a
missing CSRF token, another hotel's request. Through the real service app and ops store."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient
from sqlalchemy import select

from lettrage.config import load_settings
from lettrage.paylinks import store
from lettrage.service.dashboard.sessions import COOKIE
from tests.service.dashboard_fixtures import add_request, csrf, login


def client(app, username: str | None = None) -> TestClient:
    c = TestClient(app)
    if username:
        assert login(c, username).status_code == 303
    return c


def status_of(app, request_id: int) -> str:
    with app.state.sessions() as s:
        return s.get(store.LinkRequest, request_id).status


def audit(app) -> list[tuple[str, str, str]]:
    with app.state.sessions() as s:
        return [(a.username, a.action, a.target) for a in s.scalars(select(store.AuditEntry).order_by(store.AuditEntry.id))]


def test_without_a_session_pages_send_to_login_and_actions_are_refused(app):
    rid = add_request(app.state.sessions)
    c = client(app)
    page = c.get("/dashboard/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/dashboard/login?next=/dashboard/"
    for path in (f"/dashboard/requests/{rid}/post", f"/dashboard/requests/{rid}/refund", "/dashboard/requests/post"):
        assert c.post(path, data={"request_id": rid}).status_code == 401
    assert c.get("/dashboard/export/paid-not-posted.csv", follow_redirects=False).status_code == 303
    assert status_of(app, rid) == "paid"


def test_login_checks_the_password_and_the_form_token(app):
    c = client(app)
    assert login(c, "fanny", "not-the-password").status_code == 401
    assert login(c, "nobody").status_code == 401
    no_token = c.post("/dashboard/login", data={"username": "fanny", "password": "front-desk-2026"})
    assert no_token.status_code == 403
    ok = login(c, "fanny")
    assert ok.status_code == 303
    assert "fanny · finance" in c.get("/dashboard/").text
    actions = [(u, a) for u, a, _ in audit(app)]
    assert ("fanny", "login_refused") in actions and ("nobody", "login_refused") in actions
    assert actions[-1] == ("fanny", "login")


def test_reception_cannot_post_refund_or_export_even_with_a_valid_form(app):
    rid = add_request(app.state.sessions)
    c = client(app, "rita")
    token = csrf(c)
    for action in ("post", "refund", "capture", "release"):
        resp = c.post(f"/dashboard/requests/{rid}/{action}", data={"csrf_token": token, "amount": "10.00"})
        assert resp.status_code == 403, action
        assert "does not allow" in resp.text
    assert c.post("/dashboard/requests/post", data={"csrf_token": token, "request_id": rid}).status_code == 403
    assert c.get("/dashboard/export/paid-not-posted.xml").status_code == 403
    assert c.get("/dashboard/audit").status_code == 403
    assert c.get("/dashboard/admin/users").status_code == 403
    assert status_of(app, rid) == "paid"
    assert ("rita", "refused", f"POST /dashboard/requests/{rid}/post") in audit(app)  # who tried what
    page = c.get(f"/dashboard/requests/{rid}").text
    assert "Mark POSTED" not in page and "Refund" not in page  # nor offered


def test_a_form_without_the_session_csrf_token_is_refused(app):
    rid = add_request(app.state.sessions)
    c = client(app, "fanny")
    assert c.post(f"/dashboard/requests/{rid}/post", data={}).status_code == 403
    other = client(app, "adam")  # a token from another session does not fit this one
    assert c.post(f"/dashboard/requests/{rid}/post", data={"csrf_token": csrf(other)}).status_code == 403
    assert status_of(app, rid) == "paid"
    assert c.post(f"/dashboard/requests/{rid}/post", data={"csrf_token": csrf(c)}).status_code == 200  # after redirect
    assert status_of(app, rid) == "posted"
    assert ("fanny", "marked POSTED", f"link_request:{rid}") in audit(app)


def test_expired_altered_and_deactivated_sessions_are_out(app, monkeypatch):
    c = client(app, "fanny")
    cookie = c.cookies.get(COOKIE)
    altered = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
    c2 = TestClient(app)
    c2.cookies.set(COOKIE, altered, path="/dashboard")
    assert c2.get("/dashboard/", follow_redirects=False).status_code == 303

    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) - 9 * 3600)
    old = TestClient(app)
    assert login(old, "fanny").status_code == 303  # a session issued 9 hours ago
    monkeypatch.undo()
    assert old.get("/dashboard/", follow_redirects=False).headers["location"].startswith("/dashboard/login")

    assert c.get("/dashboard/").status_code == 200
    with store.transaction(app.state.sessions) as s:
        s.scalars(select(store.User).where(store.User.username == "fanny")).one().active = False
    assert c.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_user_sees_only_their_hotels(app):
    mine = add_request(app.state.sessions, hotel="H1", last_name="Dupont")
    theirs = add_request(app.state.sessions, hotel="H2", last_name="Okafor", confirmation_no="CONF2002")
    c = client(app, "ravi")  # reception at H2
    listing = c.get("/dashboard/").text
    assert "Okafor" in listing and "Dupont" not in listing
    assert c.get(f"/dashboard/requests/{mine}").status_code == 404
    assert c.get(f"/dashboard/requests/{theirs}").status_code == 200


def test_finance_marks_posted_in_bulk_and_exports_what_is_left(app):
    a = add_request(app.state.sessions, amount_cents=25_000, confirmation_no="CONF1")
    b = add_request(app.state.sessions, amount_cents=12_345, confirmation_no="CONF2")
    c_ = add_request(app.state.sessions, amount_cents=9_900, confirmation_no="CONF3")
    unpaid = add_request(app.state.sessions, status="sent", paid=False, confirmation_no="CONF4")
    c = client(app, "fanny")
    page = c.post("/dashboard/requests/post", data={"csrf_token": csrf(c), "request_id": [a, b, unpaid]})
    assert "2 request(s) marked POSTED" in page.text and f"{unpaid}: is sent, not paid" in page.text
    assert [status_of(app, r) for r in (a, b, c_, unpaid)] == ["posted", "posted", "paid", "sent"]

    rows = list(csv.DictReader(io.StringIO(c.get("/dashboard/export/paid-not-posted.csv").text)))
    assert [(r["confirmation_no"], r["amount"], r["amount_cents"]) for r in rows] == [("CONF3", "99.00", "9900")]
    xml = ET.fromstring(c.get("/dashboard/export/paid-not-posted.xml").content)
    postings = xml.findall("./Hotel[@hotel_code='H1']/Posting")
    assert len(postings) == 1
    assert postings[0].findtext("PostingAmount") == "99.00"
    assert postings[0].findtext("PostingReference") == rows[0]["order_id"]
    assert postings[0].findtext("ConfirmationNo") == "CONF3"
    assert ("fanny", "exported csv", "hotel:*") in audit(app)


def test_reception_creates_a_request_and_bad_values_are_named(app, var_dir):
    c = client(app, "rita")
    token = csrf(c, "/dashboard/requests/new")
    form = {"csrf_token": token, "hotel_id": "H1", "confirmation_no": "CONF77", "guest_last_name": "Leroy",
            "guest_first_name": "Anne", "email": "anne@example.org", "amount": "12,5x", "kind": "sale",
            "channel": "email", "service": "reservation", "language": "fr", "expires_days": "7"}
    bad = c.post("/dashboard/requests", data=form)
    assert bad.status_code == 422 and "amount: &#39;12,5x&#39; is not an amount" in bad.text
    wrong_hotel = c.post("/dashboard/requests", data={**form, "amount": "120.50", "hotel_id": "H2"})
    assert wrong_hotel.status_code == 422 and "choose one of your hotels" in wrong_hotel.text
    made = c.post("/dashboard/requests", data={**form, "amount": "120.50"}, follow_redirects=False)
    assert made.status_code == 303
    with app.state.sessions() as s:
        req = s.scalars(select(store.LinkRequest)).one()
        assert (req.amount_cents, req.created_by, req.confirmation_no, req.language) == (12050, "rita", "CONF77", "fr")
    assert ("rita", "request created", f"link_request:{req.id}") in audit(app)


def test_step_by_step_reception_reads_the_message_then_approves_and_it_goes_out(app, var_dir):
    from lettrage.paylinks.rules import install_example, rules_path
    from lettrage.recon.hotels import Hotel, write_hotels

    settings = load_settings()
    write_hotels([Hotel("H1", "Hôtel Lutèce", "Europe/Paris")], settings.inbox_dir / "hotels.csv")
    install_example(rules_path(settings.link_rules_dir, "H1"), "Hôtel Lutèce", "hotel-lutece.example")
    first = add_request(app.state.sessions, status="pending_approval", paid=False, confirmation_no="CONF9")
    second = add_request(app.state.sessions, status="pending_approval", paid=False, confirmation_no="CONF8",
                         last_name="Durand")
    with store.transaction(app.state.sessions) as s:
        for r in s.scalars(select(store.LinkRequest)):
            r.arrival_date, r.departure_date, r.adults, r.children = dt.date(2026, 6, 1), dt.date(2026, 6, 3), 2, 0
    c = client(app, "rita")
    page = c.get("/dashboard/approvals")
    assert page.status_code == 200 and "Waiting for approval" in page.text
    assert "CONF9" in page.text and "250,00" in page.text  # the message itself, in French
    approved = c.post("/dashboard/approvals", data={"csrf_token": csrf(c), "request_id": [first, second]})
    assert "2 request(s) approved." in approved.text
    assert status_of(app, first) == status_of(app, second) == "sent"
    mails = sorted((settings.mail_dir).glob("*.eml"))
    assert len(mails) == 2  # the local mail sink (no SMTP relay configured) received each once
    assert ("rita", "request approved", f"link_request:{first}") in audit(app)
    again = c.post("/dashboard/approvals", data={"csrf_token": csrf(c), "request_id": [first]})
    assert again.status_code == 409 and len(sorted(settings.mail_dir.glob("*.eml"))) == 2
    finance = client(app, "fanny")
    assert finance.get("/dashboard/approvals").status_code == 403
