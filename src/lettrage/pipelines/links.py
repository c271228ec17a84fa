"""Payment links: their jobs and the sensors that start them.

`due_link_sends` asks the operational store (never the warehouse) whether anything is due: link
messages whose time has come, reminders, retries, interrupted attempts to look up, requests to
expire. If so, and no sending run is going, it requests a `link_sends` run. `new_reservations`
starts `payment_links` (rules, then sends) after each new reservation export.
"""

import datetime as dt
import hashlib
import json

import dagster as dg

from lettrage.assets.links import link_requests, link_sends
from lettrage.resources.links import OpsStoreResource

payment_links = dg.define_asset_job(
    "payment_links",
    selection=dg.AssetSelection.assets(link_requests, link_sends),
    description="Apply the hotels' link rules to their reservations, then send what is due.",
    executor_def=dg.in_process_executor,
)

send_links = dg.define_asset_job(
    "send_links",
    selection=dg.AssetSelection.assets(link_sends),
    description="Send the payment-link messages that are due, each exactly once.",
    executor_def=dg.in_process_executor,
)

_IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED]


@dg.sensor(job=send_links, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def due_link_sends(context: dg.SensorEvaluationContext, ops_store: OpsStoreResource):
    """Automatic mode: start a sending run when the store has messages due (step-by-step hotels'
    requests become due only once approved)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from lettrage.paylinks.sending import due_work

    if not ops_store.exists():
        return dg.SkipReason("no operational store yet")
    try:
        work = due_work(ops_store.sessions(read_only=True))
    except (OperationalError, ProgrammingError) as exc:
        return dg.SkipReason(f"operational store not ready: {exc.orig}")
    pending = len(work["requests"]) + work["reminders"] + len(work["sends"]) + len(work["expired"])
    if not pending:
        return dg.SkipReason("nothing due")
    running = context.instance.get_runs(dg.RunsFilter(job_name=send_links.name, statuses=_IN_PROGRESS), limit=1)
    if running:
        return dg.SkipReason(f"{pending} due; run {running[0].run_id} is sending")
    digest = hashlib.sha256(json.dumps(work, sort_keys=True).encode()).hexdigest()[:16]
    # One run per distinct set of due work and minute: a run that died leaves work due, retried next tick.
    minute = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M")
    return dg.RunRequest(
        run_key=f"links-{digest}-{minute}",
        tags={"lettrage/due": f"{len(work['requests'])} requests, {work['reminders']} reminders, "
                              f"{len(work['sends'])} sends, {len(work['expired'])} to expire"},
    )


@dg.asset_sensor(asset_key=dg.AssetKey("reservations"), job=payment_links,
                 default_status=dg.DefaultSensorStatus.RUNNING)
def new_reservations(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """A new reservation export was loaded: apply the link rules to it and send what is due."""
    return dg.RunRequest(run_key=f"reservations-{asset_event.storage_id}")


LINK_JOBS = [payment_links, send_links]
LINK_SENSORS = [due_link_sends, new_reservations]
