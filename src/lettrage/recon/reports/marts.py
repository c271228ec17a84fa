"""Reading the finance marts (dbt schema `marts`) for reports: read-only, one hotel-day at a time.

The figures are taken as the marts hold them; nothing is recomputed here, so a report always
shows the numbers of the marts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

SUMMARY_COLUMNS = ["card_scheme", "scheme_label", "pms_cents", "tpe_cents", "psp_cents", "remitted_cents",
                   "ecart_cents", "pms_count", "tpe_count", "psp_count", "matched_count", "exception_count",
                   "open_exception_count"]
EXCEPTION_COLUMNS = ["exception_id", "code", "record_kind", "record_id", "card_scheme", "card_last4",
                     "occurred_at", "amount_cents", "age_days", "detail"]
REMITTANCE_COLUMNS = ["provider", "remittance_id", "remittance_date", "value_date", "terminal_ids",
                      "transaction_count", "gross_cents", "fee_cents", "net_cents", "terminal_cents",
                      "difference_cents", "unmatched_line_count", "not_remitted_count", "covers_terminals"]


@dataclass(frozen=True)
class DayReport:
    """What a credit manager reads for one hotel and business date."""

    hotel_id: str
    hotel_name: str
    business_date: dt.date
    currency: str
    timezone: str
    summary: pd.DataFrame  # one row per card scheme, in the screen's order
    exceptions: pd.DataFrame  # open exceptions of the day, oldest first
    remittances: pd.DataFrame  # the day's remittance batches

    def total(self, column: str) -> int:
        return int(self.summary[column].sum()) if len(self.summary) else 0


def hotel_days(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
               hotels: list[str] | None = None) -> list[tuple[str, dt.date]]:
    """(hotel, business date) pairs the daily summary holds in [start, end), in order."""
    rows = conn.execute(
        "SELECT DISTINCT hotel_id, business_date FROM marts.daily_summary "
        "WHERE business_date >= ? AND business_date < ? AND (? IS NULL OR list_contains(?, hotel_id)) "
        "ORDER BY hotel_id, business_date", [start, end, hotels, hotels]).fetchall()
    return [(h, d) for h, d in rows]


def _hotel(conn, hotel_id: str) -> tuple[str, str, str]:
    row = conn.execute("SELECT hotel_name, currency, timezone FROM staging.stg_hotels WHERE hotel_id = ?",
                       [hotel_id]).fetchone()
    return tuple(row) if row else (hotel_id, "EUR", "UTC")


def day_report(conn: duckdb.DuckDBPyConnection, hotel_id: str, day: dt.date) -> DayReport:
    name, currency, timezone = _hotel(conn, hotel_id)
    summary = conn.execute(
        f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM marts.daily_summary WHERE hotel_id = ? AND business_date = ? "
        "ORDER BY scheme_order, card_scheme", [hotel_id, day]).df()
    exceptions = conn.execute(
        f"SELECT {', '.join(EXCEPTION_COLUMNS)} FROM marts.exceptions_open WHERE hotel_id = ? AND business_date = ? "
        "ORDER BY age_days DESC, code, exception_id", [hotel_id, day]).df()
    remittances = conn.execute(
        f"SELECT {', '.join(REMITTANCE_COLUMNS)} FROM marts.remittance_list WHERE hotel_id = ? AND business_date = ? "
        "ORDER BY provider, remittance_id", [hotel_id, day]).df()
    return DayReport(hotel_id, name, day, currency, timezone, summary, exceptions, remittances)


def ecart_history(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The écart of every hotel and business date (all schemes together), for the group page."""
    return conn.execute(
        "SELECT s.hotel_id, coalesce(h.hotel_name, s.hotel_id) AS hotel_name, coalesce(h.currency, 'EUR') AS currency, "
        "s.business_date, "
        "CAST(sum(s.ecart_cents) AS BIGINT) AS ecart_cents, CAST(sum(s.pms_cents) AS BIGINT) AS pms_cents, "
        "CAST(sum(s.open_exception_count) AS BIGINT) AS open_exception_count "
        "FROM marts.daily_summary s LEFT JOIN staging.stg_hotels h USING (hotel_id) "
        "GROUP BY ALL ORDER BY s.hotel_id, s.business_date").df()
