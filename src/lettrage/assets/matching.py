"""Matching: the canonical tables of a business-date window, reconciled into the ledger
(card_matches), the exceptions queue and the daily summary with its écart.

One run of the engine (`recon.matching`) makes the three tables, so they are one multi-asset;
its checks are blocking: a ledger where a record is matched twice, or where the écart is not the
sum of the exceptions, must not reach the marts.
"""

import dagster as dg
import pandas as pd

from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.recon import decisions
from lettrage.recon.matching.checks import run_checks
from lettrage.recon.matching.engine import run_matching
from lettrage.recon.matching.sides import Window
from lettrage.recon.matching.store import save
from lettrage.recon.money import format_cents
from lettrage.resources.warehouse import WarehouseResource

GROUP = "matching"
SOURCES = ["pms_postings", "tpe_transactions", "remittances", "psp_transactions", "psp_link_payments", "hotels",
           "trx_codes"]
CHECKS = {
    "every_record_once": ("card_matches", "Every card posting, ticket and PSP payment of the window is in exactly "
                                          "one match or else in exactly one exception."),
    "no_record_in_two_matches": ("card_matches", "No record is in two matches."),
    "ecart_is_sum_of_exceptions": ("daily_summary", "Per hotel and business date: PMS total - money taken = écart "
                                                    "= signed sum of the exceptions (open + resolved)."),
}


def _md(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False) if len(frame) else "_nothing_"


@dg.multi_asset(
    specs=[
        dg.AssetSpec("card_matches", deps=SOURCES, group_name=GROUP, kinds={"python", "duckdb"},
                     description="The reconciled ledger: one row per match and record (PMS posting, terminal "
                                 "ticket, PSP payment, remittance line), with its stage, rule, deltas and flags."),
        dg.AssetSpec("exceptions", deps=SOURCES, group_name=GROUP, kinds={"python", "duckdb"},
                     description="What a person must look at: unmatched records and flagged matches, with the "
                                 "code, the amount it weighs in the écart and people's resolutions."),
        dg.AssetSpec("daily_summary", deps=SOURCES, group_name=GROUP, kinds={"python", "duckdb"},
                     description="Per hotel, business date and card family: PMS, terminal, PSP and remitted "
                                 "totals and the écart (PMS minus money taken)."),
    ],
    check_specs=[dg.AssetCheckSpec(name, asset=asset, description=text, blocking=True)
                 for name, (asset, text) in CHECKS.items()],
    partitions_def=business_date,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    can_subset=False,
)
def matching(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Match the window's records (every hotel, or those of the run's hotel tag) with the hotels'
    windows and tolerances, replaying people's decisions, and replace the window's three tables."""
    start, end = run_window(context)
    hotels = run_hotels(context)
    with warehouse.connect() as conn:
        out = run_matching(conn, start, end, hotels, decisions=decisions.load(conn))
        written = save(conn, out, start, end, hotels)
        checks = run_checks(conn, Window(start, end, tuple(hotels) if hotels else None))
    summary = out.daily_summary.to_pandas()
    exc = out.exceptions.to_pandas()
    per_hotel = summary.groupby("hotel_id", as_index=False)[["pms_cents", "tpe_cents", "psp_cents", "ecart_cents",
                                                             "exception_count"]].sum()
    for col in ("pms_cents", "tpe_cents", "psp_cents", "ecart_cents"):
        per_hotel[col] = per_hotel[col].map(format_cents)
    by_code = exc[exc["resolved_at"].isna()].groupby("code").agg(count=("code", "size"),
                                                                  amount=("amount_cents", "sum")).reset_index()
    by_code["amount"] = by_code["amount"].map(format_cents)
    stages = {k: v for k, v in out.stats["matched_by_rule"].items()}
    total_ecart = int(summary["ecart_cents"].sum()) if len(summary) else 0
    yield dg.MaterializeResult(asset_key="card_matches", metadata={
        "rows": dg.MetadataValue.int(written["card_matches"]),
        "matched_by_stage_and_rule": dg.MetadataValue.json(stages),
        "seconds": dg.MetadataValue.json(out.stats["seconds"]),
        "records_in": dg.MetadataValue.json(out.stats["rows_in"]),
    })
    yield dg.MaterializeResult(asset_key="exceptions", metadata={
        "rows": dg.MetadataValue.int(written["exceptions"]),
        "open_by_code": dg.MetadataValue.md(_md(by_code)),
        "preview": dg.MetadataValue.md(_md(exc.drop(columns=["opened_at", "resolved_at"]).head(15))),
    })
    yield dg.MaterializeResult(asset_key="daily_summary", metadata={
        "rows": dg.MetadataValue.int(written["daily_summary"]),
        "ecart_total": dg.MetadataValue.text(format_cents(total_ecart)),
        "ecart_by_hotel": dg.MetadataValue.md(_md(per_hotel)),
    })
    for name, (asset, _text) in CHECKS.items():
        result = checks[name]
        yield dg.AssetCheckResult(
            asset_key=asset, check_name=name, passed=bool(result["passed"]),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={k: (dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v)
                      for k, v in result.items() if k != "passed"})


MATCHING_ASSETS = [matching]
