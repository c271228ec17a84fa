"""Starlight PMS payment export: a delimited file described by a mapping.

Starlight (distributed e.g. by PMS Labs, Poland) publishes no export layout (research/hotel.md
§2), so it is read through a column mapping (`hotel_config`); a hotel whose export differs from
the default below writes a `starlight` entry in its mapping.

Default layout, first line = header: `;` separator, UTF-8 or Windows-1252, decimal comma,
dates `DD.MM.YYYY` (or `YYYY-MM-DD`, detected), time `HH:MM[:SS]`, payments positive.

    Id;Business date;Time;Room;Reservation;Guest;Folio;Payment code;Payment name;Amount;Currency;Card;Cashier;Document

| column | canonical |
|---|---|
| Id | posting_id |
| Business date, Time | business_date, posted_at (with the night audit) |
| Room, Reservation, Guest, Folio | room, reservation_id, guest_name, folio_no |
| Payment code, Payment name | trx_code, label (brand when the code table does not know the code) |
| Amount, Currency | amount, currency |
| Card | masked card number (last 4 kept) |
| Cashier, Document | cashier_id, reference |
"""

from __future__ import annotations

from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers.hotel_config import FormatMapping
from lettrage.recon.readers.mapped import MappedReader, header_matches

DEFAULT = FormatMapping(
    separator=";", decimal_comma=True, sign="as_is", constants={"source_system": "starlight"},
    columns={"posting_id": "Id", "business_date": "Business date", "time": "Time", "room": "Room",
             "reservation_id": "Reservation", "guest_name": "Guest", "folio_no": "Folio",
             "trx_code": "Payment code", "label": "Payment name", "amount": "Amount", "currency": "Currency",
             "card_number": "Card", "cashier_id": "Cashier", "reference": "Document"},
)


def sniff(head: str, mapping: FormatMapping | None = None) -> bool:
    return header_matches(head, DEFAULT.merged(mapping))


def read(path: Path, kind: str, hotel, trx_codes=None, mapping: FormatMapping | None = None) -> ReadResult:
    return MappedReader(path, kind, hotel, DEFAULT.merged(mapping), trx_codes=trx_codes).read()
