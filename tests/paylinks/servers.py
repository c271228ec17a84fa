"""Real servers on 127.0.0.1 for the link tests: an SMTP server (aiosmtpd) and an HTTP server
speaking Twilio's Messages API, plus a hotel set up in a private var/ folder."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import json
import secrets
import threading
from contextlib import contextmanager
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller

from lettrage.paylinks import rules
from lettrage.paylinks.notify.mail_sink import free_port
from lettrage.recon.hotels import Hotel, write_hotels


class Received:
    def __init__(self, envelope):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.raw = envelope.original_content or envelope.content
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)


class SmtpHandler:
    """Accepts everything, except the addresses in `refuse` (550) and the first `busy` DATA (451)."""

    def __init__(self):
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.busy = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.busy:
            self.busy -= 1
            return "451 4.3.0 Try again later"
        self.received.append(Received(envelope))
        return "250 OK"

    def to(self, address: str) -> list:
        """The messages received for `address`."""
        return [r.message for r in self.received if address in r.rcpt_tos]

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.received:
            counts[r.message["Message-ID"]] = counts.get(r.message["Message-ID"], 0) + 1
        return counts


@contextmanager
def running_smtp_server():
    handler = SmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    with running_smtp_server() as handler:
        yield handler


class TwilioApi:
    """POST/GET /2010-04-01/Accounts/{sid}/Messages.json as Twilio answers them."""

    INVALID = "+15005550001"  # Twilio's magic test number for "invalid To"

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict] = []  # newest last
        self.posts: list[dict] = []  # every create request, as received
        self.fail_next: list[int] = []  # statuses to answer the next creates with (500, 429, ...)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, payload: dict):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self) -> bool:
                expected = base64.b64encode(f"{api.account_sid}:{api.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._json(401, {"code": 20003, "message": "Authenticate", "status": 401,
                                     "more_info": "https://www.twilio.com/docs/errors/20003"})
                    return False
                return True

            def _path_ok(self) -> bool:
                if urlparse(self.path).path != f"/2010-04-01/Accounts/{api.account_sid}/Messages.json":
                    self._json(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                    return False
                return True

            def do_POST(self):  # noqa: N802
                if not (self._path_ok() and self._authorised()):
                    return
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                api.posts.append(form)
                if api.fail_next:
                    status = api.fail_next.pop(0)
                    self._json(status, {"code": 20429 if status == 429 else 20500, "status": status,
                                        "message": "Too Many Requests" if status == 429 else "Internal Server Error"})
                    return
                if form.get("To") == api.INVALID:
                    self._json(400, {"code": 21211, "status": 400,
                                     "message": f"The 'To' number {form['To']} is not a valid phone number.",
                                     "more_info": "https://www.twilio.com/docs/errors/21211"})
                    return
                now = format_datetime(dt.datetime.now(dt.UTC), usegmt=True)
                sid = "SM" + secrets.token_hex(16)
                message = {
                    "account_sid": api.account_sid, "api_version": "2010-04-01", "body": form.get("Body"),
                    "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
                    "error_code": None, "error_message": None, "from": form.get("From"),
                    "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
                    "price_unit": "USD", "sid": sid, "status": "queued", "to": form.get("To"),
                    "status_callback": form.get("StatusCallback"),
                    "uri": f"/2010-04-01/Accounts/{api.account_sid}/Messages/{sid}.json",
                    "subresource_uris": {"media": f"/2010-04-01/Accounts/{api.account_sid}/Messages/{sid}/Media.json"},
                }
                api.messages.append(message)
                self._json(201, message)

            def do_GET(self):  # noqa: N802
                if not (self._path_ok() and self._authorised()):
                    return
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                found = [m for m in reversed(api.messages)
                         if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])]
                uri = f"/2010-04-01/Accounts/{api.account_sid}/Messages.json"
                self._json(200, {"messages": found, "end": max(len(found) - 1, 0), "first_page_uri": uri,
                                 "next_page_uri": None, "page": 0, "page_size": 50, "previous_page_uri": None,
                                 "start": 0, "uri": uri})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def twilio_api():
    api = TwilioApi("AC" + secrets.token_hex(16), secrets.token_hex(16))
    api.thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()


@pytest.fixture
def links_env(var_dir, monkeypatch):
    """A var/ with hotel H1 (Paris) and its link rules (the packaged example); no relay, no Twilio."""
    return prepare_links_env(var_dir, monkeypatch)


def prepare_links_env(var_dir, monkeypatch):
    for name in ("LETTRAGE_SMTP_HOST", "LETTRAGE_SMTP_PORT", "LETTRAGE_SMTP_TLS", "LETTRAGE_SMTP_USER",
                 "LETTRAGE_SMTP_PASSWORD", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM",
                 "LETTRAGE_TWILIO_BASE_URL", "LETTRAGE_LINK_RULES_DIR", "LETTRAGE_OPS_STORE_URL",
                 "LETTRAGE_INBOX_DIR", "LETTRAGE_MAIL_DIR", "LETTRAGE_SMS_DIR", "LETTRAGE_FAULT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LETTRAGE_LINK_SECRET", "test-link-secret")
    monkeypatch.setenv("LETTRAGE_PUBLIC_BASE_URL", "https://pay.hotel-lutece.example")
    inbox = var_dir / "inbox"
    write_hotels([Hotel("H1", "Hôtel Lutèce", "Europe/Paris")], inbox / "hotels.csv")
    rules.install_example(rules.rules_path(inbox, "H1"), "Hôtel Lutèce", "hotel-lutece.example")
    return var_dir


def use_smtp(monkeypatch, server) -> None:
    monkeypatch.setenv("LETTRAGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LETTRAGE_SMTP_PORT", str(server.port))


def use_twilio(monkeypatch, api: TwilioApi, from_number: str = "+33700000000") -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", api.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", api.auth_token)
    monkeypatch.setenv("TWILIO_FROM", from_number)
    monkeypatch.setenv("LETTRAGE_TWILIO_BASE_URL", api.base_url)


def reservation(**overrides) -> dict:
    """One row of the canonical reservations table: a non-refundable stay, in French."""
    row = dict(
        reservation_id="R1", hotel_id="H1", confirmation_no="40012345", status="reserved",
        created_at=None, business_date=dt.date(2026, 3, 1),
        arrival_date=dt.date(2026, 6, 12), arrival_time="15:30", departure_date=dt.date(2026, 6, 14),
        adults=2, children=1, guest_first_name="Émilie", guest_last_name="Durand",
        email="emilie.durand@example.org", phone="+33612345678", language="FR", room_type="DBL",
        rate_code="NRF", total_cents=48_650, deposit_due_cents=0, deposit_paid_cents=0, currency="EUR",
        guarantee_code=None, payment_method="VI", cancellation_deadline=None, non_refundable=True,
    )
    row.update(overrides)
    return row
