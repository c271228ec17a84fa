"""Hilton OnQ night-audit payments extract (`.chr`): `^` between fields, `"` around every value,
US dates (MM/DD/YYYY), amounts on the folio's sign (payments negative), as
`recon/readers/onq.py` reads it (research/hotel.md §2)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from lettrage.recon.generate.formats.files import (
    local_iso,
    masked_pan,
    money,
    reformat,
    text_or_none,
    write_by_day,
)
from lettrage.recon.generate.group import HotelProfile


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    clock = reformat(local_iso(rows["posted_at"], profile.hotel.timezone), "{H}:{M}:{S}")
    facility = str(10_000 + profile.index * 37 % 90_000)
    columns = {
        "Facility ID": np.full(len(rows), facility, dtype=object),
        "Business Date": np.array([d.strftime("%m/%d/%Y") for d in rows["business_date"]], dtype=object),
        "Time": clock,
        "Transaction Code": rows["trx_code"].to_numpy(),
        "Description": rows["label"].to_numpy(),
        "Room": text_or_none(rows["room"]),
        "Confirmation Number": text_or_none(rows["confirmation_no"]),
        "Guest Name": text_or_none(rows["guest_name"]),
        "Folio": text_or_none(rows["folio_no"]),
        "Amount": money(rows["amount_cents"], sign=-1),
        "Card Type": text_or_none(rows["card_brand"].where(rows["card_last4"].notna(), None)),
        "Card Number": masked_pan(rows["card_last4"]),
        "Cashier": rows["cashier_id"].to_numpy(),
        "Cashier Name": rows["cashier_name"].to_numpy(),
        "Transaction ID": rows["trx_no"].astype(str).to_numpy(),
        "Currency": rows["currency"].to_numpy(),
    }
    columns = {k: np.where(pd.isna(v), "", v) for k, v in columns.items()}
    return write_by_day(directory, "RECRCP_{ymd}.chr", columns, rows[date_column].to_numpy(), delimiter="^",
                        quoting=csv.QUOTE_ALL, lineterminator="\r\n")
