"""The benchmark's scenarios (recon.md §5): the mix of payments and anomalies each generates
(`generate.py` says what each is for). Plain data: `lettrage bench --help` lists them without
loading the generator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str = "default"
    events_per_day: int = 100
    reuse_card: float = .10
    reuse_same_amount: float = .30
    skew_share: float = .05
    lag_mean_s: float = 240.
    late_share: float = .01
    late_max_s: int = 5400
    missing_pms: float = .01
    pms_orphan: float = .01
    dup_pms: float = .003
    dup_tpe: float = .001
    refund: float = .02
    amount_mismatch: float = .003
    split_1k: float = .0033
    split_k1: float = .0017
    split_max: int = 3
    pan_error: float = .002
    brand_error: float = .005
    ties: float = 0.
    terminal_ahead: float = 0.
    pms_offset_days: float = 0.
    psp_share: float = 0.
    psp_no_last4: float = 0.
    remittances: bool = False
    out_of_scope: float = .03  # cash and transfer postings
    uuid_ids: bool = False  # record ids as random UUIDs (36 characters), not 'P00000012345'
    references: bool = False  # confirmation numbers on postings, batch references on tickets


SCENARIOS = {
    "default": Scenario(),
    "dense": Scenario("dense", events_per_day=1000),
    "clock_skew": Scenario("clock_skew", terminal_ahead=.05, pms_offset_days=.03),
    "late": Scenario("late", late_share=.05, late_max_s=7200),
    "psp_no_last4": Scenario("psp_no_last4", psp_share=.15, psp_no_last4=.05),
    "splits": Scenario("splits", split_1k=.025, split_k1=.025, split_max=5),
    "ties": Scenario("ties", ties=.05),
    "remittances": Scenario("remittances", remittances=True),
    "uuid_ids": Scenario("uuid_ids", uuid_ids=True),
    "references": Scenario("references", references=True),
}
