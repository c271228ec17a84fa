"""When a reconciliation run fails, finance gets an e-mail saying which dates, which step, why,
and how to re-run them."""

from __future__ import annotations

import dagster as dg

from lettrage.config import load_settings
from lettrage.pipelines.jobs import RECONCILIATION_GROUPS, daily_reconciliation
from lettrage.pipelines.partitions import HOTELS_TAG
from lettrage.resources.smtp import SmtpResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def run_dates(tags: dict) -> tuple[str, str] | None:
    """First and last business date a run covered, from its tags."""
    if RANGE_START in tags:
        return tags[RANGE_START], tags.get(RANGE_END, tags[RANGE_START])
    if "dagster/partition" in tags:
        return tags["dagster/partition"], tags["dagster/partition"]
    return None


def notice(job: str, run_id: str, tags: dict, failures: list[tuple[str, str]], ui_url: str) -> tuple[str, str]:
    """(subject, text) of the e-mail; `failures` are (step, error message). The error messages
    quote input: any card number in them is masked. The rest is ours, and is left as it is (a run id
    such as 36591f80-8f89-4029-8858-3144bf466629 holds digits that pass for a card number)."""
    from lettrage.recon.masking import mask

    dates = run_dates(tags)
    period = f"{dates[0]} to {dates[1]}" if dates and dates[0] != dates[1] else dates[0] if dates else "no date"
    hotels = tags.get(HOTELS_TAG) or "all"
    subject = f"[lettrage] Reconciliation failed: business date {period}"
    lines = [f"The run {run_id} of {job} failed.", "", f"Business dates: {period}", f"Hotels: {hotels}", ""]
    lines.append("Failed steps:" if failures else "The run failed before any step ran.")
    for step, message in failures:
        first = (message or "").strip().splitlines()[0] if message and message.strip() else "(no message)"
        lines.append(f"  - {step}: {mask(first)}")
    lines += ["", "The marts and reports of these dates were not updated from the failed step on.",
              f"See the run: {ui_url.rstrip('/')}/runs/{run_id}"]
    if dates:
        rerun = f"lettrage backfill --from {dates[0]} --to {dates[1]}"
        rerun += "".join(f" --hotel {h}" for h in hotels.split(",")) if hotels != "all" else ""
        lines.append(f"Re-run them once fixed: {rerun}")
    return subject, "\n".join(lines) + "\n"


def _cause(error) -> str:
    """The user's error under Dagster's wrappers ("Error occurred while executing op ...")."""
    while error.cause is not None:
        error = error.cause
    return error.message


def is_reconciliation(run, repository_def) -> bool:
    """The daily job, a `lettrage backfill`, or a backfill of reconciliation assets from the UI
    (those run as the asset job, with the assets they cover)."""
    if run.job_name == daily_reconciliation.name:
        return True
    if not run.asset_selection or repository_def is None:
        return False
    graph = repository_def.asset_graph
    return any(graph.has(key) and graph.get(key).group_name in RECONCILIATION_GROUPS for key in run.asset_selection)


@dg.run_failure_sensor(
    name="notify_finance_of_failed_reconciliation",
    description="E-mails finance when a reconciliation run (daily, backfill from the command line or the UI) fails.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def notify_finance_of_failed_reconciliation(context: dg.RunFailureSensorContext, finance_mail: SmtpResource):
    run = context.dagster_run
    if not is_reconciliation(run, context.repository_def):
        return  # the payment-link jobs report to their own people
    failures = [(event.step_key or "run", _cause(event.event_specific_data.error)
                 if event.event_specific_data and event.event_specific_data.error else "")
                for event in context.get_step_failure_events()]
    if not failures and context.failure_event.message:
        failures = [("run", context.failure_event.message)]
    settings = load_settings()
    subject, text = notice(run.job_name, run.run_id, dict(run.tags), failures, settings.dagster_ui_url)
    finance_mail.send(settings.finance_email, subject, text)
    context.log.info(f"failure of run {run.run_id} sent to {settings.finance_email}")
