"""The payment service and the PSP simulator on real uvicorn servers (free local ports), over a
private operational store; requests made the way the dashboard makes them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lettrage.config import load_settings
from lettrage.paylinks import rules as rules_module
from lettrage.paylinks import store, tokens
from lettrage.paylinks.psp.simulator import Simulator, SimulatorSettings
from lettrage.paylinks.requests import create_manual
from lettrage.paylinks.rules import RULES_FILE
from lettrage.service.app import create_app
from lettrage.service.serving import BackgroundServer, free_port
from tests.paylinks.servers import running_smtp_server

SHA_IN, SHA_OUT = "svc-in-Ø-1", "svc-out-§-2"


EXAMPLES = Path(rules_module.__file__).parent / "examples"


@pytest.fixture
def smtp():
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def app(var_dir):
    """The service with the dashboard's users (tests.service.dashboard_fixtures.seed_users)."""
    from tests.service.dashboard_fixtures import seed_users

    app = create_app(load_settings())
    seed_users(app.state.sessions)
    yield app
    store.dispose_all()


@pytest.fixture
def settings(var_dir, smtp):
    service_port, psp_port = free_port(), free_port()
    rules_dir = var_dir / "inbox" / "H1"
    rules_dir.mkdir(parents=True)
    shutil.copy(EXAMPLES / "rules.yaml", rules_dir / RULES_FILE)
    shutil.copy(EXAMPLES / "conditions-de-vente.pdf", rules_dir / "conditions-de-vente.pdf")
    return dataclasses.replace(
        load_settings(), public_base_url=f"http://127.0.0.1:{service_port}",
        ogone_url=f"http://127.0.0.1:{psp_port}/ncol/test", ogone_pspid="HOTELTEST", ogone_sha_in=SHA_IN,
        ogone_sha_out=SHA_OUT, ogone_algorithm="sha512", ogone_userid="api-user", ogone_password="api-pass-123",
        psp_simulator_port=psp_port, link_secret="link-secret-for-tests", api_token="api-token-xyz",
        twilio_auth_token="twilio-token-abc", worldline_webhook_secret="wl-webhook-secret",
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none", link_rules_dir=var_dir / "inbox")


@pytest.fixture
def sessions(settings):
    yield store.session_factory(settings.ops_store_url)
    store.dispose_all()


class Live:
    """The service and the simulator, running; helpers a test drives them with."""

    def __init__(self, settings, sessions, simulator: Simulator):
        self.settings, self.sessions, self.simulator = settings, sessions, simulator
        self.url = settings.public_base_url
        self.psp = httpx.Client(base_url=f"http://127.0.0.1:{settings.psp_simulator_port}", timeout=20)
        self.http = httpx.Client(base_url=self.url, timeout=20)

    def link(self, request_id: int) -> str:
        with store.transaction(self.sessions) as s:
            row = s.get(store.LinkRequest, request_id)
            return "/l/" + tokens.make_token(row.link_key, row.expires_at, self.settings.link_secret)

    def to_psp_form(self, page: httpx.Response) -> tuple[str, dict]:
        """The hidden form the service's page auto-submits to the PSP."""
        assert page.status_code == 200, page.text
        action = re.search(r'<form method="post" action="([^"]+)" id="psp-form">', page.text)[1]
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        import html

        return action, {k: html.unescape(v) for k, v in fields.items()}

    def pay(self, page: httpx.Response, card: str = "4111111111111111", **extra) -> httpx.Response:
        """A guest on the hosted page: card form, pay, back to the service's result page."""
        action, fields = self.to_psp_form(page)
        card_page = httpx.post(action, data=fields, timeout=20)
        assert card_page.status_code == 200, card_page.text
        session = re.search(r'action="/pay/([^"]+)"', card_page.text)[1]
        answer = self.psp.post(f"/pay/{session}", data={"cardno": card, "action": extra.pop("action", "pay"),
                                                        **extra})
        if "/3ds/" in answer.text:
            challenge = re.search(r'action="/3ds/([^"]+)"', answer.text)[1]
            answer = self.psp.post(f"/3ds/{challenge}", data={"answer": "authenticate"})
        assert answer.status_code == 303, answer.text
        return httpx.get(answer.headers["location"], timeout=20)

    def request(self, request_id: int):
        with store.transaction(self.sessions) as s:
            row = s.get(store.LinkRequest, request_id)
            s.expunge(row)
            return row

    def parts(self, request_id: int):
        with store.transaction(self.sessions) as s:
            rows = s.execute(select(store.Payment).where(store.Payment.request_id == request_id)
                             .order_by(store.Payment.seq)).scalars().all()
            for r in rows:
                s.expunge(r)
            return rows

    def sends(self, request_id: int) -> list[tuple[str, str]]:
        """(kind, what it says) of each message recorded for the request, in order."""
        with store.transaction(self.sessions) as s:
            rows = s.execute(select(store.LinkSend).where(store.LinkSend.request_id == request_id)
                             .order_by(store.LinkSend.id)).scalars()
            return [(x.kind, x.idempotency_key.split(":")[2]) for x in rows]

    def delivered(self, request_id: int, count: int, timeout: float = 15.0) -> None:
        """Wait until `count` messages of the request went out (handed to the SMTP server)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            with store.transaction(self.sessions) as s:
                sent = s.execute(select(store.LinkSend.status).where(
                    store.LinkSend.request_id == request_id)).scalars().all()
            if sent.count("sent") >= count or time.monotonic() > deadline:
                assert sent.count("sent") == count, sent
                return
            time.sleep(0.05)

    def events(self, request_id: int | None = None):
        with store.transaction(self.sessions) as s:
            q = select(store.PspEvent).order_by(store.PspEvent.id)
            if request_id is not None:
                q = q.where(store.PspEvent.request_id == request_id)
            rows = s.execute(q).scalars().all()
            for r in rows:
                s.expunge(r)
            return rows


@pytest.fixture
def live(settings, sessions):
    sim = Simulator(SimulatorSettings.from_settings(settings, retry_delay=0.05))
    with BackgroundServer(create_app(settings), port=int(settings.public_base_url.rsplit(":", 1)[1])), \
            BackgroundServer(sim.app, port=settings.psp_simulator_port):
        yield Live(settings, sessions, sim)
        sim.wait_for_notifications()


def make_request(sessions, kind: str = "sale", amount_cents: int = 15075, language: str = "fr", **fields) -> int:
    now = dt.datetime.now(dt.UTC)
    values = dict(email="anne.martin@example.org", guest_first_name="Anne", guest_last_name="Martin",
                  confirmation_no="CONF-1001", arrival_date=(now + dt.timedelta(days=40)).date())
    values.update(fields)
    with store.transaction(sessions) as s:
        row = create_manual(s, hotel_id="H1", amount_cents=amount_cents, kind=kind, channel="email",
                            language=language, service="reservation", created_by="test",
                            expires_at=now + dt.timedelta(days=7), status="sent", **values)
        return row.id
