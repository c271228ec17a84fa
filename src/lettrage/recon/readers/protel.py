"""protel (SPE/MPE, protel Air) payment journal export: a delimited file described by a mapping.

protel publishes no export layout (research/hotel.md §2: payment methods with an item number
"TAA", cash registers per desk and shift; no public transaction-export spec), and each hotel
configures its report columns. lettrage reads it through a column mapping (`hotel_config`): a
hotel whose export differs from the default below writes a `protel` entry in its mapping.

Default layout (a protel "Zahlungsjournal" saved as CSV), first line = header:
`;` separator, Windows-1252 or UTF-8, decimal comma (`1.329,69`), dates `DD.MM.YYYY`, time `HH:MM`,
payments written positive, refunds negative.

    Buchungsnr;Datum;Uhrzeit;Zimmer;Res.-Nr.;Gast;Rechnungsnr;Fenster;Zahlungsart;Text;Betrag;Währung;Kartennummer;Kasse;Benutzer;Referenz

| column | canonical |
|---|---|
| Buchungsnr | posting_id (protel's posting number) |
| Datum | business_date |
| Uhrzeit | time of the posting (posted_at, with the date and the night audit) |
| Zimmer, Res.-Nr., Gast | room, reservation_id, guest_name |
| Rechnungsnr, Fenster | folio_no, folio_window |
| Zahlungsart | trx_code (the payment method's item number, TAA) |
| Text | label (brand when the code table does not know the code) |
| Betrag, Währung | amount, currency |
| Kartennummer | masked card number (last 4 kept) |
| Kasse, Benutzer | cashier_id (register), cashier_name |
| Referenz | reference |
"""

from __future__ import annotations

from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers.hotel_config import FormatMapping
from lettrage.recon.readers.mapped import MappedReader, header_matches

DEFAULT = FormatMapping(
    separator=";", decimal_comma=True, date_format="%d.%m.%Y", sign="as_is",
    constants={"source_system": "protel"},
    columns={"posting_id": "Buchungsnr", "business_date": "Datum", "time": "Uhrzeit", "room": "Zimmer",
             "reservation_id": "Res.-Nr.", "guest_name": "Gast", "folio_no": "Rechnungsnr",
             "folio_window": "Fenster", "trx_code": "Zahlungsart", "label": "Text", "amount": "Betrag",
             "currency": "Währung", "card_number": "Kartennummer", "cashier_id": "Kasse",
             "cashier_name": "Benutzer", "reference": "Referenz"},
)


def sniff(head: str, mapping: FormatMapping | None = None) -> bool:
    return header_matches(head, DEFAULT.merged(mapping))


def read(path: Path, kind: str, hotel, trx_codes=None, mapping: FormatMapping | None = None) -> ReadResult:
    return MappedReader(path, kind, hotel, DEFAULT.merged(mapping), trx_codes=trx_codes).read()
