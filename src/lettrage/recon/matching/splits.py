"""Splits: one record settled by several on the other side (a folio paid in two goes on the same
card, one ticket paying two folios), found by subset sums inside small blocks.

A block is one target and the unmatched records of the same card and sign around it in time.
Every subset of 2+ candidates is summed at once, for all blocks of the same size together (blocks
are small: a handful of records). A target with exactly one way to reach its amount is matched.
When there are several ways that differ in amounts, the target is still matched with the most
plausible one (fewest parts, then the earliest parts, then the lowest ids) but flagged
SPLIT_AMBIGUOUS for a person to confirm. Ways that differ only by which of two identical charges
they use are one way, not an ambiguity. No record goes into two splits: blocks that share no
candidate take their best way directly; the few that do are settled earliest target first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

CELLS = 1 << 22  # blocks x subsets summed at once (bounds the subset-sum matrix)
# a multiset of amounts -> the sum of the members' mixed amounts (order-free, collisions negligible)
_MIX = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15 as a signed 64-bit odd constant


@dataclass
class Splits:
    """The splits chosen: `target[g]` is settled by the parts `part[k]` with `group[k] == g`."""

    target: np.ndarray
    group: np.ndarray
    part: np.ndarray
    ambiguous: np.ndarray


@cache
def _masks(n: int) -> np.ndarray:
    """All subsets of n items with at least two members, as a (count, n) 0/1 matrix, in order of
    plausibility: fewest members first, then the earliest members (lexicographic positions)."""
    m = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(np.int64)
    m = m[m.sum(axis=1) >= 2]
    keys = [tuple(np.flatnonzero(row)) for row in m]
    order = sorted(range(len(m)), key=lambda i: (len(keys[i]), keys[i]))
    return m[order]


def _mixed(amount: np.ndarray) -> np.ndarray:
    x = amount.astype(np.int64) * _MIX
    x ^= x >> 29
    return x * _MIX


def choose(block_of_edge: np.ndarray, cand: np.ndarray, target_of_block: np.ndarray, target_amount: np.ndarray,
           cand_amount: np.ndarray, cand_order: np.ndarray, target_order: np.ndarray, max_candidates: int,
           forbidden_edge: np.ndarray | None = None) -> Splits:
    """Subset-sum every block and choose disjoint splits.

    `block_of_edge[i]` is the block (0..B-1) of candidate `cand[i]`, `cand_order` ranks the
    candidates (time, then id) so that "earliest parts" is well defined, `target_order[b]` ranks
    the target of block b the same way. `forbidden_edge[i]`: a person said that candidate may not
    settle that target."""
    empty = Splits(*(np.zeros(0, np.int64) for _ in range(3)), np.zeros(0, bool))
    if len(cand) == 0:
        return empty
    order = np.lexsort((cand_order, block_of_edge))
    block_of_edge, cand, cand_amount = block_of_edge[order], cand[order], cand_amount[order]
    forbidden_edge = forbidden_edge[order] if forbidden_edge is not None else None
    n_blocks = len(target_of_block)
    size = np.bincount(block_of_edge, minlength=n_blocks)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    found_block, amb, chunks = [], [], []
    involved = np.zeros(len(cand), dtype=bool)  # edges in at least one way of their block
    for n in range(2, max_candidates + 1):
        blocks_n = np.flatnonzero(size == n)
        if len(blocks_n) == 0:
            continue
        masks = _masks(n)
        step = max(1, CELLS // len(masks))
        for c0 in range(0, len(blocks_n), step):
            blocks = blocks_n[c0:c0 + step]
            cols = start[blocks][:, None] + np.arange(n)
            amounts = cand_amount[cols]
            hit = (amounts @ masks.T) == target_amount[blocks][:, None]
            if forbidden_edge is not None:
                hit &= (forbidden_edge[cols].astype(np.int64) @ masks.T) == 0
            rows = np.flatnonzero(hit.any(axis=1))
            if len(rows) == 0:
                continue
            hit, cols, blocks = hit[rows], cols[rows], blocks[rows]
            sig = _mixed(cand_amount[cols]) @ masks.T
            lo = np.where(hit, sig, np.iinfo(np.int64).max).min(axis=1)
            hi = np.where(hit, sig, np.iinfo(np.int64).min).max(axis=1)
            involved[cols[(hit.astype(np.int64) @ masks) > 0]] = True
            found_block.append(blocks)
            amb.append(lo != hi)
            chunks.append((blocks, cols, hit, masks))
    if not found_block:
        return empty
    amb_of = np.zeros(n_blocks, dtype=bool)
    amb_of[np.concatenate(found_block)] = np.concatenate(amb)
    # a candidate in the ways of two blocks: those blocks are settled one by one
    uses = np.bincount(cand[involved], minlength=int(cand.max()) + 1)
    shared_edge = involved & (uses[cand] > 1)
    blocks_out, groups, parts = [], [], []
    g = 0
    pending = []
    for blocks, cols, hit, masks in chunks:
        shared = shared_edge[cols].any(axis=1)
        ok = np.flatnonzero(~shared)
        if len(ok):
            sel = masks[hit[ok].argmax(axis=1)].astype(bool)
            blocks_out.append(blocks[ok])
            groups.append(np.repeat(np.arange(len(ok)), sel.sum(axis=1)) + g)
            parts.append(cand[cols[ok][sel]])
            g += len(ok)
        pending += [(int(blocks[k]), cols[k], hit[k], masks) for k in np.flatnonzero(shared).tolist()]
    used: set[int] = set()
    more_blocks, more_groups, more_parts = [], [], []
    for block, cols, hit, masks in sorted(pending, key=lambda p: target_order[p[0]]):
        for w in np.flatnonzero(hit).tolist():
            way = cand[cols[masks[w] == 1]].tolist()
            if not used.intersection(way):
                used.update(way)
                more_blocks.append(block)
                more_groups += [g] * len(way)
                more_parts += way
                g += 1
                break
    blocks = np.concatenate(blocks_out + [np.array(more_blocks, dtype=np.int64)]).astype(np.int64)
    return Splits(target=target_of_block[blocks].astype(np.int64),
                  group=np.concatenate(groups + [np.array(more_groups, dtype=np.int64)]).astype(np.int64),
                  part=np.concatenate(parts + [np.array(more_parts, dtype=np.int64)]).astype(np.int64),
                  ambiguous=amb_of[blocks])
