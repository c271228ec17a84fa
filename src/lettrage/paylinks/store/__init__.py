"""The operational store: payment-link requests, their sends, PSP events, payments, templates,
dashboard users and the audit log (SQLite in WAL mode by default, PostgreSQL by URL).

    from lettrage.paylinks import store
    sessions = store.session_factory(settings.ops_store_url)   # migrates once per process
    with store.transaction(sessions) as s:
        s.add(store.AuditEntry(username="ana", action="login"))
"""

from lettrage.paylinks.store.engine import dispose_all, engine_for, is_sqlite, session_factory, transaction
from lettrage.paylinks.store.migrations import migrate
from lettrage.paylinks.store.models import (
    AuditEntry,
    Base,
    LinkRequest,
    LinkSend,
    Payment,
    PspEvent,
    Template,
    User,
    utcnow,
)

__all__ = [
    "AuditEntry", "Base", "LinkRequest", "LinkSend", "Payment", "PspEvent", "Template", "User",
    "dispose_all", "engine_for", "is_sqlite", "migrate", "session_factory", "transaction", "utcnow",
]
