"""Ogone / Ingenico ePayments transaction report, XML form (`DOWNLOAD_REPLY`).

Source: Ingenico e-Commerce "automatic download" of the transaction report
(`payment_download_ncp.asp`, `format=XML`), research/psp.md §1.10 and §1.6 (status codes).
The reply is `<DOWNLOAD_REPLY>` holding one `<PAYMENT .../>` element per transaction (order
level) or per operation (history level), every value an attribute:

| attribute | meaning | canonical |
|---|---|---|
| ID | PAYID, the PSP's reference | psp_reference (and the row id, with PAYIDSUB, STATUS and ACTION) |
| PAYIDSUB | operation number within the payment (history level) | |
| REF | orderID, our reference sent to the PSP | order_id |
| ORDER | order date `DD/MM/YYYY [HH:MM[:SS]]` | event_at when no PAYDATE |
| PAYDATE | payment date `DD/MM/YYYY [HH:MM[:SS]]` | event_at (the PSP account's time, read in the hotel's zone) |
| STATUS | Ogone status code (0 invalid, 1 cancelled by customer, 2 refused, 5 authorised, 51/91 pending, 52/92 uncertain, 6/7 cancelled, 8 refunded, 9 paid, ...) | status, status_code |
| ACTION | operation: VEN/SAL/SAS sale, RES/PAU authorisation, RFD/RFS/REM refund, DEL/DES/ANN cancel, CHB chargeback | operation (else from STATUS) |
| TOTAL, CUR | amount, decimal point (`999.99`); currency | amount_cents (negative for refunds), currency |
| BRAND, CARD | brand (VISA, MasterCard, American Express, CB...), masked card `XXXXXXXXXXXX1111` | card_brand, card_last4 |
| ACCEPT | acquirer's authorisation code | auth_code |
| COMPLUS / PARAMPLUS `link_id=` | our payment link id, when we sent it | link_id |
| LIB, NCID, NCSTER, FACNAME1, COUNTRY, METHOD, EXPDATE, UID, ... | not kept | |

Provider `ogone`. A reply holding an `<ERROR>` or an `NCERROR` attribute on `DOWNLOAD_REPLY` is
the PSP refusing the download, not a report: the file is refused with its message. The XML
encoding declaration is honoured (ISO-8859-1 or UTF-8).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from lettrage.recon.readers import ReadResult, UnreadableFile
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.records import Record, build

STATUSES = {
    "0": "error", "1": "cancelled", "2": "refused", "4": "pending", "40": "pending", "41": "pending",
    "46": "pending", "5": "authorised", "50": "pending", "51": "pending", "52": "uncertain", "55": "pending",
    "56": "paid", "57": "error", "59": "authorised", "6": "cancelled", "61": "pending", "62": "uncertain",
    "63": "refused", "64": "cancelled", "7": "cancelled", "71": "pending", "72": "uncertain", "73": "refused",
    "74": "cancelled", "75": "cancelled", "8": "refunded", "81": "pending", "82": "uncertain", "83": "refused",
    "84": "refused", "85": "refunded", "9": "paid", "91": "pending", "92": "uncertain", "93": "refused",
    "94": "refused", "95": "paid", "99": "pending",
}
ACTIONS = {"VEN": "sale", "SAL": "sale", "SAS": "capture", "CAP": "capture", "RES": "authorisation",
           "PAU": "authorisation", "AUT": "authorisation", "RFD": "refund", "RFS": "refund", "REM": "refund",
           "RFN": "refund", "DEL": "cancel", "DES": "cancel", "DEA": "cancel", "ANN": "cancel", "CAN": "cancel",
           "CHB": "chargeback", "IMP": "chargeback"}
BY_STATUS = {"5": "authorisation", "59": "authorisation", "51": "authorisation", "52": "authorisation",
             "8": "refund", "81": "refund", "82": "refund", "83": "refund", "84": "refund", "85": "refund",
             "6": "cancel", "61": "cancel", "62": "cancel", "63": "cancel", "64": "cancel", "7": "cancel",
             "71": "cancel", "72": "cancel", "73": "cancel", "74": "cancel", "75": "cancel"}


def sniff(head: str, mapping=None) -> bool:
    return "<DOWNLOAD_REPLY" in head.upper()[:4096]


def _parse(path: Path) -> tuple[ET.Element, str]:
    """The document's root element, and its text (for line numbers)."""
    from lettrage.recon.readers.decoding import decode_bytes

    data = Path(path).read_bytes()
    if not data.strip():
        raise UnreadableFile(path, "the file is empty")
    try:
        return ET.fromstring(data), data.decode("latin-1")
    except ET.ParseError as first:
        # No (or a wrong) encoding declaration on Windows-1252 bytes: decode ourselves and retry.
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", decode_bytes(data, path).text)
        try:
            return ET.fromstring(text), text
        except ET.ParseError:
            line, col = first.position
            raise UnreadableFile(path, f"not well-formed XML ({str(first).split(':')[0]}, column {col}): "
                                       f"truncated or not an Ogone report", line=line) from None


def records(root: ET.Element, path: Path, text: str = "") -> list[Record]:
    if root.tag.upper() != "DOWNLOAD_REPLY":
        raise UnreadableFile(path, f"the root element is <{root.tag}>, not <DOWNLOAD_REPLY>", line=1)
    error = root.get("NCERROR") or next((e for e in root if e.tag.upper() == "ERROR"), None)
    if error is not None and not any(e.tag.upper() == "PAYMENT" for e in root):
        text = error if isinstance(error, str) else (error.text or " ".join(f"{k}={v}" for k, v in error.items()))
        raise UnreadableFile(path, f"the PSP refused the download: {text.strip()}")
    out, position = [], text.upper().find("<DOWNLOAD_REPLY") + 1
    for element in root:
        fields = {k.upper(): v for k, v in element.attrib.items()}
        raw = ET.tostring(element, encoding="unicode")[:500]
        found = text.upper().find("<" + element.tag.upper(), position)
        position = found + 1 if found >= 0 else position
        line = text.count("\n", 0, max(found, 0)) + 1
        if element.tag.upper() != "PAYMENT":
            fields = {"__problem__": f"unexpected element <{element.tag}> (expected <PAYMENT>)"}
        out.append(Record(line, raw, fields))
    return out


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    root, text = _parse(path)
    recs = records(root, path, text)
    dates = cv.DateColumn([r.fields.get("PAYDATE") or r.fields.get("ORDER") for r in recs])

    def convert(f: dict) -> dict:
        get = lambda k: cv.text(f.get(k))  # noqa: E731
        status_code = get("STATUS")
        if status_code is None:
            raise RowProblem("STATUS is missing")
        status = STATUSES.get(status_code)
        if status is None:
            raise RowProblem(f"STATUS {status_code!r} is not an Ogone status code")
        action = (get("ACTION") or "").upper()
        operation = ACTIONS.get(action) or BY_STATUS.get(status_code, "sale")
        amount = cv.cents(get("TOTAL"), "TOTAL", decimal_comma=False)
        if amount is None:
            raise RowProblem("TOTAL is missing")
        if operation == "refund" or status == "refunded":
            amount = -abs(amount)
        event_at = cv.timestamp(get("PAYDATE") or get("ORDER"), hotel, dates, "PAYDATE")
        if event_at is None:
            raise RowProblem("PAYDATE and ORDER are both missing")
        payid = get("ID")
        key = [payid, get("PAYIDSUB"), status_code, action]
        return {
            "psp_txn_id": ":".join(k or "" for k in key) if payid else None,
            "provider": "ogone",
            "order_id": get("REF"),
            "link_id": _link_id(get("COMPLUS"), get("PARAMPLUS")),
            "psp_reference": payid,
            "operation": operation,
            "status": status,
            "status_code": status_code,
            "event_at": event_at,
            "amount_cents": amount,
            "currency": get("CUR"),
            "card_brand": cv.card_brand(get("BRAND")),
            "card_last4": cv.last4(get("CARD")),
            "auth_code": get("ACCEPT"),
        }

    return build(path, kind, hotel, recs, convert, encoding="xml")


def _link_id(complus: str | None, paramplus: str | None) -> str | None:
    for text in (paramplus, complus):
        if text and (m := re.search(r"link_id=([^&;\s]+)", text)):
            return m[1]
    return None
