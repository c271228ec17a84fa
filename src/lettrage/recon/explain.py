"""Why a record matched what it matched, or why it matched nothing: the record, its match (stage,
rule, deltas, flags) or its exception, and the candidates it had on the other side (same hotel,
same card or same amount, within a day), each with the reason it lost."""

from __future__ import annotations

import duckdb

from lettrage.recon.money import format_cents

SOURCES = {
    "pms_posting": ("pms_postings", "posting_id", "posted_at", "amount_cents"),
    "tpe_transaction": ("tpe_transactions", "tpe_txn_id", "txn_at", "amount_cents"),
    "psp_transaction": ("psp_transactions", "psp_txn_id", "event_at", "amount_cents"),
    "remittance_line": ("remittances", "remittance_line_id", "txn_at", "gross_cents"),
}
OTHER = {"pms_posting": ["tpe_transaction", "psp_transaction"], "tpe_transaction": ["pms_posting", "remittance_line"],
         "psp_transaction": ["pms_posting"], "remittance_line": ["tpe_transaction"]}


class UnknownRecord(LookupError):
    pass


def _find(conn, record_id: str):
    for kind, (table, id_col, ts_col, amount_col) in SOURCES.items():
        rows = conn.execute(f"SELECT hotel_id, business_date, {ts_col}, {amount_col}, card_last4, card_brand "
                            f"FROM {table} WHERE {id_col} = ?", [record_id]).fetchall()
        if rows:
            return kind, rows[0]
    raise UnknownRecord(f"no record {record_id!r} in the warehouse's canonical tables")


def _status(conn, record_id: str) -> str:
    m = conn.execute("SELECT leg::VARCHAR, match_id, stage::VARCHAR, rule::VARCHAR, time_delta_s FROM card_matches "
                     "WHERE record_id = ? ORDER BY leg", [record_id]).fetchall()
    x = conn.execute("SELECT code FROM exceptions WHERE record_id = ? AND match_id IS NULL", [record_id]).fetchall()
    parts = [f"matched in {leg} match {mid} ({stage}, {rule}, Δt {dt_s} s)" for leg, mid, stage, rule, dt_s in m]
    parts += [f"exception {c}" for (c,) in x]
    return "; ".join(parts) or "not reconciled yet"


def explain(conn: duckdb.DuckDBPyConnection, record_id: str, window_s: int = 1800) -> list[str]:
    kind, (hotel, day, at, amount, last4, brand) = _find(conn, record_id)
    lines = [f"{kind} {record_id}: hotel {hotel}, business date {day}, {at}, {format_cents(amount)}, "
             f"card {brand or '?'} ****{last4 or '????'}"]
    for leg, mid, stage, rule, dt_s, delta, flags in conn.execute(
            "SELECT leg::VARCHAR, match_id, stage::VARCHAR, rule::VARCHAR, time_delta_s, amount_delta_cents, flags "
            "FROM card_matches WHERE record_id = ? ORDER BY leg", [record_id]).fetchall():
        lines.append(f"MATCHED ({leg}) in {mid} at stage '{stage}' by rule '{rule}': Δt {dt_s} s, "
                     f"Δamount {format_cents(delta)}{', flags ' + ', '.join(flags) if flags else ''}")
        for side, rid in conn.execute("SELECT side::VARCHAR, record_id FROM card_matches WHERE match_id = ? AND leg = ? "
                                      "AND record_id <> ? ORDER BY side, record_id", [mid, leg, record_id]).fetchall():
            lines.append(f"  with {side} {rid}")
    for code, amt, detail, resolved, resolution in conn.execute(
            "SELECT code, amount_cents, detail, resolved_at, resolution FROM exceptions WHERE record_id = ? "
            "ORDER BY code", [record_id]).fetchall():
        state = f"resolved {resolved}: {resolution}" if resolved else "open"
        lines.append(f"EXCEPTION {code} ({format_cents(amt)} in the écart, {state}): {detail}")
    lines.append("candidates (same hotel, same card or same amount, within a day):")
    found = 0
    for other in OTHER[kind]:
        table, id_col, ts_col, amount_col = SOURCES[other]
        rows = conn.execute(f"""SELECT {id_col}, {ts_col}, {amount_col}, card_last4,
                epoch({ts_col}) - epoch(?::TIMESTAMPTZ) AS dt
            FROM {table} WHERE hotel_id = ? AND abs(epoch({ts_col}) - epoch(?::TIMESTAMPTZ)) <= 86400
              AND (card_last4 = ? OR {amount_col} = ?)
            ORDER BY abs(epoch({ts_col}) - epoch(?::TIMESTAMPTZ)), {id_col} LIMIT 12""",
                            [at, hotel, at, last4, amount, at]).fetchall()
        for rid, _ts, amt, l4, dt_s in rows:
            found += 1
            reasons = []
            if amt != amount:
                reasons.append(f"amount differs by {format_cents(amount - amt)}")
            if l4 != last4:
                reasons.append(f"last 4 differ ({l4 or '?'} vs {last4 or '?'})")
            if abs(dt_s) > window_s:
                reasons.append(f"{abs(dt_s) // 60} min apart, beyond the {window_s // 60} min window")
            lines.append(f"  {other} {rid}: {format_cents(amt)} ****{l4 or '????'}, Δt {int(dt_s)} s - "
                         f"{'; '.join(reasons) or 'same card and amount in the window'}; now {_status(conn, rid)}")
    if not found:
        lines.append("  none: nothing on the other side shares its card or amount within a day")
    return lines
