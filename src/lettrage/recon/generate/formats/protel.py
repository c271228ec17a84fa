"""protel's payment journal ("Zahlungsjournal") saved as CSV, in the default layout
`recon/readers/protel.py` expects: `;`, Windows-1252, decimal comma, `DD.MM.YYYY`."""

from __future__ import annotations

from pathlib import Path

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
    columns = {
        "Buchungsnr": rows["trx_no"].astype(str).to_numpy(),
        "Datum": [d.strftime("%d.%m.%Y") for d in rows["business_date"]],
        "Uhrzeit": clock,
        "Zimmer": text_or_none(rows["room"]),
        "Res.-Nr.": text_or_none(rows["reservation_id"]),
        "Gast": text_or_none(rows["guest_name"]),
        "Rechnungsnr": text_or_none(rows["folio_no"]),
        "Fenster": text_or_none(rows["folio_window"]),
        "Zahlungsart": rows["trx_code"].to_numpy(),
        "Text": rows["label"].to_numpy(),
        "Betrag": money(rows["amount_cents"], decimal_comma=True, thousands="."),
        "Währung": rows["currency"].to_numpy(),
        "Kartennummer": masked_pan(rows["card_last4"], fill="*"),
        "Kasse": rows["cashier_id"].to_numpy(),
        "Benutzer": rows["cashier_name"].to_numpy(),
        "Referenz": text_or_none(rows["reference"]),
    }
    return write_by_day(directory, "zahlungsjournal_{date}.csv", columns, rows[date_column].to_numpy(),
                        encoding="cp1252", delimiter=";", lineterminator="\r\n")
