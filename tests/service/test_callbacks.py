"""Worldline webhooks and Twilio status callbacks, as the providers send them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from sqlalchemy import select

from lettrage.paylinks import store
from tests.service.conftest import make_request


def webhook(live, body: bytes, secret: str = "wl-webhook-secret"):
    sig = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return live.http.post("/psp/worldline/webhook", content=body,
                          headers={"Content-Type": "application/json", "X-GCS-Signature": sig,
                                   "X-GCS-KeyId": "key-1"})


def event(event_id, order_id, status, category, code, amount=15075, kind="payment.paid"):
    return json.dumps({"apiVersion": "v1", "id": event_id, "created": "2026-03-01T10:00:00.000+0100",
                       "merchantId": "M1", "type": kind, "payment": {
                           "id": "PAY-77", "status": status,
                           "statusOutput": {"statusCategory": category, "statusCode": code},
                           "paymentOutput": {"amountOfMoney": {"amount": amount, "currencyCode": "EUR"},
                                             "references": {"merchantReference": order_id}}}}).encode()


def test_worldline_endpoint_verification_and_signed_events(live):
    check = live.http.get("/psp/worldline/webhook", headers={"X-GCS-Webhooks-Endpoint-Verification": "abc-123"})
    assert (check.status_code, check.text) == (200, "abc-123")
    rid = make_request(live.sessions, language="en")
    live.http.get(live.link(rid))
    order = live.parts(rid)[0].order_id
    paid = event("e-2", order, "CAPTURED", "COMPLETED", 9)
    assert webhook(live, paid, "not-the-secret").status_code == 403
    assert live.request(rid).status == "opened"
    assert webhook(live, event("e-1", order, "PENDING_CAPTURE", "PENDING_MERCHANT", 5, kind="payment.pending_capture"))\
        .status_code == 200
    assert webhook(live, paid).status_code == 200
    assert webhook(live, paid).status_code == 200  # the same event again
    assert webhook(live, event("e-0", order, "CREATED", "CREATED", 0, kind="payment.created")).status_code == 200
    assert webhook(live, b'{"id": "e-9", "payment": "not an object"}').status_code == 400
    assert live.request(rid).status == "paid"
    events = live.events()[:-1]
    assert [(e.signature_ok, e.applied) for e in events] == \
        [(False, False), (True, True), (True, True), (True, False), (True, False)]
    assert {e.order_id for e in events} == {order}


def test_twilio_status_callbacks_are_verified_and_only_move_forward(live):
    from twilio.request_validator import RequestValidator

    # The published vector of twilio-python's own tests holds for the validator we use.
    assert RequestValidator("12345").compute_signature(
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309",
         "To": "+18005551212"}) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="

    rid = make_request(live.sessions, language="en")
    with store.transaction(live.sessions) as s:
        s.add(store.LinkSend(request_id=rid, channel="sms", kind="link", idempotency_key="link:test:sms",
                             status="sent", recipient="+33612345678", provider_id="SM0001"))
    url = live.url + "/sms/status"
    validator = RequestValidator("twilio-token-abc")

    def callback(status, token_validator=validator, **extra):
        params = {"MessageSid": "SM0001", "MessageStatus": status, "AccountSid": "AC1", "To": "+33612345678",
                  **extra}
        sig = token_validator.compute_signature(url, params)
        return live.http.post("/sms/status", data=params, headers={"X-Twilio-Signature": sig})

    def status():
        with store.transaction(live.sessions) as s:
            send = s.execute(select(store.LinkSend).where(store.LinkSend.provider_id == "SM0001")).scalar_one()
            return send.delivery_status, send.error

    assert callback("sent").status_code == 200
    assert callback("delivered", token_validator=RequestValidator("forged")).status_code == 403
    assert status() == ("sent", None)
    assert callback("delivered").status_code == 200
    assert callback("sent").status_code == 200  # late, out of order
    assert callback("queued").status_code == 200
    assert status() == ("delivered", None)
    assert live.http.post("/sms/status", data={"MessageSid": "SM0001", "MessageStatus": "failed"}).status_code == 403


def test_worldline_link_redirects_to_its_hosted_checkout(live, settings):
    import dataclasses

    import httpx

    from lettrage.service.app import create_app
    from lettrage.service.serving import BackgroundServer
    from tests.paylinks.psp.test_worldline import FakeWorldline

    fake = FakeWorldline("key-7", "secret-7")
    rid = make_request(live.sessions, kind="preauth", amount_cents=42000, language="fr")
    with BackgroundServer(fake.app) as wl:
        other = dataclasses.replace(settings, psp_provider="worldline", worldline_api_endpoint=wl.url,
                                    worldline_merchant_id="M77", worldline_api_key="key-7",
                                    worldline_api_secret="secret-7")
        with BackgroundServer(create_app(other)) as srv:
            answer = httpx.get(srv.url + live.link(rid))
            assert answer.status_code == 303
            assert answer.headers["location"] == "https://payment.example/hostedcheckout/HC-1"
            (kind, merchant, body), = fake.calls
            order = live.parts(rid)[0].order_id
            assert (merchant, body["order"]["references"]["merchantReference"]) == ("M77", order)
            assert body["cardPaymentMethodSpecificInput"]["authorizationMode"] == "PRE_AUTHORIZATION"
            back = httpx.get(body["hostedCheckoutSpecificInput"]["returnUrl"].replace(
                settings.public_base_url, srv.url))
            assert "Nous vérifions votre paiement" in back.text and "CONF-1001" in back.text  # no webhook yet
            forged_return = httpx.get(f"{srv.url}/result/wl/{order}/0123456789abcdef01234567")
            assert "CONF-1001" not in forged_return.text
