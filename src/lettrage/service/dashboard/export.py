"""Paid requests not yet posted in the PMS, exported for the night auditor: CSV and OPERA-style XML.

The XML follows OPERA's conventions for posting a payment on a reservation (OHIP cashiering
`PostBillingPayment`: PaymentMethod, PostingAmount, PostingReference, PostingRemark, FolioWindowNo;
the Generic XML Back Office export's root attributes `hotel_code` and `date`, money with two
decimals and a dot, dates as YYYY-MM-DD). The PSP order id travels as PostingReference, so the next
reconciliation finds the posting again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

# Card brand -> OPERA's usual payment-method codes (configurable per property in OPERA; these are the
# common defaults a hotel maps from).
OPERA_PAYMENT_METHODS = {"VISA": "VA", "MASTERCARD": "MC", "CB": "CB", "AMEX": "AX", "JCB": "JC",
                         "DINERS": "DC", "UNIONPAY": "UP", "MAESTRO": "MA"}

CSV_COLUMNS = ["hotel_id", "request_id", "confirmation_no", "reservation_id", "guest_name", "amount",
               "amount_cents", "currency", "order_id", "psp_reference", "paid_at", "card_brand", "card_last4"]


@dataclass(frozen=True)
class PaidRequest:
    request_id: int
    hotel_id: str
    confirmation_no: str
    reservation_id: str
    guest_name: str
    amount_cents: int
    currency: str
    order_id: str
    psp_reference: str
    paid_at: dt.datetime | None
    card_brand: str = ""
    card_last4: str = ""


def decimal_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{frac:02d}"


def to_csv(rows: Iterable[PaidRequest]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r.hotel_id, r.request_id, r.confirmation_no, r.reservation_id, r.guest_name,
                         decimal_text(r.amount_cents), r.amount_cents, r.currency, r.order_id, r.psp_reference,
                         r.paid_at.isoformat() if r.paid_at else "", r.card_brand, r.card_last4])
    return out.getvalue()


def to_opera_xml(rows: Iterable[PaidRequest], generated_at: dt.datetime) -> str:
    root = ET.Element("PostingExport", {"source": "lettrage", "generated_at": generated_at.isoformat(timespec="seconds")})
    by_hotel: dict[str, list[PaidRequest]] = {}
    for r in rows:
        by_hotel.setdefault(r.hotel_id, []).append(r)
    for hotel_id in sorted(by_hotel):
        hotel = ET.SubElement(root, "Hotel", {"hotel_code": hotel_id, "date": generated_at.date().isoformat()})
        for r in by_hotel[hotel_id]:
            p = ET.SubElement(hotel, "Posting")
            for tag, value in [
                ("ConfirmationNo", r.confirmation_no), ("ReservationId", r.reservation_id),
                ("GuestName", r.guest_name),
                ("PaymentMethod", OPERA_PAYMENT_METHODS.get((r.card_brand or "").upper(), "CC")),
                ("PostingAmount", decimal_text(r.amount_cents)),
                ("PostingReference", r.order_id),
                ("PostingRemark", f"Payment link {r.request_id}, PSP {r.psp_reference}".strip(", ")),
                ("FolioWindowNo", "1"),
                ("TransactionDate", r.paid_at.date().isoformat() if r.paid_at else ""),
                ("CardLast4", r.card_last4),
            ]:
                ET.SubElement(p, tag).text = str(value or "")
            p.find("PostingAmount").set("currency", r.currency)
    ET.indent(root)
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + ET.tostring(root, encoding="unicode") + "\n"
