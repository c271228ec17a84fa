"""The reports a credit manager opens (HTML pages, XLSX workbooks, the group's écart page) show
the numbers of the marts they were written from."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import duckdb
import openpyxl
import pytest

from lettrage.recon.money import format_cents
from tests.dbt import sample


class Cells(HTMLParser):
    """Every element with its attributes, its text and its ancestors: enough to read tables and SVG."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, **dict(attrs), "text": "", "ancestors": list(self._open)}
        self.elements.append(element)
        if tag not in ("meta", "br", "link", "img", "input"):  # HTML void elements
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for e in self._open:
            e["text"] += data

    def find(self, **attrs) -> list[dict]:
        return [e for e in self.elements if all(e.get(k) == v for k, v in attrs.items())]


def up(element: dict, attr: str):
    """The nearest ancestor's value of an attribute (the row's scheme, the chart line's hotel)."""
    return next((a[attr] for a in reversed(element["ancestors"]) if attr in a), None)


def marts(week, sql: str, params=()):
    with duckdb.connect(str(week.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(params)).df()


DAY = sample.FIRST_DAY.replace(day=sample.FIRST_DAY.day + 2)


@pytest.mark.parametrize("hotel_id", ["PAR1", "LON1"])
def test_the_day_page_shows_the_daily_summary_exceptions_and_remittances(week, hotel_id):
    page = week.reports / hotel_id / f"{hotel_id}_{DAY.isoformat()}.html"
    html = Cells(page.read_text(encoding="utf-8"))
    summary = marts(week, "SELECT * FROM marts.daily_summary WHERE hotel_id = ? AND business_date = ?",
                    (hotel_id, DAY)).set_index("card_scheme")
    for scheme, row in summary.iterrows():
        for col in ("pms_cents", "tpe_cents", "psp_cents", "remitted_cents", "ecart_cents"):
            [cell] = [c for c in html.find(tag="td", **{"data-col": col})
                      if up(c, "data-scheme") == scheme]
            assert cell["text"].strip() == format_cents(int(row[col])), (scheme, col)
            assert int(cell["data-cents"]) == int(row[col])
    [total] = html.find(id="total-ecart")
    assert total["text"].strip() == format_cents(int(summary["ecart_cents"].sum()))

    open_rows = marts(week, "SELECT exception_id, amount_cents FROM marts.exceptions_open "
                            "WHERE hotel_id = ? AND business_date = ?", (hotel_id, DAY))
    shown = {e["data-exception"] for e in html.find(tag="tr") if "data-exception" in e}
    assert shown == set(open_rows["exception_id"]) and shown

    batches = marts(week, "SELECT * FROM marts.remittance_list WHERE hotel_id = ? AND business_date = ?",
                    (hotel_id, DAY))
    for b in batches.itertuples():
        for col in ("gross_cents", "fee_cents", "net_cents", "difference_cents"):
            [cell] = [c for c in html.find(tag="td", **{"data-col": col})
                      if up(c, "data-batch") == b.remittance_id]
            assert cell["text"].strip() == format_cents(int(getattr(b, col)))
        row_text = html.find(tag="tr", **{"data-batch": b.remittance_id})[0]["text"]
        assert ("1 ticket(s) not remitted" in row_text) == (b.not_remitted_count == 1)


def test_the_workbook_holds_the_same_figures(week):
    book = openpyxl.load_workbook(week.reports / "PAR1" / f"PAR1_{DAY.isoformat()}.xlsx")
    assert book.sheetnames == ["Summary", "Exceptions", "Remittances"]
    summary = marts(week, "SELECT * FROM marts.daily_summary WHERE hotel_id = 'PAR1' AND business_date = ? "
                          "ORDER BY scheme_order", (DAY,))
    sheet = book["Summary"]
    header = [c.value for c in sheet[3]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=4)]
    assert [r["Scheme"] for r in rows] == [*summary["scheme_label"], "Total"]
    for r, m in zip(rows, summary.itertuples(), strict=False):
        for label, col in (("PMS", "pms_cents"), ("Terminals (TPE)", "tpe_cents"), ("Écart", "ecart_cents")):
            assert Decimal(str(r[label])) * 100 == int(getattr(m, col))
    assert Decimal(str(rows[-1]["Écart"])) * 100 == int(summary["ecart_cents"].sum())
    assert sheet["B4"].number_format.endswith('"€"')
    open_rows = marts(week, "SELECT count(*) AS n FROM marts.exceptions_open WHERE hotel_id = 'PAR1' "
                            "AND business_date = ?", (DAY,))
    assert book["Exceptions"].max_row - 1 == open_rows["n"][0]
    batch = marts(week, "SELECT * FROM marts.remittance_list WHERE hotel_id = 'PAR1' AND business_date = ?", (DAY,))
    values = [c.value for c in book["Remittances"][2]]
    assert values[0] == batch["remittance_id"][0] and Decimal(str(values[8])) * 100 == int(batch["net_cents"][0])


def test_the_group_page_charts_each_hotels_ecart_over_time(week):
    page = week.reports / "index.html"
    html = Cells(page.read_text(encoding="utf-8"))
    ecart = marts(week, "SELECT hotel_id, business_date, sum(ecart_cents) AS e FROM marts.daily_summary GROUP BY ALL")
    expected = {(r.hotel_id, r.business_date.date().isoformat()): int(r.e) for r in ecart.itertuples()}
    assert len(html.find(tag="polyline")) == 2  # one line per hotel, drawn in the page (inline SVG)
    charted = {(up(c, "data-hotel"), c["data-date"]): int(c["data-cents"]) for c in html.find(tag="circle")}
    assert charted == expected and len(expected) == 2 * sample.DAYS
    cells = {(c["data-hotel"], up(c, "data-date")): c for c in html.find(tag="td") if "data-cents" in c}
    assert {k: int(c["data-cents"]) for k, c in cells.items()} == expected
    for cell in cells.values():  # each figure links to that hotel-day's report
        [link] = [a for a in html.find(tag="a") if cell in a["ancestors"]]
        assert (page.parent / link["href"]).exists() and link["text"] == cell["text"]
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and 'src="http' not in text and 'href="http' not in text  # opens offline
