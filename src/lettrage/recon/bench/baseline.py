"""The baseline the engine is measured against: pandas `merge_asof` on (hotel, last 4, amount),
nearest in time within the window, one ticket per posting, repeated on what is left (4 rounds).
Exact-amount one-to-one pairs only: it has no splits, tolerances or exceptions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd


def run(pms: Path, tpe: Path, window_s: int = 1800, rounds: int = 4) -> dict:
    began = time.perf_counter()
    p = pd.read_parquet(pms, columns=["posting_id", "hotel_id", "posted_at", "amount_cents", "card_last4", "channel"])
    t = pd.read_parquet(tpe, columns=["tpe_txn_id", "hotel_id", "txn_at", "amount_cents", "card_last4"])
    p = p[p["channel"].isin(["terminal", "distance"]) & p["card_last4"].notna()].drop(columns="channel")
    t = t[t["card_last4"].notna()]
    p = p.rename(columns={"posted_at": "ts"}).sort_values("ts")
    t = t.rename(columns={"txn_at": "ts"}).sort_values("ts")
    keys = ["hotel_id", "card_last4", "amount_cents"]
    pairs = []
    for _ in range(rounds):
        if p.empty or t.empty:
            break
        m = pd.merge_asof(t, p, on="ts", by=keys, direction="nearest", tolerance=pd.Timedelta(seconds=window_s),
                          suffixes=("_t", "_p"))
        m = m.dropna(subset=["posting_id"])
        m = m.drop_duplicates("posting_id", keep="first")  # one ticket per posting
        if m.empty:
            break
        pairs.append(m[["posting_id", "tpe_txn_id"]])
        p = p[~p["posting_id"].isin(m["posting_id"])]
        t = t[~t["tpe_txn_id"].isin(m["tpe_txn_id"])]
    found = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=["posting_id", "tpe_txn_id"])
    return {"seconds": round(time.perf_counter() - began, 3), "pairs": int(len(found)), "frame": found}


def precision(found: pd.DataFrame, truth_matches: Path) -> float | None:
    tm = pd.read_parquet(truth_matches, columns=["match_id", "leg", "side", "record_id"])
    tm = tm[tm["leg"] == "pms_tpe"]
    left = tm[tm["side"] == "left"][["match_id", "record_id"]].rename(columns={"record_id": "posting_id"})
    right = tm[tm["side"] == "right"][["match_id", "record_id"]].rename(columns={"record_id": "tpe_txn_id"})
    truth = left.merge(right, on="match_id")[["posting_id", "tpe_txn_id"]]
    if found.empty:
        return None
    hit = found.merge(truth, on=["posting_id", "tpe_txn_id"], how="inner")
    return float(np.round(len(hit) / len(found), 5))
