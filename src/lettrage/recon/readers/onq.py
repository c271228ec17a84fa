"""Hilton OnQ night-audit extract (`.chr`): `^`-separated, `"`-quoted character-separated values.

Source: OnQ exports its night-audit reports (TRIALBAL, RECRCP "Detailed Receivables Recap",
GSTSTATS...) as character-separated files with `^` between fields and `"` around text
(research/hotel.md §2; inn-flow and RevSync OnQ integration notes). Hilton publishes no column
list, so lettrage reads the payment lines of a receivables/payments extract by column name,
first row = header, names compared case- and punctuation-insensitively:

| field | accepted header names |
|---|---|
| business date | Business Date, Audit Date, Date (MM/DD/YYYY: OnQ is a US system; day-first is detected when a day exceeds 12) |
| time | Time, Post Time, Transaction Time (HH:MM[:SS]) |
| trx_code | Transaction Code, Trans Code, Code, Payment Type |
| label | Description, Transaction Description, Payment Description |
| amount | Amount, Payment Amount (folio sign: payments are credits, written negative; refunds positive) |
| posting_id | Transaction ID, Trans ID, Receipt Number, Reference Number |
| room, folio | Room, Room Number; Folio, Folio Number |
| reservation | Confirmation Number, Conf Number, Confirmation |
| guest | Guest Name, Name |
| card | Card Type, Card Number / Account Number (masked: last 4 kept) |
| cashier | Cashier, Cashier ID, Clerk, User ID; Cashier Name |
| currency | Currency (else the hotel's) |
| facility | Facility ID, Inn Code (the Hilton property code; informational) |

Without a header (first field a date) the columns are, in this order: Facility ID, Business Date,
Time, Transaction Code, Description, Room, Confirmation Number, Guest Name, Folio, Amount,
Card Type, Card Number, Cashier, Transaction ID. Any encoding (UTF-8, Windows-1252).
"""

from __future__ import annotations

import re
from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import Columns, physical_lines, read_table
from lettrage.recon.readers.records import build

SEPARATOR = "^"
ALIASES = {
    "business_date": ["business_date", "audit_date", "date", "trans_date", "transaction_date"],
    "time": ["time", "post_time", "transaction_time", "trans_time"],
    "trx_code": ["transaction_code", "trans_code", "code", "payment_type", "trx_code"],
    "label": ["description", "transaction_description", "payment_description"],
    "amount": ["amount", "payment_amount", "trans_amount"],
    "posting_id": ["transaction_id", "trans_id", "receipt_number", "reference_number", "transaction_number"],
    "room": ["room", "room_number", "room_no"],
    "folio_no": ["folio", "folio_number", "folio_no"],
    "confirmation_no": ["confirmation_number", "conf_number", "confirmation", "confirmation_no"],
    "guest_name": ["guest_name", "name"],
    "card_type": ["card_type", "cc_type", "credit_card_type"],
    "card_number": ["card_number", "account_number", "cc_number", "credit_card_number"],
    "cashier_id": ["cashier", "cashier_id", "clerk", "user_id"],
    "cashier_name": ["cashier_name", "clerk_name", "user_name"],
    "currency": ["currency", "currency_code"],
    "facility": ["facility_id", "inn_code", "facility"],
}
POSITIONAL = ["facility_id", "business_date", "time", "transaction_code", "description", "room",
              "confirmation_number", "guest_name", "folio", "amount", "card_type", "card_number", "cashier",
              "transaction_id"]


def sniff(head: str, mapping=None) -> bool:
    lines = [ln for ln in physical_lines(head)[:5] if ln.strip()]
    return bool(lines) and lines[0].count("^") >= 3 and lines[0].count("^") >= lines[0].count(",")


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    source = read_text(path)
    first = next(ln for ln in physical_lines(source.text) if ln.strip())
    headerless = bool(re.match(r'^"?\d{3,5}"?\^"?\d{1,2}/\d{1,2}/\d{2,4}', first)) or \
        bool(re.match(r'^"?\d{1,2}/\d{1,2}/\d{2,4}', first))
    table = read_table(source.text, path, separator=SEPARATOR, header=not headerless, column_names=POSITIONAL)
    cols = Columns(table, ALIASES, path, required=["business_date", "trx_code", "amount"])
    dates = cv.DateColumn([cols.get(r.fields, "business_date") for r in table.records], day_first=False)

    def convert(fields: dict) -> dict:
        get = lambda f: cv.text(cols.get(fields, f))  # noqa: E731
        business_date = dates.parse(get("business_date"), "business date")
        if business_date is None:
            raise RowProblem("business date is missing")
        value = cv.cents(get("amount"), "amount", decimal_comma=False)
        if value is None:
            raise RowProblem("amount is missing")
        return {
            "posting_id": get("posting_id"),
            "business_date": business_date,
            "posted_at": cv.on_business_date(business_date, cv.clock(get("time")), hotel),
            "trx_code": get("trx_code"),
            "amount_cents": -value,
            "currency": get("currency"),
            "card_last4": cv.last4(get("card_number")),
            "card_brand": cv.card_brand(get("card_type"), strict=True) or cv.brand_in_label(get("label")),
            "room": get("room"),
            "folio_no": get("folio_no"),
            "confirmation_no": get("confirmation_no"),
            "reservation_id": get("confirmation_no"),
            "guest_name": get("guest_name"),
            "cashier_id": get("cashier_id"),
            "cashier_name": get("cashier_name"),
            "source_system": "onq",
        }

    return build(path, kind, hotel, table.records, convert, trx_codes=trx_codes, encoding=source.encoding)
