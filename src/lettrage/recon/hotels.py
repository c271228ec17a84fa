"""A hotel's settings (data, not code) and its accounting day.

The business date is the day the night audit closes: a payment at 00:40 before a 03:00 audit
belongs to the previous business date; with an audit at 23:30, a payment at 23:45 already belongs
to the next one.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

HOTELS_FILE = "hotels.csv"  # at the root of the inbox


@dataclass(frozen=True)
class Hotel:
    hotel_id: str
    name: str
    timezone: str
    currency: str = "EUR"
    night_audit_time: str = "03:00"
    match_window_minutes: int = 30
    pms_system: str = "generic"
    amount_tolerance_cents: int = 500

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def audit_offset(self) -> dt.timedelta:
        """How far to shift a local time so that its calendar day is its business date."""
        hours, minutes = (int(x) for x in self.night_audit_time.split(":")[:2])  # HH:MM or HH:MM:SS
        shift = dt.timedelta(hours=hours, minutes=minutes)
        # An audit after noon closes the day early: later postings belong to the next date.
        return shift if hours < 12 else shift - dt.timedelta(days=1)

    def business_date(self, at: dt.datetime) -> dt.date:
        """Business date of one timestamp (naive = hotel local time, aware = converted)."""
        local = at.astimezone(self.tz).replace(tzinfo=None) if at.tzinfo else at
        return (local - self.audit_offset).date()

    def business_dates(self, at: pd.Series) -> pd.Series:
        """Vectorised `business_date` for a tz-aware (any zone) datetime series."""
        local = at.dt.tz_convert(self.timezone).dt.tz_localize(None)
        return (local - self.audit_offset).dt.date

    def localize(self, local: pd.Series) -> pd.Series:
        """Attach the hotel's zone to naive local times and convert to UTC.

        Ambiguous autumn times take the first (summer-time) reading and spring-gap times are
        shifted forward, which is what a PMS clock does."""
        return (
            local.dt.tz_localize(self.timezone, ambiguous=True, nonexistent="shift_forward")
            .dt.tz_convert("UTC")
        )

    def day_bounds(self, business_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """UTC start and end of a business date (end exclusive)."""
        start_local = dt.datetime.combine(business_date, dt.time()) + self.audit_offset
        end_local = start_local + dt.timedelta(days=1)
        return (
            start_local.replace(tzinfo=self.tz).astimezone(dt.UTC),
            end_local.replace(tzinfo=self.tz).astimezone(dt.UTC),
        )


_INT_FIELDS = {"match_window_minutes", "amount_tolerance_cents"}


def load_hotels(path: Path) -> dict[str, Hotel]:
    """Read the group's hotel list (hotels.csv): one row per hotel with its settings."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: the hotel list is missing (expected {HOTELS_FILE} in the inbox)")
    hotels: dict[str, Hotel] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for line_no, row in enumerate(csv.DictReader(fh), start=2):
            try:
                values = {k: (int(float(v)) if k in _INT_FIELDS else v.strip())
                          for k, v in row.items() if k in Hotel.__dataclass_fields__ and v not in ("", None)}
                values.setdefault("name", values.get("hotel_id", ""))  # a list of ids and settings will do
                hotel = Hotel(**values)
                ZoneInfo(hotel.timezone)
            except Exception as exc:  # noqa: BLE001 - reported with file and line
                raise ValueError(f"{path}:{line_no}: bad hotel row: {exc}") from exc
            hotels[hotel.hotel_id] = hotel
    return hotels


def write_hotels(hotels: list[Hotel], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(Hotel.__dataclass_fields__)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for h in hotels:
            writer.writerow([getattr(h, n) for n in names])
