"""A leg being matched: its two sides, what is still free, and the matches made so far.

Stages call `pairs()` to get candidate pairs from DuckDB (a hash join on equality keys plus a
time window, over the records' integer positions; the sides' arrays are handed over without
copies), choose among them (`select.one_to_one`), and `add_pairs()` / `add_groups()` the result
with its stage, rule and flags. Flags are bits over `schemas.EXCEPTION_CODES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from lettrage.recon.matching import brands
from lettrage.recon.matching.sides import Side
from lettrage.recon.matching.window_join import same_card_within
from lettrage.recon.schemas import EXCEPTION_CODES

BIT = {code: 1 << i for i, code in enumerate(EXCEPTION_CODES)}
JOIN_PART = 12_000_000  # records (both sides) joined at once, at most about


def pack(*parts: tuple[np.ndarray, int]) -> np.ndarray:
    """Pack small non-negative integers into one int64 key: parts are (values, bits)."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    for values, bits in parts:
        key = (key << bits) | values.astype(np.int64)
    return key


@dataclass
class PairBatch:
    lf: np.ndarray
    r: np.ndarray
    stage: str
    rule: str
    flags: np.ndarray  # int64 bits per pair
    dt: np.ndarray | None = None  # l.ts - r.ts per pair, when the candidate join gave it
    same_amount: bool = False  # the amounts are equal (no amount delta to work out)


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
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.lfree = np.ones(self.left.n, dtype=bool)
        self.rfree = np.ones(self.right.n, dtype=bool)
        self._free: dict[int, np.ndarray] = {}
        self._matched_since: set[int] = set()  # sides some of whose free positions were matched since

    def free(self, side: int, where: np.ndarray | None = None) -> np.ndarray:
        """Positions of the side's records still free (0 left, 1 right), those `where` (a mask over
        the side) holds: the later stages select among a few hundred thousand records, not among
        millions (the free positions are made once, then narrowed as records are matched)."""
        free = self.lfree if side == 0 else self.rfree
        if side not in self._free:
            self._free[side] = np.flatnonzero(free).astype(np.int32)
        elif side in self._matched_since:  # those made before, less the records matched since
            self._free[side] = self._free[side][free[self._free[side]]]
        self._matched_since.discard(side)
        pos = self._free[side]
        return pos if where is None else pos[where[pos]]

    def free_cards(self, keyed: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the free records with a card number (`keyed`: one `Side.card_keys` holds)."""
        lf, r = self.free(0), self.free(1)
        if keyed:
            return lf[self.left.keyed(lf)], r[self.right.keyed(r)]
        return lf[self.left.last4[lf] >= 0], r[self.right.last4[r] >= 0]

    # --- candidates ---------------------------------------------------------------------------

    def pairs(self, conn, lmask: np.ndarray, rmask: np.ndarray, on: str, lo=None, hi=None,
              lcols: dict | None = None, rcols: dict | None = None) -> dict[str, np.ndarray]:
        """Candidate pairs among some records of each side (a mask over the side, or positions),
        joined in DuckDB `on` a SQL condition over aliases l and r, which carry each record's
        position i, ts, hotel h, last 4 c (-1: none), amount a, business date d, brand b, and the
        extra columns `lcols`/`rcols` (arrays over the whole side). `lo`/`hi` (per hotel code) add the window l.ts - r.ts in [lo, hi] of the
        right record's hotel; k is the record's (hotel, last 4, amount) in one number
        (`Side.card_keys`). Returns l, r and dt (l.ts - r.ts).

        Sides are handed to DuckDB without copies when most records are asked for, as a few
        columns when only the leftovers are. "l.k = r.k" within a window (the exact stages) is
        joined by `window_join.same_card_within` instead, without DuckDB."""
        if _empty(lmask) or _empty(rmask):
            return {"l": np.zeros(0, np.int32), "r": np.zeros(0, np.int32), "dt": np.zeros(0, np.int64)}
        # dt in 32 bits when the window bounds it (half the memory of millions of pairs)
        bounded = lo is not None and max(np.abs(np.asarray(lo)).max(), np.abs(np.asarray(hi)).max()) < 2 ** 31
        if on == "l.k = r.k" and bounded and not lcols and not rcols:
            def join(lm, rm):
                return same_card_within(self.left, _positions(lm), self.right, _positions(rm), lo, hi)
        else:
            join = self._duckdb_join(conn, on, lo, hi, bounded, lcols or {}, rcols or {})
        # Millions of records: joined a group of hotels at a time (the condition pairs records of
        # one hotel), so that the join's tables and its result are a fraction of the whole.
        parts = [join(*(m if hotels is None else m & of_hotels(hotels, side.hotel)
                        for m, side in ((lmask, self.left), (rmask, self.right))))
                 for hotels in self.hotel_groups(lmask, rmask, on)]
        result = {name: np.ascontiguousarray(parts[0][name]) if len(parts) == 1
                  else np.concatenate([p[name] for p in parts]) for name in parts[0]}
        del parts
        if self.forbidden and len(result["l"]):
            banned = np.array(sorted(a << 32 | b for a, b in self.forbidden), dtype=np.int64)
            keep = ~np.isin(result["l"].astype(np.int64) << 32 | result["r"].astype(np.int64), banned)
            result = {k: v[keep] for k, v in result.items()}
        return result

    def _duckdb_join(self, conn, on: str, lo, hi, bounded: bool, lcols: dict, rcols: dict):
        """`pairs`' join of some records of each side (masks or positions) in DuckDB."""
        cond = on
        if lo is not None:
            lo_sql, hi_sql = _per_hotel(lo, "lo"), _per_hotel(hi, "hi")
            cond += f" AND l.ts BETWEEN r.ts + {lo_sql} AND r.ts + {hi_sql}"
            rcols = {**rcols, **({"lo": np.asarray(lo)[self.right.hotel]} if lo_sql == "r.lo" else {}),
                     **({"hi": np.asarray(hi)[self.right.hotel]} if hi_sql == "r.hi" else {})}
        select = f"l.i AS l, r.i AS r, (l.ts - r.ts){'::INTEGER' if bounded else ''} AS dt"
        used = set(re.findall(r"\b([lr])\.(\w+)", f"{select} {cond}"))
        lused, rused = ({c for a, c in used if a == side} for side in "lr")

        def join(lm, rm):
            conn.register("_l", _frame(self.left, lm, lcols, lused))
            conn.register("_r", _frame(self.right, rm, rcols, rused))
            try:
                return conn.sql(f"SELECT {select} FROM (SELECT * FROM _l WHERE m) l "
                                f"JOIN (SELECT * FROM _r WHERE m) r ON {cond}").fetchnumpy()
            finally:
                conn.unregister("_l")
                conn.unregister("_r")

        return join

    def hotel_groups(self, lmask: np.ndarray, rmask: np.ndarray, on: str = "l.k = r.k") -> list:
        """Masks over hotel codes splitting a big join of records of the same hotel (`on` pairs
        records of one hotel) into parts of about JOIN_PART of the records asked for each; [None]
        for one join."""
        same_hotel = "l.h = r.h" in on or "l.k = r.k" in on
        if lmask.dtype != bool or rmask.dtype != bool or not same_hotel:
            return [None]
        asked = int(np.count_nonzero(lmask)) + int(np.count_nonzero(rmask))
        if asked <= JOIN_PART:
            return [None]
        # balanced on the sides' records per hotel (made once): the records asked for are most of them
        per_hotel = self.left.per_hotel(len(self.window_s)) + self.right.per_hotel(len(self.window_s))
        group = np.cumsum(per_hotel) * (-(-asked // JOIN_PART)) // (int(per_hotel.sum()) + 1)
        return [group == g for g in np.unique(group)]

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
        return flags.astype(np.int32)

    def add_pairs(self, lf, r, stage: str, rule: str, flags=0, base: np.ndarray | None = None,
                  dt: np.ndarray | None = None) -> int:
        """One-to-one matches with their extra flag bits. `base`: their base flags, for pairs of
        equal amounts (the exact stages); `dt`: their time gaps, when known."""
        lf, r = np.asarray(lf, dtype=np.int32), np.asarray(r, dtype=np.int32)
        if len(lf) == 0:
            return 0
        assert self.lfree[lf].all() and self.rfree[r].all(), "a record is matched twice"
        same_amount = base is not None
        if base is None:
            delta = self.left.amount[lf] - self.right.amount[r]
            base = self.base_flags(lf, r) | np.where(delta != 0, BIT[self.amount_code], 0).astype(np.int32)
        f = base.astype(np.int32) | np.asarray(flags, dtype=np.int32)
        self.lfree[lf] = False
        self.rfree[r] = False
        self._matched_since = {0, 1}
        self.pairs_.append(PairBatch(lf, r, stage, rule, f, dt, same_amount))
        self.counts[f"{stage}:{rule}"] = self.counts.get(f"{stage}:{rule}", 0) + len(lf)
        return len(lf)

    def add_groups(self, groups: list[tuple[list[int], list[int], int]], stage: str, rule: str) -> int:
        """groups: (left members, right members, extra flag bits), for the few made one by one."""
        if not groups:
            return 0
        lg = np.concatenate([np.full(len(ls), g) for g, (ls, _, _) in enumerate(groups)])
        rg = np.concatenate([np.full(len(rs), g) for g, (_, rs, _) in enumerate(groups)])
        lm = np.concatenate([np.asarray(ls, dtype=np.int64) for ls, _, _ in groups])
        rm = np.concatenate([np.asarray(rs, dtype=np.int64) for _, rs, _ in groups])
        extra = np.array([int(x) for _, _, x in groups], dtype=np.int32)
        return self.add_group_arrays(lg, lm, rg, rm, extra, stage, rule)

    def add_group_arrays(self, lg: np.ndarray, lm: np.ndarray, rg: np.ndarray, rm: np.ndarray,
                         extra: np.ndarray, stage: str, rule: str) -> int:
        """k-to-m matches as member arrays: left members `lm` of groups `lg` (0..G-1), right
        members `rm` of groups `rg`, extra flag bits per group."""
        n = len(extra)
        if n == 0:
            return 0
        lm, rm = lm.astype(np.int32), rm.astype(np.int32)
        lg, rg = lg.astype(np.int64), rg.astype(np.int64)
        assert self.lfree[lm].all() and self.rfree[rm].all(), "a record is matched twice"
        assert _distinct(lm) and _distinct(rm), "a record is matched twice"
        L, R = self.left, self.right
        flags = extra.astype(np.int32).copy()
        # a brand on one side that no brand on the other side explains
        clash = np.zeros(n, dtype=np.int64)
        np.bitwise_or.at(clash, lg, brands.CLASHES[L.brand[lm]])
        right_brands = np.zeros(n, dtype=np.int64)
        np.bitwise_or.at(right_brands, rg, np.int64(1) << R.brand[rm].astype(np.int64))
        flags |= np.where(clash & right_brands, BIT["BRAND_MISMATCH"], 0).astype(np.int32)
        if self.name != "tpe_remittance":
            lo = np.full(n, np.iinfo(np.int32).max)
            hi = np.full(n, np.iinfo(np.int32).min)
            for g, d in ((lg, L.bdate[lm]), (rg, R.bdate[rm])):
                np.minimum.at(lo, g, d)
                np.maximum.at(hi, g, d)
            flags |= np.where(lo != hi, BIT["TIMING_DIFFERENCE"], 0).astype(np.int32)
        lsum = np.zeros(n, dtype=np.int64)
        np.add.at(lsum, lg, L.amount[lm])
        rsum = np.zeros(n, dtype=np.int64)
        np.add.at(rsum, rg, R.amount[rm])
        flags |= np.where(lsum != rsum, BIT[self.amount_code], 0).astype(np.int32)
        self.lfree[lm] = False
        self.rfree[rm] = False
        self._matched_since = {0, 1}
        self.groups_.append(GroupBatch(lg, lm, rg, rm, stage, rule, flags))
        self.counts[f"{stage}:{rule}"] = self.counts.get(f"{stage}:{rule}", 0) + n
        return n

    @property
    def amount_code(self) -> str:
        return "REMITTANCE_MISMATCH" if self.name == "tpe_remittance" else "AMOUNT_MISMATCH"



def of_hotels(hotels: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which records (their hotel `codes`) are of `hotels` (a mask over hotel codes): two
    comparisons when those are a run of codes, as `Leg.hotel_groups` makes them, not a lookup
    per record (millions of them)."""
    run = np.flatnonzero(hotels)
    if len(run) and run[-1] - run[0] + 1 == len(run):
        return (codes >= int(run[0])) & (codes <= int(run[-1]))
    return hotels[codes]


def _distinct(nodes: np.ndarray) -> bool:
    """Whether no position is given twice (sorted: numpy's unique hashes, many times slower)."""
    ordered = np.sort(nodes)
    return not (ordered[1:] == ordered[:-1]).any()


def _per_hotel(values, name: str) -> str:
    """A per-hotel bound as SQL: a constant when every hotel has the same, else column r.<name>."""
    values = np.asarray(values)
    return str(int(values[0])) if len(values) and (values == values[0]).all() else f"r.{name}"


def _positions(records: np.ndarray) -> np.ndarray:
    """Positions of records given as a mask or as positions."""
    return np.flatnonzero(records).astype(np.int32) if records.dtype == bool else records


def _empty(records: np.ndarray) -> bool:
    return not records.any() if records.dtype == bool else len(records) == 0


def _frame(side: Side, mask: np.ndarray, cols: dict, used: set[str]) -> pa.Table:
    """Some records of a side (a mask, or positions) as a table for DuckDB, with the columns the
    query `used`: the whole arrays (no copy) with the mask as column m when many records are
    wanted, else only those records."""
    whole = mask.dtype == bool and mask.sum() * 4 > side.n
    idx = None if whole else _positions(mask).astype(np.int32, copy=False)
    base = {"ts": side.ts, "h": side.hotel, "c": side.last4, "a": side.amount, "d": side.bdate, "b": side.brand}
    table = {"i": side.positions() if whole else idx, "m": mask if whole else np.ones(len(idx), dtype=bool)}
    for name in sorted(used - {"i", "m"}):
        if name == "k":
            table[name] = side.card_keys(idx)
        elif name in cols:
            table[name] = cols[name] if whole else _take(cols[name], idx)
        else:
            table[name] = base[name] if whole else base[name][idx]
    return pa.table(table)


def _take(values, idx: np.ndarray):
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.take(pa.array(idx))
    return values[idx]
