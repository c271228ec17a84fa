"""Worldline Direct: the published webhook vector, and the real SDK against a local server that
speaks Worldline's API (checking its GCS v1HMAC authorisation header as Worldline does)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lettrage.paylinks.psp import worldline
from lettrage.service.serving import BackgroundServer

# Published in Worldline's/Ingenico's SDK tests (WebhooksHelperTest): key `hello+world`, key id
# `dummy-key-id`, this pretty-printed payment.paid event with LF line endings.
VECTOR_BODY = b"""{
  "apiVersion": "v1",
  "id": "8ee793f6-4553-4749-85dc-f2ef095c5ab0",
  "created": "2017-02-02T11:24:14.040+0100",
  "merchantId": "20000",
  "type": "payment.paid",
  "payment": {
    "id": "00000200000143570012",
    "paymentOutput": {
      "amountOfMoney": {
        "amount": 1000,
        "currencyCode": "EUR"
      },
      "references": {
        "paymentReference": "200001681810"
      },
      "paymentMethod": "bankTransfer",
      "bankTransferPaymentMethodSpecificOutput": {
        "paymentProductId": 11
      }
    },
    "status": "PAID",
    "statusOutput": {
      "isCancellable": false,
      "statusCategory": "COMPLETED",
      "statusCode": 1000,
      "statusCodeChangeDateTime": "20170202112414",
      "isAuthorized": true
    }
  }
}"""
VECTOR_SIGNATURE = "2S7doBj/GnJnacIjSJzr5fxGM5xmfQyFAwxv1I53ZEk="


def test_published_webhook_vector_holds():
    headers = {"X-GCS-Signature": VECTOR_SIGNATURE, "X-GCS-KeyId": "dummy-key-id"}
    worldline.verify_webhook(VECTOR_BODY, headers, "hello+world", "dummy-key-id")
    event = worldline.read_webhook(VECTOR_BODY)
    assert (event.event_id, event.status, event.amount_cents, event.currency) == \
        ("8ee793f6-4553-4749-85dc-f2ef095c5ab0", "paid", 1000, "EUR")


@pytest.mark.parametrize("body, headers, secret, key_id", [
    (VECTOR_BODY.replace(b"11:24:14", b"11:25:14"), {"X-GCS-Signature": VECTOR_SIGNATURE}, "hello+world", ""),
    (VECTOR_BODY.replace(b"\n", b"\r\n"), {"X-GCS-Signature": VECTOR_SIGNATURE}, "hello+world", ""),
    (VECTOR_BODY, {"X-GCS-Signature": VECTOR_SIGNATURE}, "1hello+world", ""),
    (VECTOR_BODY, {"X-GCS-Signature": "1" + VECTOR_SIGNATURE}, "hello+world", ""),
    (VECTOR_BODY, {}, "hello+world", ""),
    (VECTOR_BODY, {"X-GCS-Signature": VECTOR_SIGNATURE, "X-GCS-KeyId": "other"}, "hello+world", "dummy-key-id"),
])
def test_forged_or_altered_webhooks_are_refused(body, headers, secret, key_id):
    with pytest.raises(worldline.WebhookRefused) as info:
        worldline.verify_webhook(body, headers, secret, key_id)
    assert secret not in str(info.value)


def test_an_unseen_secret_signs_any_body():
    body = json.dumps({"id": "e-1", "type": "payment.pending_capture", "payment": {
        "id": "P-9", "status": "PENDING_CAPTURE", "statusOutput": {"statusCategory": "PENDING_MERCHANT",
                                                                   "statusCode": 5},
        "paymentOutput": {"amountOfMoney": {"amount": 23050, "currencyCode": "EUR"},
                          "references": {"merchantReference": "LNK-7"},
                          "cardPaymentMethodSpecificOutput": {"paymentProductId": 1, "token": "tok-1",
                                                              "card": {"cardNumber": "************4675"}}}}}).encode()
    secret = "s3cr3t-é-never-seen"
    sig = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    worldline.verify_webhook(body, [("x-gcs-signature", sig), ("x-gcs-keyid", "k")], secret)
    event = worldline.read_webhook(body)
    assert (event.order_id, event.status, event.status_code, event.card_last4, event.token) == \
        ("LNK-7", "authorised", "5", "4675", "tok-1")


class FakeWorldline:
    """Worldline Direct's REST API, as much as the adapter uses, refusing a bad v1HMAC header."""

    def __init__(self, key: str, secret: str):
        self.key, self.secret, self.calls = key, secret, []
        app = FastAPI()

        @app.middleware("http")
        async def authorise(request: Request, call_next):
            expected = self.authorization(request)
            if request.headers.get("authorization") != expected:
                return JSONResponse({"errorId": "x", "errors": [{"code": "9002", "message": "MISSING_OR_INVALID"
                                                                 "_AUTHORIZATION"}]}, status_code=401)
            return await call_next(request)

        @app.post("/v2/{merchant}/hostedcheckouts")
        async def hosted(merchant: str, request: Request):
            body = await request.json()
            self.calls.append(("hostedcheckout", merchant, body))
            return JSONResponse({"hostedCheckoutId": "HC-1", "RETURNMAC": "mac-1", "merchantReference":
                                 body["order"]["references"]["merchantReference"],
                                 "redirectUrl": "https://payment.example/hostedcheckout/HC-1"}, status_code=201)

        @app.post("/v2/{merchant}/payments/{payment_id}/{action}")
        async def maintain(merchant: str, payment_id: str, action: str, request: Request):
            body = await request.json()
            self.calls.append((action, payment_id, body))
            status = {"capture": "CAPTURE_REQUESTED", "cancel": "CANCELLED", "refund": "REFUND_REQUESTED"}[action]
            if action == "cancel":
                return JSONResponse({"payment": {"id": payment_id, "status": status}})
            return JSONResponse({"id": payment_id + "-1", "status": status})

        @app.post("/v2/{merchant}/payments")
        async def create(merchant: str, request: Request):
            body = await request.json()
            self.calls.append(("payment", merchant, body))
            return JSONResponse({"payment": {"id": "PAY-2", "status": "CAPTURED"}}, status_code=201)

        self.app = app

    def authorization(self, request: Request) -> str:
        x_gcs = sorted((k.lower(), v.strip()) for k, v in request.headers.items() if k.lower().startswith("x-gcs"))
        resource = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        text = (f"{request.method}\n{request.headers.get('content-type', '')}\n{request.headers.get('date', '')}\n"
                + "".join(f"{k}:{v}\n" for k, v in x_gcs) + resource + "\n")
        digest = hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).digest()
        return f"GCS v1HMAC:{self.key}:{base64.b64encode(digest).decode()}"


def test_sdk_creates_checkout_and_maintains_payments_against_a_local_server():
    fake = FakeWorldline("api-key-1", "api-secret-1")
    with BackgroundServer(fake.app) as srv:
        account = worldline.WorldlineAccount("M123", srv.url, "api-key-1", "api-secret-1")
        with worldline.WorldlineClient(account) as wl:
            checkout = wl.create_hosted_checkout(order_id="LNK-9", amount_cents=42000, currency="EUR",
                                                 language="fr", return_url="http://svc/l/t/return",
                                                 pre_authorisation=True, tokenize=True)
            assert checkout.redirect_url == "https://payment.example/hostedcheckout/HC-1"
            assert wl.capture("P-1", 10000, final=False) == "CAPTURE_REQUESTED"
            assert wl.cancel("P-1") == "CANCELLED"
            assert wl.refund("P-1", 2500, "EUR") == "REFUND_REQUESTED"
            assert wl.charge_token(order_id="LNK-9-2", token="tok-1", amount_cents=14000, currency="EUR") == \
                ("PAY-2", "CAPTURED")
        kinds = [c[0] for c in fake.calls]
        assert kinds == ["hostedcheckout", "capture", "cancel", "refund", "payment"]
        order = fake.calls[0][2]
        assert order["order"]["amountOfMoney"] == {"amount": 42000, "currencyCode": "EUR"}
        assert order["cardPaymentMethodSpecificInput"]["authorizationMode"] == "PRE_AUTHORIZATION"
        assert order["hostedCheckoutSpecificInput"]["locale"] == "fr_FR"
        assert fake.calls[1][2] == {"amount": 10000, "isFinal": False}
        assert fake.calls[4][2]["cardPaymentMethodSpecificInput"]["token"] == "tok-1"

        wrong = worldline.WorldlineAccount("M123", srv.url, "api-key-1", "not-the-secret")
        with worldline.WorldlineClient(wrong) as wl, pytest.raises(Exception, match="401|AUTHORIZATION"):
            wl.capture("P-1")
