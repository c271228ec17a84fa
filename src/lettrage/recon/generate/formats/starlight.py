"""A Starlight PMS payment export in this hotel's own layout (English column names, `,`, ISO
dates, decimal point), with the column mapping the reader needs written beside the hotel's
files (`<hotel>/hotel.yaml`, see `recon/readers/hotel_config.py`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from lettrage.recon.generate.formats.files import (
    local_iso,
    masked_pan,
    money,
    reformat,
    text_or_none,
    write_by_day,
)
from lettrage.recon.generate.group import HotelProfile

COLUMNS = {  # canonical field -> this hotel's column
    "posting_id": "Doc ID", "business_date": "Date", "time": "Hour", "room": "Room No",
    "reservation_id": "Booking", "confirmation_no": "Confirmation", "guest_name": "Guest name",
    "folio_no": "Folio No", "trx_code": "Code", "label": "Payment", "amount": "Value", "currency": "CCY",
    "card_number": "Card mask", "cashier_id": "Operator", "reference": "Document ref",
}
MAPPING = {"separator": ",", "decimal_comma": False, "date_format": "%Y-%m-%d", "sign": "as_is",
           "columns": COLUMNS}


def write_mapping(hotel_dir: Path) -> Path:
    path = hotel_dir / "hotel.yaml"
    text = ("# How lettrage reads this hotel's Starlight export (recon/readers/hotel_config.py).\n"
            + yaml.safe_dump({"formats": {"starlight": MAPPING}}, sort_keys=False, allow_unicode=True))
    path.write_text(text, encoding="utf-8")
    return path


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    clock = reformat(local_iso(rows["posted_at"], profile.hotel.timezone), "{H}:{M}:{S}")
    values = {
        "posting_id": rows["trx_no"].astype(str).to_numpy(),
        "business_date": [d.isoformat() for d in rows["business_date"]],
        "time": clock,
        "room": text_or_none(rows["room"]), "reservation_id": text_or_none(rows["reservation_id"]),
        "confirmation_no": text_or_none(rows["confirmation_no"]), "guest_name": text_or_none(rows["guest_name"]),
        "folio_no": text_or_none(rows["folio_no"]), "trx_code": rows["trx_code"].to_numpy(),
        "label": rows["label"].to_numpy(), "amount": money(rows["amount_cents"]),
        "currency": rows["currency"].to_numpy(), "card_number": masked_pan(rows["card_last4"]),
        "cashier_id": rows["cashier_id"].to_numpy(), "reference": text_or_none(rows["reference"]),
    }
    columns = {COLUMNS[f]: v for f, v in values.items()}
    written = write_by_day(directory, "starlight_payments_{date}.csv", columns, rows[date_column].to_numpy())
    return [*written, write_mapping(directory.parent)]
