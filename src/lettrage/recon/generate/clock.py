"""Hotel clocks: events are drawn in the hotel's local time, stored in UTC, and dated by the night
audit, with exactly the rules the readers apply (`Hotel.localize`, `Hotel.business_dates`), so a
time written as local text reads back as the same instant and business date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lettrage.recon.hotels import Hotel

HOUR = 3600
EARLIEST = 6 * HOUR + 30 * 60  # nothing happens at the desk before 06:30


def latest_second(hotel: Hotel) -> int:
    """Latest local second of a business date's activity, counted from the calendar midnight that
    opens it (above 86400 = after midnight): 45 minutes before the night audit closes the day."""
    return 86400 + int(hotel.audit_offset.total_seconds()) - 45 * 60


def at(days: np.ndarray, seconds) -> np.ndarray:
    """Local naive datetimes from days (datetime64[D]) and seconds after their midnight."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[s]") + \
        np.asarray(seconds).astype(np.int64).astype("timedelta64[s]")


def to_utc(hotel: Hotel, local) -> pd.Series:
    """Canonical UTC instants of local naive times (NaT stays NaT)."""
    series = pd.Series(pd.to_datetime(np.asarray(local, dtype="datetime64[ns]")))
    return hotel.localize(series).dt.floor("s")


def to_local(hotel: Hotel, utc: pd.Series) -> pd.Series:
    """Local naive wall-clock times of UTC instants, as a PMS or a terminal prints them."""
    return utc.dt.tz_convert(hotel.timezone).dt.tz_localize(None)


def business_dates(hotel: Hotel, utc: pd.Series) -> pd.Series:
    """The business date of each instant (None for NaT)."""
    out = hotel.business_dates(utc.fillna(pd.Timestamp(0, tz="UTC")))
    return out.where(utc.notna(), None)


def day_end(hotel: Hotel, local: np.ndarray) -> np.ndarray:
    """Local time at which the business date of each local time closes (the next night audit)."""
    offset = np.timedelta64(int(hotel.audit_offset.total_seconds()), "s")
    local = np.asarray(local, dtype="datetime64[s]")
    return (local - offset).astype("datetime64[D]").astype("datetime64[s]") + offset + np.timedelta64(86400, "s")


def business_day(hotel: Hotel, local: np.ndarray) -> np.ndarray:
    """Business date (datetime64[D]) of local naive times, by the night-audit rule."""
    offset = np.timedelta64(int(hotel.audit_offset.total_seconds()), "s")
    return (np.asarray(local, dtype="datetime64[s]") - offset).astype("datetime64[D]")
