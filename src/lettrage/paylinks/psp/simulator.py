"""A PSP simulator speaking the Ogone e-Commerce protocol, for demos and tests.

What it does, as Ogone does (research/psp.md §1):
- the hosted page (`/ncol/<env>/orderstandard[_utf8].asp`) checks SHA-IN: a missing signature shows
  "unknown order/0/s", a wrong one "unknown order/1/s"; an ORDERID already paid is refused;
- a card form with test cards (accepted, refused, 3-D Secure challenge, uncertain), a 3-D Secure
  challenge page, then the guest is redirected to ACCEPT/DECLINE/EXCEPTION/CANCEL URL with the
  feedback parameters signed with SHA-OUT;
- the server-to-server notification ("post-sale" request) goes to the configured URL, online or
  deferred, retried when the service does not answer 2xx, optionally sent more than once, late,
  or followed by a stale "being processed" status (out of order);
- DirectLink: maintenance (`maintenancedirect.asp`: SAS/SAL capture, DES/DEL release, RFD/RFS
  refund), alias payments (`orderdirect.asp`) and status queries (`querydirect.asp`), answering
  `<ncresponse .../>`.

State lives in memory: a simulator is a throw-away PSP.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks.psp import ogone
from lettrage.recon.money import format_cents

log = logging.getLogger("lettrage.psp_simulator")

PAGES = Path(__file__).with_name("simulator_pages")


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    outcome: str       # accepted | refused | challenge | uncertain
    label: str
    later_charges: str = "accepted"  # what merchant-initiated charges on its alias do


TEST_CARDS = [
    TestCard("4111111111111111", "VISA", "accepted", "Visa, accepted"),
    TestCard("5555555555554444", "MasterCard", "accepted", "Mastercard, accepted"),
    TestCard("4000000000000002", "VISA", "refused", "Visa, refused by the issuer"),
    TestCard("4000000000003220", "VISA", "challenge", "Visa, 3-D Secure challenge"),
    TestCard("4000000000000051", "VISA", "uncertain", "Visa, no answer from the acquirer (uncertain)"),
    TestCard("4000000000009995", "VISA", "accepted", "Visa, accepted now, later charges refused",
             later_charges="refused"),
]
CARDS_BY_NUMBER = {c.number: c for c in TEST_CARDS}
NC_REFUSED = "30001001"          # authorisation refused by the acquirer
NC_INSUFFICIENT = "30511001"     # insufficient funds
NC_AUTHENTICATION = "40001134"   # 3-D Secure authentication failed
NC_UNCERTAIN = "20001001"        # no answer from the acquirer
NC_INVALID = "50001111"          # data validation error


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return len(number) >= 12 and total % 10 == 0


def mask(number: str) -> str:
    return "X" * (len(number) - 4) + number[-4:]


@dataclass
class SimulatorSettings:
    pspid: str
    sha_in: str = field(repr=False)
    sha_out: str = field(repr=False)
    algorithm: str = "sha256"
    userid: str = ""
    password: str = field(default="", repr=False)
    notify_url: str = ""            # the back office's post-sale URL; `<PARAMVAR>` is substituted
    notify_method: str = "POST"     # POST | GET
    notify_mode: str = "deferred"   # deferred (after the redirect) | online (before it)
    notify_delay: float = 0.0       # seconds before a deferred notification
    notify_retries: int = 4         # further attempts when the service does not answer 2xx
    retry_delay: float = 2.0        # seconds between attempts (Ogone: 10 minutes)
    duplicates: int = 0             # extra copies of every notification
    stale_pending: bool = False     # also send a late "99 being processed" after the outcome

    @classmethod
    def from_settings(cls, settings, **overrides) -> SimulatorSettings:
        values = dict(pspid=settings.ogone_pspid, sha_in=settings.ogone_sha_in, sha_out=settings.ogone_sha_out,
                      algorithm=settings.ogone_algorithm, userid=settings.ogone_userid,
                      password=settings.ogone_password,
                      notify_url=settings.public_base_url.rstrip("/") + "/psp/ogone/notify")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class Transaction:
    """One payment at the simulated PSP."""

    pay_id: str
    order_id: str
    amount_cents: int
    currency: str
    operation: str
    status: int
    nc_error: str
    brand: str
    cardno: str          # masked
    card: TestCard | None
    cn: str = ""
    alias: str = ""
    complus: str = ""
    acceptance: str = ""
    eci: str = "7"
    captured_cents: int = 0
    refunded_cents: int = 0
    history: list = field(default_factory=list)


@dataclass
class Delivery:
    order_id: str
    status: str
    copy: int
    attempts: int = 0
    answers: list = field(default_factory=list)
    delivered: bool = False


class Simulator:
    """The simulated PSP and its FastAPI app (`.app`)."""

    def __init__(self, settings: SimulatorSettings):
        self.settings = settings
        self.lock = threading.Lock()
        self.sessions: dict[str, dict] = {}
        self.transactions: dict[str, Transaction] = {}
        self.aliases: dict[str, TestCard] = {}
        self.deliveries: list[Delivery] = []
        self._pay_ids = itertools.count(3_000_000 + secrets.randbelow(1_000_000))
        self._threads: list[threading.Thread] = []
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        self.pages = Environment(loader=FileSystemLoader(PAGES), autoescape=select_autoescape(["html"]))
        import httpx

        self.http = httpx.Client(timeout=10)  # the merchant's notification URL, reused connection
        self.app = self._build_app()

    # --- the hosted page ------------------------------------------------------------------

    def _render(self, name: str, status_code: int = 200, **values):
        return HTMLResponse(self.pages.get_template(name).render(**values), status_code=status_code)

    def _error_page(self, message: str, status_code: int = 400):
        log.warning("hosted page refused: %s", message)
        return self._render("error.html", status_code, message=message)

    def open_order(self, items: list[tuple[str, str]]):
        """The guest's browser posts the merchant's signed form."""
        params = {k.upper(): v for k, v in items}
        if not params.get("SHASIGN"):
            return self._error_page("unknown order/0/s")
        if not ogone.verify_sha_in(items, self.settings.sha_in, self.settings.algorithm):
            return self._error_page("unknown order/1/s")
        if params.get("PSPID") != self.settings.pspid:
            return self._error_page("unknown order/1/p")
        missing = [k for k in ("ORDERID", "AMOUNT", "CURRENCY") if not params.get(k)]
        if missing or not params.get("AMOUNT", "").isdigit():
            return self._error_page(f"unknown order/1/i ({', '.join(missing) or 'AMOUNT'})")
        with self.lock:
            done = [t for t in self.transactions.values()
                    if t.order_id == params["ORDERID"] and t.status in (5, 9, 91, 52, 92)]
        if done:
            return self._error_page(f"order {params['ORDERID']} has already been processed")
        session = secrets.token_urlsafe(16)
        with self.lock:
            self.sessions[session] = {"params": params, "state": "card_form"}
        return self._card_form(session, params)

    def _card_form(self, session: str, params: dict, problem: str = ""):
        return self._render("card_form.html", session=session, p=params, cards=TEST_CARDS, problem=problem,
                            amount=format_cents(int(params["AMOUNT"]), params["CURRENCY"]),
                            french=params.get("LANGUAGE", "").startswith("fr"))

    def pay(self, session: str, form: dict):
        with self.lock:
            state = self.sessions.get(session)
        if not state or state["state"] != "card_form":
            return self._error_page("this payment session is over")
        params = state["params"]
        if form.get("action") == "cancel":
            return self._finish(session, None, 1, "")
        number = "".join(ch for ch in form.get("cardno", "") if ch.isdigit())
        if not luhn_ok(number):
            return self._card_form(session, params, problem="card number not valid")
        card = CARDS_BY_NUMBER.get(number) or TestCard(number, "VISA" if number[0] == "4" else "MasterCard",
                                                       "accepted", "other card")
        state["card"] = card
        state["store_card"] = bool(form.get("store_card")) and bool(params.get("ALIAS"))
        if card.outcome == "challenge":
            state["state"] = "challenge"
            return self._render("challenge.html", session=session, amount=format_cents(
                int(params["AMOUNT"]), params["CURRENCY"]), last4=number[-4:], merchant=params.get("PSPID", ""))
        return self._authorise(session, card)

    def challenge(self, session: str, answer: str):
        with self.lock:
            state = self.sessions.get(session)
        if not state or state["state"] != "challenge":
            return self._error_page("this payment session is over")
        if answer != "authenticate":
            return self._finish(session, state["card"], 2, NC_AUTHENTICATION)
        return self._authorise(session, state["card"], eci="5")

    def _authorise(self, session: str, card: TestCard, eci: str = "7"):
        sale = self.sessions[session]["params"].get("OPERATION", "SAL") == "SAL"
        if card.outcome == "refused":
            return self._finish(session, card, 2, NC_REFUSED)
        if card.outcome == "uncertain":
            return self._finish(session, card, 92 if sale else 52, NC_UNCERTAIN, eci=eci)
        return self._finish(session, card, 9 if sale else 5, "0", eci=eci)

    def _finish(self, session: str, card: TestCard | None, status: int, nc_error: str, eci: str = "7"):
        with self.lock:
            state = self.sessions[session]
            if state["state"] == "done":
                return self._error_page("this payment session is over")
            state["state"] = "done"
        p = state["params"]
        amount = int(p["AMOUNT"])
        txn = Transaction(
            pay_id=str(next(self._pay_ids)), order_id=p["ORDERID"], amount_cents=amount, currency=p["CURRENCY"],
            operation=p.get("OPERATION", "SAL"), status=status, nc_error=nc_error,
            brand=card.brand if card else "", cardno=mask(card.number) if card else "", card=card,
            cn=p.get("CN", ""), complus=p.get("COMPLUS", ""), eci=eci,
            acceptance=f"T{secrets.randbelow(10**5):05d}" if status in (5, 9) else "",
            captured_cents=amount if status == 9 else 0,
        )
        if status in (5, 9) and card and state.get("store_card"):
            txn.alias = p["ALIAS"]
            with self.lock:
                self.aliases[txn.alias] = card
        txn.history.append((status, amount))
        with self.lock:
            self.transactions[txn.pay_id] = txn
        log.info("order %s: STATUS %s (PAYID %s)", txn.order_id, status, txn.pay_id)
        feedback = self.feedback(txn, status, p)
        if self.settings.notify_mode == "online":
            self._deliver_all(txn, feedback, p, online=True)
        else:
            self._in_background(self._deliver_all, txn, feedback, p)
        target = {1: "CANCELURL", 2: "DECLINEURL", 52: "EXCEPTIONURL", 92: "EXCEPTIONURL"}.get(status, "ACCEPTURL")
        url = p.get(target) or (p.get("DECLINEURL") if target == "CANCELURL" else p.get("ACCEPTURL"))
        if not url:
            return self._render("result.html", status=ogone.status_of(status).label)
        return RedirectResponse(f"{url}{'&' if '?' in url else '?'}{urlencode(feedback)}", status_code=303)

    # --- feedback ---------------------------------------------------------------------------

    def feedback(self, txn: Transaction, status: int, request_params: dict | None = None,
                 amount_cents: int | None = None, pay_id_sub: str = "") -> dict[str, str]:
        """The feedback parameters Ogone sends, in Ogone's mixed-case names, signed with SHA-OUT."""
        params = {
            "orderID": txn.order_id, "currency": txn.currency,
            "amount": ogone.format_amount(txn.amount_cents if amount_cents is None else amount_cents),
            "PM": "CreditCard" if txn.card else "", "ACCEPTANCE": txn.acceptance, "STATUS": str(status),
            "CARDNO": txn.cardno, "ED": "1230" if txn.card else "", "CN": txn.cn, "TRXDATE": dt.date.today()
            .strftime("%m/%d/%y"), "PAYID": txn.pay_id, "PAYIDSUB": pay_id_sub, "NCERROR": txn.nc_error,
            "BRAND": txn.brand, "ECI": txn.eci if txn.card else "", "ALIAS": txn.alias, "COMPLUS": txn.complus,
        }
        params = {k: v for k, v in params.items() if v != ""}
        params["SHASIGN"] = ogone.sha_out(params, self.settings.sha_out, self.settings.algorithm)
        plus = (request_params or {}).get("PARAMPLUS", "")
        for pair in filter(None, plus.split("&")):  # echoed back, not signed
            key, _, value = pair.partition("=")
            params.setdefault(key, value)
        return params

    def _in_background(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self.lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _deliver_all(self, txn: Transaction, feedback: dict, request_params: dict | None, online: bool = False,
                     stale: bool = True):
        if not self.settings.notify_url:
            return
        url = self.settings.notify_url.replace("<PARAMVAR>", (request_params or {}).get("PARAMVAR", ""))
        if not online and self.settings.notify_delay:
            time.sleep(self.settings.notify_delay)
        for copy in range(1 + self.settings.duplicates):
            self._deliver(url, feedback, copy, online=online and copy == 0)
        if stale and self.settings.stale_pending and feedback.get("STATUS") not in ("1", "2"):
            stale = self.feedback(txn, 99, request_params)
            self._deliver(url, stale, 0)

    def _deliver(self, url: str, params: dict, copy: int, online: bool = False) -> None:

        record = Delivery(params.get("orderID", ""), params.get("STATUS", ""), copy)
        with self.lock:
            self.deliveries.append(record)
        for attempt in range(1 + self.settings.notify_retries):
            if attempt:
                if online:  # "online but switch to deferred when online fails"
                    self._in_background(self._retry_later, url, params, record, attempt)
                    return
                time.sleep(self.settings.retry_delay)
            if self._attempt(url, params, record):
                return
        log.warning("notification for order %s (STATUS %s) not delivered after %s attempts",
                    record.order_id, record.status, record.attempts)

    def _attempt(self, url: str, params: dict, record: Delivery) -> bool:
        """One delivery attempt, recorded; True when the merchant acknowledged it (2xx)."""
        import httpx

        record.attempts += 1
        try:
            response = self._send(url, params)
        except httpx.HTTPError as exc:
            record.answers.append(type(exc).__name__)
            return False
        record.answers.append(response.status_code)
        record.delivered = 200 <= response.status_code < 300
        return record.delivered

    def _send(self, url: str, params: dict):
        if self.settings.notify_method.upper() == "GET":
            return self.http.get(url, params=params)
        return self.http.post(url, data=params)

    def _retry_later(self, url: str, params: dict, record: Delivery, done: int) -> None:

        for _ in range(done, 1 + self.settings.notify_retries):
            time.sleep(self.settings.retry_delay)
            if self._attempt(url, params, record):
                return

    def wait_for_notifications(self, timeout: float = 30.0) -> None:
        """Block until every background delivery is over (tests, the demo journey)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                alive = [t for t in self._threads if t.is_alive()]
            if not alive:
                return
            alive[0].join(max(0.0, deadline - time.monotonic()))

    # --- DirectLink ------------------------------------------------------------------------

    def _ncresponse(self, txn: Transaction | None = None, nc_error: str = "0", plus: str = "!",
                    status: int | None = None, amount_cents: int | None = None, pay_id_sub: str = "",
                    order_id: str = ""):
        attrs = {"orderID": txn.order_id if txn else order_id, "PAYID": txn.pay_id if txn else "0",
                 "PAYIDSUB": pay_id_sub, "NCSTATUS": nc_error[:1] if nc_error != "0" else "0",
                 "NCERROR": nc_error, "NCERRORPLUS": plus, "ACCEPTANCE": txn.acceptance if txn else "",
                 "STATUS": str(status if status is not None else (txn.status if txn else 0)),
                 "AMOUNT": ogone.format_amount(amount_cents if amount_cents is not None else
                                               (txn.amount_cents if txn else 0)),
                 "CURRENCY": txn.currency if txn else "", "ALIAS": txn.alias if txn else ""}
        body = "<?xml version=\"1.0\"?><ncresponse " + " ".join(
            f"{k}={quoteattr(v)}" for k, v in attrs.items() if v != "") + "></ncresponse>"
        return Response(body, media_type="text/xml")

    def _directlink_refusal(self, items: list[tuple[str, str]]):
        p = {k.upper(): v for k, v in items}
        if p.get("PSPID") != self.settings.pspid or p.get("USERID") != self.settings.userid or \
                not secrets.compare_digest(p.get("PSWD", ""), self.settings.password or "\0"):
            return self._ncresponse(nc_error="50001119", plus="unknown PSPID or API user/password",
                                    order_id=p.get("ORDERID", ""))
        if not ogone.verify_sha_in(items, self.settings.sha_in, self.settings.algorithm):
            return self._ncresponse(nc_error="50001120", plus="SHA-IN signature wrong or missing",
                                    order_id=p.get("ORDERID", ""))
        return None

    def _find(self, p: dict) -> Transaction | None:
        with self.lock:
            if p.get("PAYID"):
                return self.transactions.get(p["PAYID"])
            found = [t for t in self.transactions.values() if t.order_id == p.get("ORDERID")]
        return found[-1] if found else None

    def maintenance(self, items: list[tuple[str, str]]):
        refusal = self._directlink_refusal(items)
        if refusal:
            return refusal
        p = {k.upper(): v for k, v in items}
        op = p.get("OPERATION", "")
        txn = self._find(p)
        if txn is None:
            return self._ncresponse(nc_error="50001130", plus="unknown PAYID/ORDERID", order_id=p.get("ORDERID", ""))
        if op not in ogone.MAINTENANCE_OPERATIONS:
            return self._ncresponse(txn, "50001111", f"unknown OPERATION {op!r}")
        amount_text = p.get("AMOUNT", "")
        if amount_text and not amount_text.isdigit():
            return self._ncresponse(txn, "50001111", "AMOUNT must be in cents")
        with self.lock:
            result = self._apply_maintenance(txn, op, int(amount_text) if amount_text else None)
        if isinstance(result, str):
            return self._ncresponse(txn, "50001127", result)
        status, amount, sub = result
        # Ogone also tells the status-change URL about maintenance done on the order.
        self._in_background(self._deliver_all, txn, self.feedback(txn, status, None, amount, sub), None, False, False)
        return self._ncresponse(txn, status=status, amount_cents=amount, pay_id_sub=sub)

    def _apply_maintenance(self, txn: Transaction, op: str, amount: int | None):
        sub = str(len(txn.history))
        if op in ("SAS", "SAL"):
            if txn.status != 5:
                return f"cannot capture: the payment is in STATUS {txn.status}, not 5 (authorised)"
            left = txn.amount_cents - txn.captured_cents
            amount = left if amount is None else amount
            if not 0 < amount <= left:
                return f"cannot capture {amount} cents: {left} cents left on the authorisation"
            txn.captured_cents += amount
            if op == "SAS" or txn.captured_cents == txn.amount_cents:
                txn.status = 9
            txn.history.append((9, amount))
            return 9, amount, sub
        if op in ("DES", "DEL"):
            if txn.status != 5 or txn.captured_cents:
                return f"cannot release: the payment is in STATUS {txn.status} with {txn.captured_cents} captured"
            txn.status = 6
            txn.history.append((6, txn.amount_cents))
            return 6, txn.amount_cents, sub
        if op in ("RFD", "RFS"):
            left = txn.captured_cents - txn.refunded_cents
            amount = left if amount is None else amount
            if txn.status not in (9, 8) or not 0 < amount <= left:
                return f"cannot refund {amount} cents: {left} cents captured and not refunded"
            txn.refunded_cents += amount
            if op == "RFS" or txn.refunded_cents == txn.captured_cents:
                txn.status = 8
            txn.history.append((8, amount))
            return 8, amount, sub
        return f"operation {op} is not simulated"

    def alias_payment(self, items: list[tuple[str, str]]):
        refusal = self._directlink_refusal(items)
        if refusal:
            return refusal
        p = {k.upper(): v for k, v in items}
        with self.lock:
            card = self.aliases.get(p.get("ALIAS", ""))
        if card is None:
            return self._ncresponse(nc_error="50001111", plus=f"unknown ALIAS {p.get('ALIAS', '')!r}",
                                    order_id=p.get("ORDERID", ""))
        if not p.get("AMOUNT", "").isdigit() or not p.get("ORDERID") or not p.get("CURRENCY"):
            return self._ncresponse(nc_error="50001111", plus="ORDERID, AMOUNT (cents) and CURRENCY are needed",
                                    order_id=p.get("ORDERID", ""))
        with self.lock:
            done = any(t.order_id == p["ORDERID"] and t.status in (5, 9) for t in self.transactions.values())
        if done:  # Ogone refuses a second payment for the same ORDERID
            return self._ncresponse(nc_error="50001113", plus=f"order {p['ORDERID']} already processed",
                                    order_id=p["ORDERID"])
        sale = p.get("OPERATION", "SAL") == "SAL"
        refused = card.later_charges == "refused"
        status = 2 if refused else (9 if sale else 5)
        amount = int(p["AMOUNT"])
        txn = Transaction(pay_id=str(next(self._pay_ids)), order_id=p["ORDERID"], amount_cents=amount,
                          currency=p["CURRENCY"], operation=p.get("OPERATION", "SAL"), status=status,
                          nc_error=NC_INSUFFICIENT if refused else "0", brand=card.brand, cardno=mask(card.number),
                          card=card, alias=p["ALIAS"], eci=p.get("ECI", "9"),
                          acceptance="" if refused else f"T{secrets.randbelow(10**5):05d}",
                          captured_cents=amount if status == 9 else 0)
        txn.history.append((status, amount))
        with self.lock:
            self.transactions[txn.pay_id] = txn
        return self._ncresponse(txn, txn.nc_error, "insufficient funds" if refused else "!")

    def query(self, items: list[tuple[str, str]]):
        refusal = self._directlink_refusal(items)
        if refusal:
            return refusal
        txn = self._find({k.upper(): v for k, v in items})
        if txn is None:
            return self._ncresponse(nc_error="50001130", plus="unknown PAYID/ORDERID")
        return self._ncresponse(txn)

    # --- the app ---------------------------------------------------------------------------

    def _build_app(self):
        app = FastAPI(title="lettrage PSP simulator (Ogone e-Commerce protocol)", docs_url=None, redoc_url=None)
        sim = self

        async def items(request: Request) -> list[tuple[str, str]]:
            pairs = list(request.query_params.multi_items())
            if request.method == "POST":
                pairs += [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
            return pairs

        @app.api_route("/ncol/{env}/orderstandard.asp", methods=["GET", "POST"])
        @app.api_route("/ncol/{env}/orderstandard_utf8.asp", methods=["GET", "POST"])
        async def orderstandard(env: str, request: Request):
            return await _threaded(sim.open_order, await items(request))

        @app.post("/pay/{session}")
        async def pay(session: str, request: Request):
            return await _threaded(sim.pay, session, dict(await items(request)))

        @app.post("/3ds/{session}")
        async def three_ds(session: str, request: Request):
            return await _threaded(sim.challenge, session, dict(await items(request)).get("answer", ""))

        @app.post("/ncol/{env}/maintenancedirect.asp")
        async def maintenancedirect(env: str, request: Request):
            return await _threaded(sim.maintenance, await items(request))

        @app.post("/ncol/{env}/orderdirect.asp")
        @app.post("/ncol/{env}/orderdirect_utf8.asp")
        async def orderdirect(env: str, request: Request):
            return await _threaded(sim.alias_payment, await items(request))

        @app.post("/ncol/{env}/querydirect.asp")
        @app.post("/ncol/{env}/querydirect_utf8.asp")
        async def querydirect(env: str, request: Request):
            return await _threaded(sim.query, await items(request))

        @app.get("/")
        async def home():
            return sim._render("home.html", cards=TEST_CARDS, settings=sim.settings)

        @app.get("/_simulator/deliveries")
        async def deliveries():
            with sim.lock:
                return JSONResponse([vars(d) | {"answers": list(d.answers)} for d in sim.deliveries])

        @app.get("/_simulator/transactions")
        async def transactions():
            with sim.lock:
                return JSONResponse([{k: v for k, v in vars(t).items() if k not in ("card", "history")}
                                     for t in sim.transactions.values()])

        return app


async def _threaded(fn, *args):
    """Run blocking work (online notifications use blocking HTTP) off the event loop."""
    return await run_in_threadpool(fn, *args)
