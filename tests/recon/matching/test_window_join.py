"""The exact stage's join (`window_join`, in C): every pair of records of the same hotel, card and
amount within the hotel's window, none other, as a comparison of every pair or DuckDB's join
finds them."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lettrage.recon.matching import _window_join
from lettrage.recon.matching.sides import KEY_AMOUNT, Side
from lettrage.recon.matching.window_join import same_card, same_card_within, shared


def _side(hotel, last4, amount, ts) -> Side:
    n = len(hotel)
    return Side("x", pa.array([f"x{i}" for i in range(n)]), np.asarray(hotel, np.int32), np.asarray(ts, np.int64),
                np.asarray(amount, np.int64), np.asarray(last4, np.int16), np.zeros(n, np.int8),
                np.zeros(n, np.int32))


def _random_side(rng, n: int, hotels: int, cards: int, amounts: int) -> Side:
    return _side(rng.integers(0, hotels, n), rng.integers(0, cards, n), rng.integers(-amounts, amounts, n) * 100,
                 rng.integers(0, 20_000, n))


def _every_pair(L: Side, left, R: Side, right, lo, hi) -> set[tuple[int, int, int]]:
    """Each left record against each right record."""
    dt = L.ts[left][:, None] - R.ts[right][None, :]
    h = R.hotel[right][None, :]
    same = ((L.hotel[left][:, None] == h) & (L.last4[left][:, None] == R.last4[right][None, :])
            & (L.amount[left][:, None] == R.amount[right][None, :]))
    a, b = np.nonzero(same & (dt >= lo[h]) & (dt <= hi[h]))
    return set(zip(left[a].tolist(), right[b].tolist(), dt[a, b].tolist(), strict=True))


def _found(cand: dict) -> set[tuple[int, int, int]]:
    assert cand["l"].dtype == cand["r"].dtype == cand["dt"].dtype == np.int32
    assert np.all(np.diff(cand["l"]) >= 0), "pairs in left-record order"
    found = list(zip(cand["l"].tolist(), cand["r"].tolist(), cand["dt"].tolist(), strict=True))
    assert len(found) == len(set(found)), "a pair given twice"
    return set(found)


def test_the_pairs_are_those_a_comparison_of_every_pair_finds():
    """Few cards and amounts (many records share them, across hotels too), each hotel its own
    window, lopsided (a posting after its ticket), refunds, and some records left out."""
    rng = np.random.default_rng(5)
    L, R = _random_side(rng, 3000, 7, 3, 5), _random_side(rng, 2500, 7, 3, 5)
    lo = -rng.integers(0, 600, 7)
    hi = rng.integers(0, 3000, 7)
    left = np.flatnonzero(rng.random(3000) < 0.8)
    right = np.flatnonzero(rng.random(2500) < 0.9)
    expected = _every_pair(L, left, R, right, lo, hi)
    assert len(expected) > 1000 and any(dt < 0 for _, _, dt in expected)
    assert _found(same_card_within(L, left, R, right, lo, hi)) == expected


def test_the_window_s_bounds_count_and_nothing_beyond_them():
    L = _side([0], [1234], [5000], [1000])
    R = _side([0] * 7, [1234] * 5 + [4321, 1234], [5000] * 5 + [5000, -5000],
              [1000 - 60, 1000 - 61, 1000 + 30, 1000 + 31, 1000, 1000, 1000])  # gaps 60, 61, -30, -31
    cand = same_card_within(L, np.array([0]), R, np.arange(7), np.array([-30]), np.array([60]))
    assert _found(cand) == {(0, 0, 60), (0, 2, -30), (0, 4, 0)}  # not another card, nor the refund


def test_more_pairs_than_records_are_all_given():
    """Fifty identical charges on each side: 2,500 pairs, more than the room first made for them."""
    side = _side([3] * 50, [42] * 50, [1999] * 50, np.arange(50) * 10)
    everyone = np.arange(50)
    window = np.full(4, -1000), np.full(4, 1000)
    cand = same_card_within(side, everyone, side, everyone, *window)
    assert len(cand["l"]) == 2500
    assert _found(cand) == _every_pair(side, everyone, side, everyone, *window)


def test_millions_of_records_split_in_parts_give_what_duckdb_s_join_gives():
    """Enough records that both sides are split in many parts before they are joined; amounts at
    the key's limits."""
    rng = np.random.default_rng(9)
    n = 400_000
    L, R = _random_side(rng, n, 300, 100, 10), _random_side(rng, n, 300, 100, 10)
    L.amount[:10], R.amount[:10] = KEY_AMOUNT, KEY_AMOUNT
    L.amount[10:20], R.amount[10:20] = -KEY_AMOUNT, -KEY_AMOUNT
    lo, hi = np.full(300, -1800), np.full(300, 1800)
    everyone = np.arange(n)
    cand = same_card_within(L, everyone, R, everyone, lo, hi)
    conn = duckdb.connect()
    for name, s in (("l", L), ("r", R)):
        conn.register(name, pa.table({"i": everyone, "h": s.hotel, "c": s.last4, "a": s.amount, "ts": s.ts}))
    rows = conn.sql("SELECT l.i, r.i, l.ts - r.ts FROM l JOIN r ON l.h = r.h AND l.c = r.c AND l.a = r.a "
                    "AND l.ts BETWEEN r.ts - 1800 AND r.ts + 1800").fetchall()
    assert len(rows) > 10_000
    assert _found(cand) == set(rows)


def test_no_records_on_a_side_no_pairs():
    side = _side([0, 0], [1, 2], [100, 100], [0, 0])
    cand = same_card_within(side, np.zeros(0, int), side, np.arange(2), np.array([-5]), np.array([5]))
    assert all(len(v) == 0 for v in cand.values())


def test_bad_input_is_refused_with_what_is_wrong():
    side = _side([0, 0], [1, 2], [100, 100], [0, 0])
    both, window = np.arange(2), (np.array([-5]), np.array([5]))
    with pytest.raises(ValueError, match="position is out of range"):
        same_card_within(side, np.array([2]), side, both, *window)
    with pytest.raises(ValueError, match="hotel code has no window"):
        same_card_within(_side([0, 1], [1, 2], [100, 100], [0, 0]), both, side, both, *window)
    with pytest.raises(ValueError, match="no card number"):
        same_card_within(side, both, _side([0, 0], [1, -1], [100, 100], [0, 0]), both, *window)
    with pytest.raises(ValueError, match="34 bits"):
        same_card_within(side, both, _side([0, 0], [1, 2], [100, KEY_AMOUNT + 1], [0, 0]), both, *window)
    with pytest.raises(ValueError, match="32 bits"):
        same_card_within(side, both, side, both, np.array([0]), np.array([2 ** 31]))
    out = np.empty(4, np.int32)
    columns = (side.hotel, side.last4, side.amount, side.ts, both.astype(np.int32))
    with pytest.raises(ValueError, match="differ in length"):
        _window_join.join(side.hotel, side.last4, side.amount, side.ts[:1], both.astype(np.int32), *columns,
                          *window, out, out, out)
    with pytest.raises(TypeError, match="2-byte items"):
        _window_join.join(side.hotel, side.amount, side.amount, side.ts, both.astype(np.int32), *columns, *window,
                          out, out, out)


@pytest.mark.parametrize("n", [5_000, 1_500_000])
def test_references_shared_by_both_sides_are_all_kept_and_hardly_any_other(n):
    """The reference stage's filter (`shared`): every key found on both sides (among the records
    taking part, 0 being none) passes, on both sides; of the keys found on one side only, hardly
    any (in one part, and split in parts)."""
    rng = np.random.default_rng(n)
    a, b = rng.integers(1, 2**62, n), rng.integers(1, 2**62, n)
    b[: n // 50] = a[n // 3: n // 3 + n // 50]  # 2 % of the references meet
    a[::97], b[::89] = 0, 0  # no reference
    on_a, on_b = rng.random(n) < 0.95, rng.random(n) < 0.9  # the records already matched do not take part
    expected_a = on_a & (a != 0) & np.isin(a, b[on_b & (b != 0)])
    expected_b = on_b & (b != 0) & np.isin(b, a[on_a & (a != 0)])
    got_a, got_b = shared(a, on_a, b, on_b)
    assert expected_a.sum() > n // 100
    assert not (expected_a & ~got_a).any() and not (expected_b & ~got_b).any()
    assert (got_a & ~expected_a).sum() + (got_b & ~expected_b).sum() <= n // 10_000 + 2
    assert not got_a[a == 0].any() and not got_b[~on_b].any()


def test_shared_refuses_outputs_of_another_length():
    with pytest.raises(ValueError, match="differ in length"):
        _window_join.shared(np.ones(3, np.int64), np.ones(3, bool), np.ones(2, np.int64), np.ones(2, bool),
                            np.ones(3, bool), np.ones(3, bool))


@pytest.mark.parametrize("n, of", [(3_000, 40), (2_000_000, 200_000)])
def test_the_records_of_a_few_records_cards_and_amounts_all_pass_and_hardly_any_other(n, of):
    """The filter before the duplicates' join (`same_card`): every record with the hotel, last 4
    and amount of one of the records asked about passes (amounts beyond the key's bits too); no
    record without a card number; of the others, at most about one in 250."""
    rng = np.random.default_rng(n)
    side = _random_side(rng, n, 300, 10_000, 50_000)
    side.last4[::53] = -1
    side.amount[::1001] = KEY_AMOUNT * 3  # beyond the key's 34 bits: still equal to itself
    asked = rng.choice(n, of, replace=False).astype(np.int32)
    key = side.hotel.astype(np.int64) * 10**15 + side.last4.astype(np.int64) * 10**11 + side.amount % 10**11
    carded = side.last4 >= 0
    expected = carded & np.isin(key, key[asked[carded[asked]]])
    got = same_card(side, asked)
    assert expected.sum() >= carded[asked].sum()
    assert not (expected & ~got).any()
    assert not got[~carded].any()
    assert (got & ~expected).sum() <= (n - expected.sum()) / 250 + 2
    # the card alone (refunds looked up among the card's payments, whatever their amounts)
    card = key // 10**11
    expected = carded & np.isin(card, card[asked[carded[asked]]])
    got = same_card(side, asked, amount=False)
    assert not (expected & ~got).any() and not got[~carded].any()
    assert (got & ~expected).sum() <= (n - expected.sum()) / 250 + 2


def test_same_card_refuses_positions_out_of_range_and_outputs_of_another_length():
    side = _side([0, 0, 1], [1, 1, 2], [100, 100, 100], [0, 0, 0])
    with pytest.raises(ValueError, match="out of range"):
        _window_join.same_card(side.hotel, side.last4, side.amount, np.array([3], np.int32), np.ones(3, bool))
    with pytest.raises(ValueError, match="differ in length"):
        _window_join.same_card(side.hotel, side.last4, side.amount, np.array([0], np.int32), np.ones(2, bool))
    assert same_card(side, np.array([0])).tolist() == [True, True, False]
