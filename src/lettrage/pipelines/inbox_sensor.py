"""The inbox sensor: a new or corrected file in the inbox starts the reconciliation of its dates.

Every minute it lists the inbox (never the warehouse, which only runs open), and for each file
that is new or whose content changed it works out the business dates the file feeds (from its
rows, or the date in its name: `inbox.business_dates_of`). It then requests one
`daily_reconciliation` run per business date, limited to the hotels that delivered, with a run
key made of the date and the content hashes of the files: the same file is never processed twice,
even if the cursor is lost. A date whose partition does not exist yet (today, before the day is
closed) waits in the cursor; a date already reconciled after the file arrived is not run again.

Cursor (JSON): `{"files": {relative path: [size, mtime_ns, sha256]}, "waiting": {date: [[path, sha, hotel]]}}`.
"""

import hashlib
import json
import time

import dagster as dg

from lettrage.pipelines.jobs import daily_reconciliation
from lettrage.pipelines.partitions import HOTELS_TAG, business_date
from lettrage.recon import inbox, schemas
from lettrage.recon.readers.hotel_config import hotel_mappings
from lettrage.resources.inbox import InboxResource

TABLE_ASSETS = {kind: dg.AssetKey(table) for kind, table in schemas.SOURCE_KINDS.items()}
# A tick must end well within Dagster's sensor timeout (60 s): files beyond this wait for the next tick.
TICK_BUDGET_SECONDS = 20


def parse_cursor(text: str | None) -> dict:
    data = json.loads(text) if text else {}
    return {"files": data.get("files", {}), "waiting": data.get("waiting", {})}


def run_key(day: str, items: list[list[str]]) -> str:
    digest = hashlib.sha256("\n".join(sorted(f"{p}:{sha}" for p, sha, _ in items)).encode()).hexdigest()[:16]
    return f"inbox:{day}:{digest}"


def reconciled_since(instance, kind: str, day: str, since_ns: int) -> bool:
    """Whether the kind's asset was materialised for `day` after the file was written."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=TABLE_ASSETS[kind], asset_partitions=[day]), limit=1).records
    return bool(records) and records[0].timestamp * 1e9 > since_ns


@dg.sensor(
    name="inbox_sensor",
    job=daily_reconciliation,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reconciles the business dates of new or corrected files as soon as they arrive in the inbox.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, inbox_files: InboxResource):
    cursor = parse_cursor(context.cursor)
    root = inbox_files.root
    try:
        hotels = inbox_files.hotels()
    except FileNotFoundError as exc:
        return dg.SkipReason(str(exc))
    seen, waiting = cursor["files"], cursor["waiting"]
    present, mappings, started, postponed = set(), {}, time.monotonic(), 0
    for f in inbox.scan(root, hotel_ids=list(hotels)):
        rel = f.path.relative_to(root).as_posix()
        present.add(rel)
        stat = f.path.stat()
        known = seen.get(rel)
        if known and known[:2] == [stat.st_size, stat.st_mtime_ns]:
            continue
        if time.monotonic() - started > TICK_BUDGET_SECONDS:
            postponed += 1
            continue
        sha = f.sha256()
        seen[rel] = [stat.st_size, stat.st_mtime_ns, sha]
        if (known and known[2] == sha) or f.kind == "trx_codes":
            continue  # touched, not changed; code tables are read by every run
        if f.hotel_id not in mappings:
            try:
                mappings[f.hotel_id] = hotel_mappings(root / f.hotel_id)
            except ValueError:
                mappings[f.hotel_id] = {}
        for day in inbox.business_dates_of(f, hotels[f.hotel_id], mappings[f.hotel_id]):
            entry = [rel, sha, f.hotel_id]
            if entry not in waiting.setdefault(day.isoformat(), []):
                waiting[day.isoformat()].append(entry)
    if postponed:
        context.log.info(f"{postponed} more new file(s) are read at the next tick")
    for rel in set(seen) - present:  # gone (quarantined, archived): forget it
        del seen[rel]
    requests = []
    for day in sorted(waiting):
        items = waiting[day]
        if day < business_date.get_first_partition_key():
            del waiting[day]  # before the first business date the group reconciles
            continue
        if day > (business_date.get_last_partition_key() or ""):
            continue  # the day is not closed yet: asked again at a later tick
        fresh = [i for i in items if i[0] in seen and seen[i[0]][2] == i[1]
                 and not reconciled_since(context.instance, i[0].split("/")[1], day, seen[i[0]][1])]
        del waiting[day]
        if not fresh:
            continue
        hotel_ids = sorted({i[2] for i in fresh})
        context.log.info(f"{day}: {len(fresh)} new file(s) from {', '.join(hotel_ids)}")
        requests.append(dg.RunRequest(run_key=run_key(day, fresh), partition_key=day,
                                      tags={HOTELS_TAG: ",".join(hotel_ids)}))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps({"files": seen, "waiting": waiting}))

