"""The token in a payment link, `<public base URL>/l/<token>`: unguessable, signed, expiring.

A token is 16 random bytes (the request's `link_key`, nothing else about the request), the expiry
time, and an HMAC-SHA256 of both under the link secret, base64url-encoded (48 characters). A
guessed, altered or truncated token fails the signature check; an expired one is recognised as
such. Neither case says which request, guest or hotel the link was for.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

_CONTEXT = b"lettrage/link/v1"
_KEY_BYTES = 16
_SIG_BYTES = 16
_LENGTH = _KEY_BYTES + 4 + _SIG_BYTES


class InvalidLink(Exception):
    """The link is not one of ours (guessed, altered, truncated). Shown as is to the guest."""

    def __init__(self):
        super().__init__("This payment link is not valid.")


class ExpiredLink(Exception):
    """A genuine link past its expiry. Shown as is to the guest."""

    def __init__(self):
        super().__init__("This payment link has expired.")


@dataclass(frozen=True)
class LinkToken:
    link_key: str  # hex, the request's link_key
    expires_at: dt.datetime


def new_link_key() -> str:
    return secrets.token_hex(_KEY_BYTES)


def _signature(secret: str, payload: bytes) -> bytes:
    if not secret:
        raise ValueError("no link secret configured (LETTRAGE_LINK_SECRET)")
    return hmac.new(secret.encode(), _CONTEXT + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def make_token(link_key: str, expires_at: dt.datetime, secret: str) -> str:
    """The token for a request's link; the same inputs always give the same token."""
    payload = bytes.fromhex(link_key) + struct.pack(">I", int(expires_at.timestamp()))
    if len(payload) != _KEY_BYTES + 4:
        raise ValueError("a link key is 32 hex digits")
    return base64.urlsafe_b64encode(payload + _signature(secret, payload)).decode().rstrip("=")


def read_token(token: str, secret: str, now: dt.datetime | None = None) -> LinkToken:
    """The link key and expiry of a genuine, unexpired token; InvalidLink or ExpiredLink otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidLink() from exc
    if len(raw) != _LENGTH:
        raise InvalidLink()
    payload, signature = raw[:-_SIG_BYTES], raw[-_SIG_BYTES:]
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidLink()
    expires_at = dt.datetime.fromtimestamp(struct.unpack(">I", payload[_KEY_BYTES:])[0], dt.UTC)
    if (now or dt.datetime.now(dt.UTC)) >= expires_at:
        raise ExpiredLink()
    return LinkToken(link_key=payload[:_KEY_BYTES].hex(), expires_at=expires_at)


def link_url(public_base_url: str, link_key: str, expires_at: dt.datetime, secret: str) -> str:
    return f"{public_base_url.rstrip('/')}/l/{make_token(link_key, expires_at, secret)}"
