"""The Dagster code location: the one entry point (`dagster dev -w workspace.yaml`, `make ui`)."""

from __future__ import annotations

import dagster as dg

from lettrage.assets import ingest, ingest_checks, links, marts, matching, psp, reports
from lettrage.pipelines import failure_notice, inbox_sensor, jobs, schedules
from lettrage.pipelines import links as link_pipelines
from lettrage.resources import build_resources

defs = dg.Definitions(
    assets=[*ingest.SOURCE_ASSETS, *matching.MATCHING_ASSETS, marts.finance_marts, reports.finance_reports, *links.LINK_ASSETS,
            *psp.PSP_ASSETS],
    asset_checks=[*ingest_checks.INGEST_CHECKS, *links.LINK_CHECKS, *psp.PSP_CHECKS],
    jobs=[jobs.daily_reconciliation, *link_pipelines.LINK_JOBS, *psp.PSP_JOBS],
    schedules=[schedules.daily_reconciliation_schedule, *psp.PSP_SCHEDULES],
    sensors=[inbox_sensor.inbox_sensor, failure_notice.notify_finance_of_failed_reconciliation, *link_pipelines.LINK_SENSORS,
             *psp.PSP_SENSORS],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
