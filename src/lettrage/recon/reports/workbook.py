"""The XLSX workbook of one hotel and business date: summary by scheme, exceptions, remittances.

Amounts are written as numbers in the currency's units (cents / 100, exact at two decimals) with
a currency format, so finance can add them up in Excel; the marts keep integer cents.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from lettrage.recon.money import SYMBOLS
from lettrage.recon.reports.marts import DayReport

HEADER_FILL = PatternFill("solid", fgColor="EEEEEE")

SUMMARY = [("Scheme", "scheme_label", "text"), ("PMS", "pms_cents", "money"), ("Terminals (TPE)", "tpe_cents", "money"),
           ("PSP", "psp_cents", "money"), ("Remitted", "remitted_cents", "money"), ("Écart", "ecart_cents", "money"),
           ("PMS postings", "pms_count", "int"), ("Matched", "matched_count", "int"),
           ("Open exceptions", "open_exception_count", "int")]
EXCEPTIONS = [("Code", "code", "text"), ("Record kind", "record_kind", "text"), ("Record", "record_id", "text"),
              ("Scheme", "card_scheme", "text"), ("Card", "card_last4", "text"), ("Amount", "amount_cents", "money"),
              ("Age (days)", "age_days", "int"), ("Detail", "detail", "text")]
REMITTANCES = [("Batch", "remittance_id", "text"), ("Provider", "provider", "text"),
               ("Remitted on", "remittance_date", "date"), ("Value date", "value_date", "date"),
               ("Terminals", "terminal_ids", "text"), ("Transactions", "transaction_count", "int"),
               ("Gross", "gross_cents", "money"), ("Fees", "fee_cents", "money"), ("Net", "net_cents", "money"),
               ("Terminal total", "terminal_cents", "money"), ("Difference", "difference_cents", "money"),
               ("Covers the terminals", "covers_terminals", "bool")]


def cents_to_units(cents) -> Decimal | None:
    return None if cents is None or pd.isna(cents) else Decimal(int(cents)) / 100


def _value(value, kind: str):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "money":
        return cents_to_units(value)
    if kind == "int":
        return int(value)
    if kind == "date":
        return pd.Timestamp(value).date()
    if kind == "bool":
        return "yes" if bool(value) else "no"
    return str(value)


def _sheet(wb: Workbook, title: str, columns, frame: pd.DataFrame, money_format: str, total: bool = False):
    ws = wb.create_sheet(title)
    ws.append([label for label, _, _ in columns])
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for record in frame.to_dict("records"):
        ws.append([_value(record[col], kind) for _, col, kind in columns])
    if total and len(frame):
        ws.append(["Total"] + [cents_to_units(frame[col].sum()) if kind == "money" else
                               int(frame[col].sum()) if kind == "int" else None
                               for _, col, kind in columns[1:]])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    for n, (label, _, kind) in enumerate(columns, start=1):
        letter = get_column_letter(n)
        ws.column_dimensions[letter].width = max(12, len(label) + 4) if kind != "text" else 22
        if kind in ("money", "date"):
            for cell in ws[letter][1:]:
                cell.number_format = money_format if kind == "money" else "DD/MM/YYYY"
    ws.freeze_panes = "A2"
    return ws


def write_workbook(report: DayReport, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    symbol = SYMBOLS.get(report.currency, report.currency)
    money_format = f'#,##0.00 "{symbol}";-#,##0.00 "{symbol}"'
    summary = _sheet(wb, "Summary", SUMMARY, report.summary, money_format, total=True)
    summary.insert_rows(1, 2)
    summary["A1"] = f"{report.hotel_name} ({report.hotel_id}) — business date {report.business_date.isoformat()}"
    summary["A1"].font = Font(bold=True, size=13)
    summary.freeze_panes = "A4"
    _sheet(wb, "Exceptions", EXCEPTIONS, report.exceptions, money_format)
    _sheet(wb, "Remittances", REMITTANCES, report.remittances, money_format)
    # Fixed document dates: the same marts give the same file.
    stamp = dt.datetime.combine(report.business_date, dt.time())
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = "lettrage"
    wb.properties.title = f"{report.hotel_id} {report.business_date.isoformat()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
