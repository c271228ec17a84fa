"""The PSP leg from our own service: the notifications it received (operational store) copied
into the warehouse's `psp_transactions`, next to the PSP's report files, so that a paid link is
matched against the PMS deposit posting whose reference carries our order id.

`psp_link_payments` runs after the inbox's `psp_transactions` in the daily run (it replaces only
its own rows). The `new_psp_events` sensor asks the operational store, never the warehouse,
whether the service applied new events, and then refreshes the business dates they fall on.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd

from lettrage.paylinks import psp_journal
from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.recon import schemas
from lettrage.recon.money import format_cents
from lettrage.resources.inbox import InboxResource
from lettrage.resources.links import OpsStoreResource
from lettrage.resources.warehouse import WarehouseResource

GROUP = "ingest"


def _by_status(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "_no payment events in this window_"
    lines = ["| hotel | operation | status | events | total |", "|---|---|---|---:|---:|"]
    for (hotel, op, status), part in rows.groupby(["hotel_id", "operation", "status"], sort=True):
        lines.append(f"| {hotel} | {op} | {status} | {len(part)} | "
                     f"{format_cents(int(part['amount_cents'].sum()), part['currency'].iloc[0])} |")
    return "\n".join(lines)


@dg.asset(
    deps=["psp_transactions"],
    partitions_def=business_date,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", "duckdb", "sqlalchemy"},
    pool="duckdb",
)
def psp_link_payments(context: dg.AssetExecutionContext, ops_store: OpsStoreResource, inbox_files: InboxResource,
                      warehouse: WarehouseResource):
    """Payments made through our payment links, as the PSP notified the service (sales,
    pre-authorisations, captures, refunds; duplicates and late statuses left out), added to the
    PSP journal (`psp_transactions`) of each business date. A payment the PSP's report file
    already lists is not added twice."""
    start, end = run_window(context)
    hotels = inbox_files.hotels(run_hotels(context))
    if ops_store.exists():
        with ops_store.sessions(read_only=True)() as s:
            rows = psp_journal.journal_rows(s, start, end, hotels)
    else:
        rows = schemas.empty_frame("psp_transactions")
    with warehouse.connect() as conn:
        written, skipped = psp_journal.replace_service_rows(conn, rows, start, end, list(hotels))
    paid = rows[rows["status"] == "paid"] if len(rows) else rows
    refunded = rows[rows["operation"] == "refund"] if len(rows) else rows
    shown = rows.drop(columns=["source_file", "ingested_at", "psp_txn_id"]).head(15) if len(rows) else rows
    return dg.MaterializeResult(metadata={
        "events_written": dg.MetadataValue.int(written),
        "already_in_psp_report": dg.MetadataValue.int(skipped),
        "paid_through_links": dg.MetadataValue.text(format_cents(int(paid["amount_cents"].sum()) if len(paid) else 0)),
        "refunded_total": dg.MetadataValue.text(format_cents(int(refunded["amount_cents"].sum()) if len(refunded)
                                                             else 0)),
        "by_hotel_and_status": dg.MetadataValue.md(_by_status(rows)),
        "preview": dg.MetadataValue.md(shown.to_markdown(index=False) if len(shown) else "_no rows_"),
    })


@dg.asset_check(asset=psp_link_payments, blocking=True,
                description="Every paid or captured link payment carries the PSP's reference (PAYID) and a "
                            "positive amount: without them it cannot be matched or refunded.")
def link_payments_are_referenced(context: dg.AssetCheckExecutionContext,
                                 warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        bad = conn.execute(
            "SELECT hotel_id, order_id, operation, status, amount_cents FROM psp_transactions "
            "WHERE source_file = ? AND status = 'paid' AND (psp_reference IS NULL OR amount_cents <= 0)",
            [psp_journal.SOURCE]).df()
    return dg.AssetCheckResult(passed=bad.empty, metadata={
        "unreferenced": dg.MetadataValue.int(len(bad)),
        "examples": dg.MetadataValue.md(bad.head(20).to_markdown(index=False) if len(bad) else "_none_"),
    })


psp_events_job = dg.define_asset_job(
    "psp_link_payments_job",
    selection=dg.AssetSelection.assets(psp_link_payments),
    description="Copy the PSP events the service received into the warehouse's PSP journal.",
    partitions_def=business_date,
    executor_def=dg.in_process_executor,
)


@dg.sensor(job=psp_events_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def new_psp_events(context: dg.SensorEvaluationContext, ops_store: OpsStoreResource):
    """New payment events applied by the service: refresh the PSP journal of their business dates
    (the day of arrival and the day before, for payments made before the night audit)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from lettrage.config import load_settings

    if not ops_store.exists():
        return dg.SkipReason("no operational store yet")
    last = int(context.cursor or 0)
    try:
        with ops_store.sessions(read_only=True)() as s:
            newest, arrived = psp_journal.new_events_since(s, last)
    except (OperationalError, ProgrammingError) as exc:
        return dg.SkipReason(f"operational store not ready: {exc.orig}")
    if not arrived:
        return dg.SkipReason("no new payment events")
    tz = ZoneInfo(load_settings().group_timezone)
    # Today's date is no partition yet: the daily run brings its events in after the night audit.
    valid = set(business_date.get_partition_keys(dynamic_partitions_store=context.instance))
    days = sorted({key for at in arrived for d in (at.astimezone(tz).date(), at.astimezone(tz).date()
                                                    - dt.timedelta(days=1)) if (key := d.isoformat()) in valid})
    context.update_cursor(str(newest))
    if not days:
        return dg.SkipReason(f"{len(arrived)} new event(s), all of today: the daily run takes them")
    return [dg.RunRequest(run_key=f"psp-events-{newest}-{d}", partition_key=d) for d in days]


@dg.asset(group_name="links", kinds={"python", "sqlalchemy"})
def installment_charges(context: dg.AssetExecutionContext, ops_store: OpsStoreResource):
    """Installments whose due date has come, charged on the card the guest let us keep at the
    first payment (merchant-initiated, DirectLink with the alias). Each one is claimed before the
    PSP is called, so a second run never charges it twice; a refusal is reported to the guest and
    the hotel."""
    from lettrage.config import load_settings
    from lettrage.paylinks import payments

    outcomes = payments.charge_due_installments(ops_store.sessions(), load_settings())
    lines = ["| request | installment | detail |", "|---|---|---|"] + \
        [f"| {o.request_id} | {o.part_status} | {o.detail} |" for o in outcomes]
    return dg.MaterializeResult(metadata={
        "charged": dg.MetadataValue.int(sum(o.part_status == "paid" for o in outcomes)),
        "refused": dg.MetadataValue.int(sum(o.part_status == "refused" for o in outcomes)),
        "attempts": dg.MetadataValue.md("\n".join(lines) if outcomes else "_nothing due_"),
    })


installments_job = dg.define_asset_job(
    "charge_installments", selection=dg.AssetSelection.assets(installment_charges),
    description="Charge the installments due today.", executor_def=dg.in_process_executor)


def _installments_schedule():
    from lettrage.config import load_settings

    return dg.ScheduleDefinition(name="installments_every_morning", job=installments_job, cron_schedule="0 10 * * *",
                                 execution_timezone=load_settings().group_timezone,
                                 default_status=dg.DefaultScheduleStatus.RUNNING,
                                 description="Every morning at 10:00: charge the installments due.")


PSP_ASSETS = [psp_link_payments, installment_charges]
PSP_CHECKS = [link_payments_are_referenced]
PSP_JOBS = [psp_events_job, installments_job]
PSP_SENSORS = [new_psp_events]
PSP_SCHEDULES = [_installments_schedule()]
