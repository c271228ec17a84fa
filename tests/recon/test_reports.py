"""Report rendering from frames: the day page, the workbook and the écart chart say exactly the
figures they are given, escape what they quote, and open offline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd

from lettrage.recon.money import format_cents
from lettrage.recon.reports import html
from lettrage.recon.reports.chart import ecart_chart
from lettrage.recon.reports.marts import EXCEPTION_COLUMNS, REMITTANCE_COLUMNS, DayReport
from lettrage.recon.reports.workbook import write_workbook

DAY = dt.date(2026, 3, 4)


def report(exceptions: pd.DataFrame | None = None, remittances: pd.DataFrame | None = None) -> DayReport:
    summary = pd.DataFrame([
        dict(card_scheme="CB_VISA_MC", scheme_label="CB / Visa / Mastercard", pms_cents=123_456_789, tpe_cents=123_456_000,
             psp_cents=0, remitted_cents=123_400_000, ecart_cents=789, pms_count=3, tpe_count=3, psp_count=0,
             matched_count=2, exception_count=1, open_exception_count=1),
        dict(card_scheme="AMEX", scheme_label="American Express", pms_cents=-4_19, tpe_cents=0, psp_cents=0,
             remitted_cents=0, ecart_cents=-4_19, pms_count=1, tpe_count=0, psp_count=0, matched_count=0,
             exception_count=1, open_exception_count=0),
    ])
    return DayReport("PAR1", "Hôtel <du> Parc & Spa", DAY, "EUR", "Europe/Paris", summary,
                     exceptions if exceptions is not None else pd.DataFrame(columns=EXCEPTION_COLUMNS),
                     remittances if remittances is not None else pd.DataFrame(columns=REMITTANCE_COLUMNS))


def test_the_day_page_shows_each_figure_and_escapes_what_it_quotes():
    exceptions = pd.DataFrame([dict(exception_id="E1", code="MISSING_IN_TPE", record_kind="pms_posting",
                                    record_id="P1", card_scheme="CB_VISA_MC", card_last4="2008",
                                    occurred_at=pd.Timestamp("2026-03-04 23:40", tz="UTC"), amount_cents=78_900,
                                    age_days=3, detail="<script>alert(1)</script>")])
    page = html.day_page(report(exceptions), workbook="PAR1_2026-03-04.xlsx", group_page="../index.html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Hôtel &lt;du&gt; Parc &amp; Spa" in page
    assert format_cents(123_456_789) in page and 'data-cents="123456789"' in page
    assert f'data-cents="{123_456_789 - 4_19}"' in page  # the total row
    assert format_cents(-4_19) in page
    assert "05/03/2026 00:40" in page  # the exception's time in the hotel's zone
    assert "No remittance for this business date yet." in page


def test_an_empty_day_says_so():
    page = html.day_page(report(), workbook="w.xlsx", group_page="../index.html")
    assert "No open exception for this business date." in page


def test_the_workbook_keeps_every_cent(tmp_path: Path):
    remittances = pd.DataFrame([dict(provider="cb", remittance_id="RB1", remittance_date=DAY, value_date=None,
                                     terminal_ids="002", transaction_count=2, gross_cents=100_001, fee_cents=1_000,
                                     net_cents=99_001, terminal_cents=100_001, difference_cents=0,
                                     unmatched_line_count=0, not_remitted_count=0, covers_terminals=True)])
    path = write_workbook(report(remittances=remittances), tmp_path / "book.xlsx")
    book = openpyxl.load_workbook(path)
    summary = book["Summary"]
    assert summary["A1"].value.startswith("Hôtel <du> Parc & Spa (PAR1)")
    assert Decimal(str(summary["B4"].value)) * 100 == 123_456_789
    assert Decimal(str(summary["B5"].value)) * 100 == -4_19
    assert summary["A6"].value == "Total" and Decimal(str(summary["F6"].value)) * 100 == 789 - 4_19
    row = [c.value for c in book["Remittances"][2]]
    assert row[0] == "RB1" and row[2] == dt.datetime(2026, 3, 4) and row[3] is None and row[-1] == "yes"
    assert book["Exceptions"].max_row == 1  # the header alone
    assert book.properties.created == dt.datetime(2026, 3, 4)  # same marts, same file


def test_the_chart_draws_one_line_per_hotel_around_zero():
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    svg = ecart_chart({"PAR1": list(zip(days, [0, 1_500, -2_000], strict=True)),
                       "LON<1>": list(zip(days, [300, 0, 0], strict=True))})
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 6
    assert 'data-cents="-2000"' in svg and 'stroke-dasharray' in svg  # the zero line
    assert "LON&lt;1&gt;" in svg and "LON<1>" not in svg
    assert format_cents(-2_000) in svg


def test_hotels_in_different_currencies_share_the_axis_in_plain_amounts():
    svg = ecart_chart({"PAR1": [(DAY, 1_000)], "LON1": [(DAY, -500)]}, {"PAR1": "EUR", "LON1": "GBP"})
    assert "LON1 (GBP)" in svg and "PAR1 (EUR)" in svg
    assert format_cents(-500, "GBP") in svg  # each point in its hotel's currency
    axis = [t for t in svg.split("<text") if 'text-anchor="end"' in t]
    assert axis and not any("€" in t or "£" in t for t in axis)
    single = ecart_chart({"LON1": [(DAY, 500)]}, {"LON1": "GBP"})
    assert "£" in single and "€" not in single and "(GBP)" not in single


def test_a_group_page_with_nothing_yet(tmp_path: Path):
    page = html.group_page(pd.DataFrame(columns=["hotel_id", "hotel_name", "currency", "business_date",
                                                 "ecart_cents"]), {}, tmp_path / "index.html")
    assert "No reconciled business date yet." in page
