"""The stages of a leg, strongest evidence first. Each stage only sees what earlier stages left.

pms_tpe (PMS card postings vs terminal tickets):
  reference    the posting's reference is the ticket's "numéro du fichier remis"
  exact        same hotel, last 4 and amount, within the hotel's window (either side of it);
               first, days the PMS clock was whole hours off (nearly no posting of the day has
               a ticket in the window, most have one hours away) are read, and every stage
               measures their postings' times on the corrected clock (rules *_pms_clock)
  split        one posting for several tickets of the same card, or the reverse (subset sums)
  late         same card and amount, posted after the window, up to a day later   -> LATE_POSTING
  tolerant     same card, within the window, amounts differ within the tolerance  -> AMOUNT_MISMATCH
  pan          same amount within the window, last 4 differ (keying error)        -> PAN_MISMATCH
               (another card number altogether: a compatible brand, posted just after)
  no_card      same amount within the window, one side has no card number, and neither has
               another candidate
pms_psp (PMS postings on the PSP code vs paid PSP operations):
  reference    the posting's reference or confirmation number is the PSP order id (same amount;
               then a differing amount -> AMOUNT_MISMATCH)
  exact        same card and amount, the posting within a few days after the payment
  amount_time  same amount in that window, neither side with another candidate
tpe_remittance (terminal tickets vs acquirer remittance lines):
  reference    the same "numéro du fichier remis" (then a differing amount -> REMITTANCE_MISMATCH)
  exact        same card and amount on the same business date
  batch        a line without card for a terminal's day: the day's tickets add up to it
  tolerant     same card and day, amounts differ within the tolerance -> REMITTANCE_MISMATCH
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lettrage.recon.matching import splits
from lettrage.recon.matching.legs import BIT, Leg, of_hotels, pack
from lettrage.recon.matching.select import id_ranks, lone_edges, one_to_one, twin_rank
from lettrage.recon.matching.window_join import shared


@dataclass(frozen=True)
class Rules:
    """Engine-wide rules. Per-hotel settings (window, tolerance) come from the hotels table."""

    window_minutes: int = 30
    tolerance_cents: int = 500
    tolerance_pct: int = 100
    skew_factor: float = 4.0  # a posting before its ticket costs this many times the gap
    late_posting_s: int = 24 * 3600
    split_window_factor: float = 1.5
    split_max_candidates: int = 12
    duplicate_tpe_s: int = 300  # "the same card charged the same amount twice within minutes": five
    duplicate_pms_s: int = 900  # "the same payment posted twice": minutes apart
    # a repeat of an identical posting / ticket, when one must go, costs this x the window, per
    # repeat before it in its chain (a posting's own lag tells the original from its repeat; two
    # tickets need the penalty; of three identical tickets the third goes, not the second)
    pms_twin_penalty: float = 0.3
    tpe_twin_penalty: float = 1.5
    psp_before_s: int = 3600
    psp_after_s: int = 3 * 24 * 3600
    void_window_s: int = 1800
    # a posting matched to a ticket of the same amount whose last 4 is not a typo of its own
    # (PAN_MISMATCH, another card number): at most this long before / after the ticket
    other_card_before_s: int = 120
    other_card_after_s: int = 900
    # a PMS clock off by whole hours for a day (`pms_clock`): at most this many hours, seen on at
    # least this many postings of the day
    clock_max_hours: int = 3
    clock_min_postings: int = 5
    refund_lookback_days: int = 180
    refund_clock_s: int = 300  # a sale this much after its refund still counts (terminals' clocks)


def card_key(side, nodes: np.ndarray, with_amount: bool = True) -> np.ndarray:
    """(hotel, last 4, amount) of some records packed in one int64 (with_amount=False: the sign
    instead of the amount)."""
    if with_amount:
        return side.card_keys(nodes)
    last4 = np.maximum(side.last4[nodes], 0)
    amount = side.amount[nodes]
    return pack((side.hotel[nodes], 16), (last4, 14), ((amount < 0).astype(np.int64), 1))


def choose_pairs(leg: Leg, cand: dict, cost, rules: Rules, twins: bool = False,
                 unique_only: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pair per record among the candidates; `cost` is an array over them or a function of
    candidate positions (priced only where records compete)."""
    lf, r = cand["l"], cand["r"]
    if len(lf) == 0:
        return lf, r, np.zeros(0, bool)
    if unique_only:
        dl = np.bincount(lf)
        dr = np.bincount(r)
        keep = (dl[lf] == 1) & (dr[r] == 1)
        return lf[keep], r[keep], keep
    lp = rp = None
    if twins:
        def lp(nodes):
            rank = twin_rank(card_key(leg.left, nodes), leg.left.ts[nodes], rules.duplicate_pms_s)
            return rank * rules.pms_twin_penalty * leg.window_s[leg.left.hotel[nodes]]

        def rp(nodes):
            rank = twin_rank(card_key(leg.right, nodes), leg.right.ts[nodes], rules.duplicate_tpe_s)
            return rank * rules.tpe_twin_penalty * leg.window_s[leg.right.hotel[nodes]]

    chosen = one_to_one(lf, r, cost, lambda: leg.left.ids, lambda: leg.right.ids, lp, rp)
    return lf[chosen], r[chosen], chosen


# --- generic stages ---------------------------------------------------------------------------

def _pairs(leg: Leg, conn, lmask, rmask, on: str, lo, hi, shift: np.ndarray | None, **kw) -> dict:
    """`leg.pairs` with the window [lo, hi] applied to the posting's time minus its `shift` (a
    PMS clock found off by whole hours, `pms_clock`); dt comes back corrected the same way."""
    if shift is None:
        return leg.pairs(conn, lmask, rmask, on, lo, hi, **kw)
    h = leg.right.hotel
    rcols = {**(kw.pop("rcols", None) or {}), "lo": np.asarray(lo, dtype=np.int64)[h],
             "hi": np.asarray(hi, dtype=np.int64)[h]}
    lcols = {**(kw.pop("lcols", None) or {}), "sh": shift}
    cand = leg.pairs(conn, lmask, rmask, on + " AND l.ts - l.sh BETWEEN r.ts + r.lo AND r.ts + r.hi",
                     lcols=lcols, rcols=rcols, **kw)
    cand["dt"] = cand["dt"] - shift[cand["l"]]
    return cand


def _add_pairs(leg: Leg, lf, r, stage: str, rule: str, flags, base, shift: np.ndarray | None, dt=None) -> int:
    """`leg.add_pairs`; pairs whose posting was read on a corrected PMS clock get the rule
    `<rule>_pms_clock` (their time_delta_s still shows the clocks as they were)."""
    s = shift[lf] != 0 if shift is not None else None
    if s is None or not s.any():
        return leg.add_pairs(lf, r, stage, rule, flags, base=base, dt=dt)
    made = 0
    for part, name in ((~s, rule), (s, f"{rule}_pms_clock")):
        made += leg.add_pairs(lf[part], r[part], stage, name, flags, base=None if base is None else base[part],
                              dt=None if dt is None else dt[part])
    return made


def pms_clock(leg: Leg, conn, rules: Rules, window_s: np.ndarray, busy_l: np.ndarray | None = None,
              busy_r: np.ndarray | None = None, only: np.ndarray | None = None) -> np.ndarray | None:
    """A PMS clock off by whole hours for a hotel's business date (a time zone or summer time set
    wrong): that day's postings all lag their tickets by about that many hours, so none has a
    ticket within the window. Read on the free records without one (`busy_l`/`busy_r`: the
    records that have one), per hotel and business date of the posting:
    - days where most card postings are left (at least a quarter of the hotel's average day,
      then most of the day's own postings, counted on every fourth one: an estimate is enough),
      at least `clock_min_postings`;
    - their postings' candidate tickets (same card and amount, up to `clock_max_hours` away):
      the offset is the whole hours nearest the median lag, kept when that median lies within a
      third of the window of them and most of the day's card postings have a ticket there.
    `only` (a mask over hotel codes): those hotels' postings alone are read.
    Returns the offset (seconds) of every posting of such days, 0 elsewhere; None when none."""
    L, R = leg.left, leg.right
    lfree = leg.lfree & (L.last4 >= 0)
    if only is not None:
        lfree &= of_hotels(only, L.hotel)
    if busy_l is not None:
        lfree[busy_l] = False
    left = np.flatnonzero(lfree)
    if len(left) < rules.clock_min_postings:
        return None
    left_key = pack((L.hotel[left], 16), (L.bdate[left], 24))
    keys, n_left = np.unique(left_key, return_counts=True)
    # a quarter of the hotel's average day at least (its postings over the run's days, counted on
    # every 16th), before the day's own count below
    days = L.bdate[::16]
    average = 16 * np.bincount(L.hotel[::16], minlength=len(window_s)) / (int(days.max()) - int(days.min()) + 1)
    many = (n_left >= rules.clock_min_postings) & (4 * n_left >= average[keys >> 24])
    keys, n_left = keys[many], n_left[many]
    if len(keys) == 0:
        return None
    # the day's card postings, counted on every fourth posting: enough to tell most from few
    step, d0 = 4, int((keys & 0xFFFFFF).min())
    span = int((keys & 0xFFFFFF).max()) - d0 + 1
    hotels = np.full(len(window_s), -1, dtype=np.int64)  # the hotels of those days, numbered
    hotels[np.unique(keys >> 24)] = np.arange(len(np.unique(keys >> 24)))
    day, h = L.bdate[::step] - d0, hotels[L.hotel[::step]]
    cell = np.where((day >= 0) & (day < span) & (h >= 0) & (L.last4[::step] >= 0), h * span + day, -1)
    dense = np.bincount(cell[cell >= 0], minlength=int(hotels.max() + 1) * span)
    day_postings = step * dense[hotels[keys >> 24] * span + (keys & 0xFFFFFF) - d0]

    def most(count_per_key, of_keys):
        return (count_per_key >= rules.clock_min_postings) & (count_per_key * 2 > day_postings[of_keys])

    days = most(n_left, np.arange(len(keys)))
    if not days.any():
        return None
    lm = np.zeros(L.n, dtype=bool)
    lm[left[np.isin(left_key, keys[days])]] = True
    far = np.asarray(window_s, dtype=np.int64) + rules.clock_max_hours * 3600
    rfree = leg.rfree & (R.last4 >= 0)
    if busy_r is not None:
        rfree[busy_r] = False
    cand = leg.pairs(conn, lm, rfree, "l.h = r.h AND l.c = r.c AND l.a = r.a", -far, far)
    if len(cand["l"]) == 0:
        return None
    lf, dt = cand["l"], cand["dt"]
    key = pack((L.hotel[lf], 16), (L.bdate[lf], 24))
    order = np.lexsort((dt, key))
    key, dt, lf = key[order], dt[order], lf[order]
    ck, start, count = np.unique(key, return_index=True, return_counts=True)
    median = (dt[start + (count - 1) // 2] + dt[start + count // 2]) / 2
    hours = np.round(median / 3600).astype(np.int64)
    w = window_s[ck >> 24]
    near = (hours != 0) & (np.abs(median - hours * 3600) <= w / 3)
    there = np.abs(dt - np.repeat(hours * 3600, count)) <= np.repeat(w, count)
    posting = np.unique(lf[there])  # the postings with a ticket at that offset
    found = np.bincount(np.searchsorted(ck, pack((L.hotel[posting], 16), (L.bdate[posting], 24))),
                        minlength=len(ck))
    good = near & most(found, np.searchsorted(keys, ck))
    if not good.any():
        return None
    lkey = pack((L.hotel, 16), (L.bdate, 24))
    at = np.searchsorted(ck[good], lkey).clip(0, int(good.sum()) - 1)
    return np.where(ck[good][at] == lkey, (hours[good] * 3600)[at], 0)


SAME_CARD = "l.h = r.h AND l.c = r.c AND (l.a < 0) = (r.a < 0)"


def exact_card(leg: Leg, conn, rules: Rules, stage: str, rule: str, lo: np.ndarray, hi: np.ndarray,
               extra_flags: int = 0, twins: bool = True, shift: np.ndarray | None = None, early=None) -> int:
    """Same hotel, last 4 and amount; l.ts - r.ts within [lo, hi] of the ticket's hotel (the
    posting's time corrected by `shift`, see `pms_clock`). An amount beyond 85 million is left to
    the later stages. `early(batch)` is handed the pairs no other candidate contests as soon as
    they are known, the others come after."""
    cand = _pairs(leg, conn, *leg.free_cards(keyed=True), "l.k = r.k", lo, hi, shift)
    return _choose_exact(leg, cand, rules, stage, rule, extra_flags, twins, shift, early)


def exact_card_and_clock(leg: Leg, conn, rules: Rules, stage: str, rule: str, w: np.ndarray,
                         early=None, joined=None) -> np.ndarray | None:
    """The exact stage within the window [-w, w], the PMS clock read first (`pms_clock`) on the
    records without any candidate in the window: on a day the clock was hours off nearly all the
    day's postings have none (their tickets lie hours apart; what they have are other payments
    of the same card and amount). Those days' postings are kept out of the window's choice and
    matched on the corrected clock. Returns the postings' clock offsets (None: none found), for
    the later stages.

    Millions of records are joined a group of hotels at a time (`Leg.hotel_groups`); a group's
    uncontested pairs go to `early` as soon as its join is read, while the next is joined (a
    contest never crosses hotels: the contested pairs are chosen together at the end).
    `joined()` is called once the first group is joined and its pairs recorded (what that join
    held is let go of), while the others are still to come."""
    L, R = leg.left, leg.right
    lm, rm = leg.lfree & L.keyed(), leg.rfree & R.keyed()
    shift, contested = None, []
    for group, hotels in enumerate(leg.hotel_groups(lm, rm)):
        cand = leg.pairs(conn, *((lm, rm) if hotels is None else (lm & of_hotels(hotels, L.hotel),
                                                                  rm & of_hotels(hotels, R.hotel))),
                         "l.k = r.k", -w, w)
        found = pms_clock(leg, conn, rules, w, cand["l"], cand["r"], only=hotels)
        if found is not None:
            shift = found if shift is None else shift + found  # the groups' hotels are apart
            keep = found[cand["l"]] == 0
            cand = {k: v[keep] for k, v in cand.items()}
        contested.append(_record_uncontested(leg, cand, stage, rule, 0, None, early)[1])
        del cand
        if group == 0 and joined is not None:
            joined()
    for side in (L, R):  # the later stages look at a few records
        side.extra.pop("_keyed", None)
    _choose_exact(leg, {k: np.concatenate([c[k] for c in contested]) for k in contested[0]}, rules, stage, rule, 0,
                  True, None, early)
    if shift is not None:
        exact_card(leg, conn, rules, stage, rule, -w, w, shift=shift, early=early)
    return shift


def _choose_exact(leg: Leg, cand: dict, rules: Rules, stage: str, rule: str, extra_flags: int, twins: bool,
                  shift: np.ndarray | None, early) -> int:
    """One pair per record among exact candidates: those no other candidate contests recorded at
    once, then the best of the rest."""
    made, rest = _record_uncontested(leg, cand, stage, rule, extra_flags, shift, early)
    cand.clear()  # millions of candidates: gone before anything else is made
    L = leg.left

    def cost(e):
        lf, r = rest["l"][e], rest["r"][e]
        c = leg.time_cost(rest["dt"][e], lf, rules.skew_factor)
        return c + np.where(_compatible(leg, lf, r), 0.0, 3.0 * leg.window_s[L.hotel[lf]])

    _, _, chosen = choose_pairs(leg, rest, cost, rules, twins=twins)
    return made + _record_exact(leg, rest, chosen, stage, rule, extra_flags, shift, early)


def _record_uncontested(leg: Leg, cand: dict, stage: str, rule: str, extra_flags: int, shift: np.ndarray | None,
                        early) -> tuple[int, dict]:
    """Record the candidates whose two records have no other candidate (taken whatever the
    rest): how many, and the rest."""
    alone = lone_edges(cand["l"], cand["r"])
    made = _record_exact(leg, cand, alone, stage, rule, extra_flags, shift, early)
    return made, {k: v[~alone] for k, v in cand.items()}


def _record_exact(leg: Leg, cand: dict, mask: np.ndarray, stage: str, rule: str, extra_flags: int,
                  shift: np.ndarray | None, early) -> int:
    """Record the exact candidates `mask` picks. With `early`, each batch is handed to it at once,
    its base flags (`Leg.base_flags`) still to be added (done there, off the engine's thread)."""
    lf, r, dt = cand["l"][mask], cand["r"][mask], cand["dt"][mask]
    if shift is not None:
        dt = dt + shift[lf]  # the gap as the clocks showed it
    before = len(leg.pairs_)
    base = np.zeros(len(lf), np.int32) if early is not None else leg.base_flags(lf, r)
    made = _add_pairs(leg, lf, r, stage, rule, extra_flags, base, shift, dt)
    if early is not None:
        for batch in leg.pairs_[before:]:
            early(batch)
    return made


def _compatible(leg: Leg, lf, r):
    from lettrage.recon.matching.brands import compatible

    return compatible(leg.left.brand[lf], leg.right.brand[r])


def tolerant_amount(leg: Leg, conn, rules: Rules, stage: str, rule: str, lo: np.ndarray, hi: np.ndarray,
                    same_day: bool = False, shift: np.ndarray | None = None) -> int:
    """Same card and sign within the window, amounts differ within max(tolerance, pct of amount)."""
    L, R = leg.left, leg.right
    on = SAME_CARD + " AND l.a <> r.a" + (" AND l.d = r.d" if same_day else "")
    cand = _pairs(leg, conn, *leg.free_cards(), on, lo, hi, shift)
    lf, r = cand["l"], cand["r"]
    if len(lf) == 0:
        return 0
    delta = np.abs(L.amount[lf] - R.amount[r])
    h = L.hotel[lf]
    allowed = np.maximum(leg.tol_cents[h], leg.tol_pct[h] * np.maximum(np.abs(L.amount[lf]), np.abs(R.amount[r])) // 100)
    keep = delta <= allowed
    cand = {k: v[keep] for k, v in cand.items()}
    lf, r, delta = cand["l"], cand["r"], delta[keep]
    w = leg.window_s[L.hotel[lf]].astype(np.float64)
    cost = leg.time_cost(cand["dt"], lf, rules.skew_factor) + 4.0 * w * delta / np.maximum(np.abs(R.amount[r]), 1)
    lf, r, _ = choose_pairs(leg, cand, cost, rules)
    return _add_pairs(leg, lf, r, stage, rule, 0, None, shift)


def amount_only(leg: Leg, conn, rules: Rules, stage: str, rule: str, lo, hi, lmask, rmask,
                extra_on: str = "", flags: int = 0, unique_only: bool = False, hamming: bool = False,
                shift: np.ndarray | None = None) -> int:
    """Same hotel and amount within [lo, hi]: for keying errors on the last 4 (extra_on) and for
    records without a card number (unique pairs only)."""
    L, R = leg.left, leg.right
    cand = _pairs(leg, conn, leg.free(0, lmask), leg.free(1, rmask), "l.h = r.h AND l.a = r.a" + extra_on, lo, hi,
                  shift)
    if len(cand["l"]) == 0:
        return 0
    cost = leg.time_cost(cand["dt"], cand["l"], rules.skew_factor)
    cost = cost + np.where(_compatible(leg, cand["l"], cand["r"]), 0.0, 3.0 * leg.window_s[L.hotel[cand["l"]]])
    if hamming:  # a typo (one digit, or two neighbours swapped) is likelier than another card
        typo = _keying_error(L.last4[cand["l"]], R.last4[cand["r"]])
        # Another card number altogether is weak evidence (a busy day has many payments of 50.00
        # or 80.00): only of a compatible brand, posted just after the ticket.
        keep = typo | (_compatible(leg, cand["l"], cand["r"]) & (cand["dt"] >= -rules.other_card_before_s)
                       & (cand["dt"] <= rules.other_card_after_s))
        cand = {k: v[keep] for k, v in cand.items()}
        cost = cost[keep] + np.where(typo[keep], 0.0, 2.0 * leg.window_s[L.hotel[cand["l"]]])
    lf, r, _ = choose_pairs(leg, cand, cost, rules, unique_only=unique_only)
    return _add_pairs(leg, lf, r, stage, rule, flags, None, shift)


def _keying_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    da = np.stack([(a // 10 ** k) % 10 for k in (3, 2, 1, 0)], axis=1)
    db = np.stack([(b // 10 ** k) % 10 for k in (3, 2, 1, 0)], axis=1)
    diff = da != db
    one = diff.sum(axis=1) == 1
    swap = np.zeros(len(a), dtype=bool)
    for i in range(3):
        others = np.delete(diff, [i, i + 1], axis=1).any(axis=1)
        swap |= (da[:, i] == db[:, i + 1]) & (da[:, i + 1] == db[:, i]) & diff[:, i] & ~others
    return one | swap


def references(leg: Leg, conn, rules: Rules, lref: str, rref: str = "ref", mismatch: bool = True,
               stage: str = "reference", rule: str = "reference") -> int:
    """The same reference on both sides (and the same hotel): same amount first, then (same sign)
    a differing amount, flagged."""
    L, R = leg.left, leg.right
    if lref not in L.extra or rref not in R.extra:
        return 0
    # references as hash bits (`sides.ref_sql`, 0: none); where they rarely meet (a posting's
    # confirmation number, a ticket's batch reference), the join is of the few that can pair
    lm, rm = (np.flatnonzero(m).astype(np.int32) for m in shared(L.extra[lref], leg.lfree, R.extra[rref], leg.rfree))
    made = 0
    for same_amount in (True, False) if mismatch else (True,):
        if len(lm) == 0 or len(rm) == 0:
            break
        on = "l.h = r.h AND l.ref = r.ref AND " + ("l.a = r.a" if same_amount else "(l.a < 0) = (r.a < 0) AND l.a <> r.a")
        lm, rm = lm[leg.lfree[lm]], rm[leg.rfree[rm]]
        cand = leg.pairs(conn, lm, rm, on, lcols={"ref": L.extra[lref]}, rcols={"ref": R.extra[rref]})
        if len(cand["l"]) == 0:
            continue
        cost = leg.time_cost(cand["dt"], cand["l"], rules.skew_factor)
        if not same_amount:
            cost = cost + 1e6 * np.abs(L.amount[cand["l"]] - R.amount[cand["r"]])
        lf, r, _ = choose_pairs(leg, cand, cost, rules)
        made += leg.add_pairs(lf, r, stage, f"{rule}" if same_amount else f"{rule}_amount_differs")
    return made


def split_stage(leg: Leg, conn, rules: Rules, lo: np.ndarray, hi: np.ndarray, shift: np.ndarray | None = None) -> int:
    """One-to-many then many-to-one, by subset sums in blocks of the same card and sign."""
    made = 0
    for direction in ("one_to_many", "many_to_one"):
        made += _split_direction(leg, conn, rules, lo, hi, direction, shift)
    return made


def _split_direction(leg: Leg, conn, rules: Rules, lo, hi, direction: str, shift=None) -> int:
    L, R = leg.left, leg.right
    lm, rm = leg.free_cards()
    f = rules.split_window_factor
    cand = _pairs(leg, conn, lm, rm, SAME_CARD + " AND " +
                  ("abs(r.a) < abs(l.a)" if direction == "one_to_many" else "abs(l.a) < abs(r.a)"),
                  (lo * f).astype(np.int64), (hi * f).astype(np.int64), shift)
    if len(cand["l"]) == 0:
        return 0
    if direction == "one_to_many":
        target, part, tside, pside = cand["l"], cand["r"], L, R
    else:
        target, part, tside, pside = cand["r"], cand["l"], R, L
    blocks, block_of_edge = np.unique(target, return_inverse=True)
    size = np.bincount(block_of_edge)
    sums = np.zeros(len(blocks), dtype=np.int64)
    np.add.at(sums, block_of_edge, pside.amount[part])
    ok_block = (size >= 2) & (size <= rules.split_max_candidates) & (np.abs(sums) >= np.abs(tside.amount[blocks]))
    keep = ok_block[block_of_edge]
    if not keep.any():
        return 0
    old_blocks = np.flatnonzero(ok_block)
    renumber = -np.ones(len(blocks), dtype=np.int64)
    renumber[old_blocks] = np.arange(len(old_blocks))
    boe, part, tgt = renumber[block_of_edge[keep]], part[keep], target[keep]
    targets = blocks[old_blocks]
    part_order = _time_then_id(pside, part)
    target_order = _time_then_id(tside, targets)
    banned = None
    if leg.forbidden:  # people split these records apart: no way may put them back together
        lf, r = (tgt, part) if direction == "one_to_many" else (part, tgt)
        pairs = np.array(sorted(a << 32 | b for a, b in leg.forbidden), dtype=np.int64)
        banned = np.isin(lf.astype(np.int64) << 32 | r.astype(np.int64), pairs)
    found = splits.choose(boe, part, targets, tside.amount[targets], pside.amount[part], part_order, target_order,
                          rules.split_max_candidates, banned)
    if len(found.target) == 0:
        return 0
    one = np.arange(len(found.target))
    extra = np.where(found.ambiguous, BIT["SPLIT_AMBIGUOUS"], 0).astype(np.int32)
    if direction == "one_to_many":
        return leg.add_group_arrays(one, found.target, found.group, found.part, extra, "split", direction)
    return leg.add_group_arrays(found.group, found.part, one, found.target, extra, "split", direction)


def _time_then_id(side, nodes: np.ndarray) -> np.ndarray:
    """Rank of each of `nodes` (repeats allowed) by time, then id."""
    uniq, inv = np.unique(nodes, return_inverse=True)
    order = np.lexsort((id_ranks(side.ids, uniq), side.ts[uniq]))
    pos = np.empty(len(uniq), dtype=np.int64)
    pos[order] = np.arange(len(uniq))
    return pos[inv]
