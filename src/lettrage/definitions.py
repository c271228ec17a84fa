"""The Dagster code location: the one entry point (`dagster dev -w workspace.yaml`, `make ui`)."""

from __future__ import annotations

import dagster as dg

from lettrage.assets import ingest
from lettrage.pipelines import jobs
from lettrage.resources import build_resources

defs = dg.Definitions(
    assets=[*ingest.SOURCE_ASSETS],
    jobs=[jobs.daily_reconciliation],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
