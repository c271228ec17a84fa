"""Oracle OPERA financial transactions export (CSV): one line per folio posting.

Source: OPERA's `FINANCIAL_TRANSACTIONS` table (PK `TRX_NO`) and its export view
`EXP_FINANCIAL_TRANSACTIONS`, as exported by an OPERA "File Export" or a report saved as CSV
(research/hotel.md §1.2-1.3; Oracle OPERA 5.6 data definitions; DDL mirrored in
`ivankopanyov/SyncHms`). Columns are recognised by their OPERA names:

| field | OPERA columns (first present wins) |
|---|---|
| posting_id | TRX_NO |
| business date | TRX_DATE, BUSINESS_DATE (the posting's business date) |
| posted_at | POSTING_DATE, INSERT_DATE, POSTED_AT (date and time); or a date + TRX_TIME / POST_TIME |
| trx_code | TRX_CODE; label TRX_DESCRIPTION / DESCRIPTION |
| amount | debit/credit pairs per ledger, first non-empty of: GUEST_ACCOUNT_, DEP_LED_, AR_LED_, PACKAGE_, INH_ DEBIT/CREDIT; then CASHIER_DEBIT/CREDIT (the cashier's side, opposite sign); then a plain DEBIT/CREDIT pair; then TRX_AMOUNT / POSTED_AMOUNT (folio sign: payments negative) |
| currency | CURRENCY (else the hotel's) |
| room, folio | ROOM, FOLIO_VIEW (window 1-8), FOLIO_NO / BILL_NO |
| reservation | RESV_NAME_ID, CONFIRMATION_NO |
| guest | GUEST_NAME, or GUEST_FIRST_NAME + GUEST_LAST_NAME, or NAME |
| cashier | CASHIER_ID, CASHIER_NAME (or USERNAME) |
| reference | REFERENCE, EXT_TRX_ID, REMARK (joined) |
| card | CREDIT_CARD_NUMBER_4_DIGITS / CC_LAST4, else the last 4 of CREDIT_CARD_NUMBER / CC_NUMBER (masked); CREDIT_CARD_TYPE / CC_TYPE (brand when the hotel's code table does not know the code) |

Sign: OPERA keeps separate debit and credit columns; a payment is a credit on the folio.
`amount_cents = credit - debit` (+ money received). Charges (room, F&B) are debits and come out
negative; the hotel's code table says which codes are payments and their channel.
Dates: Oracle `DD-MON-YY`, `YYYY-MM-DD`, `DD/MM/YYYY` or `MM/DD/YYYY` (order inferred over the
column; when every date is ambiguous, month first for hotels in the Americas, else day first).
Separator `,` `;` TAB or `|`; any encoding (decoding.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import Columns, physical_lines, read_table, sniff_separator

LEDGERS = ["guest_account", "dep_led", "ar_led", "package", "inh"]
ALIASES = {
    "posting_id": ["trx_no", "transaction_no", "trx_number"],
    "trx_date": ["trx_date", "business_date", "post_date"],
    "posted_at": ["posting_date", "insert_date", "posted_at", "posting_time_stamp"],
    "trx_time": ["trx_time", "post_time", "posting_time", "time"],
    "trx_code": ["trx_code", "transaction_code"],
    "label": ["trx_description", "description", "trx_code_description"],
    "currency": ["currency", "currency_code"],
    "room": ["room", "room_no"],
    "folio_window": ["folio_view", "window", "folio_window"],
    "folio_no": ["folio_no", "bill_no", "invoice_no"],
    "reservation_id": ["resv_name_id", "reservation_id"],
    "confirmation_no": ["confirmation_no", "conf_no", "confirmation_number"],
    "guest_name": ["guest_name", "name", "guest_full_name"],
    "first_name": ["guest_first_name", "first_name"],
    "last_name": ["guest_last_name", "last_name"],
    "cashier_id": ["cashier_id"],
    "cashier_name": ["cashier_name", "username", "user_name"],
    "reference": ["reference"],
    "ext_ref": ["ext_trx_id"],
    "remark": ["remark"],
    "last4": ["credit_card_number_4_digits", "cc_last4", "card_last4", "last_4_digits"],
    "card_number": ["credit_card_number", "cc_number", "card_number"],
    "card_type": ["credit_card_type", "cc_type", "card_type"],
    "trx_amount": ["trx_amount", "posted_amount"],
    "debit": ["debit", "debit_amount"],
    "credit": ["credit", "credit_amount"],
    "cashier_debit": ["cashier_debit"],
    "cashier_credit": ["cashier_credit"],
    **{f"{ledger}_debit": [f"{ledger}_debit"] for ledger in LEDGERS},
    **{f"{ledger}_credit": [f"{ledger}_credit"] for ledger in LEDGERS},
}
AMOUNT_FIELDS = [f"{ledger}_{side}" for ledger in LEDGERS for side in ("debit", "credit")] + \
    ["cashier_debit", "cashier_credit", "debit", "credit", "trx_amount"]


def sniff(head: str, mapping=None) -> bool:
    lines = [ln for ln in physical_lines(head)[:3] if ln.strip()]
    if not lines:
        return False
    names = {cv.normalise_name(c) for c in lines[0].split(sniff_separator(lines[0]))}
    return "trx_code" in names and bool(names & {"trx_no", "guest_account_credit", "guest_account_debit",
                                                 "ft_subtype", "cashier_credit", "trx_amount", "resv_name_id"})


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    from lettrage.recon.readers.records import build

    source = read_text(path)
    table = read_table(source.text, path)
    cols = Columns(table, ALIASES, path, required=["trx_code"],
                   one_of=[["trx_date", "posted_at"], AMOUNT_FIELDS])
    values = {f: [cols.get(r.fields, f) for r in table.records] for f in ("trx_date", "posted_at")}
    dates = {f: cv.DateColumn(v, cv.day_first(hotel)) for f, v in values.items()}

    def convert(fields: dict) -> dict:
        get = lambda f: cv.text(cols.get(fields, f))  # noqa: E731
        business_date = dates["trx_date"].parse(get("trx_date"), "TRX_DATE")
        posted_at = cv.timestamp(get("posted_at"), hotel, dates["posted_at"], "POSTING_DATE")
        clock = cv.clock(get("trx_time"), "TRX_TIME")
        if posted_at is None or (clock and cv.split_datetime(get("posted_at") or "")[1] is None):
            if business_date is None and posted_at is None:
                raise RowProblem("TRX_DATE and POSTING_DATE are both missing")
            day = business_date or posted_at.astimezone(hotel.tz).date()
            posted_at = cv.on_business_date(day, clock, hotel) if business_date else \
                cv.local(dt.datetime.combine(day, clock or dt.time()), hotel)
        guest = get("guest_name") or " ".join(x for x in (get("first_name"), get("last_name")) if x) or None
        reference = " ".join(x for x in (get("reference"), get("ext_ref"), get("remark")) if x) or None
        return {
            "posting_id": get("posting_id"),
            "business_date": business_date,
            "posted_at": posted_at,
            "trx_code": get("trx_code"),
            "amount_cents": amount(get),
            "currency": get("currency"),
            "card_last4": cv.last4(get("last4")) or cv.last4(get("card_number")),
            "card_brand": cv.card_brand(get("card_type"), strict=True) or cv.brand_in_label(get("label")),
            "room": get("room"),
            "folio_no": get("folio_no"),
            "folio_window": _int(get("folio_window"), "FOLIO_VIEW"),
            "reservation_id": get("reservation_id"),
            "confirmation_no": get("confirmation_no"),
            "guest_name": guest,
            "cashier_id": get("cashier_id"),
            "cashier_name": get("cashier_name"),
            "reference": reference,
            "source_system": "opera",
        }

    return build(path, kind, hotel, table.records, convert, trx_codes=trx_codes, encoding=source.encoding)


def amount(get) -> int:
    """One signed amount from OPERA's debit/credit columns (credit - debit, + = money received)."""
    for ledger in LEDGERS:
        debit, credit = get(f"{ledger}_debit"), get(f"{ledger}_credit")
        if _nonzero(debit) or _nonzero(credit):
            return (cv.cents(credit, f"{ledger.upper()}_CREDIT") or 0) - (cv.cents(debit, f"{ledger.upper()}_DEBIT") or 0)
    debit, credit = get("cashier_debit"), get("cashier_credit")
    if _nonzero(debit) or _nonzero(credit):  # the cashier receives what the folio is credited
        return (cv.cents(debit, "CASHIER_DEBIT") or 0) - (cv.cents(credit, "CASHIER_CREDIT") or 0)
    debit, credit = get("debit"), get("credit")
    if debit is not None or credit is not None:
        return (cv.cents(credit, "CREDIT") or 0) - (cv.cents(debit, "DEBIT") or 0)
    value = cv.cents(get("trx_amount"), "TRX_AMOUNT")
    if value is not None:
        return -value
    if any(get(f) is not None for f in AMOUNT_FIELDS):
        return 0
    raise RowProblem("no amount: every debit and credit column is empty")


def _nonzero(value: str | None) -> bool:
    if value is None:
        return False
    return any(ch in "123456789" for ch in value)


def _int(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.replace(",", ".")))
    except ValueError:
        raise RowProblem(f"{what} {value!r} is not a number") from None
