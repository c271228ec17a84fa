"""Oracle OPERA TREXPORT / TREXPORT_DAY: the tagged-text financial transactions export.

Source: OPERA 5 "Financial Transactions Export Data Definition (TREXPORT)", generated at night
audit (file `WY_T296__MMDDYY...TXT`, view `EXP_FINANCIAL_TRANSACTIONS`); Oracle doc
trexport_export.pdf, research/hotel.md §1.3. Each line is `NNNTAG=value`: a three-digit field
number, the field's tag (Fidelio's German names), `=`, the value. A transaction is the group of
lines from one `001REGISTER` line to the next (a blank line also ends it). Tags read:

| tag | meaning | canonical |
|---|---|---|
| 001REGISTER | RESV_NAME_ID, the reservation | reservation_id |
| 002WINDOW | FOLIO_VIEW, folio window 1-8 | folio_window |
| 003ZN | room number | room |
| 004GASTNR | GUEST_NAME_ID | (kept in reference when no REFERENCE) |
| 005NAME | guest name | guest_name |
| 006LNR | TRX_CODE | trx_code |
| 007DATB | TRX_DATE, the business date, `YYYYMMDD` | business_date |
| 008TEXT | TRX_DESCRIPTION | (brand when the code table does not know the code) |
| 009SUPPLEMENT | supplement text | reference |
| 010ZEIT | posting time `HH:MI:SS` | posted_at (with 007DATB and the night audit) |
| 011PREIS | PRICE_PER_UNIT | amount = PREIS x ANZ |
| 012ANZ | quantity (1 when absent) | |
| 013BETRAG | amount, when given (wins over PREIS x ANZ) | |
| 014TRXNR | TRX_NO | posting_id |
| 015KASSE / 016BENUTZER | cashier id / name | cashier_id / cashier_name |
| 017WAEHRUNG | currency | currency |
| 018BELEG | reference (ticket, PSP reference) | reference |
| 019KARTE | masked card number | card_last4 |
| 020CONFNR | confirmation number | confirmation_no |

Tags are recognised by name whatever their number, with English spellings too (TRX_CODE,
TRX_DATE, AMOUNT, QUANTITY, CASHIER, ...: `SYNONYMS`). Amounts are written as on the folio (charges
positive, payments negative, decimal point): `amount_cents = -(PREIS x ANZ)`, so a payment of
`011PREIS=-258.95` is +25895 (money received). A line that is neither a tag nor blank is rejected.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lettrage.recon.readers import ReadResult, UnreadableFile
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import physical_lines
from lettrage.recon.readers.records import Record, build

TAG = re.compile(r"^\s*(\d{3})([A-Za-z_]+)\s*=(.*)$")
FIRST_TAG = "REGISTER"
# Other spellings of a tag, as exports configured in English or with longer names write them.
SYNONYMS = {"ANZAHL": "ANZ", "MENGE": "ANZ", "QUANTITY": "ANZ", "SUMME": "BETRAG", "AMOUNT": "BETRAG",
            "TRX_AMOUNT": "BETRAG", "PRICE": "PREIS", "PRICE_PER_UNIT": "PREIS", "TRX_NO": "TRXNR",
            "TRANSNR": "TRXNR", "BUCHNR": "TRXNR", "TRX_CODE": "LNR", "TRX_DATE": "DATB", "DATUM": "DATB",
            "TIME": "ZEIT", "ROOM": "ZN", "ZIMMER": "ZN", "GASTNAME": "NAME", "GUEST_NAME": "NAME",
            "KASSIERER": "KASSE", "CASHIER": "KASSE", "CASHIER_ID": "KASSE", "USER": "BENUTZER",
            "CURRENCY": "WAEHRUNG", "REFERENCE": "BELEG", "KREDITKARTE": "KARTE", "CCNR": "KARTE",
            "CC_NUMBER": "KARTE", "CONFIRMATION_NO": "CONFNR", "CONFIRMATION": "CONFNR", "RESV_NAME_ID": "REGISTER",
            "FOLIO_VIEW": "WINDOW", "DESCRIPTION": "TEXT", "TRX_DESCRIPTION": "TEXT"}


def sniff(head: str, mapping=None) -> bool:
    tagged = [ln for ln in physical_lines(head)[:40] if TAG.match(ln)]
    names = {SYNONYMS.get(TAG.match(ln)[2].upper(), TAG.match(ln)[2].upper()) for ln in tagged}
    return len(tagged) >= 3 and bool(names & {"REGISTER", "LNR", "DATB"})


def records(text: str, path) -> list[Record]:
    out: list[Record] = []
    current: Record | None = None
    for line_no, line in enumerate(physical_lines(text), start=1):
        if not line.strip():
            current = None
            continue
        m = TAG.match(line)
        if not m:
            out.append(Record(line_no, line, {"__problem__": "not a tagged line (NNNTAG=value)"}))
            current = None
            continue
        tag, value = SYNONYMS.get(m[2].upper(), m[2].upper()), m[3].strip()
        if current is None or tag == FIRST_TAG or tag in current.fields:
            current = Record(line_no, "", {})
            out.append(current)
        current.fields[tag] = value
        current.raw = (current.raw + " | " if current.raw else "") + line.strip()
    if not out:
        raise UnreadableFile(path, "no tagged lines (NNNTAG=value): not a TREXPORT file")
    return out


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    source = read_text(path)
    recs = records(source.text, path)
    dates = cv.DateColumn([r.fields.get("DATB") for r in recs], cv.day_first(hotel))  # YYYYMMDD, as documented

    def convert(f: dict) -> dict:
        get = lambda tag: cv.text(f.get(tag))  # noqa: E731
        if get("LNR") is None:
            raise RowProblem("no 006LNR (transaction code)")
        business_date = dates.parse(get("DATB"), "007DATB")
        if business_date is None:
            raise RowProblem("no 007DATB (business date)")
        clock = cv.clock(get("ZEIT"), "010ZEIT")
        return {
            "posting_id": get("TRXNR"),
            "business_date": business_date,
            "posted_at": cv.on_business_date(business_date, clock, hotel),
            "trx_code": get("LNR"),
            "amount_cents": _amount(get),
            "currency": get("WAEHRUNG"),
            "card_last4": cv.last4(get("KARTE")),
            "card_brand": cv.brand_in_label(get("TEXT")),
            "room": get("ZN"),
            "folio_no": None,
            "folio_window": _int(get("WINDOW"), "002WINDOW"),
            "reservation_id": get("REGISTER"),
            "confirmation_no": get("CONFNR"),
            "guest_name": get("NAME"),
            "cashier_id": get("KASSE"),
            "cashier_name": get("BENUTZER"),
            "reference": " ".join(x for x in (get("BELEG"), get("SUPPLEMENT")) if x) or None,
            "source_system": "opera",
        }

    return build(path, kind, hotel, recs, convert, trx_codes=trx_codes, encoding=source.encoding)


def _decimal(value: str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise RowProblem(f"{what} {value!r} is not a number") from None


def _amount(get) -> int:
    if get("BETRAG") is not None:
        return -cv.cents(get("BETRAG"), "013BETRAG")
    price = _decimal(get("PREIS"), "011PREIS")
    if price is None:
        raise RowProblem("no 011PREIS (price) nor 013BETRAG (amount)")
    quantity = _decimal(get("ANZ"), "012ANZ") or Decimal(1)
    total = price * quantity * 100
    if total != total.to_integral_value():
        raise RowProblem(f"amount {price} x {quantity} is not whole cents")
    return -int(total)


def _int(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise RowProblem(f"{what} {value!r} is not a number")
    return int(value)
