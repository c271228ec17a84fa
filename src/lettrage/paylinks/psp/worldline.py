"""Worldline Direct (Ogone's successor) through its Python SDK (`onlinepayments-sdk-python3`):
hosted checkout and redirect, signed webhooks, capture / cancel / refund, charges on a stored card.

Webhooks (research/psp.md §2): a JSON POST signed `X-GCS-Signature` = base64(HMAC-SHA256(secret,
raw body)) with `X-GCS-KeyId` naming the key; the raw bytes are verified, never a re-serialised body.
Endpoint verification: a GET with `X-GCS-Webhooks-Endpoint-Verification` is answered with its value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lettrage.paylinks.psp.ogone import ogone_language

VERIFICATION_HEADER = "X-GCS-Webhooks-Endpoint-Verification"

# statusOutput.statusCategory first (Worldline's advice: code on the category), then status.
CATEGORY_STATUS = {
    "COMPLETED": "paid", "PENDING_MERCHANT": "authorised", "REFUNDED": "refunded", "REVERSED": "refunded",
    "CREATED": "pending", "PENDING_PAYMENT": "pending", "PENDING_CONNECT_OR_3RD_PARTY": "pending",
}
STATUS_STATUS = {
    "CAPTURED": "paid", "PAID": "paid", "PENDING_CAPTURE": "authorised", "REJECTED": "refused",
    "REJECTED_CAPTURE": "refused", "CANCELLED": "cancelled", "REFUNDED": "refunded",
    "CHARGEBACKED": "refunded", "REVERSED": "refunded",
}
OPERATION_OF_TYPE = {"refund": "refund", "payment.refunded": "refund", "payment.cancelled": "cancel",
                     "payment.captured": "capture", "payment.pending_capture": "authorisation",
                     "payment.chargebacked": "chargeback"}


class WebhookRefused(Exception):
    """A webhook whose signature does not hold (the message never says what the secret is)."""


@dataclass(frozen=True)
class WorldlineAccount:
    merchant_id: str
    api_endpoint: str
    api_key: str
    api_secret: str = field(repr=False)
    webhook_secret: str = field(default="", repr=False)
    webhook_key_id: str = ""  # empty: any key id, one secret

    @classmethod
    def from_settings(cls, settings) -> WorldlineAccount:
        return cls(settings.worldline_merchant_id, settings.worldline_api_endpoint, settings.worldline_api_key,
                   settings.worldline_api_secret, settings.worldline_webhook_secret,
                   settings.worldline_webhook_key_id)


def verify_webhook(body: bytes, headers, secret: str, key_id: str = "") -> None:
    """Raise WebhookRefused unless `X-GCS-Signature` is the HMAC-SHA256 of the raw body with the
    webhook secret (checked by the SDK's own SignatureValidator, constant-time)."""
    from onlinepayments.sdk.communication.request_header import RequestHeader
    from onlinepayments.sdk.webhooks.secret_key_not_available_exception import SecretKeyNotAvailableException
    from onlinepayments.sdk.webhooks.secret_key_store import SecretKeyStore
    from onlinepayments.sdk.webhooks.signature_validation_exception import SignatureValidationException
    from onlinepayments.sdk.webhooks.signature_validator import SignatureValidator

    if not secret:
        raise WebhookRefused("no Worldline webhook secret configured")

    class _OneKey(SecretKeyStore):
        def get_secret_key(self, asked: str) -> str:
            if key_id and asked != key_id:
                raise SecretKeyNotAvailableException(asked, f"unknown webhook key id {asked!r}")
            return secret

    pairs = headers.items() if hasattr(headers, "items") else headers
    request_headers = [RequestHeader(k, v) for k, v in pairs]
    if not any(h.name.lower() == "x-gcs-keyid" for h in request_headers):
        request_headers.append(RequestHeader("X-GCS-KeyId", key_id or "-"))
    try:
        SignatureValidator(_OneKey()).validate(body, request_headers)
    except (SignatureValidationException, SecretKeyNotAvailableException) as exc:
        # The SDK's message repeats the received signature, never the secret; keep only its kind.
        reason = "unknown key id" if isinstance(exc, SecretKeyNotAvailableException) else \
            str(exc).split(":")[0]
        raise WebhookRefused(f"Worldline webhook refused: {reason}") from None


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str
    created: str
    payment_id: str
    order_id: str          # our merchantReference
    status: str            # DOMAIN.md psp status
    status_code: str
    operation: str
    amount_cents: int | None
    currency: str
    card_brand: str
    card_last4: str
    token: str


def status_of(status: str, category: str) -> str:
    if status == "CANCELLED":
        return "cancelled"
    if category == "UNSUCCESSFUL":
        return "refused"
    return CATEGORY_STATUS.get(category) or STATUS_STATUS.get(status) or "pending"


def read_webhook(body: bytes) -> WebhookEvent:
    """A verified webhook body -> our terms (ValueError when it is not a Worldline event)."""
    try:
        return _read_webhook(json.loads(body))
    except (AttributeError, TypeError, KeyError) as exc:
        raise ValueError(f"not a Worldline event: {type(exc).__name__}") from None


def _read_webhook(event: dict) -> WebhookEvent:
    # Refund events carry `refund`, payment events `payment`.
    kind = event.get("type", "")
    obj = event.get("payment") or event.get("refund") or {}
    out = obj.get("paymentOutput") or obj.get("refundOutput") or {}
    money = out.get("amountOfMoney") or {}
    status_output = obj.get("statusOutput") or {}
    refs = out.get("references") or {}
    card = (out.get("cardPaymentMethodSpecificOutput") or {}).get("card") or {}
    card_no = card.get("cardNumber") or ""
    operation = OPERATION_OF_TYPE.get(kind) or ("refund" if kind.startswith("refund") else "sale")
    return WebhookEvent(
        event_id=event.get("id", ""), event_type=kind, created=event.get("created", ""),
        payment_id=str(obj.get("id", "")), order_id=refs.get("merchantReference", ""),
        status=status_of(obj.get("status", ""), status_output.get("statusCategory", "")),
        status_code=str(status_output.get("statusCode", "")), operation=operation,
        amount_cents=int(money["amount"]) if "amount" in money else None, currency=money.get("currencyCode", ""),
        card_brand=str((out.get("cardPaymentMethodSpecificOutput") or {}).get("paymentProductId", "")),
        card_last4=card_no[-4:] if card_no[-4:].isdigit() else "",
        token=(out.get("cardPaymentMethodSpecificOutput") or {}).get("token", "") or "",
    )


@dataclass(frozen=True)
class HostedCheckout:
    hosted_checkout_id: str
    redirect_url: str
    returnmac: str


class WorldlineClient:
    """The SDK client for one merchant, opened per use (it holds a connection pool)."""

    def __init__(self, account: WorldlineAccount, timeout: int = 30):
        from onlinepayments.sdk.communicator_configuration import CommunicatorConfiguration
        from onlinepayments.sdk.factory import Factory

        if not (account.merchant_id and account.api_key and account.api_secret):
            raise ValueError("Worldline needs LETTRAGE_WORLDLINE_MERCHANT_ID, _API_KEY and _API_SECRET")
        config = CommunicatorConfiguration(api_endpoint=account.api_endpoint, api_key_id=account.api_key,
                                           secret_api_key=account.api_secret, authorization_type="v1HMAC",
                                           connect_timeout=timeout, socket_timeout=timeout, max_connections=4,
                                           integrator="lettrage")
        self.account = account
        self.client = Factory.create_client_from_configuration(config)
        self.merchant = self.client.merchant(account.merchant_id)

    def __enter__(self) -> WorldlineClient:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def create_hosted_checkout(self, *, order_id: str, amount_cents: int, currency: str, language: str | None,
                               return_url: str, email: str = "", pre_authorisation: bool = False,
                               tokenize: bool = False) -> HostedCheckout:
        """A hosted checkout with 3-D Secure; the guest is redirected to `redirect_url`."""
        from onlinepayments.sdk.domain.create_hosted_checkout_request import CreateHostedCheckoutRequest

        body = {
            "order": {"amountOfMoney": {"amount": int(amount_cents), "currencyCode": currency},
                      "references": {"merchantReference": order_id}},
            "hostedCheckoutSpecificInput": {"returnUrl": return_url, "locale": ogone_language(language),
                                            "showResultPage": False, "isRecurring": False},
            "cardPaymentMethodSpecificInput": {
                "authorizationMode": "PRE_AUTHORIZATION" if pre_authorisation else "SALE",
                "tokenize": tokenize, "threeDSecure": {"challengeIndicator": "challenge-required"}
                if tokenize else {}},
        }
        if email:
            body["order"]["customer"] = {"contactDetails": {"emailAddress": email}}
        response = self.merchant.hosted_checkout().create_hosted_checkout(
            CreateHostedCheckoutRequest().from_dictionary(body))
        return HostedCheckout(response.hosted_checkout_id, response.redirect_url, response.returnmac)

    def capture(self, payment_id: str, amount_cents: int | None = None, final: bool = True) -> str:
        from onlinepayments.sdk.domain.capture_payment_request import CapturePaymentRequest

        body = {"isFinal": final, **({"amount": int(amount_cents)} if amount_cents is not None else {})}
        response = self.merchant.payments().capture_payment(payment_id, CapturePaymentRequest().from_dictionary(body))
        return response.status

    def cancel(self, payment_id: str) -> str:
        from onlinepayments.sdk.domain.cancel_payment_request import CancelPaymentRequest

        response = self.merchant.payments().cancel_payment(payment_id, CancelPaymentRequest().from_dictionary(
            {"isFinal": True}))
        return response.payment.status if response.payment else ""

    def refund(self, payment_id: str, amount_cents: int, currency: str) -> str:
        from onlinepayments.sdk.domain.refund_request import RefundRequest

        response = self.merchant.payments().refund_payment(payment_id, RefundRequest().from_dictionary(
            {"amountOfMoney": {"amount": int(amount_cents), "currencyCode": currency}}))
        return response.status

    def charge_token(self, *, order_id: str, token: str, amount_cents: int, currency: str) -> tuple[str, str]:
        """A merchant-initiated charge on a stored card (installment n > 1). Returns (payment id, status)."""
        from onlinepayments.sdk.domain.create_payment_request import CreatePaymentRequest

        body = {"order": {"amountOfMoney": {"amount": int(amount_cents), "currencyCode": currency},
                          "references": {"merchantReference": order_id}},
                "cardPaymentMethodSpecificInput": {
                    "token": token, "authorizationMode": "SALE", "transactionChannel": "ECOMMERCE",
                    "recurring": {"recurringPaymentSequenceIndicator": "recurring"}}}
        response = self.merchant.payments().create_payment(CreatePaymentRequest().from_dictionary(body))
        return response.payment.id, response.payment.status
