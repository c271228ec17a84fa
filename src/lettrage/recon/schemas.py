"""The canonical tables of DOMAIN.md, defined once.

Each table is a pandera `DataFrameModel` (types, allowed values, nullability); the DuckDB DDL is
generated from the same models by `ddl()`, so the contract is never written twice.
Money is integer cents (nullable Int64 -> BIGINT), times are UTC-aware timestamps (TIMESTAMPTZ),
business dates are dates. Extra columns a feature needs are added here, never renamed.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

Timestamp = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]
Date = pandas_engine.Date
Int = pd.Int64Dtype
Bool = pd.BooleanDtype

CARD_BRANDS = ["VISA", "MASTERCARD", "CB", "AMEX", "JCB", "DINERS", "UNIONPAY", "MAESTRO", "OTHER"]
CHANNELS = ["terminal", "distance", "psp", "cash", "transfer", "other"]
PMS_SYSTEMS = ["opera", "protel", "onq", "starlight", "generic"]
TPE_TXN_TYPES = ["sale", "refund", "cancel", "preauth", "completion"]
ENTRY_MODES = ["chip", "contactless", "swipe", "manual"]
REMITTANCE_LINE_TYPES = ["sale", "refund", "chargeback", "chargeback_reversal", "fee", "payout", "adjustment"]
PSP_OPERATIONS = ["authorisation", "sale", "capture", "refund", "cancel", "chargeback"]
PSP_STATUSES = ["pending", "authorised", "paid", "refused", "cancelled", "refunded", "uncertain", "error"]
RESERVATION_STATUSES = ["reserved", "in_house", "checked_out", "cancelled", "no_show"]
LEGS = ["pms_tpe", "tpe_remittance", "pms_psp"]
STAGES = ["reference", "exact", "split", "tolerant", "manual"]
EXCEPTION_CODES = [
    "MISSING_IN_TPE", "MISSING_IN_PMS", "AMOUNT_MISMATCH", "BRAND_MISMATCH", "PAN_MISMATCH",
    "LATE_POSTING", "DUPLICATE_TPE", "DUPLICATE_PMS", "REFUND_UNMATCHED", "SPLIT_AMBIGUOUS",
    "NOT_REMITTED", "REMITTANCE_MISMATCH", "PSP_NOT_POSTED", "POSTED_WITHOUT_PSP",
    # Added by the matching engine: a match whose records lie on different business dates (a
    # deposit paid online in the evening, posted by the night auditor the next day). It carries
    # each day's share of the écart, so that every day's écart is the sum of its exceptions.
    "TIMING_DIFFERENCE",
]

LAST4 = r"^\d{4}$"


def _money(nullable: bool = False, **kw) -> pa.Field:
    return pa.Field(nullable=nullable, **kw)


def _text(nullable: bool = True, **kw) -> pa.Field:
    return pa.Field(nullable=nullable, **kw)


def _one_of(values: list[str], nullable: bool = False) -> pa.Field:
    return pa.Field(isin=values, nullable=nullable)


class Canonical(pa.DataFrameModel):
    """Lineage columns every canonical row carries."""

    hotel_id: Series[str] = _text(nullable=False)
    source_file: Series[str] = _text(nullable=False)
    ingested_at: Series[Timestamp] = pa.Field(nullable=False)

    class Config:
        coerce = True
        strict = "filter"  # unknown columns are dropped, never written


class Hotel(pa.DataFrameModel):
    hotel_id: Series[str] = _text(nullable=False)
    name: Series[str] = _text(nullable=False)
    timezone: Series[str] = _text(nullable=False)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    night_audit_time: Series[str] = pa.Field(str_matches=r"^\d{2}:\d{2}$")
    match_window_minutes: Series[Int] = pa.Field(ge=1, le=1440)
    pms_system: Series[str] = _one_of(PMS_SYSTEMS)
    amount_tolerance_cents: Series[Int] = pa.Field(ge=0, nullable=True)

    class Config:
        coerce = True
        strict = "filter"


class TrxCode(pa.DataFrameModel):
    hotel_id: Series[str] = _text(nullable=False)
    trx_code: Series[str] = _text(nullable=False)
    label: Series[str] = _text()
    group_name: Series[str] = _text()
    is_payment: Series[Bool] = pa.Field(nullable=False)
    card_brand: Series[str] = _one_of(CARD_BRANDS, nullable=True)
    channel: Series[str] = _one_of(CHANNELS, nullable=True)

    class Config:
        coerce = True
        strict = "filter"


class PmsPosting(Canonical):
    posting_id: Series[str] = _text(nullable=False, unique=True)
    business_date: Series[Date] = pa.Field(nullable=False)
    posted_at: Series[Timestamp] = pa.Field(nullable=False)
    trx_code: Series[str] = _text(nullable=False)
    amount_cents: Series[Int] = _money()
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    card_last4: Series[str] = pa.Field(str_matches=LAST4, nullable=True)
    card_brand: Series[str] = _one_of(CARD_BRANDS, nullable=True)
    channel: Series[str] = _one_of(CHANNELS, nullable=True)
    room: Series[str] = _text()
    folio_no: Series[str] = _text()
    folio_window: Series[Int] = pa.Field(nullable=True)
    reservation_id: Series[str] = _text()
    confirmation_no: Series[str] = _text()
    guest_name: Series[str] = _text()
    cashier_id: Series[str] = _text()
    cashier_name: Series[str] = _text()
    reference: Series[str] = _text()
    source_system: Series[str] = _text()


class TpeTransaction(Canonical):
    tpe_txn_id: Series[str] = _text(nullable=False, unique=True)
    terminal_id: Series[str] = _text(nullable=False)
    terminal_label: Series[str] = _text()
    merchant_id: Series[str] = _text()
    txn_at: Series[Timestamp] = pa.Field(nullable=False)
    business_date: Series[Date] = pa.Field(nullable=False)
    txn_type: Series[str] = _one_of(TPE_TXN_TYPES)
    amount_cents: Series[Int] = _money()
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    card_brand: Series[str] = _one_of(CARD_BRANDS, nullable=True)
    card_last4: Series[str] = pa.Field(str_matches=LAST4, nullable=True)
    entry_mode: Series[str] = _one_of(ENTRY_MODES, nullable=True)
    auth_code: Series[str] = _text()
    remise_ref: Series[str] = _text()
    dcc_amount_cents: Series[Int] = _money(nullable=True)
    dcc_currency: Series[str] = _text()
    tip_cents: Series[Int] = _money(nullable=True)


class RemittanceLine(Canonical):
    remittance_line_id: Series[str] = _text(nullable=False, unique=True)
    provider: Series[str] = _text(nullable=False)
    remittance_id: Series[str] = _text()
    payout_id: Series[str] = _text()
    merchant_id: Series[str] = _text()
    terminal_id: Series[str] = _text()
    line_type: Series[str] = _one_of(REMITTANCE_LINE_TYPES)
    txn_at: Series[Timestamp] = pa.Field(nullable=True)
    # Added: the business date of the transaction a line settles (its remittance date for lines
    # with no transaction, such as fees and payouts), so the tpe_remittance leg reads one partition.
    business_date: Series[Date] = pa.Field(nullable=False)
    remittance_date: Series[Date] = pa.Field(nullable=False)
    value_date: Series[Date] = pa.Field(nullable=True)
    card_brand: Series[str] = _one_of(CARD_BRANDS, nullable=True)
    card_last4: Series[str] = pa.Field(str_matches=LAST4, nullable=True)
    gross_cents: Series[Int] = _money(nullable=True)
    fee_cents: Series[Int] = _money(nullable=True)
    net_cents: Series[Int] = _money(nullable=True)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    auth_code: Series[str] = _text()
    remise_ref: Series[str] = _text()
    psp_reference: Series[str] = _text()
    merchant_reference: Series[str] = _text()


class PspTransaction(Canonical):
    psp_txn_id: Series[str] = _text(nullable=False, unique=True)
    provider: Series[str] = _text(nullable=False)
    order_id: Series[str] = _text()
    link_id: Series[str] = _text()
    psp_reference: Series[str] = _text()
    operation: Series[str] = _one_of(PSP_OPERATIONS)
    status: Series[str] = _one_of(PSP_STATUSES)
    status_code: Series[str] = _text()
    event_at: Series[Timestamp] = pa.Field(nullable=False)
    # Added: the hotel's business date of event_at, the partition key.
    business_date: Series[Date] = pa.Field(nullable=False)
    amount_cents: Series[Int] = _money()
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    card_brand: Series[str] = _one_of(CARD_BRANDS, nullable=True)
    card_last4: Series[str] = pa.Field(str_matches=LAST4, nullable=True)
    auth_code: Series[str] = _text()


class Reservation(Canonical):
    reservation_id: Series[str] = _text(nullable=False)
    confirmation_no: Series[str] = _text(nullable=False)
    status: Series[str] = _one_of(RESERVATION_STATUSES)
    created_at: Series[Timestamp] = pa.Field(nullable=True)
    # Added: the business date of the export that delivered this version, the partition key.
    business_date: Series[Date] = pa.Field(nullable=False)
    arrival_date: Series[Date] = pa.Field(nullable=False)
    arrival_time: Series[str] = pa.Field(str_matches=r"^\d{2}:\d{2}$", nullable=True)
    departure_date: Series[Date] = pa.Field(nullable=False)
    adults: Series[Int] = pa.Field(ge=0, nullable=True)
    children: Series[Int] = pa.Field(ge=0, nullable=True)
    guest_first_name: Series[str] = _text()
    guest_last_name: Series[str] = _text()
    email: Series[str] = _text()
    phone: Series[str] = pa.Field(str_matches=r"^\+[1-9]\d{6,14}$", nullable=True)
    language: Series[str] = _text()
    room_type: Series[str] = _text()
    rate_code: Series[str] = _text()
    total_cents: Series[Int] = _money(nullable=True)
    deposit_due_cents: Series[Int] = _money(nullable=True)
    deposit_paid_cents: Series[Int] = _money(nullable=True)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    guarantee_code: Series[str] = _text()
    payment_method: Series[str] = _text()
    cancellation_deadline: Series[Timestamp] = pa.Field(nullable=True)
    non_refundable: Series[Bool] = pa.Field(nullable=True)


class CardMatch(pa.DataFrameModel):
    match_id: Series[str] = _text(nullable=False)
    hotel_id: Series[str] = _text(nullable=False)
    business_date: Series[Date] = pa.Field(nullable=False)
    leg: Series[str] = _one_of(LEGS)
    side: Series[str] = _one_of(["left", "right"])
    record_id: Series[str] = _text(nullable=False)
    stage: Series[str] = _one_of(STAGES)
    rule: Series[str] = _text(nullable=False)
    time_delta_s: Series[Int] = pa.Field(nullable=True)
    amount_delta_cents: Series[Int] = _money(nullable=True)
    flags: Series[object] = pa.Field(nullable=True, metadata={"sql": "VARCHAR[]"})

    class Config:
        coerce = True
        strict = "filter"


class MatchException(pa.DataFrameModel):
    exception_id: Series[str] = _text(nullable=False, unique=True)
    hotel_id: Series[str] = _text(nullable=False)
    business_date: Series[Date] = pa.Field(nullable=False)
    code: Series[str] = _one_of(EXCEPTION_CODES)
    record_kind: Series[str] = _text(nullable=False)
    record_id: Series[str] = _text(nullable=False)
    amount_cents: Series[Int] = _money(nullable=True)
    detail: Series[str] = _text()
    opened_at: Series[Timestamp] = pa.Field(nullable=False)
    resolved_at: Series[Timestamp] = pa.Field(nullable=True)
    resolution: Series[str] = _text()
    # Added by the matching engine: the leg, the match a flag is about (NULL for an unmatched
    # record) and the card family whose écart the amount belongs to.
    leg: Series[str] = pa.Field(isin=LEGS, nullable=True)
    match_id: Series[str] = _text()
    card_brand: Series[str] = _text()

    class Config:
        coerce = True
        strict = "filter"


class DailySummary(pa.DataFrameModel):
    hotel_id: Series[str] = _text(nullable=False)
    business_date: Series[Date] = pa.Field(nullable=False)
    card_brand: Series[str] = _text(nullable=False)
    pms_cents: Series[Int] = _money()
    tpe_cents: Series[Int] = _money()
    psp_cents: Series[Int] = _money()
    remitted_cents: Series[Int] = _money()
    ecart_cents: Series[Int] = _money()
    matched_count: Series[Int] = pa.Field(ge=0)
    exception_count: Series[Int] = pa.Field(ge=0)
    # Added by the matching engine: the part of the écart people resolved (explained) exceptions
    # account for; écart = open exceptions + resolved_cents.
    resolved_cents: Series[Int] = _money(nullable=True)

    class Config:
        coerce = True
        strict = "filter"


FILE_STATUSES = ["read", "duplicate", "replaced", "quarantined", "unreadable", "held"]


class InboxFileRow(pa.DataFrameModel):
    """The file registry: every delivered file a run looked at, what became of it and its counts
    (rows_in = rows_out + rejected). Added for issue 3 (ingestion)."""

    hotel_id: Series[str] = _text(nullable=False)
    kind: Series[str] = _text(nullable=False)
    file_name: Series[str] = _text(nullable=False)
    path: Series[str] = _text()
    sha256: Series[str] = _text(nullable=False)
    size_bytes: Series[Int] = pa.Field(ge=0, nullable=True)
    file_date: Series[Date] = pa.Field(nullable=True)
    period_start: Series[Date] = pa.Field(nullable=True)
    period_end: Series[Date] = pa.Field(nullable=True)
    status: Series[str] = _one_of(FILE_STATUSES)
    detail: Series[str] = _text()
    format: Series[str] = _text()
    encoding: Series[str] = _text()
    rows_in: Series[Int] = pa.Field(ge=0)
    rows_out: Series[Int] = pa.Field(ge=0)
    rejected: Series[Int] = pa.Field(ge=0)
    in_window: Series[Int] = pa.Field(ge=0)
    masked_pans: Series[Int] = pa.Field(ge=0)
    ingested_at: Series[Timestamp] = pa.Field(nullable=False)

    class Config:
        coerce = True
        strict = "filter"


class Reject(pa.DataFrameModel):
    """A source row that could not be read, kept with its line and reason (raw text masked)."""

    reject_id: Series[str] = _text(nullable=False, unique=True)
    hotel_id: Series[str] = _text(nullable=False)
    kind: Series[str] = _text(nullable=False)
    source_file: Series[str] = _text(nullable=False)
    file_sha256: Series[str] = _text(nullable=False)
    line_no: Series[Int] = pa.Field(nullable=True)
    reason: Series[str] = _text(nullable=False)
    raw: Series[str] = _text()
    ingested_at: Series[Timestamp] = pa.Field(nullable=False)

    class Config:
        coerce = True
        strict = "filter"


class MatchDecision(pa.DataFrameModel):
    """A person's decision on the matching (pin a match, split one apart, resolve an exception),
    replayed by every run. Added by the matching engine."""

    decision_id: Series[str] = _text(nullable=False, unique=True)
    kind: Series[str] = _one_of(["pin", "split", "resolve"])
    leg: Series[str] = pa.Field(isin=LEGS, nullable=True)
    left_ids: Series[object] = pa.Field(nullable=True, metadata={"sql": "VARCHAR[]"})
    right_ids: Series[object] = pa.Field(nullable=True, metadata={"sql": "VARCHAR[]"})
    exception_id: Series[str] = _text()
    comment: Series[str] = _text()
    decided_by: Series[str] = _text(nullable=False)
    decided_at: Series[Timestamp] = pa.Field(nullable=False)

    class Config:
        coerce = True
        strict = "filter"


# table name -> (model, key columns, partition date column or None)
TABLES: dict[str, tuple[type[pa.DataFrameModel], tuple[str, ...], str | None]] = {
    "hotels": (Hotel, ("hotel_id",), None),
    "trx_codes": (TrxCode, ("hotel_id", "trx_code"), None),
    "pms_postings": (PmsPosting, ("posting_id",), "business_date"),
    "tpe_transactions": (TpeTransaction, ("tpe_txn_id",), "business_date"),
    "remittances": (RemittanceLine, ("remittance_line_id",), "business_date"),
    "psp_transactions": (PspTransaction, ("psp_txn_id",), "business_date"),
    "reservations": (Reservation, ("reservation_id", "business_date"), "business_date"),
    "card_matches": (CardMatch, ("match_id", "leg", "side", "record_id"), "business_date"),
    "exceptions": (MatchException, ("exception_id",), "business_date"),
    "daily_summary": (DailySummary, ("hotel_id", "business_date", "card_brand"), "business_date"),
    "match_decisions": (MatchDecision, ("decision_id",), None),
    "inbox_files": (InboxFileRow, ("hotel_id", "kind", "file_name", "sha256"), None),
    "rejects": (Reject, ("reject_id",), None),
}

# The kinds of inbox folder and the canonical table each one feeds.
SOURCE_KINDS = {
    "pms_postings": "pms_postings",
    "tpe_journal": "tpe_transactions",
    "remittances": "remittances",
    "psp_journal": "psp_transactions",
    "reservations": "reservations",
    "trx_codes": "trx_codes",
}

_SQL_TYPES = {
    "str": "VARCHAR",
    "Int64": "BIGINT",
    "int64": "BIGINT",
    "boolean": "BOOLEAN",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime64[ns, UTC]": "TIMESTAMPTZ",
    "float64": "DOUBLE",
}


def model(table: str) -> type[pa.DataFrameModel]:
    return TABLES[table][0]


def columns(table: str) -> list[str]:
    return list(model(table).to_schema().columns)


def sql_type(column: pa.Column) -> str:
    if column.metadata and "sql" in column.metadata:
        return column.metadata["sql"]
    return _SQL_TYPES[str(column.dtype)]


def ddl(table: str) -> str:
    """CREATE TABLE statement for a canonical table, derived from its pandera model."""
    model_cls, key, _ = TABLES[table]
    cols = model_cls.to_schema().columns
    lines = [f"    {name} {sql_type(col)}{'' if col.nullable else ' NOT NULL'}" for name, col in cols.items()]
    lines.append(f"    PRIMARY KEY ({', '.join(key)})")
    return f"CREATE TABLE IF NOT EXISTS {table} (\n" + ",\n".join(lines) + "\n)"


def empty_frame(table: str) -> pd.DataFrame:
    """A zero-row frame with the table's columns and dtypes."""
    return model(table).validate(pd.DataFrame({c: [] for c in columns(table)}))
