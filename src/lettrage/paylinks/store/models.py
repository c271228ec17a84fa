"""The operational store's tables (SQLAlchemy 2): the system of record for payment links.

Times are stored in UTC and always read back time-zone aware; money is integer cents.
The Alembic migrations in `migrations/versions/` create these tables: a change here needs a new
migration there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back aware (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware times")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LinkRequest(Base):
    """A request to a guest to pay: what, how much, how, when, to whom."""

    __tablename__ = "link_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The random half of the link token (tokens.py): the link names nothing else.
    link_key: Mapped[str] = mapped_column(String(32), unique=True)
    hotel_id: Mapped[str] = mapped_column(String(64), index=True)
    reservation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    confirmation_no: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16), default="manual")  # rules | manual
    rule: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # sale | preauth | installments | split
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    installments: Mapped[int | None] = mapped_column(Integer)  # number of parts (installments, split)
    status: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms | both
    language: Mapped[str] = mapped_column(String(8), default="en")
    service: Mapped[str] = mapped_column(String(32), default="reservation")
    template: Mapped[str] = mapped_column(String(64), default="link")
    send_after: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reminder_days: Mapped[list | None] = mapped_column(JSON)  # days after sending, e.g. [2, 5]
    # The reference sent to the PSP (ORDERID); it travels into the PMS posting reference.
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    guest_first_name: Mapped[str | None] = mapped_column(String(100))
    guest_last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    cc: Mapped[list | None] = mapped_column(JSON)
    bcc: Mapped[list | None] = mapped_column(JSON)
    payer_label: Mapped[str | None] = mapped_column(String(100))  # a third party paying
    # Merge fields copied from the reservation, so that sending never needs the warehouse.
    arrival_date: Mapped[dt.date | None] = mapped_column(Date)
    arrival_time: Mapped[str | None] = mapped_column(String(5))
    departure_date: Mapped[dt.date | None] = mapped_column(Date)
    adults: Mapped[int | None] = mapped_column(Integer)
    children: Mapped[int | None] = mapped_column(Integer)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    problem: Mapped[str | None] = mapped_column(Text)  # why a request is held (e.g. a missing merge value)
    created_by: Mapped[str] = mapped_column(String(64), default="rules")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    posted_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    sends: Mapped[list[LinkSend]] = relationship(back_populates="request", order_by="LinkSend.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="request", order_by="Payment.id")

    # Optimistic locking: an update from a stale copy (the service and Dagster at once) fails.
    __mapper_args__ = {"version_id_col": version}

    @property
    def guest_name(self) -> str:
        return " ".join(p for p in (self.guest_first_name, self.guest_last_name) if p)


class LinkSend(Base):
    """One message to one channel, recorded before it goes out (sending.py)."""

    __tablename__ = "link_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("link_requests.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    kind: Mapped[str] = mapped_column(String(16))  # link | response | reminder | hotel_notice
    template: Mapped[str | None] = mapped_column(String(64))
    merge_values: Mapped[dict | None] = mapped_column(JSON)  # extra values for the template (e.g. a PAYID)
    # What makes a message "the same": a second record with this key is refused by the database.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # recorded | sent | failed | unknown
    recipient: Mapped[str | None] = mapped_column(String(254))
    message_id: Mapped[str | None] = mapped_column(String(200))  # e-mail Message-ID, fixed at recording
    provider_id: Mapped[str | None] = mapped_column(String(64))  # Twilio message SID
    marker: Mapped[str | None] = mapped_column(String(64))  # hash of what was handed over, to find it again
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # An attempt in progress: who holds it and until when (a crash leaves it here).
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    delivery_status: Mapped[str | None] = mapped_column(String(24))  # Twilio status callbacks

    request: Mapped[LinkRequest] = relationship(back_populates="sends")


class PspEvent(Base):
    """A PSP notification exactly as received (append-only), and whether it was applied."""

    __tablename__ = "psp_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))  # ogone | worldline | simulator
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    raw: Mapped[dict] = mapped_column(JSON)  # the parameters / body as received
    signature_ok: Mapped[bool] = mapped_column(Boolean)
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    payid: Mapped[str | None] = mapped_column(String(64))
    status_code: Mapped[str | None] = mapped_column(String(8))
    mapped_status: Mapped[str | None] = mapped_column(String(24))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("link_requests.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(Text)  # why it was not applied, e.g. "late pending"


class Payment(Base):
    """One part of a request paid by one payer: an installment, a share of a split bill."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("link_requests.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    payer_label: Mapped[str | None] = mapped_column(String(100))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(24))  # planned | pending | paid | refused | ...
    psp_reference: Mapped[str | None] = mapped_column(String(64))  # PAYID
    order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    alias: Mapped[str | None] = mapped_column(String(64))  # stored card token (installments)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    request: Mapped[LinkRequest] = relationship(back_populates="payments")

    __mapper_args__ = {"version_id_col": version}


class Template(Base):
    """A message template edited in the dashboard; it overrides the packaged library.

    hotel_id "*" applies to every hotel; a hotel's own row wins over it."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("hotel_id", "service", "language", "name", name="uq_templates_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hotel_id: Mapped[str] = mapped_column(String(64), default="*")
    service: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))  # link | reminder | response_paid | ...
    body: Mapped[str] = mapped_column(Text)  # Jinja2 with blocks subject, text, html, sms
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    """A dashboard user. Roles: reception, finance, admin; hotel_ids ["*"] = every hotel."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    hotel_ids: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who did what, when (append-only)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(120))  # e.g. "link_request:12"
    detail: Mapped[str | None] = mapped_column(Text)
