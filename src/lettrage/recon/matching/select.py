"""One-to-one selection among candidate pairs: deterministic, and optimal where it matters.

The candidate graph is very sparse: almost every posting has exactly one candidate ticket that
has no other candidate. Those pairs are taken as they are, in one vectorised pass. What remains
falls apart into small connected groups (the same card charged the same amount a few times within
the window). A group with a single record on one side takes its cheapest pair. In every other
group the assignment with the most pairs and then the lowest total cost wins, which is never
worse than taking the closest pair first; all those groups are solved together as one sparse
min-cost assignment (`scipy.sparse.csgraph.min_weight_full_bipartite_matching`), not one by one.
Ties are broken by the records' own ids, lowest first, so the answer does not depend on the order
the rows arrived in.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching


def id_ranks(ids: pa.Array, nodes: np.ndarray) -> np.ndarray:
    """Rank (0 = lowest id) of each of `nodes` among themselves, by their string id."""
    if len(nodes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = pc.sort_indices(ids.take(pa.array(nodes))).to_numpy()
    ranks = np.empty(len(nodes), dtype=np.int64)
    ranks[order] = np.arange(len(nodes))
    return ranks


def one_to_one(lf: np.ndarray, r: np.ndarray, cost, left_ids: pa.Array, right_ids: pa.Array,
               left_penalty=None, right_penalty=None) -> np.ndarray:
    """Choose at most one edge per node: a boolean mask over the edges (l[i], r[i]).

    `cost` is an array over the edges, or a function of edge positions returning their costs
    (only the edges in conflict are ever priced). `left_penalty(nodes)` / `right_penalty(nodes)`,
    when given, return a cost added to every edge of those nodes; it never changes which nodes
    get a partner when all of them can, only who is left out when some must be (the later of two
    duplicate charges)."""
    chosen = np.zeros(len(lf), dtype=bool)
    if len(lf) == 0:
        return chosen
    dl = np.bincount(lf)
    dr = np.bincount(r)
    simple = (dl[lf] == 1) & (dr[r] == 1)
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
    graph = coo_matrix((np.ones(len(li)), (li, nl + ri)), shape=(nl + nr, nl + nr))
    _, comp_of_node = connected_components(graph, directed=False)
    comp = comp_of_node[li]
    lrank_node, rrank_node = id_ranks(left_ids, ul), id_ranks(right_ids, ur)
    lrank, rrank = lrank_node[li], rrank_node[ri]
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
    g = np.flatnonzero(~star)
    if len(g):
        picked = _assign(li[g], ri[g], cc[g], comp_of_node[:nl], comp_of_node[nl:], lrank_node, rrank_node)
        chosen[conflicted[g[picked]]] = True
    return chosen


def _assign(li: np.ndarray, ri: np.ndarray, cost: np.ndarray, comp_l: np.ndarray, comp_r: np.ndarray,
            lrank: np.ndarray, rrank: np.ndarray, batch: int = 256) -> np.ndarray:
    """Min-cost maximum-cardinality assignment inside every component; a mask over the edges.

    Components are solved `batch` at a time (the sparse solver's work grows faster than linearly
    with the size of one problem, and components never interact)."""
    picked = np.zeros(len(li), dtype=bool)
    comp = comp_l[li]
    order = np.argsort(comp, kind="stable")
    comps, starts = np.unique(comp[order], return_index=True)
    bounds = np.append(starts[::batch], len(order))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        e = order[a:b]
        picked[e] = _assign_batch(li[e], ri[e], cost[e], comp_l, comp_r, lrank, rrank)
    return picked


def _assign_batch(li, ri, cost, comp_l, comp_r, lrank, rrank) -> np.ndarray:
    """One sparse assignment problem over some components.

    A full matching is made always possible by a dummy partner for each node (a left node's own
    dummy column, a right node's own dummy row, each at a cost `big` higher than the component's
    whole cost), and dummies pair freely with each other inside their component. Leaving a real
    pair unmade then costs more than any choice among real pairs, so the solver first matches as
    many as it can, then minimises the cost. Rows and columns are laid out by component, then id."""
    ln, li = np.unique(li, return_inverse=True)
    rn, ri = np.unique(ri, return_inverse=True)
    nl, nr = len(ln), len(rn)
    lperm = np.lexsort((lrank[ln], comp_l[ln]))
    rperm = np.lexsort((rrank[rn], comp_r[rn]))
    lorder, rorder = ln[lperm], rn[rperm]
    row_of = np.empty(nl, dtype=np.int64)
    row_of[lperm] = np.arange(nl)
    col_of = np.empty(nr, dtype=np.int64)
    col_of[rperm] = np.arange(nr)
    comps, comp_idx = np.unique(comp_l[lorder], return_inverse=True)  # rows are grouped by component
    lstart = np.searchsorted(comp_l[lorder], comps)
    lcount = np.bincount(comp_idx, minlength=len(comps))
    col_comp = np.searchsorted(comps, comp_r[rorder])
    big = np.bincount(np.searchsorted(comps, comp_l[ln[li]]), weights=np.abs(cost) + 2.0, minlength=len(comps)) + 1.0
    # edges: real pairs; each left node to its dummy column; each right node to its dummy row;
    # dummy rows to dummy columns of the same component
    reps = lcount[col_comp]
    dummy_rows = np.repeat(nl + np.arange(nr), reps)
    within = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    dummy_cols = nr + np.repeat(lstart[col_comp], reps) + within
    rows = np.concatenate([row_of[li], np.arange(nl), nl + np.arange(nr), dummy_rows])
    cols = np.concatenate([col_of[ri], nr + np.arange(nl), np.arange(nr), dummy_cols])
    weights = np.concatenate([cost + 1.0, big[comp_idx] + 1.0, big[col_comp] + 1.0, np.ones(len(dummy_rows))])
    size = nl + nr
    matrix = csr_matrix((weights, (rows, cols)), shape=(size, size))
    row_ind, col_ind = min_weight_full_bipartite_matching(matrix)
    real = (row_ind < nl) & (col_ind < nr)
    made = row_ind[real].astype(np.int64) * size + col_ind[real]
    return np.isin(row_of[li] * size + col_of[ri], made)


def earlier_twin(key: np.ndarray, ts: np.ndarray, nodes: np.ndarray, within_s: int) -> np.ndarray:
    """For each of `nodes`: does another of them with the same key come at most `within_s`
    seconds before it? (The later of two identical charges or postings.)"""
    k, t = key[nodes], ts[nodes]
    order = np.lexsort((t, k))
    out = np.zeros(len(nodes), dtype=bool)
    same = (k[order][1:] == k[order][:-1]) & (t[order][1:] - t[order][:-1] <= within_s)
    out[order[1:]] = same
    return out
