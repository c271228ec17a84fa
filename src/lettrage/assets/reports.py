"""The reports a credit manager opens, written after the marts of the same business dates."""

import dagster as dg

from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.recon.money import format_cents
from lettrage.recon.reports import ReportSet, write_reports
from lettrage.resources.reports import ReportsResource
from lettrage.resources.warehouse import WarehouseResource

GROUP = "marts"
MARTS = [dg.AssetKey(["marts", name]) for name in ("daily_summary", "exceptions_open", "remittance_list")]


def summary_table(written: ReportSet) -> str:
    """Markdown: one line per hotel and business date, with the report's figures and its page."""
    lines = ["| hotel | business date | PMS | money taken | écart | open exceptions | report |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r, page, _book in written.days:
        taken = r.total("tpe_cents") + r.total("psp_cents")
        lines.append(f"| {r.hotel_id} | {r.business_date} | {format_cents(r.total('pms_cents'), r.currency)} | "
                     f"{format_cents(taken, r.currency)} | {format_cents(r.total('ecart_cents'), r.currency)} | "
                     f"{r.total('open_exception_count')} | {page} |")
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
    start, end = run_window(context)
    written = write_reports(warehouse.path, reports.root, start, end, run_hotels(context))
    metadata = {
        "group_page": dg.MetadataValue.path(str(written.group_page)),
        "reports_written": dg.MetadataValue.int(len(written.days)),
        "summary": dg.MetadataValue.md(summary_table(written)),
    }
    if len(written.days) == 1:
        metadata["report"] = dg.MetadataValue.path(str(written.days[0][1]))
        metadata["workbook"] = dg.MetadataValue.path(str(written.days[0][2]))
    return dg.MaterializeResult(metadata=metadata)
