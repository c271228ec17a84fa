"""The mistakes and gaps a finance team finds, one per exception code of DOMAIN.md, injected at
realistic low rates into a hotel's records, each written down in the truth.

Rates are per eligible record (a card sale matched one to one, a paid PSP payment) or per
business date. So that every code shows up even in a small group, a code that drew no case in
the hotel assigned to it (code number modulo the number of hotels) is given one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lettrage.recon.generate import guests
from lettrage.recon.generate.activity import CARD_ROLES, Activity
from lettrage.recon.generate.clock import EARLIEST, HOUR, at, business_day, latest_second

PER_SALE = {  # share of the card sales matched one to one
    "LATE_POSTING": .010, "MISSING_IN_PMS": .006, "MISSING_IN_TPE": .005, "DUPLICATE_TPE": .002,
    "DUPLICATE_PMS": .003, "AMOUNT_MISMATCH": .004, "BRAND_MISMATCH": .004, "PAN_MISMATCH": .005,
    "NOT_REMITTED": .002, "REMITTANCE_MISMATCH": .002,
}
PER_PAYMENT = {"PSP_NOT_POSTED": .03}  # share of the paid PSP payments
PER_DAY = {"REFUND_UNMATCHED": .03, "SPLIT_AMBIGUOUS": .02, "POSTED_WITHOUT_PSP": .02}
VISA_FAMILY = {"CB", "VISA", "MASTERCARD", "MAESTRO"}


# The codes of DOMAIN.md injected here; TIMING_DIFFERENCE (matched across business dates) follows
# from a late posting that crosses the night audit and is written down with it.
INJECTED = ["MISSING_IN_TPE", "MISSING_IN_PMS", "AMOUNT_MISMATCH", "BRAND_MISMATCH", "PAN_MISMATCH", "LATE_POSTING",
            "DUPLICATE_TPE", "DUPLICATE_PMS", "REFUND_UNMATCHED", "SPLIT_AMBIGUOUS", "NOT_REMITTED",
            "REMITTANCE_MISMATCH", "PSP_NOT_POSTED", "POSTED_WITHOUT_PSP"]


def forced_codes(index: int, hotels: int) -> set[str]:
    return {code for i, code in enumerate(INJECTED) if i % hotels == index}


def keyed_wrong(last4: str, rng: np.random.Generator) -> str:
    """A keying error on the last 4 digits: two neighbours swapped, or one digit mistyped."""
    digits = list(last4)
    pairs = [i for i in range(3) if digits[i] != digits[i + 1]]
    if pairs and rng.random() < .5:
        i = pairs[int(rng.integers(len(pairs)))]
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    else:
        i = int(rng.integers(4))
        digits[i] = str((int(digits[i]) + int(rng.integers(1, 10))) % 10)
    return "".join(digits)


class Injector:
    """Applies the anomalies to one hotel's records (frames indexed by key) and notes each one."""

    def __init__(self, act: Activity, frames: dict[str, pd.DataFrame], forced: set[str]):
        self.act, self.rng, self.truth, self.forced = act, act.rng, act.truth, forced
        self.pms = frames["pms"].set_index("key", drop=False)
        self.tpe = frames["tpe"].set_index("key", drop=False)
        self.psp = frames["psp"]
        self.tpe["remit_delta"] = 0
        # Drops and additions are applied once at the end: frames are not copied per anomaly.
        self.dropped: dict[str, set[int]] = {"pms": set(), "tpe": set()}
        self.added: dict[str, list[pd.DataFrame]] = {"pms": [], "tpe": []}

    def count(self, code: str, eligible: int, rate: float) -> int:
        n = int(self.rng.binomial(eligible, rate)) if eligible else 0
        return 1 if n == 0 and code in self.forced else n

    def _append(self, record: str, rows: pd.DataFrame) -> None:
        self.added[record].append(rows)

    def card_sales(self) -> pd.DataFrame:
        """pms_tpe one-to-one groups of a card sale on a terminal code, in a random order."""
        g = self.truth.groups
        g = g[(g["leg"] == "pms_tpe") & (g["kind"] == "one_to_one")]
        pairs = g.pivot(index="group", columns="record", values="key").dropna().astype(np.int64)
        pairs = pairs.reset_index()
        tpe = self.tpe.loc[pairs["tpe"]]
        pms = self.pms.loc[pairs["pms"]]
        ok = (tpe["txn_type"].isin(["sale", "completion"]).to_numpy() & (tpe["amount_cents"].to_numpy() > 0)
              & pms["role"].isin(CARD_ROLES).to_numpy())
        pairs = pairs[ok]
        return pairs.iloc[self.rng.permutation(len(pairs))].reset_index(drop=True)

    def sales(self) -> None:
        sales = self.card_sales()
        taken = 0
        for code, rate in PER_SALE.items():
            n = min(self.count(code, len(sales), rate), len(sales) - taken)
            for _, row in sales.iloc[taken:taken + n].iterrows():
                getattr(self, code.lower())(int(row["group"]), int(row["pms"]), int(row["tpe"]))
            taken += n

    # --- one card sale at a time --------------------------------------------------------------

    def late_posting(self, group, p, t):
        window = self.act.hotel.match_window_minutes * 60
        delay = window + int(self.rng.integers(10 * 60, 18 * HOUR))
        # posted late, but still within the delivered window
        taken = self.tpe.at[t, "at"]
        window_closes = self.act.end.astype("datetime64[s]") + np.timedelta64(
            int(self.act.hotel.audit_offset.total_seconds()), "s")
        room = int((window_closes - taken.to_datetime64().astype("datetime64[s]")).astype(np.int64)) - 3600
        delay = max(min(delay, room), window + 300)
        posted = taken + np.timedelta64(delay, "s")
        self.pms.at[p, "at"] = posted
        self.truth.anomaly("LATE_POSTING", "pms", p, [("tpe", t)], f"posted {delay // 60} minutes after the ticket")
        if business_day(self.act.hotel, posted) != business_day(self.act.hotel, taken):
            self.truth.anomaly("TIMING_DIFFERENCE", "pms", p, [("tpe", t)],
                               "posted after the night audit, on the next business date")

    def missing_in_pms(self, group, p, t):
        self.dropped["pms"].add(p)
        self.truth.drop_groups([group])
        self.truth.anomaly("MISSING_IN_PMS", "tpe", t, [], "the ticket was never posted on a folio")

    def missing_in_tpe(self, group, p, t):
        self.dropped["tpe"].add(t)
        self.truth.drop_groups([group])
        self.truth.anomaly("MISSING_IN_TPE", "pms", p, [], "posted on a terminal code, no terminal ticket")

    def duplicate_tpe(self, group, p, t):
        row = self.tpe.loc[[t]].copy()
        row["key"] = self.act.keys("tpe", 1)
        row["at"] = row["at"] + np.timedelta64(int(self.rng.integers(30, 240)), "s")
        row["auth_code"] = guests.padded(self.rng.integers(0, 10**6, size=1), 6)
        self._append("tpe", row)
        self.truth.anomaly("DUPLICATE_TPE", "tpe", int(row["key"].iloc[0]), [("tpe", t)],
                           "the same card charged the same amount again minutes later")

    def duplicate_pms(self, group, p, t):
        row = self.pms.loc[[p]].copy()
        row["key"] = self.act.keys("pms", 1)
        row["at"] = row["at"] + np.timedelta64(int(self.rng.integers(60, 900)), "s")
        self._append("pms", row)
        self.truth.anomaly("DUPLICATE_PMS", "pms", int(row["key"].iloc[0]), [("pms", p), ("tpe", t)],
                           "the payment posted twice")

    def amount_mismatch(self, group, p, t):
        tolerance = max(self.act.hotel.amount_tolerance_cents, 2)
        amount = int(self.pms.at[p, "amount_cents"])
        delta = int(self.rng.integers(1, tolerance))
        delta = -delta if (self.rng.random() < .5 and amount > delta) else delta
        self.pms.at[p, "amount_cents"] = amount + delta
        self.truth.anomaly("AMOUNT_MISMATCH", "pms", p, [("tpe", t)], f"posted {delta:+d} cents off the ticket")

    def brand_mismatch(self, group, p, t):
        brand = self.tpe.at[t, "card_brand"]
        role = "amex" if brand in VISA_FAMILY else "visa"
        self.pms.at[p, "role"] = role
        self.truth.anomaly("BRAND_MISMATCH", "pms", p, [("tpe", t)],
                           f"a {brand} ticket posted on the {role} code")

    def pan_mismatch(self, group, p, t):
        right = self.pms.at[p, "card_last4"]
        wrong = keyed_wrong(right, self.rng)
        self.pms.at[p, "card_last4"] = wrong
        self.truth.anomaly("PAN_MISMATCH", "pms", p, [("tpe", t)], f"last 4 keyed {wrong} instead of {right}")

    def not_remitted(self, group, p, t):
        self.tpe.at[t, "collected"] = False
        self.truth.anomaly("NOT_REMITTED", "tpe", t, [], "the ticket never reached the acquirer")

    def remittance_mismatch(self, group, p, t):
        # recorded by the settlement, which knows the line
        self.tpe.at[t, "remit_delta"] = int(self.rng.choice([-1, 1]) * self.rng.integers(1, 2000))

    # --- PSP ---------------------------------------------------------------------------------------

    def psp_not_posted(self) -> None:
        g = self.truth.groups
        g = g[g["leg"] == "pms_psp"]
        pairs = g.pivot(index="group", columns="record", values="key").dropna().astype(np.int64).reset_index()
        amounts = self.psp.set_index("key").loc[pairs["psp"], "amount_cents"].to_numpy()
        pairs = pairs[amounts > 0]
        n = min(self.count("PSP_NOT_POSTED", len(pairs), PER_PAYMENT["PSP_NOT_POSTED"]), len(pairs))
        for _, row in pairs.iloc[self.rng.permutation(len(pairs))[:n]].iterrows():
            self.dropped["pms"].add(int(row["pms"]))
            self.truth.drop_groups([int(row["group"])])
            self.truth.anomaly("PSP_NOT_POSTED", "psp", int(row["psp"]), [], "paid online, never posted in the PMS")

    # --- per business date -------------------------------------------------------------------------

    def day_times(self, n: int) -> np.ndarray:
        days = self.act.first + self.rng.integers(0, self.act.days, size=n).astype("timedelta64[D]")
        latest = min(latest_second(self.act.hotel), 22 * HOUR)
        return at(days, self.rng.integers(EARLIEST + HOUR, latest, size=n))

    def per_day(self) -> None:
        act = self.act
        for code, rate in PER_DAY.items():
            n = self.count(code, act.days, rate)
            if n:
                getattr(self, code.lower())(self.day_times(n))

    def _fresh_cards(self, n: int) -> pd.DataFrame:
        languages = guests.draw_languages(self.rng, self.act.profile.location.guests, n)
        return guests.draw_cards(self.rng, languages, self.act.profile.french)

    def _adopt(self, record: str, before: int) -> None:
        """Move the rows the activity just built into the injector's frames."""
        for part in self.act.parts[record][before:]:
            self._append(record, part.assign(remit_delta=0) if record == "tpe" else part)
        del self.act.parts[record][before:]

    def _tickets(self, keys, when, txn_type, amounts, cards) -> None:
        act, n, before = self.act, len(keys), len(self.act.parts["tpe"])
        act.tpe(keys, when, act.terminal_of(act.cashiers(when)), np.full(n, txn_type, dtype=object), amounts,
                cards["brand"].to_numpy(), cards["last4"].to_numpy(), act.entry_modes(n))
        self._adopt("tpe", before)

    def _postings(self, keys, posted, amounts, cards, **posting) -> None:
        act, before = self.act, len(self.act.parts["pms"])
        act.pms(keys, posted, act.roles(cards["brand"].to_numpy(), cards["network"].to_numpy(), "terminal"),
                amounts, last4=cards["last4"].to_numpy(), **posting)
        self._adopt("pms", before)

    def refund_unmatched(self, when: np.ndarray) -> None:
        n = len(when)
        amounts = -self.rng.choice(self.act.walk_in_amounts, size=n)
        tk, pk = self.act.keys("tpe", n), self.act.keys("pms", n)
        cards = self._fresh_cards(n)
        self._tickets(tk, when, "refund", amounts, cards)
        self._postings(pk, when + self.act.lags(n).astype("timedelta64[s]"), amounts, cards)
        self.truth.add("pms_tpe", "one_to_one", [("pms", pk)], [("tpe", tk)])
        for t in tk:
            self.truth.anomaly("REFUND_UNMATCHED", "tpe", t, [], "a refund to a card that never paid here")

    def split_ambiguous(self, when: np.ndarray) -> None:
        """One guest settles two folios of the same amount, each in two goes on the same card:
        the four tickets pair up two ways."""
        for w in when:
            total = int(self.rng.integers(200, 600)) * 100
            a, b = (total * 40 // 10_000) * 100, (total * 45 // 10_000) * 100
            amounts = np.array([a, b, total - a, total - b], dtype=np.int64)
            tickets_at = w + (np.array([0, 70, 140, 210]) + self.rng.integers(0, 30, size=4)).astype("timedelta64[s]")
            cards = pd.concat([self._fresh_cards(1)] * 4, ignore_index=True)
            tk, pk = self.act.keys("tpe", 4), self.act.keys("pms", 2)
            self._tickets(tk, tickets_at, "sale", amounts, cards)
            posted = tickets_at[-1] + np.array([90, 120]).astype("timedelta64[s]")
            rooms = np.array(self.rng.choice(["101", "102", "201", "202", "305", "306"], size=2, replace=False),
                             dtype=object)
            self._postings(pk, posted, np.array([total, total]), cards.iloc[:2], room=rooms)
            self.truth.add("pms_tpe", "one_to_many", [("pms", pk[:1])], [("tpe", tk[[0]]), ("tpe", tk[[2]])])
            self.truth.add("pms_tpe", "one_to_many", [("pms", pk[1:])], [("tpe", tk[[1]]), ("tpe", tk[[3]])])
            related = [("tpe", int(k)) for k in tk]
            for mine, other in ((pk[0], pk[1]), (pk[1], pk[0])):
                self.truth.anomaly("SPLIT_AMBIGUOUS", "pms", mine, [("pms", int(other))] + related,
                                   "two folios of the same amount, four tickets that pair up two ways")

    def posted_without_psp(self, when: np.ndarray) -> None:
        unpaid = self.act.unpaid
        n = len(when)
        keys = self.act.keys("pms", n)
        for i, (k, w) in enumerate(zip(keys, when, strict=True)):
            if len(unpaid):
                r = unpaid.iloc[int(self.rng.integers(len(unpaid)))]
                ref, resv, amount = r["confirmation_no"], str(r["resv_no"]), int(r["deposit_due_cents"])
                guest = f"{r['last_name'].upper()} {r['first_name']}"
            else:
                ref, resv, amount, guest = str(int(self.rng.integers(10**7, 10**8))), None, 15_000, None
            before = len(self.act.parts["pms"])
            self.act.pms(keys[i:i + 1], np.array([w]), np.array(["psp"], dtype=object), [amount],
                         resv=np.array([resv], dtype=object), conf=np.array([ref], dtype=object),
                         guest=np.array([guest], dtype=object), window=None, reference=np.array([ref], dtype=object))
            self._adopt("pms", before)
            self.truth.anomaly("POSTED_WITHOUT_PSP", "pms", k, [], f"deposit posted for order {ref}, never paid")

    def frames(self) -> dict[str, pd.DataFrame]:
        out = {"psp": self.psp}
        for record in ("pms", "tpe"):
            frame = getattr(self, record).reset_index(drop=True)
            frame = frame[~frame["key"].isin(self.dropped[record])]
            added = [a for a in self.added[record] if len(a)]
            out[record] = pd.concat([frame, *added], ignore_index=True) if added else frame
        return out


def inject(act: Activity, frames: dict[str, pd.DataFrame], forced: set[str]) -> dict[str, pd.DataFrame]:
    """The hotel's records with anomalies injected (and written down in `act.truth`)."""
    inj = Injector(act, frames, forced)
    inj.sales()
    inj.psp_not_posted()
    inj.per_day()
    return inj.frames()
