"""People's decisions on the matching: pin a match, split one apart, resolve an exception.

Stored in the warehouse table `match_decisions` with who and when; every run of the engine replays
them (`engine.Decision`): a pinned group becomes a match of stage `manual`, records split apart are
never matched together again, a resolved exception keeps its comment and date. Later decisions on
the same records come after earlier ones (ordered by time, then id).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pandas as pd

from lettrage.recon.matching.engine import Decision

KINDS = ("pin", "split", "resolve")


def record(conn: duckdb.DuckDBPyConnection, kind: str, decided_by: str, leg: str | None = None,
           left_ids=(), right_ids=(), exception_id: str | None = None, comment: str = "",
           at: dt.datetime | None = None) -> str:
    """Store one decision; returns its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown decision {kind!r} (one of {', '.join(KINDS)})")
    at = at or dt.datetime.now(dt.UTC)
    raw = f"{kind}|{leg}|{','.join(left_ids)}|{','.join(right_ids)}|{exception_id}|{at.isoformat()}"
    decision_id = "D" + hashlib.sha256(raw.encode()).hexdigest()[:16]
    conn.execute("INSERT INTO match_decisions (decision_id, kind, leg, left_ids, right_ids, exception_id, comment, "
                 "decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [decision_id, kind, leg, list(left_ids) or None, list(right_ids) or None, exception_id, comment,
                  decided_by, at])
    return decision_id


def load(conn: duckdb.DuckDBPyConnection) -> list[Decision]:
    """Every decision, oldest first (empty when the table does not exist yet)."""
    exists = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'match_decisions'"
                          ).fetchall()[0][0]
    if not exists:
        return []
    rows = conn.execute("SELECT kind, leg, left_ids, right_ids, exception_id, comment, decided_by, decided_at "
                        "FROM match_decisions ORDER BY decided_at, decision_id").fetchall()
    return [Decision(kind=k, leg=leg, left_ids=tuple(li or ()), right_ids=tuple(ri or ()), exception_id=x,
                     comment=c or "", decided_by=by, decided_at=at) for k, leg, li, ri, x, c, by, at in rows]


def frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return conn.execute("SELECT * FROM match_decisions ORDER BY decided_at, decision_id").df()
