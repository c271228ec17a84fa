"""Ground truth: which records belong together, and which anomaly was injected where.

Written to `<out>/_truth/` (the inbox scan skips folders starting with "_"), as CSV, one hotel
after another:

`matches.csv`, one row per (match group, record), the shape of the `card_matches` table:
  match_id       group id, e.g. `H001-G00042` (unique in the group of hotels)
  hotel_id
  business_date  the business date of this record
  leg            `pms_tpe` (PMS posting vs terminal ticket), `tpe_remittance` (ticket vs acquirer
                 remittance line), `pms_psp` (PMS deposit posting vs PSP payment)
  kind           `one_to_one`; `one_to_many` (one left record settled by several right ones: split
                 tender, a posting paid with 2-3 tickets); `many_to_one` (several left records, one
                 right: one ticket paying several folios)
  side           `left` (pms for pms_tpe and pms_psp, tpe for tpe_remittance) or `right`
  record_kind    pms_postings, tpe_transactions, remittances or psp_transactions
  record_id      posting_id, tpe_txn_id, remittance_line_id or psp_txn_id
  amount_cents   the record's amount (gross_cents for remittance lines)
A matched group may still carry an anomaly (LATE_POSTING, AMOUNT_MISMATCH, BRAND_MISMATCH,
PAN_MISMATCH, REFUND_UNMATCHED, SPLIT_AMBIGUOUS, REMITTANCE_MISMATCH). Records in no group and
with no anomaly are money that needs no match (cash, transfers, city ledger, terminal
pre-authorisations, voided tickets and their cancellations, refused / cancelled / pre-authorised
PSP operations, remittance payout lines).

`anomalies.csv`, one row per injected anomaly:
  anomaly_id     e.g. `H001-A0007`
  hotel_id, business_date (of the record)
  code           a DOMAIN.md exception code
  record_kind, record_id   the record the exception is about (see below)
  amount_cents   that record's amount
  related        the other records involved, `record_kind:record_id` separated by `;`
  detail         what was done, in words
The record of each code: MISSING_IN_TPE, DUPLICATE_PMS (the second posting), AMOUNT_MISMATCH,
BRAND_MISMATCH, PAN_MISMATCH, LATE_POSTING (plus TIMING_DIFFERENCE when the late posting fell on
the next business date), SPLIT_AMBIGUOUS (each of the two postings), POSTED_WITHOUT_PSP: a PMS
posting. MISSING_IN_PMS, DUPLICATE_TPE (the second ticket),
REFUND_UNMATCHED, NOT_REMITTED: a terminal ticket. REMITTANCE_MISMATCH: the remittance line.
PSP_NOT_POSTED: the PSP payment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

RECORD_KINDS = {"pms": "pms_postings", "tpe": "tpe_transactions", "rem": "remittances", "psp": "psp_transactions"}
MATCH_COLUMNS = ["match_id", "hotel_id", "business_date", "leg", "kind", "side", "record_kind", "record_id",
                 "amount_cents"]
ANOMALY_COLUMNS = ["anomaly_id", "hotel_id", "business_date", "code", "record_kind", "record_id",
                   "amount_cents", "related", "detail"]
TRUTH_DIR = "_truth"


class Truth:
    """Match groups and anomalies of one hotel, by internal record keys until the ids are known."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self._frame: pd.DataFrame | None = None
        self.anomalies: list[dict] = []
        self._next = 0

    def add(self, leg: str, kind: str, left: list[tuple[str, np.ndarray]], right: list[tuple[str, np.ndarray]]):
        """Add n groups at once: each side is a list of (record, keys) with n keys each; group g holds
        the g-th key of every list."""
        n = len(left[0][1])
        if n == 0:
            return np.array([], dtype=np.int64)
        groups = np.arange(self._next, self._next + n)
        self._next += n
        for side, records in (("left", left), ("right", right)):
            for record, keys in records:
                self._parts.append(pd.DataFrame({"group": groups, "leg": leg, "kind": kind, "side": side,
                                                 "record": record, "key": np.asarray(keys, dtype=np.int64)}))
        self._frame = None
        return groups

    @property
    def groups(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = (pd.concat(self._parts, ignore_index=True) if self._parts else
                           pd.DataFrame(columns=["group", "leg", "kind", "side", "record", "key"]))
            self._parts = [self._frame]
        return self._frame

    def drop_groups(self, groups) -> None:
        frame = self.groups
        self._frame = frame[~frame["group"].isin(groups)].reset_index(drop=True)
        self._parts = [self._frame]

    def group_of(self, leg: str, record: str, keys) -> np.ndarray:
        frame = self.groups
        rows = frame[(frame["leg"] == leg) & (frame["record"] == record) & frame["key"].isin(keys)]
        return rows["group"].unique()

    def anomaly(self, code: str, record: str, key: int, related: list[tuple[str, int]] = (), detail: str = ""):
        self.anomalies.append({"code": code, "record": record, "key": int(key), "related": list(related),
                               "detail": detail})

    def resolve(self, hotel_id: str, records: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Matches and anomalies with record ids, business dates and amounts.

        `records[kind]` has columns key, record_id, business_date, amount_cents (one row per key)."""
        lookup = {k: v.set_index("key") for k, v in records.items()}
        frame = self.groups.sort_values(["group", "side", "record", "key"], kind="stable")
        # Records outside the delivered window (a posting made after its last day) leave the truth.
        known = np.zeros(len(frame), dtype=bool)
        for record, info in lookup.items():
            known |= (frame["record"] == record).to_numpy() & frame["key"].isin(info.index).to_numpy()
        frame = frame[known]
        # A group that lost a whole side that way is no match within the window.
        sides = frame.groupby("group")["side"].nunique()
        frame = frame[frame["group"].isin(sides.index[sides == 2])]
        parts = []
        for record, rows in frame.groupby("record", sort=True):
            info = lookup[record].loc[rows["key"].to_numpy()]
            parts.append(pd.DataFrame({
                "group": rows["group"].to_numpy(), "side": rows["side"].to_numpy(), "leg": rows["leg"].to_numpy(),
                "kind": rows["kind"].to_numpy(), "record_kind": RECORD_KINDS[record],
                "record_id": info["record_id"].to_numpy(), "business_date": info["business_date"].to_numpy(),
                "amount_cents": info["amount_cents"].to_numpy()}))
        matches = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["group", "side", "leg", "kind", "record_kind", "record_id", "business_date", "amount_cents"])
        matches = matches.sort_values(["group", "side", "record_kind", "record_id"], kind="stable")
        # Renumber the groups that survived in order, for readable ids.
        number = {g: i + 1 for i, g in enumerate(matches["group"].unique())}
        matches["match_id"] = [f"{hotel_id}-G{number[g]:05d}" for g in matches["group"]]
        matches["hotel_id"] = hotel_id
        known_rows = {k: dict(zip(v["key"].tolist(), zip(v["record_id"], v["business_date"], v["amount_cents"],
                                                          strict=True), strict=True))
                      for k, v in records.items()}
        anomalies = []
        for a in self.anomalies:
            info = known_rows[a["record"]].get(a["key"])
            if info is None:
                continue
            related = ";".join(f"{RECORD_KINDS[r]}:{known_rows[r][k][0]}" for r, k in a["related"]
                               if k in known_rows[r])
            anomalies.append({"anomaly_id": f"{hotel_id}-A{len(anomalies) + 1:04d}", "hotel_id": hotel_id,
                              "business_date": info[1], "code": a["code"], "record_kind": RECORD_KINDS[a["record"]],
                              "record_id": info[0], "amount_cents": int(info[2]), "related": related,
                              "detail": a["detail"]})
        anomalies = pd.DataFrame(anomalies, columns=ANOMALY_COLUMNS)
        return matches[MATCH_COLUMNS].reset_index(drop=True), anomalies


class TruthWriter:
    """Appends each hotel's truth to `_truth/matches.csv` and `_truth/anomalies.csv`."""

    def __init__(self, out_dir: Path):
        self.dir = Path(out_dir) / TRUTH_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        for name, cols in (("matches.csv", MATCH_COLUMNS), ("anomalies.csv", ANOMALY_COLUMNS)):
            (self.dir / name).write_text(",".join(cols) + "\n", encoding="utf-8")
        (self.dir / "README.txt").write_text(__doc__.split("\n\n", 1)[1], encoding="utf-8")

    def append(self, matches: pd.DataFrame, anomalies: pd.DataFrame) -> None:
        matches.to_csv(self.dir / "matches.csv", mode="a", header=False, index=False, lineterminator="\n")
        anomalies.to_csv(self.dir / "anomalies.csv", mode="a", header=False, index=False, lineterminator="\n")

    @property
    def files(self) -> list[Path]:
        return [self.dir / "matches.csv", self.dir / "anomalies.csv", self.dir / "README.txt"]
