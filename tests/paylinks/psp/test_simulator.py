"""The PSP simulator over real HTTP: hosted page, test cards, redirects, notifications, DirectLink."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from lettrage.paylinks.psp import ogone
from lettrage.paylinks.psp.simulator import Simulator, SimulatorSettings
from lettrage.service.serving import BackgroundServer

SHA_IN, SHA_OUT = "in-Pass-1!", "out-Pass-2?"


class Receiver:
    """The merchant's notification URL: records what arrives, fails the first `failures` calls."""

    def __init__(self, failures: int = 0):
        self.failures, self.received, self.lock = failures, [], threading.Lock()
        app = FastAPI()

        @app.api_route("/notify", methods=["GET", "POST"])
        async def notify(request: Request):
            params = dict(request.query_params) | dict(await request.form())
            with self.lock:
                self.received.append((request.method, params))
                if self.failures:
                    self.failures -= 1
                    return PlainTextResponse("down", status_code=503)
            return PlainTextResponse("OK")

        self.app = app


@pytest.fixture
def psp():
    receiver = Receiver()
    with BackgroundServer(receiver.app) as rx:
        settings = SimulatorSettings("HOTELPSP", SHA_IN, SHA_OUT, "sha512", "api", "api-password-1",
                                     notify_url=rx.url + "/notify", retry_delay=0.05)
        sim = Simulator(settings)
        with BackgroundServer(sim.app) as srv:
            yield sim, srv.url, receiver


def form(operation="SAL", order="LNK-1", amount=15075, **extra):
    account = ogone.OgoneAccount("HOTELPSP", "", SHA_IN, SHA_OUT, "sha512")
    return ogone.hosted_page(account, order_id=order, amount_cents=amount, currency="EUR", language="fr",
                             accept_url="https://hotel.test/ok", decline_url="https://hotel.test/ko",
                             exception_url="https://hotel.test/ex", cancel_url="https://hotel.test/cancel",
                             operation=operation, guest_name="Anne Martin", **extra).fields


def open_page(base, fields):
    return httpx.post(f"{base}/ncol/test/orderstandard_utf8.asp", data=fields)


def session_of(page: httpx.Response) -> str:
    return page.text.split('action="/pay/')[1].split('"')[0]


def pay(base, fields, card, **extra):
    page = open_page(base, fields)
    assert page.status_code == 200, page.text
    return httpx.post(f"{base}/pay/{session_of(page)}", data={"cardno": card, "action": "pay", **extra})


def redirect_params(response):
    assert response.status_code == 303
    url = urlsplit(response.headers["location"])
    return f"{url.scheme}://{url.netloc}{url.path}", dict(parse_qsl(url.query))


def test_bad_or_missing_sha_in_is_refused_as_ogone_does(psp):
    _, base, _ = psp
    fields = form()
    tampered = {**fields, "AMOUNT": "100"}
    assert "unknown order/1/s" in open_page(base, tampered).text
    assert "unknown order/0/s" in open_page(base, {k: v for k, v in fields.items() if k != "SHASIGN"}).text
    assert open_page(base, tampered).status_code == 400
    page = open_page(base, fields)
    assert page.status_code == 200 and "150.75" in page.text and "Payer" in page.text  # French page


def test_accepted_card_redirects_signed_and_notifies(psp):
    sim, base, receiver = psp
    url, params = redirect_params(pay(base, form(), "4111111111111111"))
    assert url == "https://hotel.test/ok"
    assert ogone.verify_sha_out(params, SHA_OUT, "sha512")
    assert (params["STATUS"], params["amount"], params["CARDNO"], params["BRAND"]) == \
        ("9", "150.75", "XXXXXXXXXXXX1111", "VISA")
    sim.wait_for_notifications()
    (method, note), = receiver.received
    assert method == "POST" and ogone.verify_sha_out(note, SHA_OUT, "sha512")
    assert ogone.read_feedback(note).amount_cents == 15075 and note["PAYID"] == params["PAYID"]
    # The same ORDERID cannot be paid twice.
    assert "already been processed" in open_page(base, form()).text


@pytest.mark.parametrize("card, operation, target, status", [
    ("4000000000000002", "SAL", "https://hotel.test/ko", "2"),
    ("4000000000000051", "SAL", "https://hotel.test/ex", "92"),
    ("4000000000000051", "RES", "https://hotel.test/ex", "52"),
    ("5555555555554444", "RES", "https://hotel.test/ok", "5"),
])
def test_test_cards(psp, card, operation, target, status):
    _, base, _ = psp
    url, params = redirect_params(pay(base, form(operation), card))
    assert (url, params["STATUS"]) == (target, status)
    assert ogone.verify_sha_out(params, SHA_OUT, "sha512")


def test_3ds_challenge_then_cancel(psp):
    _, base, _ = psp
    challenge = pay(base, form(order="LNK-3DS"), "4000000000003220")
    assert "3-D Secure" in challenge.text
    session = challenge.text.split('action="/3ds/')[1].split('"')[0]
    url, params = redirect_params(httpx.post(f"{base}/3ds/{session}", data={"answer": "authenticate"}))
    assert (url, params["STATUS"], params["ECI"]) == ("https://hotel.test/ok", "9", "5")
    # A replayed form post of a finished session changes nothing.
    assert httpx.post(f"{base}/3ds/{session}", data={"answer": "authenticate"}).status_code == 400

    failed = pay(base, form(order="LNK-3DS-2"), "4000000000003220")
    session = failed.text.split('action="/3ds/')[1].split('"')[0]
    url, params = redirect_params(httpx.post(f"{base}/3ds/{session}", data={"answer": "fail"}))
    assert (url, params["STATUS"], params["NCERROR"]) == ("https://hotel.test/ko", "2", "40001134")

    page = open_page(base, form(order="LNK-CXL"))
    url, params = redirect_params(httpx.post(f"{base}/pay/{session_of(page)}", data={"action": "cancel"}))
    assert (url, params["STATUS"]) == ("https://hotel.test/cancel", "1")


def test_retries_duplicates_and_stale_status():
    receiver = Receiver(failures=2)
    with BackgroundServer(receiver.app) as rx:
        settings = SimulatorSettings("HOTELPSP", SHA_IN, SHA_OUT, "sha512", notify_url=rx.url + "/notify",
                                     notify_method="GET", retry_delay=0.05, duplicates=1, stale_pending=True)
        sim = Simulator(settings)
        with BackgroundServer(sim.app) as srv:
            pay(srv.url, form(), "4111111111111111")
            sim.wait_for_notifications()
    statuses = [p["STATUS"] for m, p in receiver.received]
    assert all(m == "GET" for m, _ in receiver.received)
    assert statuses == ["9", "9", "9", "9", "99"]  # 2 failed + 1 delivered, 1 duplicate, 1 stale
    assert [d.attempts for d in sim.deliveries] == [3, 1, 1]
    assert all(ogone.verify_sha_out(p, SHA_OUT, "sha512") for _, p in receiver.received)


def directlink(base, password="api-password-1"):
    account = ogone.OgoneAccount("HOTELPSP", base + "/ncol/test", SHA_IN, SHA_OUT, "sha512", "api", password)
    return ogone.DirectLink(account)


def test_directlink_capture_release_refund(psp):
    sim, base, receiver = psp
    _, auth = redirect_params(pay(base, form("RES", order="NOSHOW-1", amount=20000), "4111111111111111"))
    dl = directlink(base)
    partial = dl.maintenance("SAL", pay_id=auth["PAYID"], amount_cents=5000)
    assert partial.ok and partial.status.status == "paid" and partial.amount_cents == 5000
    too_much = dl.maintenance("SAS", pay_id=auth["PAYID"], amount_cents=20000)
    assert not too_much.ok and "15000" in too_much.nc_error_plus
    assert dl.maintenance("SAS", pay_id=auth["PAYID"]).amount_cents == 15000
    refund = dl.maintenance("RFD", pay_id=auth["PAYID"], amount_cents=2500)
    assert refund.ok and refund.status.status == "refunded"
    assert not dl.maintenance("DES", pay_id=auth["PAYID"]).ok  # captured: nothing left to release

    _, other = redirect_params(pay(base, form("RES", order="NOSHOW-2"), "4111111111111111"))
    assert dl.maintenance("DES", order_id="NOSHOW-2").status.status == "cancelled"
    assert dl.query(pay_id=other["PAYID"]).status.code == 6
    assert not directlink(base, "wrong-password").maintenance("SAS", pay_id=other["PAYID"]).ok
    sim.wait_for_notifications()
    assert {p["STATUS"] for _, p in receiver.received} >= {"5", "9", "8", "6"}


def test_alias_payments_for_installments(psp):
    _, base, _ = psp
    fields = form(order="INST-1", amount=10000, alias="ALIAS-INST-1", alias_usage="3 payments")
    _, first = redirect_params(pay(base, fields, "4111111111111111", store_card="1"))
    assert first["ALIAS"] == "ALIAS-INST-1"
    second = directlink(base).alias_payment(order_id="INST-1-2", alias="ALIAS-INST-1", amount_cents=10000,
                                            currency="EUR")
    assert second.ok and second.status.status == "paid" and second.pay_id != first["PAYID"]
    unknown = directlink(base).alias_payment(order_id="X", alias="NOPE", amount_cents=1, currency="EUR")
    assert not unknown.ok

    # Without the guest's consent no card is kept.
    fields = form(order="INST-2", amount=10000, alias="ALIAS-INST-2", alias_usage="3 payments")
    _, no_consent = redirect_params(pay(base, fields, "4111111111111111"))
    assert "ALIAS" not in no_consent
    # A card that accepts the first payment but refuses later ones.
    fields = form(order="INST-3", amount=10000, alias="ALIAS-INST-3", alias_usage="3 payments")
    redirect_params(pay(base, fields, "4000000000009995", store_card="1"))
    refused = directlink(base).alias_payment(order_id="INST-3-2", alias="ALIAS-INST-3", amount_cents=10000,
                                             currency="EUR")
    assert refused.ok is False and refused.status.status == "refused" and refused.nc_error == "30511001"
