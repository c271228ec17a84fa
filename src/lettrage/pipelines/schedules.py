"""The daily schedule: after the night audit, reconcile the previous business date.

The time is a setting (LETTRAGE_DAILY_RUN_TIME, HH:MM in the group's time zone, 06:00 by default),
late enough for every hotel's night audit to have closed the day. The schedule runs as soon as
the Dagster daemon starts (`make ui`): it needs no switching on.
"""

from __future__ import annotations

import dagster as dg

from lettrage.config import load_settings
from lettrage.pipelines.jobs import daily_reconciliation


def run_time(value: str) -> tuple[int, int]:
    """'06:00' -> (6, 0), or a clear error naming the setting."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError
    except ValueError:
        raise ValueError(f"LETTRAGE_DAILY_RUN_TIME={value!r}: expected a time of day as HH:MM") from None
    return hours, minutes


def daily_schedule(daily_run_time: str):
    """The schedule at a time of day; the partitions being daily in the group's time zone with
    end_offset 0, a tick on day D asks for the last closed business date, D-1."""
    hour, minute = run_time(daily_run_time)
    return dg.build_schedule_from_partitioned_job(
        daily_reconciliation,
        name="daily_reconciliation_after_night_audit",
        description="Every morning after the night audit: reconcile the previous business date of every hotel.",
        hour_of_day=hour,
        minute_of_hour=minute,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )


daily_reconciliation_schedule = daily_schedule(load_settings().daily_run_time)
