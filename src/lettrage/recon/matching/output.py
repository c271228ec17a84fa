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

import datetime as dt
from collections import defaultdict

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
    """int bitmask per row -> list<string> of the codes, built once per distinct mask."""
    uniq, inv = np.unique(bits, return_inverse=True)
    lists = pa.array([[c for c in EXCEPTION_CODES if int(u) & BIT[c]] for u in uniq], pa.list_(pa.string()))
    return lists.take(pa.array(inv.astype(np.int64)))


def _dict(values: list[str], codes: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(values, pa.string()))


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32)).cast(pa.date32())


class Ledger:
    """Collects rows leg by leg and builds the tables at the end."""

    def __init__(self, hotels: list[str]):
        self.hotels = hotels
        self.rules: list[str] = []
        self.m: dict[str, list] = defaultdict(list)
        self.x: dict[str, list] = defaultdict(list)

    def _rule(self, rule: str) -> int:
        if rule not in self.rules:
            self.rules.append(rule)
        return self.rules.index(rule)

    # --- card_matches -------------------------------------------------------------------------

    def _rows(self, leg: Leg, side: int, idx: np.ndarray, match_id: pa.Array, stage: str, rule: str,
              dts: np.ndarray, delta: np.ndarray, flags: np.ndarray, record_id: pa.Array | None = None):
        s = leg.left if side == 0 else leg.right
        m = self.m
        m["match_id"].append(match_id)
        m["hotel"].append(s.hotel[idx])
        m["bdate"].append(s.bdate[idx])
        m["leg"].append(np.full(len(idx), LEGS.index(leg.name), dtype=np.int32))
        m["side"].append(np.full(len(idx), side, dtype=np.int32))
        m["record_id"].append(record_id if record_id is not None else s.ids.take(pa.array(idx)))
        m["stage"].append(np.full(len(idx), STAGES.index(stage), dtype=np.int32))
        m["rule"].append(np.full(len(idx), self._rule(rule), dtype=np.int32))
        m["dt"].append(dts)
        m["delta"].append(delta)
        m["flags"].append(flags)

    def add_leg(self, leg: Leg, lcode: np.ndarray, rcode: np.ndarray, family_l: np.ndarray,
                family_r: np.ndarray) -> None:
        """Rows for every match of the leg, and the exceptions: flagged matches and unmatched records
        (lcode/rcode: exception code index per record, -1 for none)."""
        L, R = leg.left, leg.right
        for b in leg.pairs_:
            # in left-record order, whatever order the candidates came in (deterministic rows)
            mark = np.zeros(L.n, dtype=bool)
            mark[b.lf] = True
            partner = np.empty(L.n, dtype=np.int64)
            partner[b.lf] = b.r
            order_of = np.empty(L.n, dtype=np.int64)
            order_of[b.lf] = np.arange(len(b.lf))
            lf = np.flatnonzero(mark)
            r = partner[lf]
            flags = b.flags[order_of[lf]]
            ids = L.ids.take(pa.array(lf))
            dts = L.ts[lf] - R.ts[r]
            delta = L.amount[lf] - R.amount[r]
            self._rows(leg, 0, lf, ids, b.stage, b.rule, dts, delta, flags, ids)
            self._rows(leg, 1, r, ids, b.stage, b.rule, dts, delta, flags)
            self._pair_exceptions(leg, PairBatch(lf, r, b.stage, b.rule, flags), ids, family_l, family_r)
        for g in leg.groups_:
            self._groups(leg, g, family_l, family_r)
        for side, codes, fam in ((0, lcode, family_l), (1, rcode, family_r)):
            idx = np.flatnonzero(codes >= 0)
            s = L if side == 0 else R
            sign = 1 if side == 0 else -1
            self._exc(leg, codes[idx], side, idx, s.ids.take(pa.array(idx)), s.hotel[idx], s.bdate[idx],
                      fam[idx], sign * s.amount[idx], None)

    def _groups(self, leg: Leg, g: GroupBatch, family_l, family_r):
        L, R = leg.left, leg.right
        n = len(g.flags)
        # name: the lowest left id of each group
        left_ids = L.ids.take(pa.array(g.lf)).to_pylist()
        name = {}
        for grp, rid in zip(g.lg.tolist(), left_ids, strict=True):
            name[grp] = min(name.get(grp, rid), rid)
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
            ids = pa.array([name[x] for x in grp.tolist()], pa.string())
            self._rows(leg, side, idx, ids, g.stage, g.rule, dts[grp], delta[grp], g.flags[grp])
        # exceptions of flagged groups, by (business date, family) bucket
        for k in np.flatnonzero(g.flags):
            ls, rs = g.lf[g.lg == k], g.r[g.rg == k]
            buckets: dict[tuple, int] = defaultdict(int)
            for i in ls.tolist():
                buckets[(int(L.hotel[i]), int(L.bdate[i]), int(family_l[i]))] += int(L.amount[i])
            for i in rs.tolist():
                buckets[(int(R.hotel[i]), int(R.bdate[i]), int(family_r[i]))] -= int(R.amount[i])
            self._flagged(leg, int(g.flags[k]), name[k], ls, rs, buckets, family_l, family_r)

    def _pair_exceptions(self, leg: Leg, b: PairBatch, ids: pa.Array, family_l, family_r):
        L, R = leg.left, leg.right
        k = np.flatnonzero(b.flags)
        if len(k) == 0:
            return
        lf, r, flags = b.lf[k], b.r[k], b.flags[k]
        mids = ids.take(pa.array(k))
        same = (L.bdate[lf] == R.bdate[r]) & (family_l[lf] == family_r[r]) & (L.hotel[lf] == R.hotel[r])
        # Vectorised for the usual case: one bucket, the difference on the subject record.
        for code in PRIORITY:
            has = (flags & BIT[code]) != 0
            if not has.any():
                continue
            higher = np.zeros(len(k), dtype=bool)
            for c in PRIORITY[:PRIORITY.index(code)]:
                higher |= (flags & BIT[c]) != 0
            primary = has & ~higher
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

    def _flagged(self, leg: Leg, flags: int, match_id: str, ls, rs, buckets, family_l, family_r, only=None):
        L, R = leg.left, leg.right
        codes = [c for c in PRIORITY if flags & BIT[c]]
        for n, code in enumerate(codes):
            if only is not None and code != only:
                continue
            right = code in RIGHT_SUBJECT
            s = R if right else L
            subj = int((rs if right else ls)[0])
            fam = (family_r if right else family_l)[subj]
            home = (int(s.hotel[subj]), int(s.bdate[subj]), int(fam))
            rows = [(home, buckets.get(home, 0) if n == 0 or only else 0)]
            if n == 0 or only:
                rows += [(b, v) for b, v in sorted(buckets.items()) if b != home and v != 0]
            for i, (bucket, amount) in enumerate(rows):
                self._exc(leg, np.array([CODE_INDEX[code]]), 1 if right else 0, np.array([subj]),
                          s.ids.take(pa.array([subj])), np.array([bucket[0]]), np.array([bucket[1]]),
                          np.array([bucket[2]]), np.array([amount]), pa.array([match_id], pa.string()),
                          suffix=i > 0)

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

    def card_matches(self) -> pa.Table:
        m = self.m
        if not m:
            return empty_matches()
        cat = np.concatenate
        return pa.table({
            "match_id": pa.concat_arrays([_plain(a) for a in m["match_id"]]),
            "hotel_id": _dict(self.hotels, cat(m["hotel"])),
            "business_date": _dates(cat(m["bdate"])),
            "leg": _dict(LEGS, cat(m["leg"])),
            "side": _dict(SIDES, cat(m["side"])),
            "record_id": pa.concat_arrays([_plain(a) for a in m["record_id"]]),
            "stage": _dict(STAGES, cat(m["stage"])),
            "rule": _dict(self.rules, cat(m["rule"])),
            "time_delta_s": pa.array(cat(m["dt"]).astype(np.int64)),
            "amount_delta_cents": pa.array(cat(m["delta"]).astype(np.int64)),
            "flags": _flag_lists(cat(m["flags"])),
        })

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
            ids = exc_id.to_pylist()
            at = [resolutions[i][0] if i in resolutions else None for i in ids]
            resolved_at = pa.array(at, pa.timestamp("us", tz="UTC"))
            resolution = pa.array([resolutions[i][1] if i in resolutions else None for i in ids], pa.string())
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


def _plain(a) -> pa.Array:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.string()) if a.type != pa.string() else a


def empty_matches() -> pa.Table:
    return pa.table({"match_id": pa.array([], pa.string()), "hotel_id": pa.array([], pa.string()),
                     "business_date": pa.array([], pa.date32()), "leg": pa.array([], pa.string()),
                     "side": pa.array([], pa.string()), "record_id": pa.array([], pa.string()),
                     "stage": pa.array([], pa.string()), "rule": pa.array([], pa.string()),
                     "time_delta_s": pa.array([], pa.int64()), "amount_delta_cents": pa.array([], pa.int64()),
                     "flags": pa.array([], pa.list_(pa.string()))})


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


def day_start(days: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))
