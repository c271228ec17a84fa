"""The reports a credit manager opens, written after the marts of the same business dates."""

import dagster as dg
import pandas as pd

from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.recon.money import format_cents
from lettrage.resources.reports import ReportsResource
from lettrage.resources.warehouse import WarehouseResource

GROUP = "marts"
MARTS = [dg.AssetKey(["marts", name]) for name in ("daily_summary", "exceptions_open", "remittance_list")]


def summary_table(days: list[tuple[str, object, object, object]], frames: list[pd.DataFrame]) -> str:
    """Markdown: one line per hotel and business date, with the report's figures and its page."""
    lines = ["| hotel | business date | PMS | money taken | écart | open exceptions | report |",
             "|---|---|---:|---:|---:|---:|---|"]
    for (hotel_id, day, page, _book), summary in zip(days, frames, strict=True):
        taken = int(summary["tpe_cents"].sum() + summary["psp_cents"].sum())
        lines.append(f"| {hotel_id} | {day} | {format_cents(int(summary['pms_cents'].sum()))} | "
                     f"{format_cents(taken)} | {format_cents(int(summary['ecart_cents'].sum()))} | "
                     f"{int(summary['open_exception_count'].sum())} | {page} |")
    return "\n".join(lines)


@dg.asset(
    deps=MARTS,
    partitions_def=business_date,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", "html", "excel"},
    pool="duckdb",
)
def finance_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportsResource):
    """Per hotel and business date, an HTML page and an XLSX workbook (daily summary by card
    scheme, open exceptions, remittance list), and the group page with the écart of every hotel
    over time (index.html). They show the numbers of the marts."""
    from lettrage.recon.reports import marts, write_reports

    start, end = run_window(context)
    written = write_reports(warehouse.path, reports.root, start, end, run_hotels(context))
    with warehouse.connect(read_only=True) as conn:
        frames = [marts.day_report(conn, h, d).summary for h, d, _p, _b in written.days]
    metadata = {
        "group_page": dg.MetadataValue.path(str(written.group_page)),
        "reports_written": dg.MetadataValue.int(len(written.days)),
        "summary": dg.MetadataValue.md(summary_table(written.days, frames)),
    }
    if len(written.days) == 1:
        metadata["report"] = dg.MetadataValue.path(str(written.days[0][2]))
        metadata["workbook"] = dg.MetadataValue.path(str(written.days[0][3]))
    return dg.MaterializeResult(metadata=metadata)
