"""Reports a credit manager opens: per hotel and business date an HTML page and an XLSX workbook
(daily summary by card scheme, open exceptions, remittance list), and a group page with the
écart per hotel over time. They read the finance marts read-only and show their numbers.

Layout under the reports folder: `index.html` (the group page) and
`<hotel_id>/<hotel_id>_<business date>.html|.xlsx`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from lettrage.recon.reports.marts import DayReport
from lettrage.recon.warehouse import connect

GROUP_PAGE = "index.html"


@dataclass
class ReportSet:
    group_page: Path
    days: list[tuple[DayReport, Path, Path]] = field(default_factory=list)  # report, its page, its workbook


def day_paths(out_dir: Path, hotel_id: str, day: dt.date) -> tuple[Path, Path]:
    base = Path(out_dir) / hotel_id / f"{hotel_id}_{day.isoformat()}"
    return base.with_suffix(".html"), base.with_suffix(".xlsx")


def write_reports(warehouse_path: Path | str, out_dir: Path | str, start: dt.date, end: dt.date,
                  hotels: list[str] | None = None) -> ReportSet:
    """Write the reports of [start, end) (some hotels, or all) and refresh the group page."""
    from lettrage.recon.reports import html, marts
    from lettrage.recon.reports.workbook import write_workbook

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    conn = connect(warehouse_path, read_only=True)
    try:
        written = ReportSet(group_page=out_dir / GROUP_PAGE)
        for hotel_id, day in marts.hotel_days(conn, start, end, hotels):
            report = marts.day_report(conn, hotel_id, day)
            page, book = day_paths(out_dir, hotel_id, day)
            write_workbook(report, book)
            page.write_text(html.day_page(report, workbook=book.name, group_page=f"../{GROUP_PAGE}"),
                            encoding="utf-8")
            written.days.append((report, page, book))
        history = marts.ecart_history(conn)
    finally:
        conn.close()
    links = {}
    for row in history[["hotel_id", "business_date"]].itertuples():
        day = row.business_date.date() if hasattr(row.business_date, "date") else row.business_date
        page = day_paths(out_dir, row.hotel_id, day)[0]
        if page.exists():
            links[(row.hotel_id, day)] = page
    written.group_page.write_text(html.group_page(history, links, written.group_page), encoding="utf-8")
    return written
