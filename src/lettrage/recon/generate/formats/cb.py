"""The CB acquirer's "relevé de remises" (CSV), as `recon/readers/cb_remittance.py` reads it:
one line per ticket of each remise with its "numéro du fichier remis" and commission, then the
remise's total credited to the bank; `;`, Windows-1252, decimal comma, `DD/MM/YYYY`."""

from __future__ import annotations

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

TYPES = {"sale": "Débit", "refund": "Crédit", "payout": "Total remise"}


def _day(dates) -> np.ndarray:
    return np.array([None if d is None or pd.isna(d) else d.strftime("%d/%m/%Y") for d in dates], dtype=object)


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    local = local_iso(rows["txn_at"], profile.hotel.timezone)
    payout = (rows["line_type"] == "payout").to_numpy()
    columns = {
        "N° de remise": rows["remittance_id"].to_numpy(),
        "Date de remise": _day(rows["remittance_date"]),
        "Date de valeur": _day(rows["value_date"]),
        "N° contrat": rows["merchant_id"].to_numpy(),
        "N° TPE": text_or_none(rows["terminal_id"]),
        "Date transaction": reformat(local, "{d}/{m}/{Y}"),
        "Heure": reformat(local, "{H}:{M}:{S}"),
        "Type": rows["line_type"].map(TYPES).to_numpy(),
        "Réseau": text_or_none(rows["card_brand"]),
        "N° carte": masked_pan(rows["card_last4"], width=9, fill="*"),
        "Montant brut": money(rows["gross_cents"], decimal_comma=True),
        "Commission": money(rows["fee_cents"], decimal_comma=True, absolute=True),
        # the total credited is written as the bank sees it: positive
        "Montant net": np.where(payout, money(rows["net_cents"], decimal_comma=True, absolute=True),
                                money(rows["net_cents"], decimal_comma=True)),
        "Devise": rows["currency"].to_numpy(),
        "N° autorisation": text_or_none(rows["auth_code"]),
        "Numéro du fichier remis": text_or_none(rows["remise_ref"]),
    }
    return write_by_day(directory, "releve_remises_{ymd}.csv", columns, rows[date_column].to_numpy(),
                        encoding="cp1252", delimiter=";", lineterminator="\r\n")
