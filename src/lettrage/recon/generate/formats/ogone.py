"""The Ogone / Ingenico transaction report, XML `DOWNLOAD_REPLY` form (one `PAYMENT` per
operation, every value an attribute), as `recon/readers/ogone_xml.py` reads it
(research/psp.md §1.10, status codes §1.6)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from lettrage.recon.generate.formats.files import days_of, local_iso, money, reformat
from lettrage.recon.generate.group import HotelProfile

LABELS = {"9": "Payment requested", "5": "Authorised", "2": "Authorisation refused", "1": "Cancelled by client",
          "8": "Refund"}
BRANDS = {"VISA": "VISA", "MASTERCARD": "MasterCard", "AMEX": "American Express", "CB": "CB", "MAESTRO": "Maestro",
          "JCB": "JCB", "DINERS": "Diners Club", "UNIONPAY": "UnionPay"}


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    when = reformat(local_iso(rows["event_at"], profile.hotel.timezone), "{d}/{m}/{Y} {H}:{M}:{S}")
    total = money(rows["amount_cents"], absolute=True)
    cols = {c: rows[c].tolist() for c in ("psp_reference", "payidsub", "order_id", "status_code", "auth_code",
                                          "currency", "card_brand", "card_last4", "action")}
    written = []
    for day, positions in days_of(rows[date_column].to_numpy()).items():
        root = ET.Element("DOWNLOAD_REPLY")
        for i in positions:
            r = {c: v[i] for c, v in cols.items()}
            brand, last4 = r["card_brand"], r["card_last4"]
            has_card = isinstance(last4, str)
            ET.SubElement(root, "PAYMENT", {
                "ID": str(r["psp_reference"]), "PAYIDSUB": str(r["payidsub"]), "REF": str(r["order_id"]),
                "ORDER": when[i], "PAYDATE": when[i], "STATUS": str(r["status_code"]),
                "LIB": LABELS.get(str(r["status_code"]), ""), "ACCEPT": r["auth_code"] or "",
                "NCID": str(r["psp_reference"]), "NCSTER": "0/0", "CIE": "", "FACNAME1": "",
                "COUNTRY": profile.location.country, "TOTAL": total[i], "CUR": str(r["currency"]),
                "METHOD": "CreditCard", "BRAND": BRANDS.get(brand, "") if isinstance(brand, str) else "",
                "CARD": "XXXXXXXXXXXX" + last4 if has_card else "", "EXPDATE": "", "UID": "", "STRUCT": "",
                "FILEID": "", "ACTION": str(r["action"]), "TICKET": "", "DESC": "", "SHIP": "0", "TAX": "0",
                "USERID": "", "MERCHREF": "", "REFID": "", "REFKIND": "PSPID", "ECI": "7",
            })
        ET.indent(root, space="  ")
        path = directory / f"ogone_download_{day:%Y%m%d}.xml"
        path.write_bytes(ET.tostring(root, encoding="ISO-8859-1", xml_declaration=True) + b"\n")
        written.append(path)
    return written
