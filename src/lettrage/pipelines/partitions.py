"""Business-date partitions, and which hotels a run covers.

The hotel is a column and a run filter, not a partition dimension (DESIGN.md, Partitions): a run
covers every hotel unless its `lettrage/hotels` tag names some (comma-separated).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from lettrage.config import load_settings

HOTELS_TAG = "lettrage/hotels"

_settings = load_settings()

business_date = dg.DailyPartitionsDefinition(
    start_date=_settings.first_business_date,
    timezone=_settings.group_timezone,
    end_offset=0,
)


def run_hotels(context) -> list[str] | None:
    """Hotels named in the run's tag, or None for all of them."""
    tag = context.run.tags.get(HOTELS_TAG, "") if context.run else ""
    hotels = [h.strip() for h in tag.split(",") if h.strip()]
    return hotels or None


def run_window(context) -> tuple[dt.date, dt.date]:
    """[start, end) business dates of the partitions this run materialises."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()
