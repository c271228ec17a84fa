"""A leg being matched: its two sides, what is still free, and the matches made so far.

Stages call `pairs()` to get candidate pairs from DuckDB (a hash join on equality keys plus a
time window), choose among them (`select.one_to_one`), and `add_pairs()` / `add_groups()` the
result with its stage, rule and flags. Flags are bits over `schemas.EXCEPTION_CODES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from lettrage.recon.matching import brands
from lettrage.recon.matching.sides import Side
from lettrage.recon.schemas import EXCEPTION_CODES

BIT = {code: 1 << i for i, code in enumerate(EXCEPTION_CODES)}
AMOUNT_OFFSET = 1 << 33  # amounts are packed into keys as amount + 2^33 (34 bits)


def pack(*parts: tuple[np.ndarray, int]) -> np.ndarray:
    """Pack small non-negative integers into one int64 key: parts are (values, bits)."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    for values, bits in parts:
        key = (key << bits) | values.astype(np.int64)
    return key


def packable(amount: np.ndarray) -> np.ndarray:
    return np.abs(amount) < AMOUNT_OFFSET - 1


@dataclass
class PairBatch:
    lf: np.ndarray
    r: np.ndarray
    stage: str
    rule: str
    flags: np.ndarray  # int64 bits per pair


@dataclass
class GroupBatch:
    """k-to-m matches: member arrays with the group number (0..) of each member."""

    lg: np.ndarray
    lf: np.ndarray
    rg: np.ndarray
    r: np.ndarray
    stage: str
    rule: str
    flags: np.ndarray  # per group


@dataclass
class Leg:
    name: str
    left: Side
    right: Side
    window_s: np.ndarray  # per hotel code
    tol_cents: np.ndarray
    tol_pct: np.ndarray
    lfree: np.ndarray = None
    rfree: np.ndarray = None
    pairs_: list[PairBatch] = field(default_factory=list)
    groups_: list[GroupBatch] = field(default_factory=list)
    forbidden: set[tuple[int, int]] = field(default_factory=set)
    ambiguous_left: set[int] = field(default_factory=set)
    ambiguous_right: set[int] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.lfree = np.ones(self.left.n, dtype=bool)
        self.rfree = np.ones(self.right.n, dtype=bool)

    # --- candidates ---------------------------------------------------------------------------

    def pairs(self, conn, lmask: np.ndarray, rmask: np.ndarray, lcols: dict, rcols: dict, on: str,
              select: str = "l.i AS l, r.i AS r, l.ts - r.ts AS dt") -> dict[str, np.ndarray]:
        """Candidate pairs among the masked records: `lcols`/`rcols` are extra columns (arrays over
        the whole side) joined `on` a SQL condition over aliases l and r. Columns i and ts are
        always there."""
        li, ri = np.flatnonzero(lmask), np.flatnonzero(rmask)
        if len(li) == 0 or len(ri) == 0:
            return {"l": np.zeros(0, np.int64), "r": np.zeros(0, np.int64), "dt": np.zeros(0, np.int64)}
        lt = pa.table({"i": li, "ts": self.left.ts[li], **{k: _take(v, li) for k, v in lcols.items()}})
        rt = pa.table({"i": ri, "ts": self.right.ts[ri], **{k: _take(v, ri) for k, v in rcols.items()}})
        conn.register("_l", lt)
        conn.register("_r", rt)
        try:
            out = conn.sql(f"SELECT {select} FROM _l l JOIN _r r ON {on}").to_arrow_table()
        finally:
            conn.unregister("_l")
            conn.unregister("_r")
        result = {name: np.ascontiguousarray(out.column(name).to_numpy()) for name in out.column_names}
        if self.forbidden and len(result["l"]):
            keep = np.array([(a, b) not in self.forbidden for a, b in
                             zip(result["l"].tolist(), result["r"].tolist(), strict=True)], dtype=bool)
            result = {k: v[keep] for k, v in result.items()}
        return result

    def time_cost(self, dt: np.ndarray, lf: np.ndarray, skew_factor: float) -> np.ndarray:
        """How unlikely a time gap is: a posting normally follows the ticket; one before it
        (clock skew) costs more; the cost grows faster than the gap so that, among identical
        charges, the assignment that keeps their order wins."""
        w = self.window_s[self.left.hotel[lf]].astype(np.float64)
        a = np.where(dt >= 0, dt, -dt * skew_factor).astype(np.float64)
        return a + a * a / (2.0 * np.maximum(w, 60.0))

    # --- results ------------------------------------------------------------------------------

    def base_flags(self, lf: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Flags any match carries: a brand not explained by co-badging, records on different
        business dates (each day's écart shows its share)."""
        flags = np.where(brands.compatible(self.left.brand[lf], self.right.brand[r]), 0, BIT["BRAND_MISMATCH"])
        if self.name != "tpe_remittance":
            flags = flags | np.where(self.left.bdate[lf] != self.right.bdate[r], BIT["TIMING_DIFFERENCE"], 0)
        return flags.astype(np.int64)

    def add_pairs(self, lf, r, stage: str, rule: str, flags=0) -> int:
        lf, r = np.asarray(lf, dtype=np.int64), np.asarray(r, dtype=np.int64)
        if len(lf) == 0:
            return 0
        assert self.lfree[lf].all() and self.rfree[r].all(), "a record is matched twice"
        f = self.base_flags(lf, r) | np.asarray(flags, dtype=np.int64)
        delta = self.left.amount[lf] - self.right.amount[r]
        f = f | np.where(delta != 0, BIT[self.amount_code], 0)
        self.lfree[lf] = False
        self.rfree[r] = False
        self.pairs_.append(PairBatch(lf, r, stage, rule, f.astype(np.int64)))
        self.counts[f"{stage}:{rule}"] = self.counts.get(f"{stage}:{rule}", 0) + len(lf)
        return len(lf)

    def add_groups(self, groups: list[tuple[list[int], list[int], int]], stage: str, rule: str) -> int:
        """groups: (left members, right members, extra flag bits)."""
        if not groups:
            return 0
        lg, lm, rg, rm, fl = [], [], [], [], []
        for g, (ls, rs, extra) in enumerate(groups):
            assert self.lfree[ls].all() and self.rfree[rs].all(), "a record is matched twice"
            self.lfree[ls] = False
            self.rfree[rs] = False
            lg += [g] * len(ls)
            lm += list(ls)
            rg += [g] * len(rs)
            rm += list(rs)
            ls_a, rs_a = np.asarray(ls), np.asarray(rs)
            f = int(extra)
            lb, rb = self.left.brand[ls_a], self.right.brand[rs_a]
            if not brands.compatible(lb[:, None], rb[None, :]).all():
                f |= BIT["BRAND_MISMATCH"]
            if self.name != "tpe_remittance" and len(set(self.left.bdate[ls_a]) | set(self.right.bdate[rs_a])) > 1:
                f |= BIT["TIMING_DIFFERENCE"]
            if int(self.left.amount[ls_a].sum()) != int(self.right.amount[rs_a].sum()):
                f |= BIT[self.amount_code]
            fl.append(f)
        self.groups_.append(GroupBatch(np.array(lg), np.array(lm, dtype=np.int64), np.array(rg),
                                       np.array(rm, dtype=np.int64), stage, rule, np.array(fl, dtype=np.int64)))
        self.counts[f"{stage}:{rule}"] = self.counts.get(f"{stage}:{rule}", 0) + len(groups)
        return len(groups)

    @property
    def amount_code(self) -> str:
        return "REMITTANCE_MISMATCH" if self.name == "tpe_remittance" else "AMOUNT_MISMATCH"

    def matched_left(self) -> np.ndarray:
        return ~self.lfree

    def matched_right(self) -> np.ndarray:
        return ~self.rfree


def _take(values, idx: np.ndarray):
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.take(pa.array(idx))
    return values[idx]
