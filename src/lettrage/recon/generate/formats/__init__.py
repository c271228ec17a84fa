"""Writers of the source files, one module per family of formats. Each writer takes the canonical
rows of one hotel, kind and day and writes the file a hotel would deliver, named with its date."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lettrage.recon.generate.formats import (
    adyen,
    amex,
    cb,
    generic,
    ogone,
    onq,
    opera,
    protel,
    starlight,
    terminal,
)
from lettrage.recon.generate.group import HotelProfile

# write(directory, profile, kind, rows, date column or None) -> the files written, one per day
Writer = Callable[[Path, HotelProfile, str, pd.DataFrame, "str | None"], list[Path]]

WRITERS: dict[str, Writer] = {
    "generic": generic.write,
    "opera_csv": opera.write_financial,
    "opera_trexport": opera.write_trexport,
    "opera_resv": opera.write_reservations,
    "onq": onq.write,
    "protel": protel.write,
    "starlight": starlight.write,
    "tpe_csv": terminal.write,
    "cb_remittance": cb.write,
    "adyen_sdr": adyen.write,
    "amex_eptrn": amex.write,
    "ogone_xml": ogone.write,
}
# The date that names each kind's files: the business date, remittances by their remittance date.
FILE_DATE = {"pms_postings": "business_date", "tpe_journal": "business_date", "psp_journal": "business_date",
             "reservations": "business_date", "remittances": "remittance_date"}
REMITTANCE_FORMATS = {"cb_acquirer": "cb_remittance", "amex": "amex_eptrn", "adyen": "adyen_sdr"}


def write_hotel(out_dir: Path, profile: HotelProfile, tables: dict[str, pd.DataFrame], generic_only: bool) -> list[Path]:
    """Every file of one hotel: one per kind and day (per provider and day for native remittances)."""
    formats = profile.formats(generic_only)
    written = []
    for kind, rows in tables.items():
        directory = Path(out_dir) / profile.hotel_id / kind
        directory.mkdir(parents=True, exist_ok=True)
        date_column = FILE_DATE.get(kind)
        if kind == "remittances" and not generic_only:
            for provider, part in rows.groupby("provider", sort=True):
                written += WRITERS[REMITTANCE_FORMATS[provider]](directory, profile, kind, part, date_column)
        else:
            written += WRITERS[formats[kind]](directory, profile, kind, rows, date_column)
    return written
