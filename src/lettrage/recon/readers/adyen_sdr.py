"""Adyen Settlement Details Report (CSV): one line per journal entry of a settlement batch.

Source: docs.adyen.com/reporting/settlement-reconciliation/transaction-level/settlement-details-report
(column list also in public parsers, e.g. Wikimedia SmashPig AdyenSettlementDetailReport);
research/hotel.md §3.3. Comma-separated, UTF-8, first line the header (an aggregate export may put
a metadata block first: the header is the first line naming `Type`/`Journal Type` and `Net Currency`).

| column | canonical |
|---|---|
| Company Account, Merchant Account | merchant_id (the merchant account) |
| Psp Reference, Merchant Reference | psp_reference, merchant_reference (= our order / confirmation number) |
| Payment Method, Payment Method Variant | card_brand (visa, mc, amex, cartebancaire, maestro, jcb, diners, cup; wallet suffixes such as `_applepay` dropped) |
| Creation Date + TimeZone | txn_at (`YYYY-MM-DD HH:MM:SS` in that zone: IANA name or CET/CEST/UTC/GMT...) |
| Type (or Journal Type) | line_type: Settled, SettledExternally -> sale; Refunded, RefundedExternally -> refund; Chargeback, SecondChargeback -> chargeback; ChargebackReversed -> chargeback_reversal; Fee, MiscCosts, PaymentCost, SettleCost, InvoiceDeduction -> fee; MerchantPayout, PaidOut -> payout; anything else (DepositCorrection, Balancetransfer, ReserveAdjustment, RefundedReversed...) -> adjustment |
| Modification Reference | part of the line's id |
| Gross Currency, Gross Debit (GC), Gross Credit (GC) | gross_cents = credit - debit |
| Net Currency, Net Debit (NC), Net Credit (NC) | net_cents = credit - debit; currency = Net Currency |
| Commission, Markup, Scheme Fees, Interchange (NC) | fee_cents = -(their sum); else net - gross |
| Batch Number | remittance_id and payout_id (a batch ends with its MerchantPayout) |
| Booking Date / Payable Date | remittance_date (else the date of the batch's payout line, else Creation Date) / value_date |

Both debit and credit columns are read (the sign is never guessed from `Type`). Amounts have a
decimal point. A payout's net is negative (a Net Debit), so a batch's net lines sum to zero with
it. Card numbers do not appear in this report; a `Card Number` / `Card Summary` column, when an
account adds one, gives the last 4.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import Columns, physical_lines, read_table
from lettrage.recon.readers.records import build

ALIASES = {
    "company": ["company_account"],
    "merchant_account": ["merchant_account"],
    "psp_reference": ["psp_reference"],
    "merchant_reference": ["merchant_reference"],
    "payment_method": ["payment_method"],
    "variant": ["payment_method_variant"],
    "creation_date": ["creation_date"],
    "timezone": ["timezone", "time_zone"],
    "type": ["type", "journal_type", "record_type"],
    "modification_reference": ["modification_reference"],
    "gross_currency": ["gross_currency"],
    "gross_debit": ["gross_debit_gc", "gross_debit"],
    "gross_credit": ["gross_credit_gc", "gross_credit"],
    "net_currency": ["net_currency"],
    "net_debit": ["net_debit_nc", "net_debit"],
    "net_credit": ["net_credit_nc", "net_credit"],
    "commission": ["commission_nc", "commission", "bank_card_commission_nc"],
    "markup": ["markup_nc", "markup", "dcc_markup_nc"],
    "scheme_fees": ["scheme_fees_nc", "scheme_fees"],
    "interchange": ["interchange_nc", "interchange"],
    "batch": ["batch_number", "batch"],
    "booking_date": ["booking_date"],
    "payable_date": ["payable_date"],
    "card": ["card_number", "card_summary", "card_last4"],
    "terminal": ["terminal_id"],
}
TYPES = {"settled": "sale", "settledexternally": "sale", "settledininstallments": "sale",
         "settledbulk": "sale", "refunded": "refund", "refundedexternally": "refund",
         "refundedininstallments": "refund", "refundedbulk": "refund",
         "chargeback": "chargeback", "secondchargeback": "chargeback", "chargebackexternally": "chargeback",
         "chargebackreversed": "chargeback_reversal", "chargebackreversedexternally": "chargeback_reversal",
         "fee": "fee", "misccosts": "fee", "paymentcost": "fee", "settlecost": "fee", "invoicededuction": "fee",
         "merchantpayout": "payout", "paidout": "payout", "paidoutreversed": "adjustment"}
ZONES = {"UTC": 0, "GMT": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
         "MSK": 3, "GST": 4, "IST": 5.5, "SGT": 8, "HKT": 8, "AWST": 8, "JST": 9, "KST": 9, "AEST": 10,
         "AEDT": 11, "NZST": 12, "NZDT": 13, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
         "PST": -8, "PDT": -7, "AKST": -9, "HST": -10, "BRT": -3, "ART": -3}


def _is_header(cells: list[str]) -> bool:
    names = {cv.normalise_name(c) for c in cells}
    return bool(names & {"type", "journal_type"}) and "net_currency" in names


def sniff(head: str, mapping=None) -> bool:
    for line in physical_lines(head)[:10]:
        names = {cv.normalise_name(c) for c in line.split(",")}
        if _is_header(line.split(",")) and ({"psp_reference", "batch_number"} & names):
            return True
    return False


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    source = read_text(path)
    table = read_table(source.text, path, separator=",", is_header=_is_header)
    cols = Columns(table, ALIASES, path, required=["type", "creation_date", "net_currency"],
                   one_of=[["gross_debit", "gross_credit", "net_debit", "net_credit"]])
    dates = cv.DateColumn([cols.get(r.fields, "creation_date") for r in table.records])
    booking = cv.DateColumn([cols.get(r.fields, "booking_date") for r in table.records])
    payable = cv.DateColumn([cols.get(r.fields, "payable_date") for r in table.records])
    payout_dates = _payout_dates(table.records, cols, dates)

    def convert(fields: dict) -> dict:
        get = lambda f: cv.text(cols.get(fields, f))  # noqa: E731
        raw_type = get("type")
        if raw_type is None:
            raise RowProblem("Type is missing")
        line_type = TYPES.get(raw_type.lower().replace(" ", ""), "adjustment")
        txn_at = _moment(get("creation_date"), get("timezone"), hotel, dates)
        if txn_at is None:
            raise RowProblem("Creation Date is missing")
        gross = _credit_minus_debit(get, "gross")
        net = _credit_minus_debit(get, "net")
        fees = [cv.cents(get(f), f) for f in ("commission", "markup", "scheme_fees", "interchange")]
        fee = -sum(f for f in fees if f is not None) if any(f is not None for f in fees) else \
            (net - gross if net is not None and gross is not None and
             get("gross_currency") in (None, get("net_currency")) else None)
        if gross is None and net is None:
            raise RowProblem("no amount: Gross and Net debit/credit are all empty")
        batch = get("batch")
        remittance_date = booking.parse(get("booking_date"), "Booking Date") or payout_dates.get(batch) or \
            txn_at.astimezone(hotel.tz).date()
        key = [get("merchant_account"), batch, get("psp_reference"), raw_type, get("modification_reference")]
        return {
            "remittance_line_id": ":".join(k or "" for k in key) if get("psp_reference") else None,
            "provider": "adyen",
            "remittance_id": batch,
            "payout_id": f"{get('merchant_account') or ''}:{batch}" if batch else None,
            "merchant_id": get("merchant_account"),
            "terminal_id": get("terminal"),
            "line_type": line_type,
            "txn_at": txn_at if line_type not in ("payout", "fee") else None,
            "business_date": None if line_type not in ("payout", "fee") else remittance_date,
            "remittance_date": remittance_date,
            "value_date": payable.parse(get("payable_date"), "Payable Date"),
            "card_brand": cv.card_brand(get("variant") if get("payment_method") is None else get("payment_method")),
            "card_last4": cv.last4(get("card")),
            "gross_cents": gross,
            "fee_cents": fee,
            "net_cents": net,
            "currency": get("net_currency") or get("gross_currency"),
            "psp_reference": get("psp_reference"),
            "merchant_reference": get("merchant_reference"),
        }

    return build(path, kind, hotel, table.records, convert, encoding=source.encoding)


def _credit_minus_debit(get, prefix: str) -> int | None:
    debit = cv.cents(get(f"{prefix}_debit"), f"{prefix.title()} Debit", decimal_comma=False)
    credit = cv.cents(get(f"{prefix}_credit"), f"{prefix.title()} Credit", decimal_comma=False)
    if debit is None and credit is None:
        return None
    return (credit or 0) - (debit or 0)


def _moment(value: str | None, zone: str | None, hotel, dates: cv.DateColumn) -> dt.datetime | None:
    if value is None:
        return None
    date_part, time_part = cv.split_datetime(value)
    if date_part is None:
        raise RowProblem(f"Creation Date {value!r} is not a date and time")
    if time_part and (time_part.endswith("Z") or "+" in time_part or time_part.count("-")):
        return cv.timestamp(value, hotel, dates, "Creation Date")
    moment = dt.datetime.combine(dates.parse(date_part, "Creation Date"), cv.clock(time_part) or dt.time())
    zone = (zone or "").strip()
    if zone.upper() in ZONES:
        offset = dt.timedelta(hours=ZONES[zone.upper()])
        return moment.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)
    if zone:
        try:
            ZoneInfo(zone)
            return cv.local(moment, hotel, zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RowProblem(f"TimeZone {zone!r} is not a known time zone") from None
    return cv.local(moment, hotel)


def _payout_dates(records, cols, dates) -> dict[str, dt.date]:
    """Batch number -> the date of its MerchantPayout line (the day the batch was paid out)."""
    out = {}
    for r in records:
        kind = (cols.get(r.fields, "type") or "").lower()
        if kind in ("merchantpayout", "paidout") and cols.get(r.fields, "batch"):
            try:
                day = dates.parse(cols.get(r.fields, "creation_date"))
            except RowProblem:
                continue
            if day:
                out[cols.get(r.fields, "batch")] = day
    return out
