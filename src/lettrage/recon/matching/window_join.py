"""The pairs of card payments of the same card and amount whose times lie within a window: the
exact stage's join of millions of postings against millions of tickets on their hotel, last 4
and amount.

DuckDB's hash join gives the same pairs, but at 10 M + 10 M records it spends 3 to 4 CPU-seconds
waiting on memory (every probe a cache miss in a table of hundreds of MB). `_window_join.c`
first splits both sides by a hash of the key into parts whose table fits in a core's cache:
about one CPU-second for the same pairs, on one core. Every other join stays in DuckDB.
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
