"""Roles in the browser: reception sees no finance action and cannot do one by posting the form
itself; a request without a session or without the CSRF token is refused; admin adds a user
who can then log in; the audit log shows who did what."""

from __future__ import annotations

import re

from sqlalchemy import select

from lettrage.paylinks import store
from tests.browser.conftest import log_in, screenshot
from tests.service.dashboard_fixtures import PASSWORD, add_request


def status(desk, request_id: int) -> str:
    with desk.app.state.sessions() as s:
        return s.get(store.LinkRequest, request_id).status


def csrf_of(page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value")


def test_reception_cannot_refund_or_post_even_by_posting_the_form(desk, page):
    rid = add_request(desk.app.state.sessions, hotel="H1", last_name="Roux", confirmation_no="CROUX")
    log_in(page, desk, "rita")
    page.goto(f"{desk.url}/requests/{rid}")
    assert page.inner_text("[data-testid=status]") == "paid"
    assert page.locator("text=Mark POSTED").count() == 0 and page.locator("button:has-text('Refund')").count() == 0
    token = csrf_of(page)  # her own, valid token: the role alone must stop her
    for action in ("post", "refund", "capture"):
        resp = page.request.post(f"{desk.url}/requests/{rid}/{action}", form={"csrf_token": token, "amount": "10"})
        assert resp.status == 403, action
        assert "does not allow" in resp.text()
    resp = page.request.post(f"{desk.url}/requests/post", form={"csrf_token": token, "request_id": str(rid)})
    assert resp.status == 403
    assert page.request.get(f"{desk.url}/export/paid-not-posted.csv").status == 403
    assert status(desk, rid) == "paid"


def test_no_session_or_no_csrf_token_is_refused(browser, desk, page):
    rid = add_request(desk.app.state.sessions, hotel="H1", last_name="Faure", confirmation_no="CFAURE")
    stranger = browser.new_context()
    assert stranger.request.post(f"{desk.url}/requests/{rid}/post", form={"csrf_token": "x"}).status == 401
    lost = stranger.new_page()
    lost.goto(f"{desk.url}/audit")
    assert re.search(r"/dashboard/login\?next=/dashboard/audit$", lost.url)  # sent to log in first
    stranger.close()

    log_in(page, desk, "fanny")
    assert page.request.post(f"{desk.url}/requests/{rid}/post", form={}).status == 403
    assert page.request.post(f"{desk.url}/requests/{rid}/post", form={"csrf_token": "forged"}).status == 403
    assert status(desk, rid) == "paid"
    page.goto(f"{desk.url}/requests/{rid}")
    page.click("text=Mark POSTED")
    page.wait_for_selector(f"text=Request {rid} marked POSTED.")
    assert status(desk, rid) == "posted"


def test_admin_adds_a_user_who_logs_in_and_the_audit_log_shows_it(browser, desk, page):
    log_in(page, desk, "adam")
    page.goto(f"{desk.url}/admin/users")
    page.fill("form:has(button:has-text('Add user')) [name=username]", "nadia")
    page.select_option("form:has(button:has-text('Add user')) [name=role]", "finance")
    page.fill("form:has(button:has-text('Add user')) [name=hotels]", "H1")
    page.fill("form:has(button:has-text('Add user')) [name=password]", "night-audit-2026")
    page.click("text=Add user")
    page.wait_for_selector("text=User nadia added (finance).")
    with desk.app.state.sessions() as s:
        nadia = s.scalars(select(store.User).where(store.User.username == "nadia")).one()
        assert nadia.password_hash.startswith("scrypt$") and "night-audit-2026" not in nadia.password_hash
        assert (nadia.role, nadia.hotel_ids) == ("finance", ["H1"])

    other = browser.new_context().new_page()
    other.goto(desk.url + "/login")
    other.fill("input[name=username]", "nadia")
    other.fill("input[name=password]", "night-audit-2026")
    other.click("button[type=submit]")
    other.wait_for_selector("text=nadia · finance")
    other.context.close()

    page.goto(f"{desk.url}/audit?user=adam")
    log = page.inner_text("#audit")
    assert "user added" in log and "user:nadia" in log and "role finance, hotels H1" in log
    page.goto(f"{desk.url}/audit")
    assert "nadia" in page.inner_text("#audit")  # her login, with when
    screenshot(page, "dashboard-audit", doc=True)
    assert PASSWORD not in page.content()
