"""The exact stage's join (`window_join`, in C): every pair of records with the same key within the
hotel's window, none other, as DuckDB's join or a plain comparison of every pair finds them."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lettrage.recon.matching import _window_join
from lettrage.recon.matching.window_join import same_key_within


def _every_pair(kl, tl, left, kr, tr, hr, right, lo, hi) -> set[tuple[int, int, int]]:
    """Each left record against each right record."""
    dt = tl[left][:, None] - tr[right][None, :]
    h = hr[right][None, :]
    ok = (kl[left][:, None] == kr[right][None, :]) & (dt >= lo[h]) & (dt <= hi[h])
    a, b = np.nonzero(ok)
    return set(zip(left[a].tolist(), right[b].tolist(), dt[a, b].tolist(), strict=True))


def _found(cand: dict) -> set[tuple[int, int, int]]:
    assert cand["l"].dtype == cand["r"].dtype == cand["dt"].dtype == np.int32
    found = list(zip(cand["l"].tolist(), cand["r"].tolist(), cand["dt"].tolist(), strict=True))
    assert len(found) == len(set(found)), "a pair given twice"
    return set(found)


def _sides(rng, nl: int, nr: int, keys: int, hotels: int):
    kl, kr = rng.integers(0, keys, nl), rng.integers(0, keys, nr)
    tl, tr = rng.integers(0, 20_000, nl), rng.integers(0, 20_000, nr)
    return kl, tl, kr, tr, rng.integers(0, hotels, nr).astype(np.int32)


def test_the_pairs_are_those_a_comparison_of_every_pair_finds():
    """Few keys (many records share one), each hotel its own window, lopsided (a posting after
    its ticket), and some records left out."""
    rng = np.random.default_rng(5)
    kl, tl, kr, tr, hr = _sides(rng, 3000, 2500, 400, 7)
    lo = -rng.integers(0, 600, 7)
    hi = rng.integers(0, 3000, 7)
    left = np.flatnonzero(rng.random(3000) < 0.8)
    right = np.flatnonzero(rng.random(2500) < 0.9)
    cand = same_key_within(kl, tl, left, kr, tr, hr, right, lo, hi)
    expected = _every_pair(kl, tl, left, kr, tr, hr, right, lo, hi)
    assert len(expected) > 1000
    assert np.all(np.diff(cand["l"]) >= 0), "pairs in left-record order"
    assert _found(cand) == expected


def test_the_window_s_bounds_count_and_nothing_beyond_them():
    key = np.array([7, 7, 7, 7])
    ts_l = np.array([1000, 1000, 1000, 1000])
    ts_r = np.array([1000 - 60, 1000 - 61, 1000 + 30, 1000 + 31])  # gaps 60, 61, -30, -31
    hotel = np.zeros(4, np.int32)
    cand = same_key_within(key[:1], ts_l[:1], np.array([0]), key, ts_r, hotel, np.arange(4),
                           np.array([-30]), np.array([60]))
    assert _found(cand) == {(0, 0, 60), (0, 2, -30)}


def test_more_pairs_than_records_are_all_given():
    """Fifty identical charges on each side: 2,500 pairs, more than the room first made for them."""
    key = np.full(50, 42)
    ts = np.arange(50) * 10
    hotel = np.zeros(50, np.int32)
    everyone = np.arange(50)
    cand = same_key_within(key, ts, everyone, key, ts, hotel, everyone, np.array([-1000]), np.array([1000]))
    assert len(cand["l"]) == 2500
    assert _found(cand) == _every_pair(key, ts, everyone, key, ts, hotel, everyone, np.array([-1000]),
                                       np.array([1000]))


def test_millions_of_keys_split_in_parts_give_what_duckdb_s_join_gives():
    """Enough records that both sides are split in many parts before they are joined."""
    rng = np.random.default_rng(9)
    n = 400_000
    kl, tl, kr, tr, hr = _sides(rng, n, n, 300_000, 50)
    kl = (kl.astype(np.int64) << 20) | 0x5A5A5  # keys alike in their low bits, as card keys are
    kr = (kr.astype(np.int64) << 20) | 0x5A5A5
    lo, hi = np.full(50, -1800), np.full(50, 1800)
    left, right = np.arange(n), np.arange(n)
    cand = same_key_within(kl, tl, left, kr, tr, hr, right, lo, hi)
    conn = duckdb.connect()
    conn.register("l", pa.table({"i": left, "k": kl, "ts": tl}))
    conn.register("r", pa.table({"i": right, "k": kr, "ts": tr}))
    rows = conn.sql("SELECT l.i, r.i, l.ts - r.ts FROM l JOIN r ON l.k = r.k "
                    "AND l.ts BETWEEN r.ts - 1800 AND r.ts + 1800").fetchall()
    assert len(rows) > 10_000
    assert _found(cand) == set(rows)


def test_no_records_on_a_side_no_pairs():
    key, ts, hotel = np.array([1, 2]), np.array([0, 0]), np.zeros(2, np.int32)
    cand = same_key_within(key, ts, np.zeros(0, int), key, ts, hotel, np.arange(2), np.array([-5]), np.array([5]))
    assert all(len(v) == 0 for v in cand.values())


def test_bad_input_is_refused_with_what_is_wrong():
    key, ts, hotel = np.array([1, 2]), np.array([0, 0]), np.zeros(2, np.int32)
    with pytest.raises(IndexError, match="out of range"):
        same_key_within(key, ts, np.array([2]), key, ts, hotel, np.arange(2), np.array([-5]), np.array([5]))
    with pytest.raises(IndexError, match="out of range"):  # a hotel with no window
        same_key_within(key, ts, np.arange(2), key, ts, np.array([0, 1], np.int32), np.arange(2), np.array([-5]),
                        np.array([5]))
    with pytest.raises(ValueError, match="32 bits"):
        same_key_within(key, ts, np.arange(2), key, ts, hotel, np.arange(2), np.array([0]), np.array([2 ** 31]))
    out = np.empty(4, np.int32)
    with pytest.raises(ValueError, match="differ in length"):
        _window_join.join(key, ts[:1], np.arange(2, dtype=np.int32), key, ts, hotel, np.arange(2, dtype=np.int32),
                          np.array([-5]), np.array([5]), out, out, out)
    with pytest.raises(TypeError, match="4-byte items"):
        _window_join.join(key, ts, np.arange(2), key, ts, hotel, np.arange(2, dtype=np.int32), np.array([-5]),
                          np.array([5]), out, out, out)
