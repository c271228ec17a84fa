"""Sending SMS: through Twilio (the real `twilio` client), or into files under var/sms/ when no
Twilio account is configured (demos, a bare machine).

Twilio has no idempotency key for messages. What makes a send findable again is what it says:
the body carries the guest's own link, so (to, from, body) identifies it; `lookup` lists the
recent messages to that number and compares a hash of the body (stored before sending).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from lettrage.paylinks.notify import DeliveryError

# Twilio error codes that no retry will cure (https://www.twilio.com/docs/api/errors).
PERMANENT_CODES = {21211, 21214, 21408, 21610, 21612, 21614, 21617, 21635, 21660, 30003, 30004, 30005, 30006}


def body_marker(to: str, body: str) -> str:
    return hashlib.sha256(f"{to}\n{body}".encode()).hexdigest()


class TwilioSender:
    """Twilio's Messages API. `base_url` points the client elsewhere (a local server in tests)."""

    channel = "sms"

    def __init__(self, account_sid: str, auth_token: str, from_number: str, base_url: str = "",
                 timeout: float = 15.0):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (account_sid and auth_token and from_number):
            raise ValueError("Twilio needs an account SID, an auth token and a From number")
        self.from_number = from_number
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if base_url:
            # The client builds every URL from its API domain's base_url; edge/region would rewrite it.
            self.client.edge = self.client.region = None
            self.client.api.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:  # never the token
        return f"TwilioSender(from={self.from_number}, api={self.client.api.base_url})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        """Hand one SMS over; returns Twilio's message SID. Raises DeliveryError."""
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body,
                                                  status_callback=status_callback or None)
        except TwilioRestException as exc:
            transient = exc.status == 429 or exc.status >= 500
            outcome = "transient" if transient and exc.code not in PERMANENT_CODES else "permanent"
            raise DeliveryError(outcome, f"Twilio refused the SMS to {to}: {exc.status} "
                                         f"{exc.code or ''} {exc.msg}".strip(), exc.code or exc.status) from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise DeliveryError("transient", f"cannot reach Twilio: {exc}") from None
        except requests.exceptions.ConnectionError as exc:
            # Refused before anything was written is safe to retry; anything later may have landed.
            refused = "refused" in str(exc).lower() or "NewConnectionError" in repr(exc)
            raise DeliveryError("transient" if refused else "in_doubt", f"Twilio connection: {exc}") from None
        except (requests.exceptions.RequestException, TwilioException) as exc:
            raise DeliveryError("in_doubt", f"no answer from Twilio: {exc}") from None
        if message.status in ("failed", "undelivered"):
            raise DeliveryError("permanent", f"Twilio did not accept the SMS to {to}: {message.error_code} "
                                             f"{message.error_message}", message.error_code)
        return message.sid

    def lookup(self, to: str, marker: str) -> str | bool | None:
        """The SID of a message already sent with this body to this number, False if none,
        None if Twilio cannot be asked right now."""
        import requests
        from twilio.base.exceptions import TwilioException

        try:
            for message in self.client.messages.list(to=to, from_=self.from_number, limit=100):
                if body_marker(to, message.body or "") == marker:
                    return message.sid
        except (requests.exceptions.RequestException, TwilioException):
            return None
        return False


class SmsFiles:
    """No Twilio account: each SMS becomes a JSON file in `sms_dir` (what Twilio would have sent)."""

    channel = "sms"

    def __init__(self, sms_dir: Path, from_number: str = "LETTRAGE"):
        self.sms_dir, self.from_number = Path(sms_dir), from_number

    def __repr__(self) -> str:
        return f"SmsFiles({self.sms_dir})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def _path(self, marker: str) -> Path:
        return self.sms_dir / f"{marker[:24]}.json"

    def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        marker = body_marker(to, body)
        self.sms_dir.mkdir(parents=True, exist_ok=True)
        record = {"to": to, "from": self.from_number, "body": body, "status_callback": status_callback,
                  "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        target = self._path(marker)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, target)
        return f"file:{target.name}"

    def lookup(self, to: str, marker: str) -> str | bool:
        target = self._path(marker)
        return f"file:{target.name}" if target.exists() else False
