"""One-to-one selection among candidate pairs: deterministic, and optimal where it matters.

The candidate graph is very sparse: almost every posting has exactly one candidate ticket that
has no other candidate. Those pairs are taken as they are, in one vectorised pass. What remains
falls apart into small connected groups (the same card charged the same amount a few times within
the window). A group with a single record on one side takes its cheapest pair. In every other
group the assignment with the most pairs and then the lowest total cost wins, which is never
worse than taking the closest pair first; groups of the same shape are solved together, by
trying every assignment at once, not one by one in a loop.
Ties are broken by the records' own ids, lowest first, so the answer does not depend on the order
the rows arrived in.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lettrage.recon.matching import _window_join
from lettrage.recon.matching.record_ids import FixedIds, PackedUuids


def id_ranks(ids, nodes: np.ndarray) -> np.ndarray:
    """Rank (0 = lowest id) of each of `nodes` among themselves, by their id (`ids.take` gives them
    as strings; the order is their bytes')."""
    if len(nodes) == 0:
        return np.zeros(0, dtype=np.int64)
    if isinstance(ids, PackedUuids):
        order = _byte_order(ids.packed[nodes])
    elif isinstance(ids, FixedIds) and ids.rows.shape[1] <= 16:
        order = _byte_order(_padded(ids.rows[nodes]))
    else:
        taken = ids.take(pa.array(nodes))
        raw = _fixed_width(taken)
        order = _byte_order(raw) if raw is not None else pc.sort_indices(taken).to_numpy()
    ranks = np.empty(len(nodes), dtype=np.int64)
    ranks[order] = np.arange(len(nodes))
    return ranks


def _fixed_width(taken: pa.Array) -> np.ndarray | None:
    """Ids as 16 bytes each (zeros after the id), when they all have the same length of at most
    16 bytes, as the ids of most systems have; None otherwise."""
    if taken.null_count or not (pa.types.is_string(taken.type) or pa.types.is_large_string(taken.type)):
        return None
    width = 4 if pa.types.is_string(taken.type) else 8
    offsets = np.frombuffer(taken.buffers()[1], f"<i{width}", count=len(taken) + 1, offset=width * taken.offset)
    size = int(offsets[1] - offsets[0])
    if size > 16 or int(offsets[-1] - offsets[0]) != size * len(taken) or (np.diff(offsets) != size).any():
        return None
    if not size:
        return np.zeros((len(taken), 16), dtype=np.uint8)
    return _padded(np.frombuffer(taken.buffers()[2], np.uint8, count=size * len(taken),
                                 offset=int(offsets[0])).reshape(-1, size))


def _padded(rows: np.ndarray) -> np.ndarray:
    """Rows of at most 16 bytes, zeros after them up to 16."""
    raw = np.zeros((len(rows), 16), dtype=np.uint8)
    raw[:, :rows.shape[1]] = rows
    return raw


def _byte_order(raw: np.ndarray) -> np.ndarray:
    """The stable order of rows of 16 bytes, compared byte by byte: sorted as numbers, several
    times faster than hundreds of thousands of strings. Ids of one system differ in a few bytes
    of a few values each (digits of a counter after a fixed prefix): each byte's place is then
    its value's rank among those found there, in as few bits as they need, and the row is one
    64-bit number that sorts as the row does (distinct rows, distinct numbers)."""
    key, bits = np.zeros(len(raw), dtype=np.uint64), 0
    for column in raw.T:
        present = np.bincount(column, minlength=256) > 0
        width = (int(present.sum()) - 1).bit_length()
        bits += width
        if bits > 64:
            words = raw.view(">u8").astype(np.uint64)  # in the machine's byte order: sorted faster
            return np.lexsort((words[:, 1], words[:, 0]))
        if width:
            key <<= np.uint64(width)
            key |= (np.cumsum(present) - 1).astype(np.uint64)[column]
    order = np.argsort(key)
    if (key[order[1:]] == key[order[:-1]]).any():  # the same id twice: in the records' order
        order = np.argsort(key, kind="stable")
    return order


def lone_edges(lf: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Which edges (lf[i], r[i]) join two nodes that have no other edge."""
    alone = np.empty(len(lf), dtype=bool)
    _window_join.lone(np.ascontiguousarray(lf, dtype=np.int32), np.ascontiguousarray(r, dtype=np.int32), alone)
    return alone


def components(li: np.ndarray, ri: np.ndarray, nl: int, nr: int) -> np.ndarray:
    """The connected component of each node of the graph whose edges join left node li[i]
    (0..nl-1) and right node ri[i] (0..nr-1): left nodes first, then right ones, components
    numbered in the order of their lowest node."""
    comp = np.empty(nl + nr, dtype=np.int32)
    _window_join.components(np.ascontiguousarray(li, dtype=np.int32), np.ascontiguousarray(ri, dtype=np.int32),
                            nl, nr, comp)
    return comp


def one_to_one(lf: np.ndarray, r: np.ndarray, cost, left_ids, right_ids,
               left_penalty=None, right_penalty=None) -> np.ndarray:
    """Choose at most one edge per node: a boolean mask over the edges (l[i], r[i]).

    `left_ids`/`right_ids` name the nodes (ties go to the lowest): a string array, or a function
    giving it, called once the rest is worked out (the ids may still be being read).

    `cost` is an array over the edges, or a function of edge positions returning their costs
    (only the edges in conflict are ever priced). `left_penalty(nodes)` / `right_penalty(nodes)`,
    when given, return a cost added to every edge of those nodes; it never changes which nodes
    get a partner when all of them can, only who is left out when some must be (the later of two
    duplicate charges)."""
    chosen = np.zeros(len(lf), dtype=bool)
    if len(lf) == 0:
        return chosen
    simple = lone_edges(lf, r)
    chosen[simple] = True
    conflicted = np.flatnonzero(~simple)
    if len(conflicted) == 0:
        return chosen
    cl, cr = lf[conflicted], r[conflicted]
    cc = np.asarray(cost(conflicted) if callable(cost) else cost[conflicted], dtype=np.float64)
    ul, li = np.unique(cl, return_inverse=True)
    ur, ri = np.unique(cr, return_inverse=True)
    if left_penalty is not None:
        cc = cc + left_penalty(ul)[li]
    if right_penalty is not None:
        cc = cc + right_penalty(ur)[ri]
    nl, nr = len(ul), len(ur)
    comp_of_node = components(li, ri, nl, nr)
    comp = comp_of_node[li]
    left_count = np.bincount(comp_of_node[:nl], minlength=comp.max() + 1)
    right_count = np.bincount(comp_of_node[nl:], minlength=comp.max() + 1)
    star = (left_count[comp] == 1) | (right_count[comp] == 1)
    lrank_node, rrank_node = (id_ranks(ids() if callable(ids) else ids, nodes)
                              for ids, nodes in ((left_ids, ul), (right_ids, ur)))
    lrank, rrank = lrank_node[li], rrank_node[ri]
    # Stars (one node on a side): the cheapest edge, lowest ids on ties.
    s = np.flatnonzero(star)
    if len(s):
        order = s[np.lexsort((rrank[s], lrank[s], cc[s], comp[s]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = comp[order][1:] != comp[order][:-1]
        chosen[conflicted[order[first]]] = True
    g = np.flatnonzero(~star)
    if len(g):
        picked = _assign(li[g], ri[g], cc[g], comp_of_node[:nl], comp_of_node[nl:], lrank_node, rrank_node)
        chosen[conflicted[g[picked]]] = True
    return chosen


def _assign(li: np.ndarray, ri: np.ndarray, cost: np.ndarray, comp_l: np.ndarray, comp_r: np.ndarray,
            lrank: np.ndarray, rrank: np.ndarray) -> np.ndarray:
    """Min-cost maximum-cardinality assignment inside every component; a mask over the edges.

    Components are small (mostly two postings and two tickets): all components of one shape are
    solved together by trying every assignment at once (rows and columns in id order, so that
    equal costs go to the lowest ids). The rare big component is solved on its own
    (`scipy.optimize.linear_sum_assignment`)."""
    picked = np.zeros(len(li), dtype=bool)
    ln = np.flatnonzero(np.bincount(li, minlength=len(comp_l)))  # the nodes of these edges
    rn = np.flatnonzero(np.bincount(ri, minlength=len(comp_r)))
    lorder = ln[np.lexsort((lrank[ln], comp_l[ln]))]  # grouped by component, then id
    rorder = rn[np.lexsort((rrank[rn], comp_r[rn]))]
    comps, lstart, lcount = _runs(comp_l[lorder])
    _, rstart, rcount = _runs(comp_r[rorder])
    local_l = np.zeros(len(comp_l), dtype=np.int64)
    local_l[lorder] = np.arange(len(lorder)) - np.repeat(lstart, lcount)
    local_r = np.zeros(len(comp_r), dtype=np.int64)
    local_r[rorder] = np.arange(len(rorder)) - np.repeat(rstart, rcount)
    ci = np.searchsorted(comps, comp_l[li])  # component index of each edge
    shape = lcount * (1 << 32) + rcount
    for key in np.unique(shape).tolist():
        nl, nr = key >> 32, key & 0xFFFFFFFF
        ks = np.flatnonzero(shape == key)
        at = np.full(len(comps), -1, dtype=np.int64)
        at[ks] = np.arange(len(ks))
        e = np.flatnonzero(at[ci] >= 0)
        if max(nl, nr) <= 5:
            k = at[ci[e]]
            c = np.full((len(ks), nl, nr), np.inf)
            c[k, local_l[li[e]], local_r[ri[e]]] = cost[e]
            edge = np.full((len(ks), nl, nr), -1, dtype=np.int64)
            edge[k, local_l[li[e]], local_r[ri[e]]] = e
            maps = _assignments(nl, nr)
            total = np.zeros((len(ks), len(maps)))
            for row in range(nl):
                col = maps[:, row]
                total += np.where(col >= 0, c[:, row, np.maximum(col, 0)], 0.0)
            size = (maps >= 0).sum(axis=1)
            ok = np.isfinite(total)
            most = np.where(ok, size, -1).max(axis=1)
            best = np.where(ok & (size == most[:, None]), total, np.inf).argmin(axis=1)
            chosen = maps[best]  # (components, rows) -> column or -1
            rows, cols = np.nonzero(chosen >= 0)
            picked[edge[rows, cols, chosen[rows, cols]]] = True
        else:
            for k in ks.tolist():
                picked[e[ci[e] == k]] = _assign_one(cost[e[ci[e] == k]], local_l[li[e[ci[e] == k]]],
                                                     local_r[ri[e[ci[e] == k]]], nl, nr)
    return picked


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal values in a sorted array: their values, starts and lengths."""
    start = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return values[start], start, np.diff(np.append(start, len(values)))


@cache
def _assignments(nl: int, nr: int) -> np.ndarray:
    """Every way to give rows 0..nl-1 distinct columns 0..nr-1 or none (-1), as an (M, nl) array,
    in lexicographic order with "none" last: the first of equal-cost ways favours the lowest ids."""
    ways = [w for w in itertools.product(list(range(nr)) + [-1], repeat=nl)
            if len({c for c in w if c >= 0}) == sum(c >= 0 for c in w)]
    return np.array(ways, dtype=np.int64).reshape(len(ways), nl)


def _assign_one(cost: np.ndarray, rows: np.ndarray, cols: np.ndarray, nl: int, nr: int) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    big = (np.abs(cost).sum() + 1.0) * (len(cost) + 1)
    matrix = np.full((nl, nr), big)
    matrix[rows, cols] = cost
    a, b = linear_sum_assignment(matrix)
    made = set(zip(a[matrix[a, b] < big].tolist(), b[matrix[a, b] < big].tolist(), strict=True))
    return np.array([(x, y) in made for x, y in zip(rows.tolist(), cols.tolist(), strict=True)], dtype=bool)


def twin_rank(k: np.ndarray, t: np.ndarray, within_s: int) -> np.ndarray:
    """For each record (key k, time t): how many records with the same key precede it in its
    chain of repeats (each at most `within_s` seconds after the one before): 0 for an original,
    1 for its first repeat, 2 for a repeat of that repeat... Of three identical charges minutes
    apart with two postings, the third is the one left over, not the second."""
    order = np.lexsort((t, k))
    ks, ts = k[order], t[order]
    brk = np.ones(len(k), dtype=bool)
    brk[1:] = (ks[1:] != ks[:-1]) | (ts[1:] - ts[:-1] > within_s)
    start = np.maximum.accumulate(np.where(brk, np.arange(len(k)), 0))
    out = np.empty(len(k), dtype=np.int64)
    out[order] = np.arange(len(k)) - start
    return out
