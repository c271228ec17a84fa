"""The browser harness: Debian's Chromium driven by Playwright, and real servers on free local ports.

- `browser` (one per session): /usr/bin/chromium, headless, with the flags this machine needs (no
  background networking: the network is closed and Chromium would keep knocking). Playwright never
  downloads a browser here. `launch()` gives the browser a fresh, throw-away user-data-dir.
- `page`: a new browser context per test (own cookies), closed afterwards.
- `LiveServer`: an ASGI app served by a real uvicorn in a thread; `ProcessServer`: a command started as
  its own process (PSP simulator, dagster-webserver), stopped by its PID.
- `SmtpSink`: an aiosmtpd server on a free port that keeps what it receives.
- `desk` (one per module): the service with its dashboard and the PSP simulator on uvicorn, an
  SMTP sink, a private var/ with one hotel and its link rules, and the dashboard's users.
Everything listens on 127.0.0.1 and on ports the kernel picked.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from lettrage.config import PROJECT_ROOT
from tests.service.dashboard_fixtures import PASSWORD, seed_users

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Kept for a person to look at after a run (var/ is not committed) and for the README (docs/, committed).
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
DOC_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, what: str = "condition", interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail the test with `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status < 500
    except Exception:  # noqa: BLE001 - not up yet
        return False


class LiveServer:
    """An ASGI app on a real uvicorn server in a background thread."""

    def __init__(self, app, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), 20, f"uvicorn on {self.url}")
        if not self.server.started:
            raise RuntimeError(f"uvicorn did not start on {self.url}")
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class ProcessServer:
    """A server started as its own process; ready when `ready_path` answers; stopped by its PID."""

    def __init__(self, argv: list[str], url: str, ready_path: str = "/", env: dict | None = None,
                 log: Path | None = None, timeout: float = 60):
        self.argv, self.url, self.ready_path, self.timeout = argv, url, ready_path, timeout
        self.env = {**os.environ, **(env or {})}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> ProcessServer:
        """Start the process without waiting for it (do something else meanwhile, then `with` it)."""
        if self.proc is None:
            out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
            # A fresh process group, so that children (dagster's code server) stop with it.
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, cwd=PROJECT_ROOT)
        return self

    def __enter__(self) -> ProcessServer:
        self.start()
        try:
            wait_until(lambda: self.proc.poll() is not None or http_ok(self.url + self.ready_path), self.timeout,
                       f"{self.argv[0]} on {self.url}", interval=0.25)
        except AssertionError:
            self.__exit__()
            raise
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log else ""
            raise RuntimeError(f"{' '.join(self.argv)} exited with {self.proc.returncode}\n{tail}")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free port keeping every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                sink.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        # port=0 does not work with aiosmtpd's Controller (it connects to its own port to check readiness).
        self.port = free_port()
        self.host = "127.0.0.1"
        self.controller = Controller(Handler(), hostname=self.host, port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "an e-mail"):
        """The first received message for which `predicate(msg)` is true."""
        def found():
            return next((m for m in list(self.messages) if predicate(m)), None)
        return wait_until(found, timeout, what)


def message_html(msg) -> str:
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


def message_text(msg) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def smtp_sink():
    with SmtpSink() as sink:
        yield sink


def screenshot(page, name: str, doc: bool = False, full_page: bool = True) -> Path:
    """Save a PNG under var/screenshots/ (and docs/screenshots/ when it illustrates the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if doc:
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (DOC_SCREENSHOTS / f"{name}.png").write_bytes(path.read_bytes())
    return path


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """The service with its dashboard, the PSP simulator and an SMTP sink, for the whole module."""
    from lettrage.config import load_settings
    from lettrage.paylinks.psp.simulator import Simulator, SimulatorSettings
    from lettrage.paylinks.rules import install_example, rules_path
    from lettrage.recon.hotels import Hotel, write_hotels
    from lettrage.service.app import create_app

    var = tmp_path_factory.mktemp("journey") / "var"
    service_port, psp_port = free_port(), free_port()
    with pytest.MonkeyPatch.context() as env, SmtpSink() as smtp:
        for name, value in {
            "LETTRAGE_VAR_DIR": str(var), "DAGSTER_HOME": str(var / "dagster_home"),
            "LETTRAGE_PUBLIC_BASE_URL": f"http://127.0.0.1:{service_port}",
            "LETTRAGE_OGONE_URL": f"http://127.0.0.1:{psp_port}/ncol/test",
            "LETTRAGE_SMTP_HOST": smtp.host, "LETTRAGE_SMTP_PORT": str(smtp.port), "LETTRAGE_SMTP_TLS": "none",
        }.items():
            env.setenv(name, value)
        settings = load_settings()
        write_hotels([Hotel("H1", "Hôtel Lutèce", "Europe/Paris")], settings.inbox_dir / "hotels.csv")
        install_example(rules_path(settings.link_rules_dir, "H1"), "Hôtel Lutèce", "hotel-lutece.example")
        simulator = Simulator(SimulatorSettings.from_settings(settings, retry_delay=0.3))
        app = create_app(settings)
        seed_users(app.state.sessions)
        with LiveServer(simulator.app, psp_port), LiveServer(app, service_port) as service:
            yield SimpleNamespace(url=service.url + "/dashboard", smtp=smtp, app=app, settings=settings,
                                  simulator=simulator)
        from lettrage.paylinks import store

        store.dispose_all()


def log_in(page, desk, username: str) -> None:
    page.goto(desk.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")


def create_request(page, desk, last_name: str, amount: str, kind: str = "sale", parts: str = "",
                   email: str | None = None) -> int:
    """Reception fills the new-request form; returns the request's number."""
    page.goto(desk.url + "/requests/new")
    email = email or f"{last_name.lower()}@guest.example"
    for name, value in {"confirmation_no": f"C{last_name.upper()[:6]}", "guest_first_name": "Claire",
                        "guest_last_name": last_name, "email": email, "arrival_date": "2026-06-12",
                        "departure_date": "2026-06-15", "adults": "2", "children": "0", "amount": amount,
                        "parts": parts}.items():
        page.fill(f"[name={name}]", value)
    page.select_option("[name=kind]", kind)
    page.select_option("[name=channel]", "email")
    page.select_option("[name=language]", "fr")
    page.click("#new-request button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/requests/\d+$"))
    return int(page.url.rsplit("/", 1)[1])
