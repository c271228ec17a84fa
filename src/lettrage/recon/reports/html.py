"""The HTML pages: one per hotel and business date, and the group's écart page."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import jinja2
import pandas as pd

from lettrage.recon.money import format_cents
from lettrage.recon.reports.chart import ecart_chart
from lettrage.recon.reports.marts import DayReport


def _money(cents, currency: str = "EUR") -> str:
    return "" if cents is None or pd.isna(cents) else format_cents(int(cents), currency)


def _cents_attr(cents) -> str:
    return "" if cents is None or pd.isna(cents) else str(int(cents))


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%d/%m/%Y")


def _local_time(value, zone: str) -> str:
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).tz_convert(zone).strftime("%d/%m/%Y %H:%M")


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_env.filters.update(money=_money, cents_attr=_cents_attr, day=_day, local_time=_local_time)


def day_page(report: DayReport, workbook: str, group_page: str) -> str:
    """The page of one hotel and business date (links are relative to the page)."""
    return _env.get_template("day.html.j2").render(r=report, workbook=workbook, group_page=group_page)


def group_page(history: pd.DataFrame, links: dict[tuple[str, dt.date], Path], page: Path) -> str:
    """The écart of every hotel over time: an inline SVG chart and the table of its figures."""
    hotels = (history[["hotel_id", "hotel_name", "currency"]].drop_duplicates("hotel_id")
              .sort_values("hotel_id").to_dict("records")) if len(history) else []
    series: dict[str, list[tuple[dt.date, int]]] = {}
    cells = {}
    for row in history.itertuples():
        day = pd.Timestamp(row.business_date).date()
        series.setdefault(row.hotel_id, []).append((day, int(row.ecart_cents)))
        link = links.get((row.hotel_id, day))
        cells[(row.hotel_id, day)] = {
            "ecart_cents": int(row.ecart_cents),
            "link": os.path.relpath(link, page.parent) if link else None,
        }
    days = sorted({d for _, d in cells})
    currencies = {h["hotel_id"]: h["currency"] for h in hotels}
    return _env.get_template("group.html.j2").render(
        chart=ecart_chart(series, currencies), hotels=hotels, days=days, cells=cells,
        first=days[0] if days else None, last=days[-1] if days else None)
