"""The pairs of card payments of the same card and amount whose times lie within a window: the
exact stage's join of millions of postings against millions of tickets on their hotel, last 4
and amount.

DuckDB's hash join gives the same pairs, but at 10 M + 10 M records it spends 3 to 4 CPU-seconds
waiting on memory (every probe a cache miss in a table of hundreds of MB). `_window_join.c`
first splits both sides by a hash of the key into parts whose table fits in a core's cache:
about one CPU-second for the same pairs, on one core. Every other join stays in DuckDB.

`shared` is the reference stage's first step: which records' references (hashed) may be on the
other side at all, so that DuckDB joins those few, not millions of references that never meet.
`same_card` does the same for the few unmatched records looked up among their whole side (which
repeat another, which refunds had a sale before).
"""

from __future__ import annotations

import numpy as np

from lettrage.recon.matching import _window_join
from lettrage.recon.matching.sides import Side


def same_card_within(left: Side, lpos: np.ndarray, right: Side, rpos: np.ndarray, lo, hi) -> dict[str, np.ndarray]:
    """Pairs of records `lpos` of `left` and `rpos` of `right` (positions; each with a card number
    and an amount within +-`sides.KEY_AMOUNT`) of the same hotel, last 4 and amount, with
    lo[h] <= l.ts - r.ts <= hi[h] for their hotel h (bounds per hotel code, within 32 bits):
    l, r (int32) and dt = l.ts - r.ts (int32), in left-record order (what is done with millions of
    them next then reads the left records in sequence)."""
    lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    if len(lo) and max(-int(lo.min()), int(hi.max())) >= 2 ** 31:
        raise ValueError("a window of more than 68 years does not fit the gaps' 32 bits")
    args = [a for side, pos in ((left, lpos), (right, rpos))
            for a in (side.hotel, side.last4, side.amount, side.ts, np.ascontiguousarray(pos, dtype=np.int32))]
    cap = max(len(lpos), len(rpos)) + 1024  # the exact stage: about one pair per record
    while True:
        out = {name: np.empty(cap, dtype=np.int32) for name in ("l", "r", "dt")}
        n = _window_join.join(*args, lo, hi, out["l"], out["r"], out["dt"])
        if n <= cap:
            return {name: values[:n] for name, values in out.items()}
        cap = n  # more pairs than room for them: once more, with room for all


def shared(a: np.ndarray, on_a: np.ndarray, b: np.ndarray, on_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which keys of `a` (int64, 0: none; records where the mask `on_a` holds) may be among those
    of `b`, and which of `b` among those of `a`: two masks. Every key the two share is kept; a few
    of the others too, through filters of bits (no sort, no hash table of millions of keys)."""
    a, b = np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(b, dtype=np.int64)
    out_a, out_b = np.empty(len(a), dtype=bool), np.empty(len(b), dtype=bool)
    _window_join.shared(a, np.ascontiguousarray(on_a, dtype=bool), b, np.ascontiguousarray(on_b, dtype=bool),
                        out_a, out_b)
    return out_a, out_b


def same_card(side: Side, of: np.ndarray, amount: bool = True) -> np.ndarray:
    """Which records of `side` may have the card and amount (hotel, last 4, amount; `amount=False`:
    the card alone) of one of its records `of` (positions): a mask holding every one that has, and
    a few others (bit filters, no sort, no hash table of millions of records); no record without a
    card number."""
    out = np.empty(side.n, dtype=bool)
    _window_join.same_card(side.hotel, side.last4, side.amount if amount else np.zeros(0, np.int64),
                           np.ascontiguousarray(of, dtype=np.int32), out)
    return out
