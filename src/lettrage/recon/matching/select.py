"""One-to-one selection among candidate pairs: deterministic, and optimal where it matters.

The candidate graph is very sparse: almost every posting has exactly one candidate ticket that
has no other candidate. Those pairs are taken as they are. What remains falls apart into small
connected groups (the same card charged the same amount a few times within the window); in each,
the assignment with the most pairs and then the lowest total cost wins (the Hungarian method,
`scipy.optimize.linear_sum_assignment`), which is never worse than taking the closest pair first.
Ties are broken by the records' own ids, lowest first, so the answer does not depend on the order
the rows arrived in.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def id_ranks(ids: pa.Array, nodes: np.ndarray) -> np.ndarray:
    """Rank (0 = lowest id) of each of `nodes` among themselves, by their string id."""
    if len(nodes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = pc.sort_indices(ids.take(pa.array(nodes))).to_numpy()
    ranks = np.empty(len(nodes), dtype=np.int64)
    ranks[order] = np.arange(len(nodes))
    return ranks


def one_to_one(lf: np.ndarray, r: np.ndarray, cost: np.ndarray, left_ids: pa.Array, right_ids: pa.Array,
               left_penalty=None, right_penalty=None) -> np.ndarray:
    """Choose at most one edge per node: a boolean mask over the edges (l[i], r[i], cost[i]).

    `left_penalty(nodes)` / `right_penalty(nodes)`, when given, return a cost added to every
    edge of those nodes; it never changes which nodes get a partner when all of them can, only
    who is left out when some must be (the later of two duplicate charges)."""
    chosen = np.zeros(len(lf), dtype=bool)
    if len(lf) == 0:
        return chosen
    n_left, n_right = int(lf.max()) + 1, int(r.max()) + 1
    dl = np.bincount(lf, minlength=n_left)
    dr = np.bincount(r, minlength=n_right)
    simple = (dl[lf] == 1) & (dr[r] == 1)
    chosen[simple] = True
    conflicted = np.flatnonzero(~simple)
    if len(conflicted) == 0:
        return chosen
    cl, cr, cc = lf[conflicted], r[conflicted], cost[conflicted].astype(np.float64)
    ul, li = np.unique(cl, return_inverse=True)
    ur, ri = np.unique(cr, return_inverse=True)
    if left_penalty is not None:
        cc = cc + left_penalty(ul)[li]
    if right_penalty is not None:
        cc = cc + right_penalty(ur)[ri]
    nl, nr = len(ul), len(ur)
    graph = coo_matrix((np.ones(len(li)), (li, nl + ri)), shape=(nl + nr, nl + nr))
    _, comp_of_node = connected_components(graph, directed=False)
    comp = comp_of_node[li]
    lrank, rrank = id_ranks(left_ids, ul)[li], id_ranks(right_ids, ur)[ri]
    left_count = np.bincount(comp_of_node[:nl], minlength=comp.max() + 1)
    right_count = np.bincount(comp_of_node[nl:], minlength=comp.max() + 1)
    # Stars (one node on a side): the cheapest edge, lowest ids on ties.
    star = (left_count[comp] == 1) | (right_count[comp] == 1)
    s = np.flatnonzero(star)
    if len(s):
        order = s[np.lexsort((rrank[s], lrank[s], cc[s], comp[s]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = comp[order][1:] != comp[order][:-1]
        chosen[conflicted[order[first]]] = True
    # The rest: min-cost maximum-cardinality assignment, component by component.
    g = np.flatnonzero(~star)
    if len(g):
        order = g[np.lexsort((rrank[g], lrank[g], comp[g]))]
        bounds = np.flatnonzero(np.diff(comp[order])) + 1
        for part in np.split(order, bounds):
            rows, row_of = np.unique(lrank[part], return_inverse=True)
            cols, col_of = np.unique(rrank[part], return_inverse=True)
            big = (np.abs(cc[part]).sum() + 1.0) * (len(part) + 1)
            matrix = np.full((len(rows), len(cols)), big)
            matrix[row_of, col_of] = cc[part]
            a, b = linear_sum_assignment(matrix)
            picked = matrix[a, b] < big
            wanted = set(zip(a[picked].tolist(), b[picked].tolist(), strict=True))
            for k, (x, y) in enumerate(zip(row_of.tolist(), col_of.tolist(), strict=True)):
                if (x, y) in wanted:
                    chosen[conflicted[part[k]]] = True
                    wanted.discard((x, y))
    return chosen


def earlier_twin(key: np.ndarray, ts: np.ndarray, nodes: np.ndarray, within_s: int) -> np.ndarray:
    """For each of `nodes`: does another of them with the same key come at most `within_s`
    seconds before it? (The later of two identical charges or postings.)"""
    k, t = key[nodes], ts[nodes]
    order = np.lexsort((t, k))
    out = np.zeros(len(nodes), dtype=bool)
    same = (k[order][1:] == k[order][:-1]) & (t[order][1:] - t[order][:-1] <= within_s)
    out[order[1:]] = same
    return out
