"""One-to-one selection and split search: the choices a credit manager would make by hand, whatever
order the candidates come in."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lettrage.recon.matching.select import components, id_ranks, lone_edges, one_to_one
from lettrage.recon.matching.splits import choose


def _ids(prefix: str, n: int) -> pa.Array:
    return pa.array([f"{prefix}{i:03d}" for i in range(n)])


def _pairs(lf, r, chosen):
    return sorted(zip(lf[chosen].tolist(), r[chosen].tolist(), strict=True))


@pytest.mark.parametrize("records,n", [(1_000_000, 20_000), (3_000_000, 1_000_000)])
def test_lone_pairs_are_those_whose_two_records_have_no_other_pair(records, n):
    """The pairs taken at once, without a contest: counted the plain way, for a few pairs among
    many records and for millions (in bits per record, positions across the 64-bit words' edges)."""
    rng = np.random.default_rng(records)
    lf = rng.integers(0, records, n)
    r = rng.integers(0, records, n)
    lf[:3], r[:3] = records - 1, [0, 63, 64]  # the last record three times; word edges
    expected = (np.bincount(lf)[lf] == 1) & (np.bincount(r)[r] == 1)
    got = lone_edges(lf, r)
    assert got.dtype == bool and got.tolist() == expected.tolist()
    assert 0 < got.sum() < n and not got[:3].any()


def test_lone_pairs_refuse_negative_positions():
    with pytest.raises(ValueError, match="negative"):
        lone_edges(np.array([0, -1] * 40), np.array([1, 2] * 40))


def test_groups_of_records_in_contest_are_those_scipy_finds_numbered_alike():
    """The groups solved one by one (connected components): those of scipy's connected_components,
    with its numbers, for graphs of every shape: few or many edges, repeated edges, records with
    no edge, a chain of a million records through both sides."""
    rng = np.random.default_rng(7)
    graphs = [(rng.integers(1, 40), rng.integers(1, 40), rng.integers(0, 60)) for _ in range(200)]
    for nl, nr, m in [*graphs, (300_000, 200_000, 400_000)]:
        li, ri = rng.integers(0, nl, m), rng.integers(0, nr, m)
        expected = connected_components(coo_matrix((np.ones(m), (li, nl + ri)), shape=(nl + nr, nl + nr)),
                                        directed=False)[1]
        assert components(li, ri, nl, nr).tolist() == expected.tolist()
    n = 500_000  # left k - right k - left k+1 - ...: one group
    li, ri = np.concatenate([np.arange(n), np.arange(1, n)]), np.concatenate([np.arange(n), np.arange(n - 1)])
    assert set(components(li, ri, n, n).tolist()) == {0}


def test_groups_refuse_a_record_beyond_the_side():
    with pytest.raises(ValueError, match="out of range"):
        components(np.array([0, 3]), np.array([0, 0]), 3, 1)


def _many_ids(kind: str, rng) -> list[str]:
    n = 60_000
    if kind == "counter after a prefix":  # the varying bytes fit one number
        return [f"P{v:011d}" for v in rng.permutation(n)]
    if kind == "repeated ids":  # a file with an id twice: ties keep the records' order
        return [f"T{v:07d}" for v in rng.integers(0, n // 3, n)]
    if kind == "varying over 16 bytes":  # 16 letters or digits: more than 64 bits of them
        chars = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
        return ["".join(row) for row in chars[rng.integers(0, 36, (n, 16))]]
    if kind == "accented":  # bytes above 127 (é is two of them) come after the others, as in the text
        return [f"{('zz', 'é', 'ab')[v % 3]}{v:05d}" for v in rng.permutation(n)]
    return [f"{'x' * (v % 5)}{v}" for v in rng.permutation(n)]  # lengths differ


@pytest.mark.parametrize("kind", ["counter after a prefix", "repeated ids", "varying over 16 bytes", "accented",
                                  "of many lengths"])
def test_ranks_of_ids_are_the_order_of_their_text(kind):
    """Ties go to the lowest id: ranked as numbers when the ids have one length of at most 16
    bytes, the same ranks as sorting their text (equal ids in the records' order)."""
    rng = np.random.default_rng(7)
    ids = pa.array(_many_ids(kind, rng))
    nodes = rng.choice(len(ids), 20_000, replace=False)
    order = pc.sort_indices(ids.take(pa.array(nodes))).to_numpy()
    expected = np.empty(len(nodes), dtype=np.int64)
    expected[order] = np.arange(len(nodes))
    assert (id_ranks(ids, nodes) == expected).all()


def test_most_pairs_first_then_cheapest():
    # Posting 0 is closest to ticket 0, but taking that pair would leave posting 1 without its only ticket.
    lf, r, cost = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1.0, 2.0, 3.0])
    assert _pairs(lf, r, one_to_one(lf, r, cost, _ids("P", 2), _ids("T", 2))) == [(0, 1), (1, 0)]


def test_equal_costs_go_to_the_lowest_ids_whatever_the_order():
    lf, r = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    cost = np.ones(4)
    expected = [(0, 0), (1, 1)]
    rng = np.random.default_rng(3)
    for _ in range(5):
        k = rng.permutation(4)
        assert _pairs(lf[k], r[k], one_to_one(lf[k], r[k], cost[k], _ids("P", 2), _ids("T", 2))) == expected
    # the ids, not the positions, decide: with posting 1 named lower, it gets ticket 0
    names = pa.array(["P9", "P1"])
    assert _pairs(lf, r, one_to_one(lf, r, cost, names, _ids("T", 2))) == [(0, 1), (1, 0)]


def test_every_group_gets_an_optimal_assignment():
    """Thousands of small groups of competing records (up to 7 a side, solved by trying every way
    or one by one): as many pairs as possible, then the least total cost, as scipy finds them."""
    rng = np.random.default_rng(11)
    lf, r, cost, best = [], [], [], []
    nl_total = nr_total = 0
    for _ in range(600):
        nl, nr = rng.integers(1, 8, size=2)
        edges = np.argwhere(rng.random((nl, nr)) < 0.6)
        if len(edges) == 0:
            continue
        c = rng.integers(0, 40, len(edges)).astype(float)
        lf.append(edges[:, 0] + nl_total)
        r.append(edges[:, 1] + nr_total)
        cost.append(c)
        big = 1e6
        m = np.full((nl, nr), big)
        m[edges[:, 0], edges[:, 1]] = c
        a, b = linear_sum_assignment(m)
        ok = m[a, b] < big
        best.append((int(ok.sum()), float(m[a, b][ok].sum())))
        nl_total, nr_total = nl_total + nl, nr_total + nr
    lf, r, cost = np.concatenate(lf), np.concatenate(r), np.concatenate(cost)
    chosen = one_to_one(lf, r, cost, _ids("P", nl_total), _ids("T", nr_total))
    assert len(np.unique(lf[chosen])) == chosen.sum() == len(np.unique(r[chosen]))  # one partner each
    assert chosen.sum() == sum(n for n, _ in best)
    assert abs(cost[chosen].sum() - sum(s for _, s in best)) < 1e-6


def _split(blocks, amounts, targets, banned=None):
    """blocks: candidate record per block; amounts: per candidate record; targets: amount per block."""
    block = np.concatenate([np.full(len(c), b) for b, c in enumerate(blocks)])
    cand = np.concatenate([np.asarray(c) for c in blocks])
    return choose(block, cand, np.arange(len(blocks)), np.asarray(targets), np.asarray(amounts)[cand], cand,
                  np.arange(len(blocks)), 12, banned)


def test_split_unique_way_ambiguity_and_no_record_twice():
    amounts = [3000, 7000, 2500, 4500, 5000, 5000, 1000, 1000]
    # block 0: 100.00 = 30.00 + 70.00 (one way); block 1: 70.00 = 25.00 + 45.00 or 50.00 + 10.00 + 10.00,
    # flagged; blocks 2 and 3 both want 10.00 + 10.00 (records 6, 7): the earlier target gets them
    found = _split([[0, 1], [2, 3, 4, 6, 7], [6, 7], [6, 7]], amounts, [10000, 7000, 2000, 2000])
    parts = {int(t): sorted(found.part[found.group == g].tolist()) for g, t in enumerate(found.target)}
    ambiguous = dict(zip(found.target.tolist(), found.ambiguous.tolist(), strict=True))
    assert parts[0] == [0, 1] and not ambiguous[0]
    assert 1 in parts and ambiguous[1]
    assert sum(t in parts for t in (1, 2, 3)) == 2  # 6 and 7 settle one target only
    assert len(found.part) == len(set(found.part.tolist()))


def test_split_respects_a_person_splitting_records_apart():
    found = _split([[0, 1]], [3000, 7000], [10000], banned=np.array([False, True]))
    assert len(found.target) == 0
