"""`run_matching`: the one engine, over a DuckDB connection holding (or viewing) the canonical
tables. Used by the Dagster assets (the warehouse), by `lettrage match` (parquet files as views)
and by the benchmark.

Order of work: read each leg's records (`sides`: normalised in DuckDB, held as arrays indexed by
position, ids kept as strings for the output and for ties, the first leg's read beside its exact
stage once its first big join is done), apply people's decisions (pinned matches, records split
apart), run the stages (`stages`: candidates come from joins on integer positions, in DuckDB or,
for the exact stage's millions, `window_join`; choices are vectorised),
classify what is left, then build the ledger, the exceptions and the daily summary (`output`).
The ledger's rows can be written while the later stages run: the big exact batch is handed over
as soon as its flags are final. Every choice is ordered by cost, then by the records' ids, so the
same input gives the same output (to the byte) whatever the threads or memory limit.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lettrage.recon.matching import daily, output, sides, stages, window_join
from lettrage.recon.matching.legs import Leg, pack
from lettrage.recon.matching.sides import Side, Window
from lettrage.recon.matching.stages import Rules
from lettrage.recon.schemas import EXCEPTION_CODES

CODE = {c: i for i, c in enumerate(EXCEPTION_CODES)}


@dataclass
class Decision:
    """A person's decision, replayed by every run (`recon.decisions` stores them)."""

    kind: str  # pin | split | resolve
    leg: str | None = None
    left_ids: tuple[str, ...] = ()
    right_ids: tuple[str, ...] = ()
    exception_id: str | None = None
    comment: str = ""
    decided_by: str = ""
    decided_at: dt.datetime | None = None


@dataclass
class MatchOutput:
    """The three tables. card_matches (millions of rows at scale) is made when asked for, whole
    (`card_matches`) or a slice at a time (`ledger.batches()`, what `run.match_files` writes)."""

    ledger: output.Ledger
    exceptions: pa.Table
    daily_summary: pa.Table
    stats: dict = field(default_factory=dict)

    @property
    def card_matches(self) -> pa.Table:
        if not hasattr(self, "_card_matches"):
            self._card_matches = self.ledger.card_matches()
        return self._card_matches


@dataclass
class HotelSettings:
    names: list[str]
    window_s: np.ndarray
    tol_cents: np.ndarray
    tol_pct: np.ndarray
    timezone: list[str]
    audit: list[str]


def hotel_settings(conn, names: list[str], rules: Rules) -> HotelSettings:
    """Per-hotel window and tolerance from the hotels table (defaults for hotels not in it)."""
    n = len(names)
    s = HotelSettings(names, np.full(n, rules.window_minutes * 60, dtype=np.int64),
                      np.full(n, rules.tolerance_cents, dtype=np.int64), np.full(n, rules.tolerance_pct, dtype=np.int64),
                      ["UTC"] * n, ["00:00"] * n)
    if not sides.table_exists(conn, "hotels"):
        return s
    cols = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name = 'hotels'").fetchall()}
    pick = [c for c in ("match_window_minutes", "amount_tolerance_cents", "amount_tolerance_pct", "timezone",
                        "night_audit_time") if c in cols]
    if not pick:
        return s
    index = {h: i for i, h in enumerate(names)}
    for row in conn.execute(f"SELECT hotel_id, {', '.join(pick)} FROM hotels").fetchall():
        i = index.get(row[0])
        if i is None:
            continue
        v = dict(zip(pick, row[1:], strict=True))
        if v.get("match_window_minutes") is not None:
            s.window_s[i] = int(v["match_window_minutes"]) * 60
        if v.get("amount_tolerance_cents") is not None:
            s.tol_cents[i] = int(v["amount_tolerance_cents"])
        if v.get("amount_tolerance_pct") is not None:
            s.tol_pct[i] = int(v["amount_tolerance_pct"])
        if v.get("timezone"):
            s.timezone[i] = v["timezone"]
        if v.get("night_audit_time"):
            s.audit[i] = v["night_audit_time"]
    return s


def opened_at_fn(settings: HotelSettings):
    """When an exception opens: the night audit closing its business date (deterministic, and
    what "age" is counted from)."""

    def opened(hotel: np.ndarray, bdate: np.ndarray) -> pa.Array:
        import pandas as pd

        from lettrage.recon.hotels import Hotel

        # hotels on one clock and night audit share their days' closings: computed once a day
        zones = sorted(set(zip(settings.timezone, settings.audit, strict=True)))
        zone_of = np.array([zones.index(z) for z in zip(settings.timezone, settings.audit, strict=True)])
        key = zone_of[hotel].astype(np.int64) * 100_000 + bdate
        uniq, inv = np.unique(key, return_inverse=True)
        uz, ud = uniq // 100_000, uniq % 100_000
        values = np.zeros(len(uniq), dtype="datetime64[us]")
        for z, zone_audit in enumerate(zones):
            sel = uz == z
            if not sel.any():
                continue
            probe = Hotel("x", "x", zone_audit[0], night_audit_time=zone_audit[1])
            local = (pd.to_datetime(ud[sel], unit="D") + pd.Timedelta(days=1) + probe.audit_offset)
            utc = pd.Series(local).dt.tz_localize(zone_audit[0], ambiguous=True, nonexistent="shift_forward") \
                .dt.tz_convert("UTC").dt.tz_localize(None)
            values[sel] = utc.to_numpy().astype("datetime64[us]")
        out = values[inv]
        return pa.array(out, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))

    return opened


class Clock:
    """Seconds per stage: wall clock, and the process's CPU time (all its threads)."""

    def __init__(self):
        self.t, self.c = time.perf_counter(), time.process_time()
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self.t, 4)
        self.cpu[name] = round(self.cpu.get(name, 0.0) + cpu - self.c, 4)
        self.t, self.c = now, cpu


def _lookup(ids: pa.Array, wanted) -> np.ndarray:
    pos = pc.index_in(pa.array(list(wanted), pa.string()), value_set=ids).to_numpy(zero_copy_only=False)
    return np.array([-1 if p is None or (isinstance(p, float) and np.isnan(p)) else int(p) for p in pos])


def _apply_decisions(leg: Leg, decisions: list[Decision]) -> None:
    for d in decisions:
        if d.leg not in (None, leg.name) or d.kind not in ("pin", "split"):
            continue
        li, ri = _lookup(leg.left.ids, d.left_ids), _lookup(leg.right.ids, d.right_ids)
        if len(li) == 0 or len(ri) == 0 or (li < 0).any() or (ri < 0).any():
            continue  # the records are not in this run
        if d.kind == "split":
            leg.forbidden.update((int(a), int(b)) for a in li for b in ri)
        elif leg.lfree[li].all() and leg.rfree[ri].all():
            leg.add_groups([(li.tolist(), ri.tolist(), 0)], "manual", f"pinned by {d.decided_by or 'a person'}")


def _per_hotel(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def run_pms_tpe(leg: Leg, conn, rules: Rules, clock: Clock, settled=None, joined=None) -> None:
    """The stages of PMS postings against terminal tickets. `settled(batch)` is handed the exact
    stage's pair batches as soon as they are chosen, their base flags still to be added (their
    rows can be written while the other stages run); `joined()` is called once the exact stage's
    first big join is done (`stages.exact_card_and_clock`)."""
    w = _per_hotel(leg.window_s)
    stages.references(leg, conn, rules, "ref", "ref", stage="reference", rule="ticket_reference")
    clock.lap("pms_tpe.reference")
    # shift: the postings of days the PMS clock was hours off, by how much (None: no such day)
    shift = stages.exact_card_and_clock(leg, conn, rules, "exact", "card_amount_window", w, early=settled,
                                        joined=joined)
    clock.lap("pms_tpe.exact")
    stages.split_stage(leg, conn, rules, -w, w, shift=shift)
    clock.lap("pms_tpe.split")
    late = np.full_like(w, rules.late_posting_s)
    stages.exact_card(leg, conn, rules, "tolerant", "late_posting", w + 1, late,
                      extra_flags=1 << CODE["LATE_POSTING"], shift=shift)
    stages.tolerant_amount(leg, conn, rules, "tolerant", "amount_within_tolerance", -w, w, shift=shift)
    L, R = leg.left, leg.right
    stages.amount_only(leg, conn, rules, "tolerant", "last4_differs", -w, w, L.last4 >= 0, R.last4 >= 0,
                       extra_on=" AND l.c <> r.c", flags=1 << CODE["PAN_MISMATCH"], hamming=True, shift=shift)
    stages.amount_only(leg, conn, rules, "tolerant", "amount_time_no_card", -w, w, np.ones(L.n, bool),
                       np.ones(R.n, bool), extra_on=" AND (l.c < 0 OR r.c < 0)", unique_only=True, shift=shift)
    clock.lap("pms_tpe.tolerant")


def run_pms_psp(leg: Leg, conn, rules: Rules, clock: Clock) -> None:
    stages.references(leg, conn, rules, "ref", "ref", stage="reference", rule="order_reference")
    stages.references(leg, conn, rules, "ref2", "ref", stage="reference", rule="confirmation_number")
    lo = np.full(len(leg.window_s), -rules.psp_before_s, dtype=np.int64)
    hi = np.full(len(leg.window_s), rules.psp_after_s, dtype=np.int64)
    stages.exact_card(leg, conn, rules, "exact", "card_amount_window", lo, hi, twins=False)
    stages.amount_only(leg, conn, rules, "tolerant", "amount_time_unique", lo, hi, np.ones(leg.left.n, bool),
                       np.ones(leg.right.n, bool), unique_only=True)
    clock.lap("pms_psp")


def run_tpe_remittance(leg: Leg, conn, rules: Rules, clock: Clock) -> None:
    stages.references(leg, conn, rules, "ref", "ref", stage="reference", rule="remise_reference")
    L, R = leg.left, leg.right
    day = 86400 * 2
    lo, hi = np.full(len(leg.window_s), -day, dtype=np.int64), np.full(len(leg.window_s), day, dtype=np.int64)
    # same card and amount, same business date
    lm = leg.lfree & (L.last4 >= 0)
    rm = leg.rfree & (R.last4 >= 0)
    cand = leg.pairs(conn, lm, rm, "l.h = r.h AND l.c = r.c AND l.a = r.a AND l.d = r.d")
    if len(cand["l"]):
        cost = np.abs(cand["dt"]).astype(np.float64)
        lf, r, _ = stages.choose_pairs(leg, cand, cost, rules)
        leg.add_pairs(lf, r, "exact", "card_amount_day")
    _batches(leg)
    stages.tolerant_amount(leg, conn, rules, "tolerant", "amount_within_tolerance", lo, hi, same_day=True)
    clock.lap("tpe_remittance")


def _batches(leg: Leg) -> None:
    """A remittance line without a card (one line for a terminal's day): the day's unmatched
    tickets of that terminal add up to it."""
    L, R = leg.left, leg.right
    if "terminal" not in L.extra or "terminal" not in R.extra:
        return
    lines = np.flatnonzero(leg.rfree & (R.last4 < 0) & np.asarray(R.extra["terminal"].is_valid()))
    tickets = leg.free(0)
    if len(lines) == 0 or len(tickets) == 0:
        return
    names = pc.unique(R.extra["terminal"].take(pa.array(lines)))
    line_key = _terminal_day(R, lines, names)
    ticket_key = _terminal_day(L, tickets, names)
    keys, count = np.unique(line_key, return_counts=True)
    keys = keys[(count == 1) & np.isin(keys, ticket_key)]  # one line for the terminal's day, and tickets
    if len(keys) == 0:
        return
    lm, rm = np.isin(ticket_key, keys), np.isin(line_key, keys)
    leg.add_group_arrays(np.searchsorted(keys, ticket_key[lm]), tickets[lm], np.searchsorted(keys, line_key[rm]),
                         lines[rm], np.zeros(len(keys), dtype=np.int32), "split", "terminal_day_total")


def _terminal_day(side: Side, nodes: np.ndarray, names: pa.Array) -> np.ndarray:
    """(hotel, terminal, business date) of some records as one int64 (-1: a terminal not in names)."""
    code = pc.index_in(side.extra["terminal"].take(pa.array(nodes)), value_set=names).fill_null(-1)
    code = code.to_numpy().astype(np.int64)
    key = pack((side.hotel[nodes], 16), (np.maximum(code, 0), 24), (side.bdate[nodes], 23))
    return np.where(code >= 0, key, -1)


def classify(leg: Leg, conn, rules: Rules, refund_original) -> tuple[np.ndarray, np.ndarray]:
    """An exception code for every record the stages left alone."""
    L, R = leg.left, leg.right
    lcode = np.full(L.n, -1, dtype=np.int32)
    rcode = np.full(R.n, -1, dtype=np.int32)
    lfree, rfree = leg.free(0), leg.free(1)
    if leg.name == "pms_tpe":
        lcode[lfree] = CODE["MISSING_IN_TPE"]
        rcode[rfree] = CODE["MISSING_IN_PMS"]
        lcode[lfree[_twins(conn, L, lfree, rules.duplicate_pms_s)]] = CODE["DUPLICATE_PMS"]
        refunds = rfree[R.amount[rfree] < 0]
        if len(refunds):
            no_original = ~refund_original(refunds)
            rcode[refunds[no_original]] = CODE["REFUND_UNMATCHED"]
        rcode[rfree[_twins(conn, R, rfree, rules.duplicate_tpe_s)]] = CODE["DUPLICATE_TPE"]
    elif leg.name == "pms_psp":
        lcode[lfree] = CODE["POSTED_WITHOUT_PSP"]
        rcode[rfree] = CODE["PSP_NOT_POSTED"]
    else:
        lcode[lfree] = CODE["NOT_REMITTED"]
        rcode[rfree] = CODE["REMITTANCE_MISMATCH"]
    return lcode, rcode


def _twins(conn, side: Side, nodes: np.ndarray, within_s: int) -> np.ndarray:
    """Which of `nodes` (the side's records left unmatched) repeat another record of the side
    (same hotel, card and amount): an earlier one at most `within_s` before (or the same second
    and a lower position), or a matched one at most `within_s` after -- the same payment twice,
    whichever of the two took the counterpart (of two identical postings minutes apart with one
    ticket between them, the one left is the duplicate even when it came first)."""
    if len(nodes) == 0:
        return np.zeros(0, dtype=bool)
    x = nodes[side.last4[nodes] >= 0]
    conn.register("_x", _records(side, x))
    conn.register("_a", _records(side, np.flatnonzero(window_join.same_card(side, x))))
    try:  # a record of the card not among _x is a matched one
        hit = conn.sql(f"""SELECT DISTINCT x.i FROM _x x JOIN _a a
            ON a.h = x.h AND a.c = x.c AND a.a = x.a AND a.i <> x.i
            AND a.ts BETWEEN x.ts - {int(within_s)} AND x.ts + {int(within_s)}
            WHERE a.ts < x.ts OR (a.ts = x.ts AND a.i < x.i) OR a.i NOT IN (SELECT i FROM _x)""").fetchnumpy()["i"]
    finally:
        conn.unregister("_x")
        conn.unregister("_a")
    return np.isin(nodes, hit)


def _records(side: Side, nodes: np.ndarray) -> pa.Table:
    """Some records of a side for DuckDB: position i, hotel h, last 4 c, amount a, time ts. Joined
    against a few records, a side's millions are first narrowed to those that may meet them
    (`window_join.same_card`): DuckDB's join would read every one of them."""
    nodes = nodes.astype(np.int32, copy=False)
    return pa.table({"i": nodes, "h": side.hotel[nodes], "c": side.last4[nodes], "a": side.amount[nodes],
                     "ts": side.ts[nodes]})


def refund_originals(conn, side: Side, window: Window, hotels: list[str], rules: Rules):
    """A function telling, for refund tickets, whether the same card paid at the hotel before
    (looking back beyond the run's window: the sale may be days older than its refund; "before"
    up to `rules.refund_clock_s` after, as terminals' clocks differ by minutes). Every
    refund of the run is looked up once, in one join; the tickets before the window only for
    refunds the run itself does not explain, and only when asked."""
    lookback = rules.refund_lookback_days * 86400
    refunds = np.flatnonzero((side.amount < 0) & (side.last4 >= 0))
    conn.register("_refunds", _records(side, refunds))
    conn.register("_paid", _records(side, np.flatnonzero(window_join.same_card(side, refunds, amount=False))))
    try:
        found = conn.sql(f"""SELECT DISTINCT x.i FROM _refunds x JOIN _paid p ON p.h = x.h AND p.c = x.c
            AND p.a > 0 AND p.ts < x.ts + {int(rules.refund_clock_s)} AND p.ts >= x.ts - {lookback}""").fetchnumpy()["i"]
    finally:
        conn.unregister("_refunds")
        conn.unregister("_paid")
    explained = side.last4 < 0  # no card number: nothing to check
    explained[found] = True
    looked_before: set[int] = set()

    def has_original(nodes: np.ndarray) -> np.ndarray:
        if len(nodes) == 0:
            return np.zeros(0, dtype=bool)
        ask = np.array(sorted(set(nodes[~explained[nodes]].tolist()) - looked_before), dtype=np.int64)
        if window.start is not None and len(ask):
            explained[_paid_before_window(conn, side, ask, hotels, lookback)] = True
            looked_before.update(ask.tolist())
        return explained[nodes]

    return has_original


def _paid_before_window(conn, side: Side, nodes: np.ndarray, hotels: list[str], lookback: int) -> np.ndarray:
    """Of refund tickets `nodes`, those whose card paid at the hotel in the canonical table before."""
    x = pa.table({"i": nodes, "hotel": pa.array([hotels[h] for h in side.hotel[nodes]], pa.string()),
                  "last4": side.last4[nodes].astype(np.int32), "ts": side.ts[nodes]})
    conn.register("_refunds", x)
    since = int(side.ts[nodes].min()) - lookback
    try:
        return conn.sql(f"""
            SELECT DISTINCT x.i FROM _refunds x JOIN tpe_transactions t
              ON t.hotel_id = x.hotel AND {sides.last4_sql("t.card_last4")} = x.last4
             AND epoch(t.txn_at) < x.ts AND epoch(t.txn_at) >= x.ts - {lookback}
            WHERE t.amount_cents > 0 AND t.txn_type IN ('sale', 'completion')
              AND epoch(t.txn_at) >= {since}""").fetchnumpy()["i"].astype(np.int64)
    finally:
        conn.unregister("_refunds")


def _partner_brands(leg: Leg) -> tuple[np.ndarray, np.ndarray]:
    """Each matched record's partner's brand (the first member on the other side of a group),
    where the record has no brand of its own (the only place it is used)."""
    pl = np.zeros(leg.left.n, dtype=np.int8)
    pr = np.zeros(leg.right.n, dtype=np.int8)
    # a side whose records all have a brand has nothing to look up
    unbranded = [(leg.left.brand == 0).any(), (leg.right.brand == 0).any()]
    for b in leg.pairs_:
        for own, other, mine, theirs, out, look in ((leg.left, leg.right, b.lf, b.r, pl, unbranded[0]),
                                                    (leg.right, leg.left, b.r, b.lf, pr, unbranded[1])):
            if look:
                k = own.brand[mine] == 0
                out[mine[k]] = other.brand[theirs[k]]
    for g in leg.groups_:
        first_l = g.lf[np.unique(g.lg, return_index=True)[1]]
        first_r = g.r[np.unique(g.rg, return_index=True)[1]]
        pl[g.lf] = leg.right.brand[first_r[g.lg]]
        pr[g.r] = leg.left.brand[first_l[g.rg]]
    return pl, pr


def _other_legs(conn, window: Window, tables: list[str], hotels: sides.Hotels, hs: HotelSettings, tickets: Side,
                decisions: list[Decision]) -> list[Leg]:
    """PMS postings vs PSP payments, terminal tickets vs remittances (read beside the first leg's
    exact stage: they are not needed before it ends)."""
    if "psp_transactions" in tables:
        psp = Leg("pms_psp", sides.load_postings(conn, window, sides.PMS_PSP_SCOPE, hotels),
                  sides.load_psp(conn, window, hotels), hs.window_s, hs.tol_cents, hs.tol_pct)
    else:
        psp = Leg("pms_psp", sides.load_postings(conn, window, sides.PMS_PSP_SCOPE, hotels),
                  tickets.subset(np.zeros(tickets.n, bool)), hs.window_s, hs.tol_cents, hs.tol_pct)
        psp.right.kind = "psp_transaction"
    legs = [psp]
    if "remittances" in tables:
        lines = sides.load_remittances(conn, window, hotels)
        # Only hotel-days whose remittances arrived are reconciled against them.
        days = np.unique(lines.hotel.astype(np.int64) * 100_000 + lines.bdate)
        covered = np.isin(tickets.hotel.astype(np.int64) * 100_000 + tickets.bdate, days)
        legs.append(Leg("tpe_remittance", tickets.subset(covered), lines, hs.window_s, hs.tol_cents, hs.tol_pct))
    for leg in legs:
        _apply_decisions(leg, decisions)
    return legs


def _read_ids(cursor, late: list[Side]) -> None:
    """The ids of sides loaded without them, one side after the other (one read's memory at a time)."""
    try:
        for side in late:
            side.read_ids(cursor)
    finally:
        cursor.close()


def _beside(conn, there, here):
    """`there(cursor)` run in a thread of its own on a cursor of its own while `here(conn)` runs
    in this one; both results."""
    cursor = conn.cursor()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="beside") as pool:
            future = pool.submit(there, cursor)
            try:
                mine = here(conn)
            except BaseException:
                cursor.interrupt()
                raise
            return future.result(), mine
    finally:
        cursor.close()


def _families_and_money(legs: list[Leg], hotels: list[str]) -> tuple[list, daily.DailyGrid]:
    """Each leg's records' card families (left, right), and their money summed per hotel, day and
    family."""
    families = []
    for leg in legs:
        pl, pr = _partner_brands(leg)
        families.append((output.effective_family(leg.left.brand, pl), output.effective_family(leg.right.brand, pr)))
    return families, daily.money_grid(legs, families, hotels)


def _flag_refunds(leg: Leg, batches, refund_original) -> None:
    """A matched refund ticket whose card never paid here: REFUND_UNMATCHED on the match."""
    from lettrage.recon.matching.legs import BIT

    refunds = [np.flatnonzero(leg.right.amount[b.r] < 0) for b in batches]
    nodes = np.concatenate([b.r[k] for b, k in zip(batches, refunds, strict=True)] or [np.zeros(0, np.int32)])
    orphan = ~refund_original(nodes.astype(np.int64))
    at = 0
    for b, k in zip(batches, refunds, strict=True):
        b.flags[k[orphan[at:at + len(k)]]] |= BIT["REFUND_UNMATCHED"]
        at += len(k)


def run_matching(conn: duckdb.DuckDBPyConnection, start: dt.date | None = None, end: dt.date | None = None,
                 hotel_ids=None, rules: Rules = Rules(), decisions: list[Decision] | None = None,
                 ledger: output.Ledger | None = None, exceptions_made=None) -> MatchOutput:
    """Match the canonical tables on `conn` for business dates [start, end) (None: all) and some
    hotels (None: all). Tables pms_postings and tpe_transactions are required; psp_transactions,
    remittances and hotels are used when present. Pass a `ledger` to read card_matches rows
    (`ledger.batches()`, from another thread) while the run goes on, and `exceptions_made(table)`
    to have the exceptions as soon as they are made (before the daily summary)."""
    ledger = ledger if ledger is not None else output.Ledger()
    try:
        return _run(conn, start, end, hotel_ids, rules, decisions or [], ledger, exceptions_made)
    except BaseException as exc:
        ledger.close(exc)
        raise


def _run(conn, start, end, hotel_ids, rules: Rules, decisions: list[Decision], ledger: output.Ledger,
         exceptions_made=None) -> MatchOutput:
    clock = Clock()
    window = Window(start, end, tuple(hotel_ids) if hotel_ids is not None else None)
    tables = [t for t in ("pms_postings", "tpe_transactions", "psp_transactions", "remittances")
              if sides.table_exists(conn, t)]
    hotels = sides.hotel_codes(conn, window, tables)
    ledger.hotels = hotels
    hs = hotel_settings(conn, hotels, rules)
    remitted = "remittances" in tables
    refs = sides.carried_refs(conn, window, sides.PMS_TPE_SCOPE, ("ref",))
    # The first leg's ids are read beside the exact stage, once its first big join is done (they
    # are for the outputs and for ties; millions of them, held through the joins, were the run's
    # peak of memory), unless people's decisions name records at once.
    late = not any(d.kind in ("pin", "split") for d in decisions)

    def read_postings(c):
        return sides.load_postings(c, window, sides.PMS_TPE_SCOPE, hotels, refs, late_ids=late)

    def read_tickets(c):
        return sides.load_tickets(c, window, rules.void_window_s, hotels, refs=remitted or bool(refs),
                                  terminals=remitted, late_ids=late)

    # the postings read beside the tickets (each read has phases one thread does), unless DuckDB is
    # to use one thread
    if int(conn.execute("SELECT current_setting('threads')").fetchall()[0][0]) > 1:
        postings, (tickets, voided) = _beside(conn, read_postings, read_tickets)
    else:
        postings, (tickets, voided) = read_postings(conn), read_tickets(conn)
    clock.lap("load")
    legs = [Leg("pms_tpe", postings, tickets, hs.window_s, hs.tol_cents, hs.tol_pct)]
    pa.default_memory_pool().release_unused()  # what reading left behind, back to the system
    clock.lap("load")
    _apply_decisions(legs[0], decisions)

    # Which refunds had a sale before, and the other legs' records: read beside the exact stage,
    # each on a cursor of its own (one connection runs one query at a time; refund originals are
    # looked up again later, from the thread finishing the exact batches and from classify).
    cursor, reader = conn.cursor(), conn.cursor()
    # The exact stage's batches are finished (base flags, refunds without an original) and handed
    # to the ledger by a thread of their own, while the stage goes on.
    with ThreadPoolExecutor(1, thread_name_prefix="beside the exact stage") as pool, \
            ThreadPoolExecutor(1, thread_name_prefix="exact batches") as finisher, \
            ThreadPoolExecutor(1, thread_name_prefix="ids") as id_reader:
        originals = pool.submit(refund_originals, cursor, tickets, window, hotels, rules)
        others = pool.submit(_other_legs, reader, window, tables, hotels, hs, tickets, decisions)
        handed, finishing = [], []

        def finish(b):
            def flag(b):  # on the batch in posting order: its records are read in sequence
                b.flags |= legs[0].base_flags(b.lf, b.r)
                _flag_refunds(legs[0], [b], originals.result())

            ledger.add_pairs(legs[0], b, before=flag)

        def settled(b):
            handed.append(b)
            finishing.append(finisher.submit(finish, b))

        ids_read = []

        def joined():  # the ids, on a cursor of their own (the postings' first: the writer's match ids)
            if not ids_read:
                ids_read.append(id_reader.submit(_read_ids, conn.cursor(), [postings, tickets]))

        try:
            run_pms_tpe(legs[0], conn, rules, clock, settled, joined)
            joined()
            ids_read[0].result()
            for job in finishing:
                job.result()
            has_original = originals.result()
            legs += others.result()
            # the references were for the first leg's reference stage, the terminals for the
            # remittance leg, which holds its own copies: let go (the run's peak comes later)
            for side in (postings, tickets):
                side.extra.pop("ref", None)
                side.extra.pop("terminal", None)
        except BaseException:
            cursor.interrupt()
            reader.interrupt()
            for side in (postings, tickets):
                side.abandon_ids()
            raise
    reader.close()
    pa.default_memory_pool().release_unused()
    run_pms_psp(legs[1], conn, rules, clock)
    if len(legs) > 2:
        run_tpe_remittance(legs[2], conn, rules, clock)
    rest = [b for b in legs[0].pairs_ if not any(b is h for h in handed)]
    _flag_refunds(legs[0], rest, has_original)
    for leg in legs:
        for b in (rest if leg is legs[0] else leg.pairs_):
            ledger.add_pairs(leg, b)
        for g in leg.groups_:
            ledger.add_groups(leg, g)
    ledger.close()
    # The records' card families and their money per day do not depend on what is left over: made
    # beside the classification.
    with ThreadPoolExecutor(1, thread_name_prefix="daily summary") as beside:
        money = beside.submit(_families_and_money, legs, hotels)
        codes = [classify(leg, conn, rules, has_original) for leg in legs]
        cursor.close()
        clock.lap("classify")
        families, grid = money.result()
    for leg, (lcode, rcode), (fl, fr) in zip(legs, codes, families, strict=True):
        ledger.add_exceptions(leg, lcode, rcode, fl, fr)
    resolutions = {d.exception_id: (d.decided_at, f"{d.comment} ({d.decided_by})".strip())
                   for d in decisions if d.kind == "resolve" and d.exception_id}
    exceptions = ledger.exceptions(opened_at_fn(hs), resolutions)
    if exceptions_made is not None:
        exceptions_made(exceptions)
    clock.lap("ledger")
    resolved = np.asarray(exceptions.column("resolved_at").is_valid()) if exceptions.num_rows else np.zeros(0, bool)
    summary = grid.table(ledger, resolved)
    clock.lap("summary")
    stats = {
        "rows_in": {"pms_postings": int(legs[0].left.n + legs[1].left.n), "tpe_transactions": int(tickets.n),
                    "psp_transactions": int(legs[1].right.n),
                    "remittances": int(legs[2].right.n) if len(legs) > 2 else 0},
        "voided_ticket_pairs": voided,
        "matched_by_rule": {f"{leg.name}:{k}": v for leg in legs for k, v in leg.counts.items()},
        "seconds": clock.seconds,
        "cpu_seconds": clock.cpu,
        "hotels": len(hotels),
        "records_matched": ledger.rows,
        "matched_left_records_by_stage": dict(sorted(ledger.left_by_stage.items())),
    }
    return MatchOutput(ledger, exceptions, summary, stats)


__all__ = ["Decision", "MatchOutput", "Rules", "run_matching"]
