"""The money of a hotel's days: what the desk terminals, the PMS and the PSP record.

Check-out payments at the desk terminals peak between 07:00 and 11:00; room rates repeat, so
amounts repeat. Check-ins bring pre-authorisations and deposit transfers; walk-in guests pay small
common amounts; some payments are refunded, voided and re-keyed, split over several tickets, or
one ticket pays several folios. Deposits are paid by payment link at the PSP (the confirmation
number is the PSP order reference) and posted by the night auditor on the PSP code.

Records are built per hotel, vectorised with numpy, in an internal form: local naive times and
integer keys per record kind; `canonical.py` turns them into the canonical tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd

from lettrage.recon.generate import guests
from lettrage.recon.generate.clock import HOUR, at, business_day, day_end, latest_second
from lettrage.recon.generate.group import HotelProfile
from lettrage.recon.generate.truth import Truth

PMS_COLUMNS = ["key", "at", "role", "amount_cents", "card_last4", "room", "folio_no", "folio_window",
               "reservation_id", "confirmation_no", "guest_name", "cashier", "reference"]
TPE_COLUMNS = ["key", "at", "terminal", "txn_type", "amount_cents", "card_brand", "card_last4", "entry_mode",
               "auth_code", "dcc_amount_cents", "dcc_currency", "collected"]
PSP_COLUMNS = ["key", "at", "order_id", "payid", "operation", "status", "status_code", "amount_cents",
               "card_brand", "card_last4", "auth_code"]

TERMINAL_ROLE = {"VISA": "visa", "MASTERCARD": "mastercard", "AMEX": "amex", "JCB": "jcb", "DINERS": "diners",
                 "UNIONPAY": "unionpay", "MAESTRO": "maestro", "CB": "cb"}
DISTANCE_ROLE = {"VISA": "visa_vad", "MASTERCARD": "mastercard_vad", "AMEX": "amex_vad", "CB": "cb_vad"}
CARD_ROLES = set(TERMINAL_ROLE.values()) | set(DISTANCE_ROLE.values())
# Units of the money a walk-in guest pays at the desk (breakfast, parking, a drink, city tax...).
WALK_IN_AMOUNTS = np.array([600, 850, 1200, 1500, 1800, 2500, 3000, 4500, 6000])
MINIBAR_AMOUNTS = np.array([600, 850, 1200, 1500, 2400, 3200])
# Foreign card currencies offered dynamic currency conversion, and rough rates per EUR.
CARD_CURRENCY = {"fr": "EUR", "de": "EUR", "es": "EUR", "it": "EUR", "nl": "EUR", "en": "USD", "zh": "CNY"}
PER_EUR = {"EUR": 1.0, "USD": 1.08, "GBP": .85, "CNY": 7.8, "SGD": 1.45, "AED": 3.97}
STATUS_CODES = {"paid": "9", "authorised": "5", "refused": "2", "cancelled": "1", "refunded": "8"}


def digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """n random codes of `width` digits (authorisation codes, last 4 of virtual cards)."""
    return guests.padded(rng.integers(0, 10 ** width, size=n), width)


class Activity:
    """One hotel's records over the window, built event family by event family."""

    def __init__(self, profile: HotelProfile, rng: np.random.Generator, start: dt.date, days: int):
        self.profile, self.hotel, self.rng = profile, profile.hotel, rng
        self.first = np.datetime64(start, "D")
        self.end = self.first + np.timedelta64(days, "D")
        self.days = days
        self.truth = Truth()
        self._next = defaultdict(int)
        self.parts: dict[str, list[pd.DataFrame]] = {"pms": [], "tpe": [], "psp": []}
        self.preauthorised: set[int] = set()
        self.desk_sales: list[pd.DataFrame] = []  # one-to-one terminal sales: candidates for refunds and voids
        self.unpaid = pd.DataFrame()  # deposit links never paid
        self.folio_no = int(rng.integers(10_000, 90_000))
        self.payid = 3_000_000_000 + profile.index * 20_000_000 + int(rng.integers(0, 1_000_000))
        scale = profile.location.base_rate / 169
        self.walk_in_amounts = (np.round(WALK_IN_AMOUNTS * scale / 50) * 50).astype(np.int64)
        self.breakfast = int(round(profile.location.base_rate * .12)) * 100
        self.parking = int(round(profile.location.base_rate * .15)) * 100
        shifts = ["morning", "evening", "night"]
        self.shift_members = [np.array([i for i, c in enumerate(profile.cashiers) if c.shift == s]) for s in shifts]

    # --- helpers -----------------------------------------------------------------------------

    def keys(self, record: str, n: int) -> np.ndarray:
        start = self._next[record]
        self._next[record] += n
        return np.arange(start, start + n, dtype=np.int64)

    def payids(self, n: int) -> np.ndarray:
        out = self.payid + np.arange(n, dtype=np.int64) * 7 + self.rng.integers(0, 7, size=n)
        self.payid += 7 * n
        return out

    def in_window(self, local: np.ndarray) -> np.ndarray:
        day = business_day(self.hotel, local)
        return (day >= self.first) & (day < self.end)

    def cashiers(self, local: np.ndarray) -> np.ndarray:
        local = np.asarray(local, dtype="datetime64[s]")
        secs = (local - local.astype("datetime64[D]")).astype(np.int64)
        shift = np.where((secs >= 6.5 * HOUR) & (secs < 14.5 * HOUR), 0,
                         np.where((secs >= 14.5 * HOUR) & (secs < 22.5 * HOUR), 1, 2))
        out = np.empty(len(local), dtype=np.int64)
        for s, members in enumerate(self.shift_members):
            sel = shift == s
            out[sel] = members[self.rng.integers(len(members), size=int(sel.sum()))]
        return out

    def terminal_of(self, cashier: np.ndarray) -> np.ndarray:
        return cashier % len(self.profile.terminals)

    def lags(self, n: int) -> np.ndarray:
        """Seconds from the terminal ticket to the PMS posting: a few minutes, sometimes before,
        always inside the hotel's match window."""
        cap = min(self.hotel.match_window_minutes * 60 - 300, 40 * 60)
        after = np.minimum(self.rng.exponential(150, size=n) + 20, cap)
        before = -self.rng.uniform(10, 100, size=n)
        return np.where(self.rng.random(n) < .12, before, after).astype(np.int64)

    def roles(self, brand: np.ndarray, network: np.ndarray, channel: str) -> np.ndarray:
        """The PMS payment code the cashier picks for a card: a CB card goes on the Visa or
        Mastercard code (its network), on some desks on the CB code."""
        if channel == "distance":
            return np.array([DISTANCE_ROLE.get(b, DISTANCE_ROLE.get(nw, "visa_vad"))
                             for b, nw in zip(brand, network, strict=True)], dtype=object)
        on_cb_code = self.rng.random(len(brand)) < .25
        return np.array([("cb" if cb_code else TERMINAL_ROLE[nw]) if b == "CB" else TERMINAL_ROLE[b]
                         for b, nw, cb_code in zip(brand, network, on_cb_code, strict=True)], dtype=object)

    def entry_modes(self, n: int) -> np.ndarray:
        return np.array(["contactless", "chip", "swipe"], dtype=object)[
            self.rng.choice(3, size=n, p=[.55, .41, .04])]

    def dcc(self, amount: np.ndarray, languages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dynamic currency conversion for some foreign cards: the guest paid in their currency."""
        home = self.hotel.currency
        # (no yen: its minor unit is the yen, which the journals' decimal amounts cannot say)
        currency = np.array([CARD_CURRENCY.get(lang, home) for lang in languages], dtype=object)
        offered = (currency != home) & (self.rng.random(len(amount)) < .12) & (amount > 0)
        rate = np.array([PER_EUR[c] / PER_EUR.get(home, 1.0) * 1.035 for c in currency])
        converted = np.round(amount * rate).astype(np.int64)
        amount = pd.array(np.where(offered, converted, 0), dtype="Int64")
        amount[~offered] = pd.NA
        return amount, np.where(offered, currency, None)

    def add(self, record: str, columns: dict) -> None:
        self.parts[record].append(pd.DataFrame(columns))

    def pms(self, keys, when, role, amount, last4=None, room=None, folio=None, window=1, resv=None,
            conf=None, guest=None, cashier=None, reference=None) -> None:
        """Postings; `window` is the folio window (None for the deposit ledger)."""
        n = len(keys)
        none = np.full(n, None, dtype=object)
        self.add("pms", {
            "key": keys, "at": np.asarray(when, dtype="datetime64[s]"), "role": role,
            "amount_cents": np.asarray(amount, dtype=np.int64), "card_last4": none if last4 is None else last4,
            "room": none if room is None else room, "folio_no": none if folio is None else folio,
            "folio_window": pd.array(np.full(n, window if window is not None else pd.NA, dtype=object),
                                     dtype="Int64"),
            "reservation_id": none if resv is None else resv, "confirmation_no": none if conf is None else conf,
            "guest_name": none if guest is None else guest,
            "cashier": self.cashiers(when) if cashier is None else cashier,
            "reference": none if reference is None else reference})

    def tpe(self, keys, when, terminal, txn_type, amount, brand, last4, entry_mode, collected=True,
            dcc=None) -> None:
        n = len(keys)
        dcc_amount, dcc_currency = dcc if dcc is not None else (pd.array(np.full(n, None), dtype="Int64"),
                                                                 np.full(n, None, dtype=object))
        refund = np.asarray(txn_type) == "refund"
        self.add("tpe", {
            "key": keys, "at": np.asarray(when, dtype="datetime64[s]"), "terminal": terminal,
            "txn_type": txn_type, "amount_cents": np.asarray(amount, dtype=np.int64), "card_brand": brand,
            "card_last4": last4, "entry_mode": entry_mode,
            "auth_code": np.where(refund, None, digits(self.rng, n, 6)),
            "dcc_amount_cents": dcc_amount, "dcc_currency": dcc_currency,
            "collected": np.broadcast_to(collected, n).copy()})

    def psp(self, keys, when, order_id, payid, operation, status, amount, brand, last4) -> None:
        n = len(keys)
        status = np.broadcast_to(np.asarray(status, dtype=object), n)
        with_auth = np.isin(status, ["paid", "authorised"])
        self.add("psp", {
            "key": keys, "at": np.asarray(when, dtype="datetime64[s]"), "order_id": order_id, "payid": payid,
            "operation": operation, "status": status,
            "status_code": np.array([STATUS_CODES[s] for s in status], dtype=object),
            "amount_cents": np.asarray(amount, dtype=np.int64), "card_brand": brand, "card_last4": last4,
            "auth_code": np.where(with_auth, digits(self.rng, n, 6), None)})

    def clamp(self, local: np.ndarray, margin_s: int, anchor: np.ndarray | None = None) -> np.ndarray:
        """Keep times at least `margin_s` before the night audit closes their business date (or
        the business date of `anchor`: a posting stays on the day of the payment it records)."""
        latest = day_end(self.hotel, local if anchor is None else anchor) - np.timedelta64(margin_s, "s")
        return np.minimum(np.asarray(local, dtype="datetime64[s]"), latest)

    # --- event families ----------------------------------------------------------------------

    def check_ins(self, book: pd.DataFrame) -> None:
        """Deposit transfers (deposit ledger to guest folio: not money) and pre-authorisations."""
        ci = book[self.in_window(book["checkin_at"].to_numpy()) & book["cancel_at"].isna() & ~book["no_show"]]
        when = ci["checkin_at"].to_numpy().astype("datetime64[s]")
        paid = ci["pay_at"].notna().to_numpy() & (ci["pay_at"].to_numpy() < when)
        t = ci[paid]
        tw = when[paid] + self.rng.integers(60, 300, size=len(t)).astype("timedelta64[s]")
        self.pms(self.keys("pms", len(t)), tw, np.full(len(t), "deposit_transfer", dtype=object),
                 t["deposit_due_cents"].to_numpy(), room=t["room"].to_numpy(), resv=t["resv_no"].astype(str).to_numpy(),
                 conf=t["confirmation_no"].to_numpy(), guest=_guest_names(t))
        pre = ci[ci["rate_code"].isin(["FLEX", "DEP"]).to_numpy() & ~paid & (self.rng.random(len(ci)) < .3)]
        pw = pre["checkin_at"].to_numpy().astype("datetime64[s]") + \
            self.rng.integers(60, 240, size=len(pre)).astype("timedelta64[s]")
        amount = (np.minimum(pre["nights"].to_numpy(), 3) * pre["rate_cents"].to_numpy()).astype(np.int64)
        self.tpe(self.keys("tpe", len(pre)), pw, self.terminal_of(self.cashiers(pw)),
                 np.full(len(pre), "preauth", dtype=object), amount, pre["card_brand"].to_numpy(),
                 pre["card_last4"].to_numpy(), self.entry_modes(len(pre)), collected=False)
        self.preauthorised = set(pre["resv_no"].tolist())

    def check_outs(self, book: pd.DataFrame) -> None:
        """The folio settled at check-out: card at the desk terminal (sometimes split over several
        tickets, or one ticket for several folios), cash, city ledger, or the OTA's virtual card
        keyed in as a distance sale."""
        rng = self.rng
        departing = book["departure"].to_numpy()
        co = book[(departing >= self.first) & (departing < self.end) & book["cancel_at"].isna().to_numpy()
                  & ~book["no_show"].to_numpy()].sort_values("checkout_at", kind="stable")
        n = len(co)
        adults, nights = co["adults"].to_numpy(), co["nights"].to_numpy()
        extras = (np.where(rng.random(n) < .35, adults * nights * self.breakfast, 0)
                  + np.where(rng.random(n) < .15, rng.choice(MINIBAR_AMOUNTS, size=n), 0)
                  + np.where(rng.random(n) < .10, nights * self.parking, 0))
        when = co["checkout_at"].to_numpy().astype("datetime64[s]")
        paid = np.where(co["pay_at"].notna().to_numpy() & (co["pay_at"].to_numpy() < when),
                        co["deposit_due_cents"].to_numpy(), 0)
        balance = (co["total_cents"].to_numpy() + extras - paid).astype(np.int64)
        plan = co["rate_code"].to_numpy()
        method = np.select([plan == "CORP", plan == "OTA", balance <= 0, rng.random(n) < .06],
                           ["city_ledger", "vad", "none", "cash"], "card").astype(object)
        cashier = self.cashiers(when)
        terminal = self.terminal_of(cashier)
        folio = (self.folio_no + np.arange(n)).astype(str).astype(object)
        self.folio_no += n
        room, resv = co["room"].to_numpy(), co["resv_no"].astype(str).to_numpy()
        conf, guest = co["confirmation_no"].to_numpy(), _guest_names(co)
        languages = co["language"].to_numpy()
        # the card: the guest's own, sometimes another one
        brand, network = co["card_brand"].to_numpy().copy(), co["card_network"].to_numpy().copy()
        last4 = co["card_last4"].to_numpy().copy()
        other = rng.random(n) < .15
        fresh = guests.draw_cards(rng, languages, self.profile.french)
        brand[other], network[other], last4[other] = (fresh[c].to_numpy()[other] for c in ("brand", "network",
                                                                                           "last4"))
        txn_type = np.array(["completion" if (r in self.preauthorised and not o) else "sale"
                             for r, o in zip(co["resv_no"], other, strict=True)], dtype=object)
        common = dict(room=room, folio=folio, resv=resv, conf=conf, guest=guest)

        def sub(mask, values):
            return {k: v[mask] for k, v in values.items()}

        for kind, role in (("cash", "cash"), ("city_ledger", "city_ledger")):
            m = method == kind
            self.pms(self.keys("pms", int(m.sum())), when[m] + 120, np.full(int(m.sum()), role, dtype=object),
                     balance[m], cashier=cashier[m], **sub(m, common))
        # distance sale: the OTA's virtual card, keyed in on the terminal
        m = method == "vad"
        k = int(m.sum())
        vbrand = np.where(rng.random(k) < .6, "VISA", "MASTERCARD").astype(object)
        vlast4 = digits(rng, k, 4)
        tk, pk = self.keys("tpe", k), self.keys("pms", k)
        self.tpe(tk, when[m], terminal[m], np.full(k, "sale", dtype=object), balance[m], vbrand, vlast4,
                 np.full(k, "manual", dtype=object))
        self.pms(pk, when[m] + self.lags(k), self.roles(vbrand, vbrand, "distance"), balance[m], last4=vlast4,
                 cashier=cashier[m], **sub(m, common))
        self.truth.add("pms_tpe", "one_to_one", [("pms", pk)], [("tpe", tk)])
        # card at the desk terminal
        card = np.flatnonzero(method == "card")
        # Splits and shared tickets are rare, but each hotel's window shows at least one of each.
        large = card[balance[card] >= 10_000]
        split = large[rng.random(len(large)) < .015]
        if not len(split) and len(large):
            split = large[[int(rng.integers(len(large)))]]
        rest = np.setdiff1d(card, split)
        merged_into = {}  # secondary -> primary: one ticket paid several folios
        candidates = rest[rng.random(len(rest)) < .01]
        if not len(candidates) and len(rest) > 1:
            candidates = rest[[int(rng.integers(len(rest) - 1))]]
        used = set()
        for i in candidates:
            if i in used:
                continue
            later = rest[(rest > i) & (business_day(self.hotel, when[rest]) == business_day(self.hotel, when[i]))]
            later = [j for j in later if j not in used and j not in candidates]
            if later:
                merged_into[later[0]] = i
                used.update((i, later[0]))
        secondary = np.array(sorted(merged_into), dtype=np.int64)
        primary = np.array([merged_into[s] for s in secondary], dtype=np.int64)
        single = np.setdiff1d(rest, secondary)
        # the secondary folios are paid with the primary's card at the primary's time
        for arr in (brand, network, last4):
            arr[secondary] = arr[primary]
        when = when.copy()
        when[secondary] = when[primary]
        cashier[secondary], terminal[secondary] = cashier[primary], terminal[primary]
        ticket_amount = balance.copy()
        np.add.at(ticket_amount, primary, balance[secondary])
        tk = self.keys("tpe", len(single))
        dcc = self.dcc(ticket_amount[single], languages[single])
        self.tpe(tk, when[single], terminal[single], txn_type[single], ticket_amount[single], brand[single],
                 last4[single], self.entry_modes(len(single)), dcc=dcc)
        ticket_of = dict(zip(single.tolist(), tk.tolist(), strict=True))
        # split tender: the folio paid in two or three goes on the same card
        parts_of = np.where(rng.random(len(split)) < .8, 2, 3)
        split_tickets = {}
        for i, parts in zip(split, parts_of, strict=True):
            amounts = _split_amount(rng, balance[i], parts)
            gaps = np.cumsum(rng.integers(40, 150, size=parts)) - 40
            keys = self.keys("tpe", parts)
            self.tpe(keys, when[i] + gaps.astype("timedelta64[s]"), np.full(parts, terminal[i]),
                     np.full(parts, "sale", dtype=object), amounts, np.full(parts, brand[i], dtype=object),
                     np.full(parts, last4[i], dtype=object), self.entry_modes(parts))
            split_tickets[i] = keys
            when[i] = when[i] + np.timedelta64(int(gaps[-1]), "s")
        posted = when + self.lags(n).astype("timedelta64[s]")
        posted[secondary] = posted[primary] + rng.integers(20, 90, size=len(secondary)).astype("timedelta64[s]")
        roles = self.roles(brand, network, "terminal")
        roles[secondary] = roles[primary]
        pay = np.concatenate([single, split, secondary]).astype(np.int64)
        pk = self.keys("pms", len(pay))
        posting_of = dict(zip(pay.tolist(), pk.tolist(), strict=True))
        self.pms(pk, posted[pay], roles[pay], balance[pay], last4=last4[pay], cashier=cashier[pay],
                 **sub(pay, common))
        alone = np.array([i for i in single if i not in merged_into.values()], dtype=np.int64)
        self.truth.add("pms_tpe", "one_to_one", [("pms", [posting_of[i] for i in alone])],
                       [("tpe", [ticket_of[i] for i in alone])])
        for parts in (2, 3):
            sel = [i for i in split if len(split_tickets[i]) == parts]
            self.truth.add("pms_tpe", "one_to_many", [("pms", [posting_of[i] for i in sel])],
                           [("tpe", [split_tickets[i][p] for i in sel]) for p in range(parts)])
        self.truth.add("pms_tpe", "many_to_one", [("pms", [posting_of[p] for p in primary]),
                                                  ("pms", [posting_of[s] for s in secondary])],
                       [("tpe", [ticket_of[p] for p in primary])])
        self.desk_sales.append(pd.DataFrame({
            "pms": [posting_of[i] for i in alone], "tpe": [ticket_of[i] for i in alone],
            "at": when[alone], "amount": balance[alone], "brand": brand[alone], "last4": last4[alone],
            "role": roles[alone], "terminal": terminal[alone], "txn_type": txn_type[alone]}))

    def walk_ins(self) -> None:
        """Non-resident guests paying small common amounts at the desk (breakfast, parking...)."""
        rng = self.rng
        per_day = rng.poisson(self.profile.rooms / 45 + 1, size=self.days)
        day = np.repeat(self.first + np.arange(self.days).astype("timedelta64[D]"), per_day)
        n = len(day)
        seconds = rng.integers(7 * HOUR, 22 * HOUR, size=n)
        # a few after midnight, before the night audit: they belong to the previous business date
        latest = latest_second(self.hotel)
        if latest > 24 * HOUR + 900:
            night = rng.random(n) < .05
            seconds[night] = rng.integers(24 * HOUR, latest, size=int(night.sum()))
        when = at(day, seconds)
        amount = rng.choice(self.walk_in_amounts, size=n)
        languages = guests.draw_languages(rng, self.profile.location.guests, n)
        cards = guests.draw_cards(rng, languages, self.profile.french)
        cashier = self.cashiers(when)
        terminal = self.terminal_of(cashier)
        tk, pk = self.keys("tpe", n), self.keys("pms", n)
        brand, network, last4 = (cards[c].to_numpy() for c in ("brand", "network", "last4"))
        self.tpe(tk, when, terminal, np.full(n, "sale", dtype=object), amount, brand, last4, self.entry_modes(n),
                 dcc=self.dcc(amount, languages))
        roles = self.roles(brand, network, "terminal")
        label = "Client de passage" if self.profile.location.language == "fr" else "Walk-in guest"
        self.pms(pk, when + self.lags(n).astype("timedelta64[s]"), roles, amount, last4=last4,
                 folio=np.full(n, "PM", dtype=object), guest=np.full(n, label, dtype=object), cashier=cashier)
        self.truth.add("pms_tpe", "one_to_one", [("pms", pk)], [("tpe", tk)])
        self.desk_sales.append(pd.DataFrame({"pms": pk, "tpe": tk, "at": when, "amount": amount, "brand": brand,
                                             "last4": last4, "role": roles, "terminal": terminal,
                                             "txn_type": "sale"}))

    def refunds_and_voids(self) -> None:
        """Refunds of earlier payments on the same card (posted negative on the same code), and
        tickets keyed with a wrong amount, voided at once and keyed again (never posted)."""
        rng = self.rng
        sales = pd.concat(self.desk_sales, ignore_index=True).sort_values("tpe", kind="stable")
        sales = sales[sales["txn_type"] == "sale"]
        refunded = sales[rng.random(len(sales)) < .015]
        n = len(refunded)
        orig = refunded["at"].to_numpy().astype("datetime64[s]")
        same_day = orig + rng.integers(20 * 60, 3 * HOUR, size=n).astype("timedelta64[s]")
        next_day = at(business_day(self.hotel, orig) + np.timedelta64(1, "D"), rng.integers(9 * HOUR, 20 * HOUR, n))
        late = day_end(self.hotel, orig) - np.timedelta64(45 * 60, "s")
        when = np.where(same_day < late, same_day, next_day)
        ok = self.in_window(when)
        refunded, when = refunded[ok], when[ok]
        n = len(refunded)
        amount = refunded["amount"].to_numpy()
        part = np.maximum((amount * rng.uniform(.1, .5, size=n) // 100) * 100, 100)
        back = -np.where(rng.random(n) < .3, amount, np.minimum(part, amount)).astype(np.int64)
        cashier = self.cashiers(when)
        tk, pk = self.keys("tpe", n), self.keys("pms", n)
        self.tpe(tk, when, self.terminal_of(cashier), np.full(n, "refund", dtype=object), back,
                 refunded["brand"].to_numpy(), refunded["last4"].to_numpy(), self.entry_modes(n))
        self.pms(pk, when + self.lags(n).astype("timedelta64[s]"), refunded["role"].to_numpy(), back,
                 last4=refunded["last4"].to_numpy(), cashier=cashier)
        self.truth.add("pms_tpe", "one_to_one", [("pms", pk)], [("tpe", tk)])
        voided = sales[rng.random(len(sales)) < .005]
        n = len(voided)
        orig = voided["at"].to_numpy().astype("datetime64[s]")
        wrong = voided["amount"].to_numpy() + rng.integers(1, 40, size=n) * 100
        brand, last4, terminal = (voided[c].to_numpy() for c in ("brand", "last4", "terminal"))
        mode = self.entry_modes(n)
        self.tpe(self.keys("tpe", n), orig - rng.integers(100, 200, size=n).astype("timedelta64[s]"), terminal,
                 np.full(n, "sale", dtype=object), wrong, brand, last4, mode, collected=False)
        self.tpe(self.keys("tpe", n), orig - rng.integers(20, 60, size=n).astype("timedelta64[s]"), terminal,
                 np.full(n, "cancel", dtype=object), -wrong, brand, last4, mode, collected=False)

    def payment_links(self, book: pd.DataFrame) -> None:
        """Deposits and guarantees asked by payment link, as the PSP journal and the PMS show them."""
        rng = self.rng
        paid_at = book["pay_at"].to_numpy().astype("datetime64[s]")
        has = ~np.isnat(paid_at)
        paid_at[has] = self.clamp(paid_at[has], 3600)
        dep = book[has & self.in_window(np.where(has, paid_at, np.datetime64(0, "s")))]
        when = paid_at[dep.index.to_numpy()]
        n = len(dep)
        orders = dep["confirmation_no"].to_numpy()
        brand, last4 = dep["card_brand"].to_numpy(), dep["card_last4"].to_numpy()
        refused = dep["refused_first"].to_numpy()
        rk = self.keys("psp", int(refused.sum()))
        self.psp(rk, when[refused] - rng.integers(120, 1200, size=len(rk)).astype("timedelta64[s]"),
                 orders[refused], self.payids(len(rk)), "sale", "refused", dep["deposit_due_cents"].to_numpy()[refused],
                 brand[refused], last4[refused])
        sk, pk = self.keys("psp", n), self.keys("pms", n)
        payids = self.payids(n)
        self.psp(sk, when, orders, payids, "sale", "paid", dep["deposit_due_cents"].to_numpy(), brand, last4)
        posted = self.clamp(when + rng.integers(15 * 60, 4 * HOUR, size=n).astype("timedelta64[s]"), 600, when)
        self.pms(pk, posted, np.full(n, "psp", dtype=object), dep["deposit_due_cents"].to_numpy(),
                 resv=dep["resv_no"].astype(str).to_numpy(), conf=orders, guest=_guest_names(dep), window=None,
                 reference=orders)
        self.truth.add("pms_psp", "one_to_one", [("pms", pk)], [("psp", sk)])
        payid_of = dict(zip(dep["resv_no"].tolist(), payids.tolist(), strict=True))
        # card guarantees: a pre-authorisation, not money, never posted
        g_at = book["guarantee_at"].to_numpy().astype("datetime64[s]")
        g = book[book["guarantee_link"].to_numpy() & self.in_window(g_at)]
        k = len(g)
        self.psp(self.keys("psp", k), self.clamp(g_at[g.index.to_numpy()], 1800), g["confirmation_no"].to_numpy(),
                 self.payids(k), "authorisation", np.where(rng.random(k) < .85, "authorised", "refused"),
                 g["rate_cents"].to_numpy(), g["card_brand"].to_numpy(), g["card_last4"].to_numpy())
        # links never paid: some guests open the page and give up
        created = book["created_at"].to_numpy().astype("datetime64[s]")
        unpaid = book[(book["deposit_due_cents"].to_numpy() > 0) & ~has & self.in_window(created)
                      & book["cancel_at"].isna().to_numpy()]
        self.unpaid = unpaid
        gave_up = unpaid[rng.random(len(unpaid)) < .5]
        k = len(gave_up)
        self.psp(self.keys("psp", k),
                 self.clamp(created[gave_up.index.to_numpy()] + rng.integers(600, 3 * HOUR, size=k).astype(
                     "timedelta64[s]"), 1800),
                 gave_up["confirmation_no"].to_numpy(), self.payids(k), "sale", "cancelled",
                 gave_up["deposit_due_cents"].to_numpy(), np.full(k, None, dtype=object),
                 np.full(k, None, dtype=object))
        # refundable deposits of cancelled bookings are refunded at the PSP and posted negative
        cancel_at = book["cancel_at"].to_numpy().astype("datetime64[s]")
        back = book[has & ~np.isnat(cancel_at) & (paid_at < cancel_at) & ~book["non_refundable"].to_numpy()
                    & self.in_window(np.where(np.isnat(cancel_at), np.datetime64(0, "s"), cancel_at))]
        k = len(back)
        when = self.clamp(cancel_at[back.index.to_numpy()], 3600)
        payids = np.array([payid_of.get(r, 0) for r in back["resv_no"]], dtype=np.int64)
        payids = np.where(payids == 0, self.payids(k) - 5_000_000, payids)  # paid before the window
        sk, pk = self.keys("psp", k), self.keys("pms", k)
        amount = -back["deposit_due_cents"].to_numpy()
        self.psp(sk, when, back["confirmation_no"].to_numpy(), payids, "refund", "refunded", amount,
                 back["card_brand"].to_numpy(), back["card_last4"].to_numpy())
        self.pms(pk, self.clamp(when + rng.integers(600, 3 * HOUR, size=k).astype("timedelta64[s]"), 600, when),
                 np.full(k, "psp", dtype=object), amount, resv=back["resv_no"].astype(str).to_numpy(),
                 conf=back["confirmation_no"].to_numpy(), guest=_guest_names(back), window=None,
                 reference=back["confirmation_no"].to_numpy())
        self.truth.add("pms_psp", "one_to_one", [("pms", pk)], [("psp", sk)])

    def frames(self) -> dict[str, pd.DataFrame]:
        columns = {"pms": PMS_COLUMNS, "tpe": TPE_COLUMNS, "psp": PSP_COLUMNS}
        out = {}
        for record, parts in self.parts.items():
            parts = [p for p in parts if len(p)]
            frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns[record])
            out[record] = frame[columns[record]]
        return out


def _guest_names(rows: pd.DataFrame) -> np.ndarray:
    return (rows["last_name"].str.upper() + " " + rows["first_name"]).to_numpy()


def _split_amount(rng: np.random.Generator, total: int, parts: int) -> np.ndarray:
    """Unequal parts in whole currency units that add up to the total."""
    while True:
        cuts = np.sort(rng.choice(np.arange(1, total // 100), size=parts - 1, replace=False)) * 100
        amounts = np.diff(np.concatenate([[0], cuts, [total]]))
        if len(set(amounts.tolist())) == parts and amounts.min() >= 1000:
            return amounts.astype(np.int64)


def simulate(profile: HotelProfile, book: pd.DataFrame, rng: np.random.Generator, start: dt.date,
             days: int) -> Activity:
    act = Activity(profile, rng, start, days)
    act.check_ins(book)
    act.check_outs(book)
    act.walk_ins()
    act.refunds_and_voids()
    act.payment_links(book)
    return act
