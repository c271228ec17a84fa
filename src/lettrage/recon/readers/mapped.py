"""Delimited exports described by a column mapping (`hotel_config.FormatMapping`).

The engine behind `protel`, `starlight` and `generic`: the mapping names the column of each
canonical field (or the helpers `amount`, `debit`/`credit`, `date`/`time`, `card_number`,
`label`), and each value is read by the type of its canonical column: `*_cents` as amounts
(major units unless `amount_unit: minor`), dates and timestamps with the column's inferred
format, the hotel's zone for local times, brands normalised, last 4 from masked numbers, phone
numbers to E.164. See `hotel_config` for the mapping file.
"""

from __future__ import annotations

import datetime as dt
import re

from lettrage.recon import schemas
from lettrage.recon.readers import ReadResult, UnreadableFile
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import read_table
from lettrage.recon.readers.hotel_config import FormatMapping
from lettrage.recon.readers.records import TIME_COLUMN, build

MAIN_AMOUNT = {"pms_postings": "amount_cents", "tpe_transactions": "amount_cents", "remittances": "gross_cents",
               "psp_transactions": "amount_cents", "reservations": "total_cents", "trx_codes": None}
MAIN_TIME = {**TIME_COLUMN, "reservations": "created_at"}
HELPERS = {"amount", "debit", "credit", "date", "time", "card_number", "label"}
LINEAGE = {"hotel_id", "source_file", "ingested_at"}
TRUE = {"1", "true", "yes", "y", "t", "oui", "o", "x", "ja", "j", "vrai"}
CHANNELS = {"terminal": "terminal", "tpe": "terminal", "emv": "terminal", "cp": "terminal", "pos": "terminal",
            "distance": "distance", "vad": "distance", "moto": "distance", "mail_order": "distance",
            "psp": "psp", "web": "psp", "online": "psp", "ecom": "psp", "ecommerce": "psp", "link": "psp",
            "cash": "cash", "especes": "cash", "bar": "cash", "transfer": "transfer", "virement": "transfer",
            "transfert": "transfer", "internal": "transfer", "other": "other", "autre": "other"}
NUMERIC_CURRENCIES = {"978": "EUR", "840": "USD", "826": "GBP", "756": "CHF", "392": "JPY", "124": "CAD",
                      "036": "AUD", "752": "SEK", "578": "NOK", "208": "DKK", "985": "PLN", "203": "CZK"}


def currency(value: str | None) -> str | None:
    value = cv.text(value)
    if value is None:
        return None
    return NUMERIC_CURRENCIES.get(value.zfill(3), value.upper()) if value.isdigit() else value.upper()


def channel(value: str | None) -> str | None:
    value = cv.text(value)
    if value is None:
        return None
    return CHANNELS.get(cv.normalise_name(value), "other")


def phone(value: str | None) -> str | None:
    """'+33 6 12 34 56 78' / '0033612345678' -> '+33612345678'; a national number stays unknown."""
    value = cv.text(value)
    if value is None:
        return None
    digits = re.sub(r"[\s.\-()/]", "", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    return digits if re.fullmatch(r"\+[1-9]\d{6,14}", digits) else None


def hhmm(value: str | None) -> str | None:
    t = cv.clock(value, "arrival time")
    return None if t is None else f"{t.hour:02d}:{t.minute:02d}"


def boolean(value: str | None) -> bool | None:
    value = cv.text(value)
    return None if value is None else cv.normalise_name(value) in TRUE


def integer(value: str | None, what: str) -> int | None:
    value = cv.text(value)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise RowProblem(f"{what} {value!r} is not a whole number") from None


# Words sources use for the canonical values of enumerated columns (normalised names).
ENUM_WORDS = {
    "txn_type": {"debit": "sale", "vente": "sale", "achat": "sale", "payment": "sale", "paiement": "sale",
                 "credit": "refund", "remboursement": "refund", "avoir": "refund", "annulation": "cancel",
                 "void": "cancel", "reversal": "cancel", "pre_autorisation": "preauth", "preautorisation": "preauth",
                 "pre_authorisation": "preauth", "preauthorization": "preauth", "authorisation": "preauth",
                 "complement": "completion", "completion": "completion", "capture": "completion"},
    "line_type": {"settled": "sale", "vente": "sale", "debit": "sale", "credit": "refund", "refunded": "refund",
                  "remboursement": "refund", "impaye": "chargeback", "commission": "fee", "frais": "fee",
                  "merchantpayout": "payout", "virement": "payout"},
    "entry_mode": {"c": "chip", "puce": "chip", "emv": "chip", "icc": "chip", "s": "swipe", "piste": "swipe",
                   "magstripe": "swipe", "cl": "contactless", "sans_contact": "contactless", "nfc": "contactless",
                   "m": "manual", "saisie": "manual", "keyed": "manual", "vad": "manual", "moto": "manual"},
    "status": {"reserved": "reserved", "reservation": "reserved", "due_in": "reserved", "confirmed": "reserved",
               "tentative": "reserved", "waitlist": "reserved", "prospect": "reserved", "new": "reserved",
               "checked_in": "in_house", "inhouse": "in_house", "in_house": "in_house", "due_out": "in_house",
               "checked_out": "checked_out", "checkedout": "checked_out", "departed": "checked_out",
               "cancelled": "cancelled", "canceled": "cancelled", "cancel": "cancelled", "annule": "cancelled",
               "no_show": "no_show", "noshow": "no_show"},
}
TEXT_READERS = {"card_brand": cv.card_brand, "card_last4": cv.last4, "channel": channel, "phone": phone,
                "arrival_time": hhmm, "currency": currency, "dcc_currency": currency}
ENUMS = {"txn_type", "line_type", "operation", "status", "entry_mode"}


class MappedReader:
    """Reads one file with one mapping into one canonical table."""

    def __init__(self, path, kind: str, hotel, mapping: FormatMapping, trx_codes=None, id_prefix=None,
                 enums: dict[str, dict[str, str]] | None = None):
        self.path, self.kind, self.hotel, self.mapping = path, kind, hotel, mapping
        self.table = schemas.SOURCE_KINDS[kind]
        self.trx_codes, self.id_prefix = trx_codes, id_prefix
        self.enums = enums or ENUM_WORDS
        self.dtypes = {name: str(col.dtype) for name, col in schemas.model(self.table).to_schema().columns.items()}

    def read(self) -> ReadResult:
        m = self.mapping
        source = read_text(self.path, m.encoding)
        positions = {f: c for f, c in m.columns.items() if isinstance(c, int)}
        names = None
        if not m.header:
            width = max(positions.values(), default=0)
            names = [f"col{i}" for i in range(1, width + 1)]
        table = read_table(source.text, self.path, separator=m.separator, header=m.header,
                           skip_lines=m.skip_lines, column_names=names)
        self.column = {f: (f"col{c}" if isinstance(c, int) else cv.normalise_name(c)) for f, c in m.columns.items()}
        missing = [f"{f} ({c!r})" for f, c in m.columns.items() if self.column[f] not in table.names]
        if missing:
            hint = f"; the header is one column: is the separator {table.separator!r} right?" \
                if len(table.names) == 1 else ""
            raise UnreadableFile(self.path, f"missing columns: {', '.join(missing)} (the header has: "
                                            f"{', '.join(table.header[:30])}){hint}", line=table.header_line)
        self._check_required()
        self.dates = {}
        for f, name in self.column.items():
            dtype = self.dtypes.get(f, "")
            if f == "date" or dtype == "date" or dtype.startswith("datetime"):
                values = [r.fields.get(name) for r in table.records]
                self.dates[f] = cv.DateColumn(values, m.day_first, m.date_format)
        return build(self.path, self.kind, self.hotel, table.records, self.convert, trx_codes=self.trx_codes,
                     encoding=source.encoding, id_prefix=self.id_prefix)

    def _check_required(self) -> None:
        cols = schemas.model(self.table).to_schema().columns
        id_like = {"posting_id", "tpe_txn_id", "remittance_line_id", "psp_txn_id", "business_date"}
        required = [c for c, col in cols.items() if not col.nullable and c not in LINEAGE | id_like
                    and c not in self.mapping.constants and c != "currency"]
        amount, when = MAIN_AMOUNT.get(self.table), MAIN_TIME.get(self.table)
        missing = []
        for c in required:
            if c in self.column:
                continue
            if c == amount and ("amount" in self.column or {"debit", "credit"} & set(self.column)):
                continue
            if c == when and ("date" in self.column or "business_date" in self.column):
                continue
            if c == "reservation_id" and "confirmation_no" in self.column:
                continue
            missing.append(c)
        if missing:
            raise UnreadableFile(self.path, f"the column mapping gives no column for: {', '.join(missing)}", line=1)

    def value(self, fields: dict, f: str) -> str | None:
        name = self.column.get(f)
        return None if name is None else cv.text(fields.get(name))

    def convert(self, fields: dict) -> dict:
        m, row = self.mapping, {}
        for f in self.column:
            dtype = self.dtypes.get(f)
            if f in LINEAGE or dtype is None:
                continue
            raw = self.value(fields, f)
            if f.endswith("_cents"):
                row[f] = cv.cents(raw, f.removesuffix("_cents"), m.decimal_comma, m.amount_unit == "minor")
            elif dtype == "Int64":
                row[f] = integer(raw, f)
            elif dtype == "boolean":
                row[f] = boolean(raw)
            elif dtype == "date":
                row[f] = self.dates[f].parse(raw, f)
            elif dtype.startswith("datetime"):
                row[f] = cv.timestamp(raw, self.hotel, self.dates[f], f)
            elif f in TEXT_READERS:
                row[f] = TEXT_READERS[f](raw)
            elif f in ENUMS:
                row[f] = self.enum(f, raw)
            else:
                row[f] = raw
        for f, value in m.constants.items():
            if row.get(f) is None:
                row[f] = TEXT_READERS.get(f, cv.text)(str(value))
        self._amount(fields, row)
        self._moment(fields, row)
        if row.get("card_last4") is None and "card_number" in self.column:
            row["card_last4"] = cv.last4(self.value(fields, "card_number"))
        if self.table == "pms_postings" and row.get("card_brand") is None and "label" in self.column:
            row["card_brand"] = cv.brand_in_label(self.value(fields, "label"))
        if self.table == "reservations" and row.get("reservation_id") is None:
            row["reservation_id"] = row.get("confirmation_no")
        return row

    def enum(self, f: str, raw: str | None) -> str | None:
        if raw is None:
            return None
        key = cv.normalise_name(raw)
        return self.enums.get(f, {}).get(key, key)

    def _amount(self, fields: dict, row: dict) -> None:
        target = MAIN_AMOUNT.get(self.table)
        if target is None or row.get(target) is not None:
            return
        m = self.mapping
        minor = m.amount_unit == "minor"
        if "amount" in self.column:
            amount = cv.cents(self.value(fields, "amount"), "amount", m.decimal_comma, minor)
            if amount is not None and m.sign == "folio":
                amount = -amount
        elif {"debit", "credit"} & set(self.column):
            debit = cv.cents(self.value(fields, "debit"), "debit", m.decimal_comma, minor)
            credit = cv.cents(self.value(fields, "credit"), "credit", m.decimal_comma, minor)
            amount = None if debit is None and credit is None else (credit or 0) - (debit or 0)
        else:
            return
        if amount is None and self.table != "reservations":
            raise RowProblem("amount is missing")
        row[target] = amount

    def _moment(self, fields: dict, row: dict) -> None:
        target = MAIN_TIME.get(self.table)
        if target is None or row.get(target) is not None:
            return
        clock = cv.clock(self.value(fields, "time"), "time") if "time" in self.column else None
        if "date" in self.column:
            day = self.dates["date"].parse(self.value(fields, "date"), "date")
            if day is None:
                raise RowProblem("date is missing")
            row[target] = cv.local(dt.datetime.combine(day, clock or dt.time()), self.hotel)
        elif row.get("business_date") is not None and (clock is not None or self.table not in ("reservations",
                                                                                              "remittances")):
            # A remittance line without a time (a payout, a fee) keeps none: its time is not noon.
            row[target] = cv.on_business_date(row["business_date"], clock, self.hotel)


def header_matches(head: str, mapping: FormatMapping, at_least: int = 3) -> bool:
    """Whether the first lines of a file carry the mapping's column names (for `--format auto`)."""
    from lettrage.recon.readers.delimited import physical_lines, sniff_separator

    names = [c for c in mapping.columns.values() if isinstance(c, str)]
    if not mapping.header or len(names) < at_least:
        return False
    wanted = {cv.normalise_name(n) for n in names}
    for line in physical_lines(head)[mapping.skip_lines: mapping.skip_lines + 5]:
        if not line.strip():
            continue
        sep = mapping.separator or sniff_separator(line)
        have = {cv.normalise_name(c) for c in line.split(sep)}
        return wanted <= have
    return False
