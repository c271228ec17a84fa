"""Benchmark data with ground truth: card payments of hotels as PMS postings and terminal tickets
(optionally PSP payments and remittance lines), with the anomalies of DOMAIN.md at known rates.

Vectorised numpy, written in chunks of hotels so that 10 M events fit in memory. The scenarios
are those of recon.md §5: `default` (the mix measured there), `dense` (10x the payments per day:
more same-card collisions), `clock_skew` (terminal clocks 1-3 min ahead, PMS clock an hour off on
some days), `late` (late postings up to 2 h), `psp_no_last4` (PSP payments, some without card
digits), `splits` (split-heavy, up to 5 parts), `ties` (identical same-card, same-amount payments
minutes apart), `remittances` (acquirer lines per ticket with fees), `references` (every posting
carries its reservation's confirmation number and every ticket its terminal batch's reference, as
exports usually do: numbered apart, they never meet).

Truth files match `lettrage generate`'s: truth_matches (match_id, leg, kind, side, record_id)
and truth_anomalies (code, record_id), so `bench.score` scores both generators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lettrage.recon.bench.scenarios import SCENARIOS, Scenario
from lettrage.recon.matching.stages import Rules

COMMON = np.array([250, 500, 1000, 1500, 2000, 3000, 5000, 8000, 10000, 20000], dtype=np.int64)
# card schemes: (terminal label, PMS code brand); co-badged CB cards print CB on the terminal 70 % of the time
SCHEMES = [("CB", "VISA"), ("CB", "MASTERCARD"), ("VISA", "VISA"), ("MASTERCARD", "MASTERCARD"),
           ("AMEX", "AMEX"), ("JCB", "JCB"), ("DINERS", "DINERS")]
SCHEME_P = [.40, .25, .12, .08, .10, .03, .02]
START = dt.date(2025, 1, 1)
OFFSETS = np.array([3600, 0, 7200, -4 * 3600, 4 * 3600])  # hotels' UTC offsets (no DST: synthetic)
AUDIT_S = 3 * 3600


WINDOW_S = 1800
DUP_TPE_S, DUP_PMS_S = 180, 900  # the most a duplicate ticket / posting follows its original
RULES = Rules()  # "within minutes" (DOMAIN's duplicates) as the engine's rules count it
TOLERANCE_CENTS = 2000

KINDS = ["normal", "missing_pms", "pms_orphan", "dup_pms", "dup_tpe", "refund", "amount_mismatch", "split_1k",
         "split_k1", "pan", "brand", "late", "psp"]


def layout(events: int, sc: Scenario) -> tuple[int, int]:
    """(hotels, days): about `events_per_day` payments per hotel and day, at most a year."""
    days = int(min(365, max(1, np.ceil(events / sc.events_per_day))))
    hotels = int(max(1, np.ceil(events / (sc.events_per_day * days))))
    return hotels, days


class Writer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.writers: dict[str, pq.ParquetWriter] = {}

    def write(self, name: str, table: pa.Table) -> None:
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema, compression="snappy")
        self.writers[name].write_table(table)

    def close(self):
        for w in self.writers.values():
            w.close()


def generate(folder: Path, events: int, scenario: str = "default", seed: int = 42,
             chunk_events: int = 1_000_000) -> dict:
    """Write the canonical files and the truth into `folder`; returns row counts."""
    sc = SCENARIOS[scenario]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hotels, days = layout(events, sc)
    per_hotel = np.full(hotels, events // hotels)
    per_hotel[: events % hotels] += 1
    _write_hotels(folder / "hotels.csv", hotels)
    w = Writer(folder)
    counts: dict[str, int] = {}
    h0 = 0
    chunk = 0
    while h0 < hotels:
        h1 = h0
        n = 0
        while h1 < hotels and (n == 0 or n + per_hotel[h1] <= chunk_events):
            n += int(per_hotel[h1])
            h1 += 1
        tables = _chunk(np.random.default_rng([seed, chunk]), sc, chunk, np.arange(h0, h1), per_hotel[h0:h1], days)
        for name, t in tables.items():
            w.write(name, t)
            counts[name] = counts.get(name, 0) + t.num_rows
        h0, chunk = h1, chunk + 1
    w.close()
    return {"hotels": hotels, "days": days, "rows": counts}


def _write_hotels(path: Path, n: int) -> None:
    zones = {3600: "Etc/GMT-1", 0: "UTC", 7200: "Etc/GMT-2", -14400: "Etc/GMT+4", 14400: "Etc/GMT-4"}
    lines = ["hotel_id,name,timezone,currency,night_audit_time,match_window_minutes,pms_system,amount_tolerance_cents"]
    for h in range(n):
        lines.append(f"H{h:05d},Hotel {h},{zones[int(OFFSETS[h % len(OFFSETS)])]},EUR,03:00,{WINDOW_S // 60},"
                     f"generic,{TOLERANCE_CENTS}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ids(prefix: str, chunk: int, n: int, rng) -> pa.Array:
    """Ids in no relation to time (a random permutation), unique across chunks."""
    perm = rng.permutation(n).astype(np.int64) + chunk * 100_000_000
    return pc.binary_join_element_wise(pa.scalar(prefix), pc.utf8_lpad(pc.cast(pa.array(perm), pa.string()), 11, "0"), "")


def _uuids(prefix: str, chunk: int, n: int, rng) -> pa.Array:
    """Random (version 4) UUIDs, as many systems write their ids."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(raw.tobytes().hex().encode(), np.uint8).reshape(n, 32)
    text = np.full((n, 36), ord("-"), np.uint8)
    for at, first, size in ((0, 0, 8), (9, 8, 4), (14, 12, 4), (19, 16, 4), (24, 20, 12)):
        text[:, at:at + size] = digits[:, first:first + size]
    return pa.StringArray.from_buffers(n, pa.py_buffer(np.arange(0, 36 * n + 1, 36, dtype=np.int32)),
                                       pa.py_buffer(text))


def _last4_text(v: np.ndarray) -> pa.Array:
    arr = pc.utf8_lpad(pc.cast(pa.array(np.maximum(v, 0)), pa.string()), 4, "0")
    return pc.if_else(pa.array(v < 0), pa.nulls(len(v), pa.string()), arr)


def _text(values: np.ndarray, names: list[str]) -> pa.Array:
    """Small-int codes -> strings (code -1 -> null)."""
    arr = pa.array(names + [None], pa.string())
    return arr.take(pa.array(np.where(values < 0, len(names), values)))


class Rows:
    """Rows of one table as parallel arrays: event, time, amount, last4, brand code, role."""

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, e, ts, amt, l4, br, role, ch=0):
        e = np.asarray(e)
        self.parts.append({"e": e, "ts": np.asarray(ts, np.int64), "amt": np.asarray(amt, np.int64),
                           "l4": np.broadcast_to(np.asarray(l4, np.int64), e.shape).copy(),
                           "br": np.broadcast_to(np.asarray(br, np.int64), e.shape).copy(),
                           "role": np.full(len(e), role, np.int8), "ch": np.full(len(e), ch, np.int8)})

    def done(self) -> dict:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


BRANDS = ["VISA", "MASTERCARD", "CB", "AMEX", "JCB", "DINERS"]
TPE_LABEL = np.array([2, 2, 0, 1, 3, 4, 5])  # terminal brand code per scheme (co-badged print CB)
PMS_CODE = np.array([0, 1, 0, 1, 3, 4, 5])  # PMS code brand per scheme
MAIN, DUP, PART, PSP = 0, 1, 2, 3
CHANNELS = ["terminal", "psp", "cash", "transfer"]


def _chunk(rng, sc: Scenario, chunk: int, hotel_nos: np.ndarray, counts: np.ndarray, days: int) -> dict[str, pa.Table]:
    n = int(counts.sum())
    hotel = np.repeat(hotel_nos, counts)
    day = rng.integers(0, days, n)
    peak = rng.random(n) < .55
    tod = np.where(peak, rng.integers(7 * 3600, 12 * 3600, n), rng.integers(12 * 3600, 23 * 3600, n))
    offset = OFFSETS[hotel % len(OFFSETS)]
    base = int((np.datetime64(START, "s") - np.datetime64("1970-01-01", "s")).astype(np.int64))
    ts = base + day * 86400 + tod - offset
    order = np.lexsort((ts, hotel))
    hotel, day, ts, offset = hotel[order], day[order], ts[order], offset[order]
    scheme = rng.choice(len(SCHEMES), n, p=SCHEME_P)
    last4 = rng.integers(0, 10000, n)
    amount = np.where(rng.random(n) < .3, rng.choice(COMMON, n),
                      np.maximum(100, np.round(rng.lognormal(np.log(18000), .8, n)))).astype(np.int64)
    idx = np.arange(n)
    back = idx - rng.integers(1, 20, n)
    same_hotel = (back >= 0) & (hotel[np.maximum(back, 0)] == hotel)
    reuse = (rng.random(n) < sc.reuse_card) & same_hotel
    for _ in range(3):  # chains of reuse settle in a few passes
        last4[reuse], scheme[reuse] = last4[back[reuse]], scheme[back[reuse]]
    same_amount = reuse & (rng.random(n) < sc.reuse_same_amount)
    amount[same_amount] = amount[back[same_amount]]
    if sc.ties:  # the same card and amount again a minute or two later, each posted
        tie = (rng.random(n) < sc.ties) & (idx > 0)
        tie[1:] &= hotel[1:] == hotel[:-1]
        src = np.flatnonzero(tie) - 1
        last4[tie], scheme[tie], amount[tie] = last4[src], scheme[src], amount[src]
        ts[tie] = ts[src] + rng.integers(10, 120, len(src))
    p = {"missing_pms": sc.missing_pms, "pms_orphan": sc.pms_orphan, "dup_pms": sc.dup_pms, "dup_tpe": sc.dup_tpe,
         "refund": sc.refund, "amount_mismatch": sc.amount_mismatch, "split_1k": sc.split_1k, "split_k1": sc.split_k1,
         "pan": sc.pan_error, "brand": sc.brand_error, "late": sc.late_share, "psp": sc.psp_share}
    cut = np.cumsum([p[k] for k in KINDS[1:]])
    kind = np.searchsorted(cut, rng.random(n), side="right") + 1
    kind[kind >= len(KINDS)] = 0
    K = {k: i for i, k in enumerate(KINDS)}
    kind[np.isin(kind, [K["split_1k"], K["split_k1"]]) & (amount < 2000)] = 0
    rf = kind == K["refund"]
    kind[rf & ~(same_hotel & (kind[np.maximum(back, 0)] == 0))] = 0  # refund a plain earlier payment
    rf = kind == K["refund"]
    last4[rf], scheme[rf] = last4[back[rf]], scheme[back[rf]]
    full = rng.random(n) < .7
    amount[rf] = -np.where(full[rf], amount[back[rf]], np.maximum(100, (amount[back[rf]] * .4).astype(np.int64)))
    tpe_brand = TPE_LABEL[scheme]
    tpe_brand = np.where((scheme <= 1) & (rng.random(n) < .3), PMS_CODE[scheme], tpe_brand)
    pms_brand = PMS_CODE[scheme].copy()
    lag = np.where(rng.random(n) < sc.skew_share, -rng.integers(0, 120, n),
                   np.minimum(rng.exponential(sc.lag_mean_s, n), WINDOW_S - 60).astype(np.int64))
    late = kind == K["late"]
    lag[late] = rng.integers(WINDOW_S + 60, sc.late_max_s, int(late.sum()))
    tpe_ts = ts + (np.where(rng.random(n) < sc.terminal_ahead, rng.integers(60, 180, n), 0) if sc.terminal_ahead else 0)
    pms_ts = ts + lag
    if sc.pms_offset_days:
        uhd, inv = np.unique(hotel.astype(np.int64) * 1000 + day, return_inverse=True)
        pms_ts = pms_ts + np.where((rng.random(len(uhd)) < sc.pms_offset_days)[inv], 3600, 0)
    pms_amount, pms_last4 = amount.copy(), last4.copy()
    mm = kind == K["amount_mismatch"]
    delta = rng.integers(1, TOLERANCE_CENTS, n) * np.where(rng.random(n) < .5, -1, 1)
    delta = np.where(np.sign(amount + delta) != np.sign(amount), -delta, delta)
    pms_amount[mm] += delta[mm]
    pan = kind == K["pan"]
    digit = 10 ** rng.integers(0, 4, n)
    wrong = last4 - ((last4 // digit) % 10) * digit + ((((last4 // digit) % 10) + rng.integers(1, 10, n)) % 10) * digit
    pms_last4[pan] = wrong[pan]
    bb = kind == K["brand"]
    pms_brand[bb] = np.where(scheme[bb] == 4, 0, 3)  # an AMEX posted as Visa, anything else as AMEX

    T, P, S = Rows(), Rows(), Rows()
    one = np.isin(kind, [K[k] for k in ("normal", "dup_pms", "dup_tpe", "refund", "amount_mismatch", "pan",
                                        "brand", "late", "missing_pms")])
    e = idx[one]
    T.add(e, tpe_ts[e], amount[e], last4[e], tpe_brand[e], MAIN)
    e = idx[one & (kind != K["missing_pms"])]
    P.add(e, pms_ts[e], pms_amount[e], pms_last4[e], pms_brand[e], MAIN)
    e = idx[kind == K["pms_orphan"]]
    P.add(e, pms_ts[e], amount[e], last4[e], pms_brand[e], MAIN)
    e = idx[kind == K["dup_tpe"]]
    T.add(e, tpe_ts[e] + rng.integers(30, DUP_TPE_S, len(e)), amount[e], last4[e], tpe_brand[e], DUP)
    e = idx[kind == K["dup_pms"]]
    P.add(e, pms_ts[e] + rng.integers(60, DUP_PMS_S, len(e)), amount[e], last4[e], pms_brand[e], DUP)
    for kname, parts_side in (("split_1k", P), ("split_k1", T)):
        es = idx[kind == K[kname]]
        k = rng.integers(2, sc.split_max + 1, len(es))
        for parts in range(2, sc.split_max + 1):
            sel = es[k == parts]
            if len(sel) == 0:
                continue
            cuts = np.sort(rng.uniform(.1, .9, (len(sel), parts - 1)), axis=1)
            bounds = np.concatenate([np.zeros((len(sel), 1)), cuts, np.ones((len(sel), 1))], axis=1)
            pieces = np.diff(np.floor(bounds * amount[sel][:, None]).astype(np.int64), axis=1)
            gaps = np.cumsum(rng.integers(40, 150, (len(sel), parts)), axis=1) - 40
            for j in range(parts):
                if parts_side is P:
                    P.add(sel, pms_ts[sel] + gaps[:, j], pieces[:, j], last4[sel], pms_brand[sel], PART)
                else:
                    T.add(sel, tpe_ts[sel] + gaps[:, j], pieces[:, j], last4[sel], tpe_brand[sel], PART)
            if parts_side is P:
                T.add(sel, tpe_ts[sel], amount[sel], last4[sel], tpe_brand[sel], MAIN)
            else:
                P.add(sel, pms_ts[sel] + gaps[:, -1], amount[sel], last4[sel], pms_brand[sel], MAIN)
    e = idx[kind == K["psp"]]
    no4 = rng.random(len(e)) < sc.psp_no_last4 / max(sc.psp_share, 1e-9)
    S.add(e, ts[e], np.abs(amount[e]), np.where(no4, -1, last4[e]), pms_brand[e], PSP)
    P.add(e, ts[e] + rng.integers(600, 4 * 3600, len(e)), np.abs(amount[e]), -1, -1, PSP, ch=1)
    m = int(n * sc.out_of_scope)
    oe = rng.integers(0, n, m)
    P.add(oe, ts[oe] + 300, np.full(m, 5000), -1, -1, MAIN, ch=np.where(rng.random(m) < .6, 2, 3))
    return _tables(rng, sc, chunk, hotel, offset, kind, K, T.done(), P.done(), S.done() if len(e) else None)


def _repeats(hotel, last4, amount, ts, missing, within_s: int) -> np.ndarray:
    """Which `missing` records (no counterpart on the other side) are, as far as the data can
    tell, duplicates: an identical record (hotel, card, amount) at most `within_s` seconds before
    them, or after them when that one has its counterpart (which of two identical charges is "the
    duplicate" is then arbitrary: the scorer counts either)."""
    order = np.lexsort((ts, amount, last4, hotel))
    h, c, a, t, m = hotel[order], last4[order], amount[order], ts[order], missing[order]
    same = (h[1:] == h[:-1]) & (c[1:] == c[:-1]) & (a[1:] == a[:-1]) & (c[1:] >= 0) & (t[1:] - t[:-1] <= within_s)
    after_one = np.zeros(len(t), dtype=bool)  # an identical record just before
    after_one[1:] = same
    before_kept = np.zeros(len(t), dtype=bool)  # an identical record just after, not missing
    before_kept[:-1] = same & ~m[1:]
    out = np.zeros(len(t), dtype=bool)
    out[order] = m & (after_one | before_kept)
    return out


def _serial(numbers: np.ndarray, chunk: int) -> pa.Array:
    """Numbers unique across the chunks, as text."""
    return pc.cast(pa.array(numbers.astype(np.int64) + chunk * 100_000_000), pa.string())


def _tables(rng, sc, chunk, hotel, offset, kind, K, t, p, s) -> dict[str, pa.Table]:
    hotel_names = pc.binary_join_element_wise(pa.scalar("H"), pc.utf8_lpad(pc.cast(pa.array(hotel), pa.string()), 5, "0"), "")
    out = {}

    def dates(ts, e):
        return pa.array(((ts + offset[e] - AUDIT_S) // 86400).astype(np.int32)).cast(pa.date32())

    def stamp(ts):
        return pa.array(ts * 1_000_000, pa.timestamp("us", tz="UTC"))

    ids = _uuids if sc.uuid_ids else _ids
    tid = ids("T", chunk, len(t["e"]), rng)
    pid = ids("P", chunk, len(p["e"]), rng)
    nt, np_ = len(t["e"]), len(p["e"])
    ref = pc.binary_join_element_wise(pa.scalar("R"), tid, "") if sc.remittances else pa.nulls(nt, pa.string())
    if sc.references and not sc.remittances:  # a terminal's batch: some fifty tickets
        ref = pc.binary_join_element_wise(pa.scalar("B"), _serial(t["e"] // 50, chunk), "")
    out["tpe_transactions"] = pa.table({
        "tpe_txn_id": tid, "hotel_id": hotel_names.take(pa.array(t["e"])),
        "terminal_id": _text((t["e"] % 3).astype(np.int64), ["T1", "T2", "T3"]),
        "txn_at": stamp(t["ts"]), "business_date": dates(t["ts"], t["e"]),
        "txn_type": _text((t["amt"] < 0).astype(np.int64), ["sale", "refund"]),
        "amount_cents": pa.array(t["amt"]), "currency": pa.array(np.full(nt, "EUR")),
        "card_brand": _text(t["br"], BRANDS), "card_last4": _last4_text(t["l4"]), "remise_ref": ref})
    psp_order = pc.binary_join_element_wise(pa.scalar("ORD"), _serial(p["e"], chunk), "")
    is_psp = p["ch"] == 1
    out["pms_postings"] = pa.table({
        "posting_id": pid, "hotel_id": hotel_names.take(pa.array(p["e"])),
        "business_date": dates(p["ts"], p["e"]), "posted_at": stamp(p["ts"]),
        "trx_code": _text(p["ch"].astype(np.int64), ["9012", "9040", "9000", "9150"]),
        "amount_cents": pa.array(p["amt"]), "currency": pa.array(np.full(np_, "EUR")),
        "card_last4": _last4_text(p["l4"]), "card_brand": _text(p["br"], BRANDS),
        "channel": _text(p["ch"].astype(np.int64), CHANNELS),
        "reference": pc.if_else(pa.array(is_psp), psp_order, pa.nulls(np_, pa.string())),
        **({"confirmation_no": pc.binary_join_element_wise(pa.scalar("CNF"), _serial(p["e"], chunk), "")}
           if sc.references else {})})
    # truth: one group per event, of the main (and part) records; anomalies by role and kind
    gid = pc.binary_join_element_wise(pa.scalar(f"G{chunk:03d}-"), pc.cast(pa.array(np.arange(len(kind))), pa.string()), "")
    k_t, k_p = kind[t["e"]], kind[p["e"]]
    grouped = ~np.isin(kind, [K["missing_pms"], K["pms_orphan"]])
    truth_kind = np.where(kind == K["split_1k"], 2, np.where(kind == K["split_k1"], 1, 0))
    tg = (t["role"] != DUP) & grouped[t["e"]] & (k_t != K["psp"])
    pg = (p["role"] != DUP) & grouped[p["e"]] & (p["ch"] <= 1)
    matches = [pa.table({"match_id": gid.take(pa.array(p["e"][pg])), "leg": _text(p["ch"][pg].astype(np.int64), ["pms_tpe", "pms_psp"]),
                         "kind": _text(truth_kind[p["e"][pg]], ["one_to_one", "one_to_many", "many_to_one"]),
                         "side": pa.array(np.full(int(pg.sum()), "left")), "record_id": pid.filter(pa.array(pg))}),
               pa.table({"match_id": gid.take(pa.array(t["e"][tg])), "leg": pa.array(np.full(int(tg.sum()), "pms_tpe")),
                         "kind": _text(truth_kind[t["e"][tg]], ["one_to_one", "one_to_many", "many_to_one"]),
                         "side": pa.array(np.full(int(tg.sum()), "right")), "record_id": tid.filter(pa.array(tg))})]
    codes, recs = [], []
    # A ticket never posted (a posting with no ticket) next to an identical one of the same card,
    # amount and hotel minutes apart is, in the data, a duplicate (DOMAIN: "the same card charged
    # the same amount twice within minutes", minutes as the engine's rules count them): nothing
    # tells it from one, so the truth says so.
    miss_t = (k_t == K["missing_pms"]) & (t["role"] == MAIN)
    miss_p = (k_p == K["pms_orphan"]) & (p["ch"] == 0)
    twin_t = _repeats(hotel[t["e"]], t["l4"], t["amt"], t["ts"], miss_t, RULES.duplicate_tpe_s)
    twin_p = _repeats(hotel[p["e"]], p["l4"], p["amt"], p["ts"], miss_p & (p["l4"] >= 0), RULES.duplicate_pms_s)
    # the card posting of its event: not the cash or transfer posting an event may also have
    card_main = (p["role"] == MAIN) & (p["ch"] == 0)
    for code, mask, ids in (
            ("MISSING_IN_PMS", miss_t & ~twin_t, tid),
            ("DUPLICATE_TPE", (t["role"] == DUP) | twin_t, tid),
            ("MISSING_IN_TPE", miss_p & ~twin_p, pid),
            ("DUPLICATE_PMS", (p["role"] == DUP) | twin_p, pid),
            ("AMOUNT_MISMATCH", (k_p == K["amount_mismatch"]) & card_main, pid),
            ("PAN_MISMATCH", (k_p == K["pan"]) & card_main, pid),
            ("BRAND_MISMATCH", (k_p == K["brand"]) & card_main, pid),
            ("LATE_POSTING", (k_p == K["late"]) & card_main, pid)):
        codes.append(pa.array(np.full(int(mask.sum()), code)))
        recs.append(ids.filter(pa.array(mask)))
    if s is not None:
        sid = _ids("S", chunk, len(s["e"]), rng)
        out["psp_transactions"] = pa.table({
            "psp_txn_id": sid, "hotel_id": hotel_names.take(pa.array(s["e"])), "provider": pa.array(np.full(len(sid), "ogone")),
            "order_id": pc.binary_join_element_wise(pa.scalar("ORD"), pc.cast(pa.array(s["e"] + chunk * 100_000_000), pa.string()), ""),
            "operation": pa.array(np.full(len(sid), "sale")), "status": pa.array(np.full(len(sid), "paid")),
            "event_at": stamp(s["ts"]), "business_date": dates(s["ts"], s["e"]), "amount_cents": pa.array(s["amt"]),
            "currency": pa.array(np.full(len(sid), "EUR")), "card_brand": _text(s["br"], BRANDS),
            "card_last4": _last4_text(s["l4"])})
        matches.append(pa.table({"match_id": gid.take(pa.array(s["e"])), "leg": pa.array(np.full(len(sid), "pms_psp")),
                                 "kind": pa.array(np.full(len(sid), "one_to_one")),
                                 "side": pa.array(np.full(len(sid), "right")), "record_id": sid}))
    if sc.remittances:
        keep = rng.random(nt) >= .005
        codes.append(pa.array(np.full(int((~keep).sum()), "NOT_REMITTED")))
        recs.append(tid.filter(pa.array(~keep)))
        gross = t["amt"].copy()
        off = keep & (rng.random(nt) < .002)
        gross[off] += rng.integers(1, 500, int(off.sum()))
        lid = pc.binary_join_element_wise(pa.scalar("L"), tid, "").filter(pa.array(keep))
        fee = (np.abs(gross) * 12 // 1000)[keep]
        out["remittances"] = pa.table({
            "remittance_line_id": lid, "hotel_id": hotel_names.take(pa.array(t["e"][keep])),
            "provider": pa.array(np.full(len(lid), "cb")), "terminal_id": out["tpe_transactions"]["terminal_id"].filter(pa.array(keep)),
            "line_type": _text((gross[keep] < 0).astype(np.int64), ["sale", "refund"]),
            "txn_at": stamp(t["ts"][keep]), "business_date": dates(t["ts"][keep], t["e"][keep]),
            "remittance_date": dates(t["ts"][keep] + 86400, t["e"][keep]), "card_brand": _text(t["br"][keep], BRANDS),
            "card_last4": _last4_text(t["l4"][keep]), "gross_cents": pa.array(gross[keep]), "fee_cents": pa.array(fee),
            "net_cents": pa.array(gross[keep] - np.sign(gross[keep]) * fee), "currency": pa.array(np.full(len(lid), "EUR")),
            "remise_ref": ref.filter(pa.array(keep))})
        matches += [pa.table({"match_id": pc.binary_join_element_wise(pa.scalar("M"), tid, "").filter(pa.array(keep)),
                              "leg": pa.array(np.full(len(lid), "tpe_remittance")), "kind": pa.array(np.full(len(lid), "one_to_one")),
                              "side": pa.array(np.full(len(lid), side)), "record_id": ids})
                    for side, ids in (("left", tid.filter(pa.array(keep))), ("right", lid))]
        codes.append(pa.array(np.full(int(off.sum()), "REMITTANCE_MISMATCH")))
        recs.append(pc.binary_join_element_wise(pa.scalar("L"), tid, "").filter(pa.array(off)))
    out["truth_matches"] = pa.concat_tables(matches)
    out["truth_anomalies"] = pa.table({"code": pa.concat_arrays(codes), "record_id": pa.concat_arrays(recs)})
    return out


__all__ = ["SCENARIOS", "Scenario", "generate", "layout", "replace"]
