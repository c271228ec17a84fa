"""The guest journey in a real browser, over real servers: the dashboard and the service (uvicorn),
the PSP simulator (uvicorn), an SMTP server (aiosmtpd), the ops store (SQLite).

Reception creates a request -> the link e-mail arrives -> the guest opens it, pays on the
simulator's card page through 3-D Secure -> the response e-mail arrives -> finance sees it paid
and marks it POSTED. Then the refused, abandoned, expired, altered and split-bill cases.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

from sqlalchemy import select

from lettrage.paylinks import store
from tests.browser.conftest import create_request, log_in, message_html, message_text, screenshot, wait_until

LINK = re.compile(r"https?://127\.0\.0\.1:\d+/l/[A-Za-z0-9_\-]+")
CHALLENGE_CARD, REFUSED_CARD, ACCEPTED_CARD = "4000000000003220", "4000000000000002", "4111111111111111"


def link_mail(desk, address: str):
    return desk.smtp.wait_for(lambda m: address in str(m["To"]) and LINK.search(message_text(m)),
                              what=f"the link e-mail to {address}")


def status(desk, request_id: int) -> str:
    with desk.app.state.sessions() as s:
        return s.get(store.LinkRequest, request_id).status


def show_email(page, msg) -> None:
    """Render a received e-mail as a mail client would: its HTML, the inline logo resolved by CID."""
    html = message_html(msg)
    for part in msg.walk():
        cid = (part.get("Content-ID") or "").strip("<>")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    page.set_content(html)


def test_guest_pays_with_3ds_and_finance_marks_it_posted(browser, desk):
    reception = browser.new_context(viewport={"width": 1280, "height": 860})
    rita = reception.new_page()
    log_in(rita, desk, "rita")
    rid = create_request(rita, desk, "Martin", "240.00")
    assert "Sent (email)" in rita.inner_text(".flash"), rita.inner_text(".flash")
    assert rita.inner_text("[data-testid=status]") == "sent"

    mail = link_mail(desk, "martin@guest.example")
    assert "240,00" in message_text(mail) and "CMARTIN" in mail["Subject"]
    link = LINK.search(message_text(mail))[0]
    guest = browser.new_context(viewport={"width": 900, "height": 900})
    inbox = guest.new_page()
    show_email(inbox, mail)
    assert inbox.locator("img").first.evaluate("i => i.naturalWidth") > 0  # the logo, inline
    screenshot(inbox, "guest-email", doc=True)

    pay = guest.new_page()
    pay.goto(link)
    pay.wait_for_selector("#card-form")  # the simulator's hosted page, reached by the signed form
    assert "240" in pay.inner_text("#amount")
    pay.fill("#cardno", CHALLENGE_CARD)
    pay.click("#pay")
    pay.wait_for_selector("#challenge-form")
    pay.click("#authenticate")
    pay.wait_for_selector("text=Merci, votre paiement est confirmé")
    assert pay.url.startswith(desk.url.removesuffix("/dashboard"))
    screenshot(pay, "guest-paid")

    response = desk.smtp.wait_for(lambda m: "martin@guest.example" in str(m["To"]) and
                                  m["Subject"].startswith("Paiement reçu"), what="the payment confirmation")
    assert "CMARTIN" in response["Subject"]
    wait_until(lambda: status(desk, rid) == "paid", what="the request to be paid")

    finance = browser.new_context(viewport={"width": 1280, "height": 860})
    fanny = finance.new_page()
    log_in(fanny, desk, "fanny")
    row = fanny.locator(f"tr[data-request='{rid}']")
    assert row.locator("[data-testid=status]").inner_text() == "paid"
    row.locator("input[name=request_id]").check()
    fanny.click("text=Mark selected POSTED")
    fanny.wait_for_selector("text=1 request(s) marked POSTED.")
    assert row.locator("[data-testid=status]").inner_text() == "posted"
    fanny.click(f"tr[data-request='{rid}'] a")
    history = fanny.inner_text("#history")
    for seen in ("link email", "PSP notification", "response email", "marked POSTED"):
        assert seen in history, (seen, history)
    assert "fanny" in history
    screenshot(fanny, "dashboard-request", doc=True)
    assert status(desk, rid) == "posted"
    for context in (reception, guest, finance):
        context.close()
    the_next_reconciliation_matches_it(desk, rid)


def the_next_reconciliation_matches_it(desk, rid: int) -> None:
    """The night auditor's PMS posting carries the order id: the daily run's PSP and matching
    assets (a real Dagster run on the test's warehouse) match the paid link against it."""
    import dagster as dg
    import duckdb

    from lettrage.assets.matching import matching
    from lettrage.assets.psp import psp_link_payments
    from lettrage.recon.hotels import Hotel
    from lettrage.recon.warehouse import open_warehouse
    from lettrage.resources import build_resources

    # The morning run reconciles the day before (today's business date has no partition yet):
    # the guest paid "yesterday", at the same hour.
    with store.transaction(desk.app.state.sessions) as s:
        req = s.get(store.LinkRequest, rid)
        order_id, paid_at = req.order_id, req.payments[0].paid_at - dt.timedelta(days=1)
        for event in s.scalars(select(store.PspEvent).where(store.PspEvent.request_id == rid)):
            event.received_at -= dt.timedelta(days=1)
        req.payments[0].paid_at = paid_at
    day = Hotel("H1", "Hôtel Lutèce", "Europe/Paris").business_date(paid_at)
    with open_warehouse(desk.settings.warehouse_path) as conn:
        conn.execute(
            "INSERT INTO pms_postings (posting_id, hotel_id, business_date, posted_at, trx_code, amount_cents, currency,"
            " channel, confirmation_no, guest_name, reference, source_system, source_file, ingested_at) VALUES "
            "('OPERA-77001', 'H1', ?, ?, '9050', 24000, 'EUR', 'psp', 'CMARTIN', 'Martin, Claire', ?, 'opera', "
            "'opera_postings.csv', now())", [day, paid_at + dt.timedelta(minutes=20), order_id])
    result = dg.materialize([psp_link_payments, matching], partition_key=day.isoformat(),
                            resources=build_resources(desk.settings), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with duckdb.connect(str(desk.settings.warehouse_path), read_only=True) as conn:
        matched = conn.execute(
            "SELECT m.leg, p.order_id, p.amount_cents FROM card_matches m JOIN card_matches o USING (match_id) "
            "JOIN psp_transactions p ON p.psp_txn_id = o.record_id "
            "WHERE m.record_id = 'OPERA-77001' AND o.record_id <> 'OPERA-77001'").fetchall()
        not_posted = conn.execute("SELECT count(*) FROM exceptions WHERE code = 'PSP_NOT_POSTED' AND detail LIKE ?",
                                  [f"%{order_id}%"]).fetchone()[0]
    assert matched == [("pms_psp", order_id, 24000)]
    assert not_posted == 0


def test_refused_then_abandoned_payment(browser, desk, page):
    log_in(page, desk, "rita")
    rid = create_request(page, desk, "Bernard", "80.00")
    link = LINK.search(message_text(link_mail(desk, "bernard@guest.example")))[0]
    guest = browser.new_context()
    pay = guest.new_page()
    pay.goto(link)
    pay.fill("#cardno", REFUSED_CARD)
    pay.click("#pay")
    pay.wait_for_selector("text=Votre paiement a été refusé")
    wait_until(lambda: status(desk, rid) == "refused", what="the request to be refused")
    desk.smtp.wait_for(lambda m: "bernard@guest.example" in str(m["To"]) and "refus" in m["Subject"].lower(),
                       what="the refusal e-mail")

    pay.goto(link)  # the guest tries again, then gives up on the card page
    pay.click("#cancel")
    pay.wait_for_selector("text=Votre paiement a été annulé")
    wait_until(lambda: status(desk, rid) == "cancelled", what="the request to be cancelled")
    guest.close()


def test_expired_and_altered_links_show_a_clear_page_and_nothing_else(browser, desk, page):
    from lettrage.paylinks import tokens

    log_in(page, desk, "rita")
    rid = create_request(page, desk, "Petit", "50.00")
    link = LINK.search(message_text(link_mail(desk, "petit@guest.example")))[0]
    with desk.app.state.sessions() as s:
        key = s.get(store.LinkRequest, rid).link_key
    base = desk.url.removesuffix("/dashboard")
    expired = tokens.link_url(base, key, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), desk.settings.link_secret)
    guest = browser.new_context().new_page()
    guest.goto(expired)
    assert "Ce lien de paiement a expiré" in guest.content() or "This payment link has expired" in guest.content()
    token = link.rsplit("/", 1)[1]
    altered = link[: -len(token)] + token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    guest.goto(altered)
    text = guest.inner_text("body")
    assert "not valid" in text or "n’est pas valide" in text
    assert "Petit" not in text and "CPETIT" not in text and "50" not in text
    assert status(desk, rid) == "sent"
    guest.context.close()


def test_split_bill_paid_by_two_payers_in_two_browsers(browser, desk, page):
    log_in(page, desk, "rita")
    rid = create_request(page, desk, "Garcia", "300.00", kind="split", parts="2")
    link = LINK.search(message_text(link_mail(desk, "garcia@guest.example")))[0]
    payers = [browser.new_context(), browser.new_context()]
    pages = [c.new_page() for c in payers]
    for p in pages:  # both open the page before either pays
        p.goto(link)
        p.wait_for_selector("#split-form")
    for i, p in enumerate(pages):
        p.fill("#payer", f"Payer {i + 1}")
        p.fill("#amount", "150.00")
        p.click("#pay-share")
        p.wait_for_selector("#card-form")
        p.fill("#cardno", ACCEPTED_CARD)
        p.click("#pay")
        p.wait_for_selector("text=Merci, votre paiement est confirmé")
    wait_until(lambda: status(desk, rid) == "paid", what="the split bill to be paid in full")
    with desk.app.state.sessions() as s:
        parts = s.scalars(select(store.Payment).where(store.Payment.request_id == rid)).all()
        assert sorted((p.amount_cents, p.status) for p in parts) == [(15_000, "paid"), (15_000, "paid")]
    pages[0].goto(link)  # the link now says the bill is settled
    assert "300,00" in pages[0].inner_text("body") or "300.00" in pages[0].inner_text("body")
    for c in payers:
        c.close()


def test_finance_sees_each_request_as_the_store_has_it(browser, desk, page):
    """After the journeys above: every request in the list, with the status the store has."""
    log_in(page, desk, "fanny")
    with desk.app.state.sessions() as s:
        expected = {r.id: r.status for r in s.scalars(select(store.LinkRequest))}
    shown = {int(row.get_attribute("data-request")): row.locator("[data-testid=status]").inner_text()
             for row in page.locator("tr[data-request]").all()}
    assert shown == expected
    page.select_option("[name=status]", "cancelled")
    page.click("text=Filter")
    cancelled = page.locator("tr[data-request]")
    assert cancelled.count() == sum(1 for v in expected.values() if v == "cancelled")
    page.goto(desk.url + "/")
    screenshot(page, "dashboard-requests", doc=True)


def test_no_show_guarantee_captured_then_partly_refunded_by_finance(browser, desk, page):
    log_in(page, desk, "rita")
    rid = create_request(page, desk, "Moreau", "180.00", kind="preauth")
    link = LINK.search(message_text(link_mail(desk, "moreau@guest.example")))[0]
    guest = browser.new_context().new_page()
    guest.goto(link)
    guest.fill("#cardno", ACCEPTED_CARD)
    guest.click("#pay")
    guest.wait_for_url(re.compile(r"/result/"))
    wait_until(lambda: status(desk, rid) == "authorised", what="the pre-authorisation")
    guest.context.close()

    finance = browser.new_context().new_page()
    log_in(finance, desk, "fanny")
    finance.goto(f"{desk.url}/requests/{rid}")
    finance.fill("[aria-label='amount to capture']", "120.00")  # the first night, as the no-show fee
    finance.click("text=Capture (no-show)")
    finance.wait_for_selector("text=captured (120.00 €)")
    assert status(desk, rid) == "captured"
    finance.fill("[aria-label='amount to refund']", "20.00")
    finance.click("button:has-text('Refund')")
    finance.wait_for_selector("text=refunded (20.00 €)")
    assert status(desk, rid) == "partially_refunded"
    history = finance.inner_text("#history")
    assert "captured" in history and "refunded" in history and "fanny" in history
    finance.context.close()
