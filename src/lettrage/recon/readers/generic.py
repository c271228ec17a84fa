"""Generic CSV: the canonical table itself, one column per canonical column (DOMAIN.md names).

- Separator `,` (or `;`, TAB, `|`: detected); UTF-8 with or without BOM, or Windows-1252.
- Columns are matched by name, case and accents ignored; unknown columns are ignored, and a few
  usual synonyms are accepted (`amount` for the table's amount in major units, `card_number` for a
  masked card number, French names of the code table: `code`, `libellé`, `groupe`, `paiement`...).
- `*_cents` columns hold integer cents (minor units); `amount` holds a decimal amount.
- Dates ISO `YYYY-MM-DD` (other orders are detected over the column); timestamps ISO, with an
  offset taken as written or without one in the hotel's local time.
- Ids are taken as written; rows without one get a hash of their content and position.
- `business_date` may be left out: it comes from the row's time and the hotel's night audit.
- A hotel may map other column names with a `generic` entry in its mapping (`hotel_config`).
Also reads the hotel's code table (`trx_codes`: trx_code, label, group_name, is_payment,
card_brand, channel).
"""

from __future__ import annotations

from pathlib import Path

from lettrage.recon import schemas
from lettrage.recon.readers import ReadResult, UnreadableFile
from lettrage.recon.readers.conventions import normalise_name
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import physical_lines, sniff_separator
from lettrage.recon.readers.hotel_config import FormatMapping
from lettrage.recon.readers.mapped import MappedReader

SYNONYMS = {
    "trx_code": ["code", "rub", "rubs", "transaction_code", "trxcode"],
    "label": ["libelle", "description", "libelle_rub"],
    "group_name": ["groupe", "group", "department", "departement"],
    "is_payment": ["paiement", "payment"],
    "card_brand": ["marque", "brand", "carte"],
    "channel": ["canal"],
    "amount": ["montant"],
    "card_number": ["pan", "masked_pan", "numero_carte"],
}


def read(path: Path, kind: str, hotel, trx_codes=None, mapping: FormatMapping | None = None) -> ReadResult:
    if kind not in schemas.SOURCE_KINDS:
        raise UnreadableFile(path, f"unknown kind {kind!r}")
    table = schemas.SOURCE_KINDS[kind]
    if mapping is None or not mapping.columns:
        source = read_text(path, mapping.encoding if mapping else None)
        header = _header(source.text, mapping)
        mapping = FormatMapping(**{**(vars(mapping) if mapping else {}),
                                   "columns": canonical_columns(table, header), "amount_unit": "minor"})
        if "amount" in mapping.columns and not any(c.endswith("_cents") for c in mapping.columns):
            mapping = FormatMapping(**{**vars(mapping), "amount_unit": "major"})
    return MappedReader(path, kind, hotel, mapping, trx_codes=trx_codes, id_prefix="").read()


def _header(text: str, mapping: FormatMapping | None) -> list[str]:
    for line in physical_lines(text)[(mapping.skip_lines if mapping else 0):]:
        if line.strip():
            sep = (mapping.separator if mapping else None) or sniff_separator(line)
            return [h.strip().strip('"').lstrip("\ufeff") for h in line.split(sep)]
    return []


def canonical_columns(table: str, header: list[str]) -> dict[str, str]:
    """field -> header column, for the canonical names (and synonyms) the header carries."""
    by_name = {normalise_name(h): h for h in header}
    wanted = [*schemas.columns(table), "amount", "card_number"]
    found = {}
    for f in wanted:
        for name in [f, *SYNONYMS.get(f, [])]:
            if normalise_name(name) in by_name and f not in ("source_file", "ingested_at"):
                found[f] = by_name[normalise_name(name)]
                break
    return found


def canonical(head: str, kind: str) -> bool:
    """A header naming every required canonical column of the kind's table (or `*_cents` columns)."""
    lines = [ln for ln in physical_lines(head)[:5] if ln.strip()]
    if not lines or kind not in schemas.SOURCE_KINDS:
        return False
    header = {normalise_name(h) for h in lines[0].split(sniff_separator(lines[0]))}
    table = schemas.SOURCE_KINDS[kind]
    cols = schemas.model(table).to_schema().columns
    required = {c for c, col in cols.items() if not col.nullable} - {"source_file", "ingested_at", "hotel_id",
                                                                      "business_date"}
    return required <= header or any(h.endswith("_cents") and h in cols for h in header)


def sniff(head: str, mapping: FormatMapping | None = None) -> bool:
    """A header carrying at least three canonical column names of some table."""
    lines = [ln for ln in physical_lines(head)[:5] if ln.strip()]
    if not lines:
        return False
    header = [normalise_name(h) for h in lines[0].split(sniff_separator(lines[0]))]
    return any(len(set(header) & set(schemas.columns(t))) >= 3 for t in schemas.SOURCE_KINDS.values())
