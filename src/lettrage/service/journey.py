"""The guests' journey, end to end, for `make demo`: the service and the PSP simulator on free
local ports, payment links sent by the links layer to the local SMTP sink, and simulated guests
who open their e-mail's link and pay on the simulator's hosted page over HTTP: one pays, one's
card is refused, one guarantees a booking through a 3-D Secure challenge, one abandons, and a
group splits its bill in two parts. The simulator sends every notification twice and a late
"being processed" after it, as a real PSP may; a forged notification is tried too.

    from lettrage.service.journey import run_demo_journey
    summary = run_demo_journey(load_settings())
    print("\n".join(summary.lines()))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import html
import re
import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy import func, select

from lettrage.config import Settings
from lettrage.paylinks import store
from lettrage.recon.money import format_cents

CARDS = {"accepted": "4111111111111111", "refused": "4000000000000002", "challenge": "4000000000003220"}


@dataclass(frozen=True)
class Guest:
    name: str
    first: str
    last: str
    language: str
    kind: str
    amount_cents: int
    does: str                       # pay | refused | challenge | abandon | split
    shares: tuple[tuple[str, int], ...] = ()


GUESTS = (
    Guest("Anne Martin", "Anne", "Martin", "fr", "sale", 45000, "pay"),
    Guest("John Smith", "John", "Smith", "en", "sale", 18000, "refused"),
    Guest("Sofia Rossi", "Sofia", "Rossi", "en", "preauth", 32000, "challenge"),
    Guest("Lukas Weber", "Lukas", "Weber", "en", "sale", 9500, "abandon"),
    Guest("Famille Dupont", "Claire", "Dupont", "fr", "split", 60000, "split",
          (("Claire Dupont", 25000), ("Marc Dupont", 35000))),
)


@dataclass
class Step:
    guest: str
    kind: str
    amount: str
    did: str
    page: str                 # the title of the result page the guest saw
    request_status: str = ""
    guest_messages: int = 0   # e-mails the guest received: the link, then one response per outcome


@dataclass
class JourneySummary:
    service_url: str
    psp_url: str
    hotel_id: str
    steps: list[Step] = field(default_factory=list)
    notifications: int = 0
    ignored: int = 0          # duplicates and late statuses: stored, changed nothing
    forged_refused: bool = False
    hotel_notices: int = 0
    mail_dir: str = ""

    def lines(self) -> list[str]:
        out = [f"Payment links, hotel {self.hotel_id}: service {self.service_url}, PSP simulator {self.psp_url}"]
        width = max(len(s.guest) for s in self.steps) if self.steps else 10
        for s in self.steps:
            out.append(f"  {s.guest:<{width}}  {s.kind:<7} {s.amount:>12}  {s.did:<34} -> {s.request_status:<10}"
                       f" ({s.guest_messages} e-mail(s); page: {s.page})")
        out.append(f"  PSP notifications received: {self.notifications} ({self.ignored} duplicates or late "
                   f"statuses stored and ignored); forged notification refused: {'yes' if self.forged_refused else 'NO'}")
        out.append(f"  Notices to the hotel: {self.hotel_notices}; messages written to {self.mail_dir}")
        return out


def _form(page: str, form_id: str) -> tuple[str, dict[str, str]]:
    m = re.search(rf'<form method="post" action="([^"]+)" id="{form_id}">(.*?)</form>', page, re.S)
    if not m:
        raise RuntimeError(f"no form {form_id!r} on the page")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', m[2]))
    return html.unescape(m[1]), {k: html.unescape(v) for k, v in fields.items()}


def _title(page: str) -> str:
    m = re.search(r'<h1 id="title">(.*?)</h1>', page, re.S) or re.search(r"<title>(.*?)</title>", page, re.S)
    return html.unescape(m[1]).strip() if m else ""


class Browser:
    """A guest's browser: follows the service's auto-submitted form to the PSP and back."""

    def __init__(self, psp_url: str):
        self.http = httpx.Client(timeout=30, follow_redirects=True)
        self.psp_url = psp_url

    def pay(self, page: httpx.Response, card: str | None, consent: bool = False) -> httpx.Response:
        action, fields = _form(page.text, "psp-form")
        card_page = self.http.post(action, data=fields)
        session = re.search(r'action="/pay/([^"]+)"', card_page.text)
        if not session:
            raise RuntimeError(f"the PSP refused the order: {_title(card_page.text)}")
        data = {"action": "cancel"} if card is None else {"action": "pay", "cardno": card}
        if consent:
            data["store_card"] = "1"
        answer = self.http.post(f"{self.psp_url}/pay/{session[1]}", data=data)
        if "/3ds/" in answer.text:
            challenge = re.search(r'action="/3ds/([^"]+)"', answer.text)[1]
            answer = self.http.post(f"{self.psp_url}/3ds/{challenge}", data={"answer": "authenticate"})
        return answer


def _link_from_mail(settings: Settings, sessions, request_id: int) -> str:
    """The link as the guest reads it in the e-mail the links layer sent (the local sink's copy)."""
    from lettrage.paylinks import tokens
    from lettrage.paylinks.notify.mail_sink import find

    with sessions() as s:
        row = s.get(store.LinkRequest, request_id)
        message_id = s.scalar(select(store.LinkSend.message_id).where(
            store.LinkSend.request_id == request_id, store.LinkSend.kind == "link", store.LinkSend.status == "sent"))
        fallback = tokens.link_url(settings.public_base_url, row.link_key, row.expires_at, settings.link_secret)
    path = find(settings.mail_dir, message_id) if message_id and not settings.smtp_host else None
    if path is None:
        return fallback
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    m = re.search(re.escape(settings.public_base_url.rstrip("/")) + r"/l/[A-Za-z0-9_-]+", text)
    return m[0] if m else fallback


def _ensure_rules(settings: Settings, hotel_id: str, hotel_name: str) -> None:
    """The hotel needs link rules (sender, signature, notices): the documented example if none."""
    from lettrage.paylinks import rules

    target = rules.rules_path(settings.link_rules_dir or settings.inbox_dir, hotel_id)
    if not target.exists():
        domain = re.sub(r"[^a-z0-9]+", "-", hotel_name.lower()).strip("-") + ".example"
        rules.install_example(target, hotel_name, domain)


def _hotel(settings: Settings) -> tuple[str, str]:
    """The demo group's first hotel (id, name)."""
    from lettrage.recon.hotels import HOTELS_FILE, load_hotels

    path = settings.inbox_dir / HOTELS_FILE
    hotels = load_hotels(path) if path.exists() else {}
    first = sorted(hotels)[0] if hotels else None
    return (first, hotels[first].name) if first else ("DEMO", "Hôtel Démo")


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def run_demo_journey(settings: Settings, hotel_id: str | None = None, guests=GUESTS,
                     timeout: float = 60.0) -> JourneySummary:
    """Run the journey against this installation's operational store; returns what happened."""
    from lettrage.paylinks import sending
    from lettrage.paylinks.outbox import open_outbox
    from lettrage.paylinks.psp import ogone
    from lettrage.paylinks.psp.simulator import Simulator, SimulatorSettings
    from lettrage.paylinks.requests import create_manual
    from lettrage.service.app import create_app
    from lettrage.service.serving import BackgroundServer, free_port

    service_port, psp_port = free_port(), free_port()
    settings = dataclasses.replace(settings, public_base_url=f"http://127.0.0.1:{service_port}",
                                   ogone_url=f"http://127.0.0.1:{psp_port}/ncol/test", psp_provider="ogone")
    default_id, hotel_name = _hotel(settings)
    hotel_id = hotel_id or default_id
    _ensure_rules(settings, hotel_id, hotel_name)
    sessions = store.session_factory(settings.ops_store_url)
    simulator = Simulator(SimulatorSettings.from_settings(settings, duplicates=1, stale_pending=True,
                                                          retry_delay=0.5))
    summary = JourneySummary(settings.public_base_url, f"http://127.0.0.1:{psp_port}", hotel_id,
                             mail_dir=str(settings.mail_dir))
    with store.transaction(sessions) as s:
        first_event = s.scalar(select(func.coalesce(func.max(store.PspEvent.id), 0)))
    with BackgroundServer(create_app(settings), port=service_port), \
            BackgroundServer(simulator.app, port=psp_port):
        now = dt.datetime.now(dt.UTC)
        stamp = now.strftime("%H%M%S")
        ids = []
        with store.transaction(sessions) as s:
            for n, g in enumerate(guests, start=1):
                row = create_manual(
                    s, hotel_id=hotel_id, amount_cents=g.amount_cents, kind=g.kind, channel="email",
                    language=g.language, service="reservation", created_by="demo journey",
                    expires_at=now + dt.timedelta(days=3), confirmation_no=f"DEMO{stamp}{n}",
                    guest_first_name=g.first, guest_last_name=g.last,
                    email=f"{g.first}.{g.last}@guest.example".lower(),
                    arrival_date=(now + dt.timedelta(days=20)).date(), arrival_time="15:00",
                    departure_date=(now + dt.timedelta(days=22)).date(), adults=2, children=0,
                    payment_method="card", installments=len(g.shares) or None)
                ids.append(row.id)
        # The links layer sends the links (exactly once), here to the local SMTP sink.
        with open_outbox(settings, sessions) as outbox:
            with store.transaction(sessions) as s:
                recorded = [sending.record_send(s, s.get(store.LinkRequest, rid), outbox, kind="link",
                                                channel="email", template="link") for rid in ids]
                send_ids = [r.id for r in recorded if r is not None]
            sending.deliver(sessions, outbox, send_ids=send_ids)

        browser = Browser(summary.psp_url)
        for rid, g in zip(ids, guests, strict=True):
            link = _link_from_mail(settings, sessions, rid)
            amount = format_cents(g.amount_cents)
            if g.does == "split":
                result = None
                for payer, cents in g.shares:
                    page = browser.http.post(f"{link}/split", data={"payer": payer,
                                                                     "amount": f"{cents // 100}.{cents % 100:02d}"})
                    result = browser.pay(page, CARDS["accepted"])
                did = " + ".join(f"{p.split()[0]} {format_cents(c)}" for p, c in g.shares)
            else:
                page = browser.http.get(link)
                card = None if g.does == "abandon" else CARDS["challenge" if g.does == "challenge" else
                                                              "refused" if g.does == "refused" else "accepted"]
                result = browser.pay(page, card)
                did = {"pay": "pays by card", "refused": "card refused by the bank",
                       "challenge": "3-D Secure challenge, guarantee", "abandon": "leaves the payment page"}[g.does]
            summary.steps.append(Step(g.name, g.kind, amount, did, _title(result.text)))

        # A forger who does not know the SHA-OUT passphrase.
        forged = {"orderID": "DEMO-FORGED", "amount": "1", "currency": "EUR", "STATUS": "9", "PAYID": "1"}
        forged["SHASIGN"] = ogone.sha_out(forged, "not-the-passphrase", settings.ogone_algorithm)
        summary.forged_refused = httpx.post(f"{settings.public_base_url}/psp/ogone/notify", data=forged,
                                            timeout=30).status_code == 403

        simulator.wait_for_notifications(timeout)

        def settled() -> bool:
            with sessions() as s:
                return not s.scalar(select(func.count()).select_from(store.LinkSend).where(
                    store.LinkSend.request_id.in_(ids), store.LinkSend.status == "recorded"))
        _wait(settled, timeout)

    with sessions() as s:
        for step, rid in zip(summary.steps, ids, strict=True):
            step.request_status = s.get(store.LinkRequest, rid).status
            step.guest_messages = s.scalar(select(func.count()).select_from(store.LinkSend).where(
                store.LinkSend.request_id == rid, store.LinkSend.kind.in_(("link", "response")),
                store.LinkSend.status == "sent"))
        summary.hotel_notices = s.scalar(select(func.count()).select_from(store.LinkSend).where(
            store.LinkSend.request_id.in_(ids), store.LinkSend.kind == "hotel_notice",
            store.LinkSend.status == "sent"))
        events = s.execute(select(store.PspEvent.applied, store.PspEvent.signature_ok).where(
            store.PspEvent.id > first_event, store.PspEvent.request_id.in_(ids))).all()
    summary.notifications = len(events)
    summary.ignored = sum(1 for applied, ok in events if ok and not applied)
    return summary
