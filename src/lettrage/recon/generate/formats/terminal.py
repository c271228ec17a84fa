"""The French card-terminal journal (CSV), one line per ticket, as `recon/readers/tpe_csv.py`
reads it: `;`, decimal comma, `DD/MM/YYYY` and `HH:MM:SS` in hotel time, masked PAN
`*****2008`, the "numéro du fichier remis"; Windows-1252 or UTF-8 as the terminal software
writes it (research/hotel.md §3.1, the seed's "TPE Hébergement (002)" screen)."""

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

TYPES = {"sale": "Débit", "refund": "Crédit", "cancel": "Annulation", "preauth": "Pré-autorisation",
         "completion": "Complément"}
MODES = {"chip": "Puce", "contactless": "Sans contact", "swipe": "Piste", "manual": "Saisie manuelle"}


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    local = local_iso(rows["txn_at"], profile.hotel.timezone)
    columns = {
        "N° TPE": rows["terminal_id"].to_numpy(),
        "Libellé TPE": rows["terminal_label"].to_numpy(),
        "N° contrat": rows["merchant_id"].to_numpy(),
        "Date": reformat(local, "{d}/{m}/{Y}"),
        "Heure": reformat(local, "{H}:{M}:{S}"),
        "N° transaction": [f"{n:06d}" for n in rows["txn_no"]],
        "Type": rows["txn_type"].map(TYPES).to_numpy(),
        "Montant": money(rows["amount_cents"], decimal_comma=True),
        "Devise": rows["currency"].to_numpy(),
        "Carte": text_or_none(rows["card_brand"]),
        "N° carte": masked_pan(rows["card_last4"], width=9, fill="*"),
        "Mode": rows["entry_mode"].map(MODES).to_numpy(),
        "N° autorisation": text_or_none(rows["auth_code"]),
        "Numéro du fichier remis": text_or_none(rows["remise_ref"]),
        "Montant DCC": money(rows["dcc_amount_cents"], decimal_comma=True),
        "Devise DCC": text_or_none(rows["dcc_currency"]),
    }
    return write_by_day(directory, "journal_tpe_{date}.csv", columns, rows[date_column].to_numpy(),
                        encoding=profile.tpe_encoding, delimiter=";", lineterminator="\r\n")
