"""Oracle OPERA reservation export (CSV or pipe-delimited TXT): one line per reservation.

Sources: OPERA 5 export data definitions RESVEXPORT, POST_STAY_EXPORT (pipe-delimited),
GST_HIST_EXPORT, ORS_RESV_EXP, and the `RESERVATION_NAME` table (research/hotel.md §1.3).
Separator `,` `;` TAB or `|` (detected); columns by their OPERA names:

| canonical | OPERA columns (first present wins) |
|---|---|
| reservation_id | RESV_NAME_ID (else the confirmation number) |
| confirmation_no | CONFIRMATION_NO, CONF_NO |
| status | RESV_STATUS, STATUS: RESERVED / DUE IN / WAITLIST -> reserved, CHECKED IN / DUE OUT -> in_house, CHECKED OUT -> checked_out, CANCELLED -> cancelled, NO SHOW -> no_show |
| created_at | INSERT_DATE, CREATED_DATE, BUSINESS_DATE_CREATED |
| arrival / departure | ARRIVAL_DATE, BEGIN_DATE, TRUNC_ARRIVAL / DEPARTURE_DATE, END_DATE, TRUNC_DEPARTURE |
| arrival_time | ARRIVAL_TIME, ETA |
| adults, children | ADULTS, CHILDREN |
| guest | GUEST_FIRST_NAME, GUEST_LAST_NAME (or FIRST_NAME, LAST_NAME, GUEST_NAME = "Last, First") |
| email, phone | EMAIL_ADDRESS, EMAIL; PHONE, PHONE_NUMBER, MOBILE (E.164 kept, national numbers dropped) |
| language | LANGUAGE, LANGUAGE_CODE |
| room_type, rate_code | ROOM_TYPE; RATE_CODE, BASE_RATE_CODE |
| total_cents | SHARE_AMOUNT, TOTAL_REVENUE, TOTAL_AMOUNT, LOCAL_BASE_RATE_AMOUNT |
| deposit_due_cents, deposit_paid_cents | DEPOSIT_AMOUNT, DEPOSIT_DUE; DEPOSIT_PAID |
| currency | CURRENCY, CURRENCY_CODE |
| guarantee_code, payment_method | GUARANTEE_CODE; PAYMENT_METHOD, PAYMENT_DESCRIPTION |
| cancellation_deadline | CANCELLATION_DEADLINE, CXL_DEADLINE (date or date and time, hotel time) |
| non_refundable | NON_REFUNDABLE, NON_REFUNDABLE_YN (Y/N) |

Amounts are decimals (point or comma); dates `YYYY-MM-DD`, `DD-MON-YY`, `DD/MM/YYYY` or
`MM/DD/YYYY`, order inferred per column. The export's business date is the file's date
(`BUSINESS_DATE` column, else the date in its name).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import Columns, physical_lines, read_table, sniff_separator
from lettrage.recon.readers.mapped import ENUM_WORDS, boolean, hhmm, phone
from lettrage.recon.readers.records import build

ALIASES = {
    "reservation_id": ["resv_name_id", "reservation_id"],
    "confirmation_no": ["confirmation_no", "conf_no", "confirmation_number"],
    "status": ["resv_status", "status", "reservation_status"],
    "created_at": ["insert_date", "created_date", "business_date_created", "create_date"],
    "business_date": ["business_date", "export_date"],
    "arrival_date": ["arrival_date", "begin_date", "trunc_arrival", "arrival"],
    "departure_date": ["departure_date", "end_date", "trunc_departure", "departure"],
    "arrival_time": ["arrival_time", "eta"],
    "adults": ["adults"],
    "children": ["children"],
    "first_name": ["guest_first_name", "first_name"],
    "last_name": ["guest_last_name", "last_name"],
    "guest_name": ["guest_name", "name"],
    "email": ["email_address", "email"],
    "phone": ["phone", "phone_number", "mobile", "phone_no"],
    "language": ["language", "language_code"],
    "room_type": ["room_type"],
    "rate_code": ["rate_code", "base_rate_code"],
    "total": ["share_amount", "total_revenue", "total_amount", "local_base_rate_amount"],
    "deposit_due": ["deposit_amount", "deposit_due"],
    "deposit_paid": ["deposit_paid"],
    "currency": ["currency", "currency_code"],
    "guarantee_code": ["guarantee_code"],
    "payment_method": ["payment_method", "payment_description"],
    "cancellation_deadline": ["cancellation_deadline", "cxl_deadline", "cancel_deadline"],
    "non_refundable": ["non_refundable", "non_refundable_yn"],
}
DATE_FIELDS = ("created_at", "business_date", "arrival_date", "departure_date", "cancellation_deadline")


def sniff(head: str, mapping=None) -> bool:
    lines = [ln for ln in physical_lines(head)[:3] if ln.strip()]
    if not lines:
        return False
    names = {cv.normalise_name(c) for c in lines[0].split(sniff_separator(lines[0]))}
    return bool(names & {"confirmation_no", "resv_name_id"}) and \
        bool(names & {"arrival_date", "begin_date", "trunc_arrival", "resv_status", "guest_last_name"})


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None, file_date: dt.date | None = None) -> ReadResult:
    source = read_text(path)
    table = read_table(source.text, path)
    cols = Columns(table, ALIASES, path, required=["arrival_date", "departure_date"],
                   one_of=[["confirmation_no", "reservation_id"]])
    dates = {f: cv.DateColumn([cols.get(r.fields, f) for r in table.records], cv.day_first(hotel)) for f in DATE_FIELDS}
    statuses = ENUM_WORDS["status"]

    def convert(fields: dict) -> dict:
        get = lambda f: cv.text(cols.get(fields, f))  # noqa: E731
        first, last = get("first_name"), get("last_name")
        if first is None and last is None and get("guest_name"):
            last, _, first = (get("guest_name") + ",").partition(",")
            first = first.rstrip(",").strip() or None
        status = get("status")
        status_key = cv.normalise_name(status) if status else "reserved"
        if status_key not in statuses:
            raise RowProblem(f"reservation status {status!r} is not one lettrage knows")
        confirmation = get("confirmation_no") or get("reservation_id")
        return {
            "reservation_id": get("reservation_id") or confirmation,
            "confirmation_no": confirmation,
            "status": statuses[status_key],
            "created_at": cv.timestamp(get("created_at"), hotel, dates["created_at"], "created"),
            "business_date": dates["business_date"].parse(get("business_date"), "business date"),
            "arrival_date": dates["arrival_date"].parse(get("arrival_date"), "arrival date"),
            "arrival_time": hhmm(get("arrival_time")),
            "departure_date": dates["departure_date"].parse(get("departure_date"), "departure date"),
            "adults": _count(get("adults"), "adults"),
            "children": _count(get("children"), "children"),
            "guest_first_name": first,
            "guest_last_name": last,
            "email": get("email"),
            "phone": phone(get("phone")),
            "language": get("language"),
            "room_type": get("room_type"),
            "rate_code": get("rate_code"),
            "total_cents": cv.cents(get("total"), "total"),
            "deposit_due_cents": cv.cents(get("deposit_due"), "deposit due"),
            "deposit_paid_cents": cv.cents(get("deposit_paid"), "deposit paid"),
            "currency": get("currency"),
            "guarantee_code": get("guarantee_code"),
            "payment_method": get("payment_method"),
            "cancellation_deadline": cv.timestamp(get("cancellation_deadline"), hotel,
                                                  dates["cancellation_deadline"], "cancellation deadline"),
            "non_refundable": boolean(get("non_refundable")),
        }

    return build(path, kind, hotel, table.records, convert, file_date=file_date, encoding=source.encoding)


def _count(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise RowProblem(f"{what} {value!r} is not a count")
    return int(value)
