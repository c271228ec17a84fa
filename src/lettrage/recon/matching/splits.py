"""Splits: one record settled by several on the other side (a folio paid in two goes on the same
card, one ticket paying two folios), found by subset sums inside small blocks.

A block is one target and the unmatched records of the same card and sign around it in time.
Every subset of 2+ candidates is summed at once (blocks are small: a handful of records); a target
with exactly one way to reach its amount is matched. When there are several ways that differ in
amounts, the target is still matched with the most plausible one (fewest parts, then the earliest
parts, then the lowest ids) but flagged SPLIT_AMBIGUOUS for a person to confirm. Ways that differ
only by which of two identical charges they use are one way, not an ambiguity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    target: int
    ways: list[tuple[int, ...]]  # the ways to reach the target's amount, most plausible first
    ambiguous: bool
    parts: tuple[int, ...] = ()  # the way chosen by `disjoint`


def _masks(n: int) -> np.ndarray:
    """All subsets of n items with at least two members, as a (count, n) 0/1 matrix, fewest
    members first."""
    m = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(np.int64)
    m = m[m.sum(axis=1) >= 2]
    return m[np.argsort(m.sum(axis=1), kind="stable")]


def solve(block_of_edge: np.ndarray, cand: np.ndarray, target_of_block: np.ndarray, target_amount: np.ndarray,
          cand_amount: np.ndarray, cand_order: np.ndarray, max_candidates: int) -> list[Split]:
    """Subset-sum every block; blocks with no exact way are dropped.

    `block_of_edge[i]` is the block (0..B-1) of candidate `cand[i]`; `cand_order` ranks the
    candidates (time, then id) so that "earliest parts" is well defined."""
    if len(cand) == 0:
        return []
    order = np.lexsort((cand_order, block_of_edge))
    block_of_edge, cand, cand_amount, cand_order = (a[order] for a in (block_of_edge, cand, cand_amount, cand_order))
    size = np.bincount(block_of_edge, minlength=len(target_of_block))
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    found: list[Split] = []
    for n in range(2, max_candidates + 1):
        blocks = np.flatnonzero(size == n)
        if len(blocks) == 0:
            continue
        masks = _masks(n)
        cols = start[blocks][:, None] + np.arange(n)
        amounts = cand_amount[cols]  # (B, n)
        sums = amounts @ masks.T  # (B, subsets)
        hit = sums == target_amount[blocks][:, None]
        for b_row in np.flatnonzero(hit.any(axis=1)):
            ways = np.flatnonzero(hit[b_row])
            chosen_cols = cols[b_row]
            amount_sets = {tuple(sorted(amounts[b_row][masks[w] == 1].tolist())) for w in ways}
            # fewest parts first, then the earliest parts (candidates are sorted by time)
            ranked = sorted(ways.tolist(), key=lambda w: (int(masks[w].sum()), tuple(np.flatnonzero(masks[w]).tolist())))
            found.append(Split(target=int(target_of_block[blocks[b_row]]),
                               ways=[tuple(int(c) for c in cand[chosen_cols[masks[w] == 1]]) for w in ranked],
                               ambiguous=len(amount_sets) > 1))
    return found


def disjoint(splits: list[Split], target_order: np.ndarray) -> list[Split]:
    """Keep splits that share no record, earliest targets first (each record in one match)."""
    used: set[int] = set()
    taken = set()
    kept = []
    for s in sorted(splits, key=lambda s: target_order[s.target]):
        if s.target in taken:
            continue
        for way in s.ways:
            if not used.intersection(way):
                taken.add(s.target)
                used.update(way)
                s.parts = way
                kept.append(s)
                break
    return kept
