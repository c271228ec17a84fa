"""The daily summary: per hotel, business date and card family, the PMS, terminal, PSP and
remitted totals, the écart (PMS minus money taken), matched postings, open exceptions and what
people resolved.

The records' money is summed as soon as the matches are final (`money_grid`, millions of records),
beside the classification of what is left; the exceptions' part is added once they are made
(`DailyGrid.table`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lettrage.recon.matching import output
from lettrage.recon.matching.brands import FAMILIES
from lettrage.recon.matching.legs import Leg

COLUMNS = ["pms_cents", "tpe_cents", "psp_cents", "remitted_cents", "resolved_cents"]
# which sums a leg's side adds to: PMS, terminal, PSP, remitted (4: resolved exceptions)
KINDS = {("pms_tpe", 0): 0, ("pms_tpe", 1): 1, ("pms_psp", 0): 0, ("pms_psp", 1): 2, ("tpe_remittance", 1): 3}


def money_grid(legs: list[Leg], families: list[tuple[np.ndarray, np.ndarray]], hotels: list[str]) -> DailyGrid:
    """The legs' records summed per cell (their card family: `families`, per leg and side)."""
    parts = []
    for leg, (fl, fr) in zip(legs, families, strict=True):
        for side, s, fam, matched in ((0, leg.left, fl, ~leg.lfree), (1, leg.right, fr, ~leg.rfree)):
            if (leg.name, side) in KINDS and s.n:
                parts.append((KINDS[(leg.name, side)], s.hotel, s.bdate, fam, s.amount, matched))
    return DailyGrid(parts, hotels)


class DailyGrid:
    """Sums over a (hotel-day, family) grid of parts (kind, hotel, business date, family, amount,
    flag): kinds 0-3 add PMS, terminal, PSP and remitted money (flag: a matched PMS record,
    counted), kind 4 adds resolved exceptions' money (flag: an open exception, counted). The
    cells are the records' hotel-days: every exception lies on one of them."""

    def __init__(self, parts, hotels: list[str]):
        self.hotels = hotels
        parts = [p for p in parts if len(p[1])]
        n_fam = len(FAMILIES)
        if parts:
            self.d0 = min(int(p[2].min()) for p in parts)
            self.days = max(int(p[2].max()) for p in parts) - self.d0 + 1
        else:
            self.d0 = self.days = 1
        # cells (hotel, day, family) numbered over the whole grid when it is small, as it is for a
        # group's year; else over the hotel-days that occur
        self.dense = len(hotels) * self.days * n_fam < 1 << 26
        if self.dense:
            self.present = np.ones(len(hotels) * self.days, dtype=bool)
            self.number = np.arange(len(hotels) * self.days, dtype=np.int32) * n_fam
        else:
            self.present = np.zeros(len(hotels) * self.days, dtype=bool)
            for _, hotel, bdate, *_ in parts:
                self.present[hotel.astype(np.int64) * self.days + bdate - self.d0] = True
            self.number = ((np.cumsum(self.present) - 1) * n_fam).astype(np.int64)
        self.cells = int(self.present.sum()) * n_fam
        self.sums = np.zeros((len(COLUMNS), self.cells), dtype=np.int64)
        self.counts = np.zeros((2, self.cells), dtype=np.int64)  # matched PMS records, open exceptions
        self.seen = np.zeros(self.cells, dtype=bool)
        for part in parts:
            self._add(*part)

    def _add(self, kind, hotel, bdate, fam, amount, flag) -> None:
        n_fam = len(FAMILIES)
        if self.dense:  # in place: two arrays of millions of records, not a temporary an operation
            cell = np.multiply(hotel, self.days * n_fam, dtype=np.int32)
            day = np.subtract(bdate, self.d0, dtype=np.int32)
            day *= n_fam
            cell += day
            del day
        else:
            day = hotel.astype(np.int64) * self.days + bdate - self.d0
            assert self.present[day].all(), "an exception on a day no record lies on"
            cell = self.number[day]
        cell += fam.astype(cell.dtype, copy=False)
        np.add.at(self.sums[kind], cell, amount)
        every = np.bincount(cell, minlength=self.cells)
        self.seen |= every > 0
        if kind in (0, 4):  # counted: those flagged, most of them (all but the few not)
            self.counts[kind // 4] += every - np.bincount(cell[~flag], minlength=self.cells)

    def table(self, ledger: output.Ledger, resolved: np.ndarray) -> pa.Table:
        """The summary, with the ledger's exceptions (`resolved`: which of them people resolved)."""
        x = ledger.exception_arrays()
        if len(x["hotel"]):
            assert ((x["bdate"] >= self.d0) & (x["bdate"] < self.d0 + self.days)).all(), \
                "an exception on a day no record lies on"
            money_leg = np.isin(x["leg"], [output.LEGS.index("pms_tpe"), output.LEGS.index("pms_psp")])
            self._add(4, x["hotel"], x["bdate"], x["family"], np.where(resolved & money_leg, x["amount"], 0),
                      ~resolved)
        n_fam = len(FAMILIES)
        keep = np.flatnonzero(self.seen)
        hotel_day = np.flatnonzero(self.present)[keep // n_fam]
        fam = keep % n_fam
        order = np.lexsort((np.argsort(np.argsort(FAMILIES))[fam], hotel_day))  # hotel, date, family name
        keep, hotel_day, fam = keep[order], hotel_day[order], fam[order]
        pms, tpe, psp, remitted, resolved_cents = (self.sums[k][keep] for k in range(len(COLUMNS)))
        return pa.table({
            "hotel_id": pa.array(self.hotels, pa.string()).take(pa.array(hotel_day // self.days)),
            "business_date": pa.array((hotel_day % self.days + self.d0).astype(np.int32)).cast(pa.date32()),
            "card_brand": pa.array(FAMILIES, pa.string()).take(pa.array(fam)),
            "pms_cents": pms, "tpe_cents": tpe, "psp_cents": psp, "remitted_cents": remitted,
            "ecart_cents": pms - tpe - psp, "matched_count": self.counts[0][keep],
            "exception_count": self.counts[1][keep], "resolved_cents": resolved_cents,
        })
