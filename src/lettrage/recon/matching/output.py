"""The engine's three outputs, as Arrow tables in the columns of DOMAIN.md (`schemas`).

card_matches: one row per (match, record); the match is named after its lowest left record id.
exceptions: one row per unmatched record (its code), and for a match that needs a look, one row
per flag on the record the flag is about (the posting for AMOUNT/BRAND/PAN_MISMATCH and
LATE_POSTING, the ticket for REFUND_UNMATCHED, the remittance line for REMITTANCE_MISMATCH).

Amounts of exceptions are signed so that, per hotel, business date and card family, the open
exceptions of the money legs add up to the écart (PMS card total minus money taken):
an unmatched posting counts +amount, an unmatched ticket or PSP payment -amount, a match its
PMS-minus-taken difference, split by day and family when its records lie on different ones.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lettrage.recon.matching.brands import FAMILIES, FAMILY_OF
from lettrage.recon.matching.legs import BIT, GroupBatch, Leg, PairBatch
from lettrage.recon.schemas import EXCEPTION_CODES

LEGS = ["pms_tpe", "tpe_remittance", "pms_psp"]
SIDES = ["left", "right"]
STAGES = ["reference", "exact", "split", "tolerant", "manual"]
# Which code a flagged match reports first (its amount carries the match's difference).
PRIORITY = ["AMOUNT_MISMATCH", "REMITTANCE_MISMATCH", "BRAND_MISMATCH", "PAN_MISMATCH", "LATE_POSTING",
            "SPLIT_AMBIGUOUS", "REFUND_UNMATCHED", "TIMING_DIFFERENCE"]
RIGHT_SUBJECT = {"REFUND_UNMATCHED", "REMITTANCE_MISMATCH"}
DETAIL = {
    "MISSING_IN_TPE": "card posting with no terminal ticket",
    "MISSING_IN_PMS": "terminal ticket never posted on a folio",
    "AMOUNT_MISMATCH": "matched, the amounts differ",
    "BRAND_MISMATCH": "matched, the PMS code's brand is not the card's",
    "PAN_MISMATCH": "matched on amount and time, the last 4 digits differ",
    "LATE_POSTING": "matched, posted after the hotel's window or on another business date",
    "DUPLICATE_TPE": "the same card charged the same amount again minutes later",
    "DUPLICATE_PMS": "the same payment posted twice",
    "REFUND_UNMATCHED": "a refund to a card that made no payment here",
    "SPLIT_AMBIGUOUS": "several ways to split this amount; the likeliest was taken, please confirm",
    "NOT_REMITTED": "terminal ticket missing from the acquirer's remittances",
    "REMITTANCE_MISMATCH": "remitted amount differs from the terminal tickets it covers",
    "PSP_NOT_POSTED": "paid online, never posted in the PMS",
    "POSTED_WITHOUT_PSP": "posted on the PSP code, no PSP payment",
    "TIMING_DIFFERENCE": "matched, but taken and posted on different business dates",
}
CODE_INDEX = {c: i for i, c in enumerate(EXCEPTION_CODES)}


def _flag_lists(bits: np.ndarray) -> pa.Array:
    """int bitmask per row -> list<string> of the codes, built from the few rows that have any."""
    bits = np.asarray(bits)
    nz = np.flatnonzero(bits)
    if len(nz) == 0:
        return _no_flags(len(bits))
    on = ((bits[nz, None] >> np.arange(len(EXCEPTION_CODES), dtype=bits.dtype)) & 1).astype(bool)
    offsets = np.zeros(len(bits) + 1, dtype=np.int32)
    offsets[nz + 1] = on.sum(axis=1)
    np.cumsum(offsets, out=offsets)
    values = pa.array(EXCEPTION_CODES, pa.string()).take(pa.array(np.nonzero(on)[1]))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=MATCHES_SCHEMA.field("flags").type)


def _match_columns(dts, delta, flags: np.ndarray) -> dict[str, pa.Array]:
    """card_matches' columns about the match (time gap, amount difference, flags), per row."""
    return {"time_delta_s": pa.array(np.asarray(dts, dtype=np.int64)),
            "amount_delta_cents": pa.array(np.asarray(delta, dtype=np.int64)), "flags": _flag_lists(flags)}


@lru_cache(maxsize=8)
def _no_flags(n: int) -> pa.Array:
    """n empty flag lists (made once per size: slices are mostly full)."""
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string()),
                                    type=MATCHES_SCHEMA.field("flags").type)


def _dict(values: list[str], codes) -> pa.DictionaryArray:
    """Codes into `values` (all in range: not checked again); `codes` may be one pa.Array."""
    indices = codes if isinstance(codes, pa.Array) else pa.array(np.asarray(codes, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()), safe=False)


@lru_cache(maxsize=64)
def _same(n: int, code: int) -> pa.Array:
    """n times the same code, as an Arrow array (made once per size and code: slices are mostly full)."""
    return pa.array(np.full(n, code, dtype=np.int32))


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32)).cast(pa.date32())


def _in_left_order(lf: np.ndarray, n_left: int) -> np.ndarray:
    """Positions that put a batch's pairs in left-record order (a counting sort): the rows do not
    depend on the order the candidates came back in."""
    pos = np.full(n_left, -1, dtype=np.int32)
    pos[lf] = np.arange(len(lf), dtype=np.int32)
    return pos[pos >= 0]


ROWS_PER_BATCH = 1 << 19
# card_matches has no empty cell: its columns are required (parquet then writes no null markers,
# a third less work for millions of rows).
_KEY = pa.dictionary(pa.int32(), pa.string())
MATCHES_SCHEMA = pa.schema([pa.field(name, kind, nullable=False) for name, kind in [
    ("match_id", pa.string()), ("hotel_id", _KEY), ("business_date", pa.date32()), ("leg", _KEY), ("side", _KEY),
    ("record_id", pa.string()), ("stage", _KEY), ("rule", _KEY), ("time_delta_s", pa.int64()),
    ("amount_delta_cents", pa.int64()), ("flags", pa.list_(pa.field("element", pa.string(), nullable=False)))]])


class Ledger:
    """Collects the legs' matches and exceptions. card_matches rows are made slice by slice when
    asked for (millions of rows need not sit in memory at once), and can be read while the engine
    still works: a match batch is handed over (`add_pairs`, `add_groups`) as soon as its flags
    are final, `close()` ends the stream. Exceptions are made at the end (`add_exceptions`)."""

    def __init__(self, hotels: list[str] | None = None):
        self.hotels = hotels or []
        self.parts: list[tuple] = []
        self.x: dict[str, list] = defaultdict(list)
        self.rows = 0
        self.left_by_stage: dict[str, int] = defaultdict(int)
        self._ready = threading.Condition()
        self._closed = False
        self._failed: BaseException | None = None

    # --- card_matches -------------------------------------------------------------------------

    def add_pairs(self, leg: Leg, b: PairBatch, before=None) -> None:
        """A batch of one-to-one matches, kept in left-record order (the rows then do not depend on
        the order the candidates came back in); its flags are final, or `before(b)` makes them
        so once the batch is in that order."""
        if len(b.lf) > 1 and not (b.lf[1:] > b.lf[:-1]).all():  # the exact stage's come in that order
            order = _in_left_order(b.lf, leg.left.n)  # in place: the batch is not kept twice
            b.lf, b.r, b.flags = b.lf[order], b.r[order], b.flags[order]
            if b.dt is not None:
                b.dt = b.dt[order]
        if before is not None:
            before(b)
        self._add((leg, b, None), 2 * len(b.lf), f"{leg.name}:{b.stage}", len(b.lf))

    def add_groups(self, leg: Leg, g: GroupBatch) -> None:
        self._add((leg, g, self._group_names(leg, g)), len(g.lf) + len(g.r), f"{leg.name}:{g.stage}", len(g.lf))

    def _add(self, part, rows: int, stage: str, left: int) -> None:
        with self._ready:
            self.parts.append(part)
            self.rows += rows
            self.left_by_stage[stage] += left
            self._ready.notify_all()

    def close(self, failed: BaseException | None = None) -> None:
        """No more parts (the first call counts); `failed`: the run broke, readers stop with it."""
        with self._ready:
            if not self._closed:
                self._closed = True
                self._failed = failed
            self._ready.notify_all()

    def add_exceptions(self, leg: Leg, lcode: np.ndarray, rcode: np.ndarray, family_l: np.ndarray,
                       family_r: np.ndarray) -> None:
        """The leg's exceptions: flagged matches and unmatched records (lcode/rcode: exception code
        index per record, -1 for none)."""
        L, R = leg.left, leg.right
        for part_leg, part, names in list(self.parts):
            if part_leg is not leg:
                continue
            if isinstance(part, PairBatch):
                self._pair_exceptions(leg, part.lf, part.r, part.flags, family_l, family_r)
            else:
                self._group_exceptions(leg, part, names, family_l, family_r)
        for side, codes, fam in ((0, lcode, family_l), (1, rcode, family_r)):
            idx = np.flatnonzero(codes >= 0)
            s = L if side == 0 else R
            sign = 1 if side == 0 else -1
            self._exc(leg, codes[idx], side, idx, s.ids.take(pa.array(idx)), s.hotel[idx], s.bdate[idx],
                      fam[idx], sign * s.amount[idx], None)

    @staticmethod
    def _group_names(leg: Leg, g: GroupBatch) -> pa.Array:
        """Each group's name: its lowest left record id."""
        from lettrage.recon.matching.select import id_ranks

        order = np.lexsort((id_ranks(leg.left.ids, g.lf), g.lg))
        first = np.ones(len(order), dtype=bool)
        first[1:] = g.lg[order][1:] != g.lg[order][:-1]
        return leg.left.ids.take(pa.array(g.lf[order[first]]))

    def batches(self):
        """card_matches, a table of at most ROWS_PER_BATCH rows at a time, in a fixed order: per leg,
        each stage's batch of pairs (left records in their order, then their partners), then the
        groups. Waits for parts still to come until `close()`."""
        k = 0
        while True:
            with self._ready:
                while k >= len(self.parts) and not self._closed:
                    self._ready.wait()
                if self._failed is not None:
                    raise RuntimeError("the matching run failed") from self._failed
                if k >= len(self.parts):
                    return
                leg, part, names = self.parts[k]
            k += 1
            if isinstance(part, PairBatch):
                for a in range(0, len(part.lf), ROWS_PER_BATCH):
                    lf, r = part.lf[a:a + ROWS_PER_BATCH], part.r[a:a + ROWS_PER_BATCH]
                    flags = part.flags[a:a + ROWS_PER_BATCH]
                    ids = leg.left.ids.take(pa.array(lf))
                    dts = part.dt[a:a + ROWS_PER_BATCH] if part.dt is not None else leg.left.ts[lf] - leg.right.ts[r]
                    delta = (np.zeros(len(lf), np.int64) if part.same_amount
                             else leg.left.amount[lf] - leg.right.amount[r])
                    shared = _match_columns(dts, delta, flags)  # made once for both sides' rows
                    yield self._table(leg, 0, lf, ids, part.stage, part.rule, shared, ids)
                    yield self._table(leg, 1, r, ids, part.stage, part.rule, shared)
            else:
                yield from self._group_tables(leg, part, names)

    def _group_tables(self, leg: Leg, g: GroupBatch, names: pa.Array):
        L, R = leg.left, leg.right
        n = len(g.flags)
        lsum = np.zeros(n, dtype=np.int64)
        rsum = np.zeros(n, dtype=np.int64)
        np.add.at(lsum, g.lg, L.amount[g.lf])
        np.add.at(rsum, g.rg, R.amount[g.r])
        lmax = np.full(n, np.iinfo(np.int64).min)
        rmin = np.full(n, np.iinfo(np.int64).max)
        np.maximum.at(lmax, g.lg, L.ts[g.lf])
        np.minimum.at(rmin, g.rg, R.ts[g.r])
        dts, delta = lmax - rmin, lsum - rsum
        for side, grp, idx in ((0, g.lg, g.lf), (1, g.rg, g.r)):
            yield self._table(leg, side, idx, names.take(pa.array(grp)), g.stage, g.rule,
                              _match_columns(dts[grp], delta[grp], g.flags[grp]))

    def _table(self, leg: Leg, side: int, idx: np.ndarray, match_id: pa.Array, stage: str, rule: str,
               shared: dict[str, pa.Array], record_id: pa.Array | None = None) -> pa.Table:
        s = leg.left if side == 0 else leg.right
        n = len(idx)
        return pa.Table.from_pydict({
            "match_id": _plain(match_id),
            "hotel_id": _dict(self.hotels, s.hotel[idx]),
            "business_date": _dates(s.bdate[idx]),
            "leg": _dict(LEGS, _same(n, LEGS.index(leg.name))),
            "side": _dict(SIDES, _same(n, side)),
            "record_id": _plain(record_id if record_id is not None else s.ids.take(pa.array(idx))),
            "stage": _dict(STAGES, _same(n, STAGES.index(stage))),
            "rule": _dict([rule], _same(n, 0)),  # a slice has one rule
            **shared,
        }, schema=MATCHES_SCHEMA)

    # --- exceptions ---------------------------------------------------------------------------

    def _pair_exceptions(self, leg: Leg, lf, r, flags, family_l, family_r):
        L, R = leg.left, leg.right
        k = np.flatnonzero(flags)
        if len(k) == 0:
            return
        lf, r, flags = lf[k], r[k], flags[k]
        mids = L.ids.take(pa.array(lf))
        same = (L.bdate[lf] == R.bdate[r]) & (family_l[lf] == family_r[r]) & (L.hotel[lf] == R.hotel[r])
        # Vectorised for the usual case: one bucket, the difference on the subject record.
        for code in PRIORITY:
            has = (flags & BIT[code]) != 0
            if not has.any():
                continue
            primary = has & ~_any_before(flags, code)
            right = code in RIGHT_SUBJECT
            subj = r if right else lf
            s = R if right else L
            fam = family_r if right else family_l
            sel = np.flatnonzero(has & (same | ~primary))
            amount = np.where(primary[sel], L.amount[lf[sel]] - R.amount[r[sel]], 0)
            self._exc(leg, np.full(len(sel), CODE_INDEX[code]), 1 if right else 0, subj[sel],
                      s.ids.take(pa.array(subj[sel])), s.hotel[subj[sel]], s.bdate[subj[sel]], fam[subj[sel]],
                      amount, mids.take(pa.array(sel)))
            # Records on two days or families: each side's bucket gets its own share.
            two = np.flatnonzero(has & ~same & primary)
            if len(two):
                for bucket_side in (0, 1):
                    b_idx = lf[two] if bucket_side == 0 else r[two]
                    bs = L if bucket_side == 0 else R
                    bfam = family_l if bucket_side == 0 else family_r
                    share = L.amount[lf[two]] if bucket_side == 0 else -R.amount[r[two]]
                    self._exc(leg, np.full(len(two), CODE_INDEX[code]), 1 if right else 0, subj[two],
                              s.ids.take(pa.array(subj[two])), bs.hotel[b_idx], bs.bdate[b_idx], bfam[b_idx],
                              share, mids.take(pa.array(two)), suffix=bucket_side != (1 if right else 0))

    def _group_exceptions(self, leg: Leg, g: GroupBatch, names: pa.Array, family_l, family_r):
        """Flagged k-to-m matches: one row per code on its subject record (the first member of the
        side the code is about). The first code carries the match's difference, bucket by bucket
        (hotel, business date, card family) when the members lie in several."""
        L, R = leg.left, leg.right
        flagged = np.flatnonzero(g.flags)
        if len(flagged) == 0:
            return
        lsel, rsel = np.isin(g.lg, flagged), np.isin(g.rg, flagged)
        lm, rm = g.lf[lsel], g.r[rsel]
        # bucket sums: (group, hotel, business date, family) -> signed amount
        key = np.concatenate([_bucket(g.lg[lsel], L.hotel[lm], L.bdate[lm], family_l[lm]),
                              _bucket(g.rg[rsel], R.hotel[rm], R.bdate[rm], family_r[rm])])
        amount = np.concatenate([L.amount[lm], -R.amount[rm]])
        bkeys, inv = np.unique(key, return_inverse=True)
        bsum = np.zeros(len(bkeys), dtype=np.int64)
        np.add.at(bsum, inv, amount)
        bgroup = bkeys >> 36
        first_l = np.unique(g.lg, return_index=True)[1]  # groups are numbered 0..n-1, all have members
        first_r = np.unique(g.rg, return_index=True)[1]
        flags = g.flags[flagged]
        for code in PRIORITY:
            has = (flags & BIT[code]) != 0
            if not has.any():
                continue
            ks = flagged[has]
            primary = ~_any_before(flags[has], code)
            right = code in RIGHT_SUBJECT
            s, fam = (R, family_r) if right else (L, family_l)
            subj = g.r[first_r[ks]] if right else g.lf[first_l[ks]]
            home = _bucket(ks, s.hotel[subj], s.bdate[subj], fam[subj])
            at = np.minimum(np.searchsorted(bkeys, home), len(bkeys) - 1)
            home_sum = np.where(bkeys[at] == home, bsum[at], 0)
            self._exc(leg, np.full(len(ks), CODE_INDEX[code]), 1 if right else 0, subj,
                      s.ids.take(pa.array(subj)), s.hotel[subj], s.bdate[subj], fam[subj],
                      np.where(primary, home_sum, 0), names.take(pa.array(ks)))
            # the first code's other buckets, each with its share (bkeys are sorted: per group, by bucket)
            other = np.isin(bgroup, ks[primary]) & ~np.isin(bkeys, home) & (bsum != 0)
            if other.any():
                o = np.flatnonzero(other)
                subj_of = dict(zip(ks.tolist(), subj.tolist(), strict=True))
                osubj = np.array([subj_of[int(x)] for x in bgroup[o]], dtype=np.int64)
                self._exc(leg, np.full(len(o), CODE_INDEX[code]), 1 if right else 0, osubj,
                          s.ids.take(pa.array(osubj)), (bkeys[o] >> 20) & 0xFFFF, (bkeys[o] >> 3) & 0x1FFFF,
                          bkeys[o] & 0x7, bsum[o], names.take(pa.array(bgroup[o])), suffix=True)

    def _exc(self, leg: Leg, codes, side, idx, ids, hotel, bdate, family, amount, match_ids, suffix=False):
        if len(idx) == 0:
            return
        x = self.x
        x["leg"].append(np.full(len(idx), LEGS.index(leg.name), dtype=np.int32))
        x["code"].append(np.asarray(codes, dtype=np.int32))
        x["kind"].append((leg.left if side == 0 else leg.right).kind)
        x["n"].append(len(idx))
        x["record_id"].append(ids)
        x["hotel"].append(np.asarray(hotel, dtype=np.int32))
        x["bdate"].append(np.asarray(bdate, dtype=np.int32))
        x["family"].append(np.asarray(family, dtype=np.int32))
        x["amount"].append(np.asarray(amount, dtype=np.int64))
        x["match_id"].append(match_ids if match_ids is not None else pa.nulls(len(idx), pa.string()))
        x["suffix"].append(np.full(len(idx), bool(suffix)))

    # --- tables -------------------------------------------------------------------------------

    def exception_arrays(self) -> dict[str, np.ndarray]:
        """The exceptions' leg, hotel, business date, family and amount, in table order."""
        return {k: (np.concatenate(self.x[k]) if self.x.get(k) else np.zeros(0, dtype=np.int64))
                for k in ("leg", "hotel", "bdate", "family", "amount")}

    def card_matches(self) -> pa.Table:
        tables = list(self.batches())
        if not tables:
            return empty_matches()
        return pa.concat_tables(tables)

    def exceptions(self, opened_at, resolutions: dict[str, tuple]) -> pa.Table:
        x = self.x
        if not x:
            return empty_exceptions()
        cat = np.concatenate
        leg, code = cat(x["leg"]), cat(x["code"])
        hotel, bdate = cat(x["hotel"]), cat(x["bdate"])
        record_id = pa.concat_arrays([_plain(a) for a in x["record_id"]])
        kinds = sorted(set(x["kind"]))
        kind = _dict(kinds, np.repeat([kinds.index(k) for k in x["kind"]], x["n"])).cast(pa.string())
        code_names = pa.array(EXCEPTION_CODES, pa.string()).take(pa.array(code))
        leg_names = pa.array(LEGS, pa.string()).take(pa.array(leg))
        dates = _dates(bdate)
        exc_id = pc.binary_join_element_wise(leg_names, code_names, record_id, ":")
        suffix = cat(x["suffix"])
        if suffix.any():
            with_day = pc.binary_join_element_wise(exc_id, pc.cast(dates, pa.string()), ":")
            exc_id = pc.if_else(pa.array(suffix), with_day, exc_id)
        detail = pa.array([DETAIL[c] for c in EXCEPTION_CODES], pa.string()).take(pa.array(code))
        opened = opened_at(hotel, bdate)
        resolved_at = pa.nulls(len(code), pa.timestamp("us", tz="UTC"))
        resolution = pa.nulls(len(code), pa.string())
        if resolutions:
            keys = list(resolutions)
            at = pc.index_in(exc_id, value_set=pa.array(keys, pa.string()))
            resolved_at = pa.array([resolutions[k][0] for k in keys], pa.timestamp("us", tz="UTC")).take(at)
            resolution = pa.array([resolutions[k][1] for k in keys], pa.string()).take(at)
        return pa.table({
            "exception_id": exc_id,
            "hotel_id": _dict(self.hotels, hotel).cast(pa.string()),
            "business_date": dates,
            "code": code_names,
            "record_kind": kind,
            "record_id": record_id,
            "amount_cents": pa.array(cat(x["amount"]).astype(np.int64)),
            "detail": detail,
            "opened_at": opened,
            "resolved_at": resolved_at,
            "resolution": resolution,
            "leg": leg_names,
            "match_id": pa.concat_arrays([_plain(a) for a in x["match_id"]]),
            "card_brand": pa.array(FAMILIES, pa.string()).take(pa.array(cat(x["family"]))),
        })


def _any_before(flags: np.ndarray, code: str) -> np.ndarray:
    """Which rows carry a code that comes before `code` in PRIORITY."""
    mask = sum(BIT[c] for c in PRIORITY[:PRIORITY.index(code)])
    return (flags & mask) != 0


def _bucket(group, hotel, bdate, family) -> np.ndarray:
    """(group, hotel, business date, family) packed in one int64: 27 + 16 + 17 + 3 bits."""
    return (np.asarray(group, np.int64) << 36 | np.asarray(hotel, np.int64) << 20
            | np.asarray(bdate, np.int64) << 3 | np.asarray(family, np.int64))


def _plain(a) -> pa.Array:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.string()) if a.type != pa.string() else a


def empty_matches() -> pa.Table:
    return MATCHES_SCHEMA.empty_table()


def empty_exceptions() -> pa.Table:
    s = pa.string()
    return pa.table({"exception_id": pa.array([], s), "hotel_id": pa.array([], s),
                     "business_date": pa.array([], pa.date32()), "code": pa.array([], s),
                     "record_kind": pa.array([], s), "record_id": pa.array([], s),
                     "amount_cents": pa.array([], pa.int64()), "detail": pa.array([], s),
                     "opened_at": pa.array([], pa.timestamp("us", tz="UTC")),
                     "resolved_at": pa.array([], pa.timestamp("us", tz="UTC")), "resolution": pa.array([], s),
                     "leg": pa.array([], s), "match_id": pa.array([], s), "card_brand": pa.array([], s)})


def effective_family(own_brand: np.ndarray, partner_brand: np.ndarray | None) -> np.ndarray:
    """A record's card family; a record with no brand takes its match partner's (PSP postings)."""
    fam = FAMILY_OF[own_brand].astype(np.int32)
    if partner_brand is not None:
        unknown = own_brand == 0
        fam[unknown] = FAMILY_OF[partner_brand[unknown]]
    return fam

