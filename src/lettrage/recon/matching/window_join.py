"""The pairs of records with the same key whose times lie within a window: the exact stage's
join of millions of postings against millions of tickets on their (hotel, last 4, amount) key.

DuckDB's hash join gives the same pairs, but at 10 M + 10 M records it spends 3 to 4 CPU-seconds
waiting on memory (every probe a cache miss in a table of hundreds of MB). `_window_join.c`
first splits both sides by a hash of the key into parts whose table fits in a core's cache:
about one CPU-second for the same pairs, on one core. Every other join stays in DuckDB.
"""

from __future__ import annotations

import numpy as np

from lettrage.recon.matching import _window_join


def same_key_within(key_l: np.ndarray, ts_l: np.ndarray, left: np.ndarray, key_r: np.ndarray, ts_r: np.ndarray,
                    hotel_r: np.ndarray, right: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
    """Pairs of records `left` and `right` (positions) with key_l[l] == key_r[r] and
    lo[h] <= ts_l[l] - ts_r[r] <= hi[h], h = hotel_r[r] (bounds per hotel code, within 32 bits):
    l, r (int32) and dt = ts_l[l] - ts_r[r] (int32), in left-record order (what is done with millions
    of them next then reads the left records in sequence)."""
    lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    if len(lo) and max(-int(lo.min()), int(hi.max())) >= 2 ** 31:
        raise ValueError("a window of more than 68 years does not fit the gaps' 32 bits")
    args = (np.ascontiguousarray(key_l, dtype=np.int64), np.ascontiguousarray(ts_l, dtype=np.int64),
            np.ascontiguousarray(left, dtype=np.int32), np.ascontiguousarray(key_r, dtype=np.int64),
            np.ascontiguousarray(ts_r, dtype=np.int64), np.ascontiguousarray(hotel_r, dtype=np.int32),
            np.ascontiguousarray(right, dtype=np.int32), lo, hi)
    cap = max(len(left), len(right)) + 1024  # the exact stage: about one pair per record
    while True:
        out = {name: np.empty(cap, dtype=np.int32) for name in ("l", "r", "dt")}
        n = _window_join.join(*args, out["l"], out["r"], out["dt"])
        if n <= cap:
            return {name: values[:n] for name, values in out.items()}
        cap = n  # more pairs than room for them: once more, with room for all
