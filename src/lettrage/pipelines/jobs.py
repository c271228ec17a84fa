"""Jobs: what runs together."""

from __future__ import annotations

import dagster as dg

# Everything a business date needs, from the hotels' files to the finance marts. Assets join by
# group, so a new asset in one of these groups is part of the daily run without editing this.
RECONCILIATION_GROUPS = ("ingest", "matching", "marts")

daily_reconciliation = dg.define_asset_job(
    "daily_reconciliation",
    selection=dg.AssetSelection.groups(*RECONCILIATION_GROUPS),
    description="Read the hotels' files of a business date, match them, and build the finance views.",
    executor_def=dg.in_process_executor,
)
