"""The checks nobody can argue with, computed from the outputs and the canonical tables:

- coverage: every record in scope is in exactly one match, or else in exactly one exception;
- exclusive: no record is in two matches;
- ecart: per hotel, business date (and card family), PMS total - money taken (recomputed from the
  canonical tables) = the summary's écart = the signed sum of the money legs' exceptions
  (open ones, plus those a person resolved, which the summary shows as resolved_cents).

Each returns (passed, figures, a few failing rows). They read tables named card_matches,
exceptions and daily_summary on the connection (the warehouse, or registered Arrow tables).
"""

from __future__ import annotations

import pyarrow as pa

from lettrage.recon.matching import sides
from lettrage.recon.matching.sides import Window
from lettrage.recon.matching.stages import Rules

LEG_SIDES = {
    ("pms_tpe", "left"): "pms_tpe_left", ("pms_tpe", "right"): "pms_tpe_right",
    ("pms_psp", "left"): "pms_psp_left", ("pms_psp", "right"): "pms_psp_right",
    ("tpe_remittance", "right"): "remittance_right",
}


def _scope(conn, window: Window, rules: Rules) -> pa.Table:
    """Every in-scope record of the money legs (and remittance lines), with its leg and side."""
    tables = [t for t in ("pms_postings", "tpe_transactions", "psp_transactions", "remittances")
              if sides.table_exists(conn, t)]
    hotels = sides.hotel_codes(conn, window, tables)
    parts = []

    def add(side, leg, which):
        parts.append(pa.table({"leg": pa.array([leg] * side.n, pa.string()),
                               "side": pa.array([which] * side.n, pa.string()),
                               "record_id": side.ids, "hotel_id": pa.array(hotels, pa.string()).take(pa.array(side.hotel)),
                               "d": side.bdate, "amount": side.amount}))

    add(sides.load_postings(conn, window, sides.PMS_TPE_SCOPE, hotels), "pms_tpe", "left")
    add(sides.load_tickets(conn, window, rules.void_window_s, hotels)[0], "pms_tpe", "right")
    add(sides.load_postings(conn, window, sides.PMS_PSP_SCOPE, hotels), "pms_psp", "left")
    if "psp_transactions" in tables:
        add(sides.load_psp(conn, window, hotels), "pms_psp", "right")
    if "remittances" in tables:
        add(sides.load_remittances(conn, window, hotels), "tpe_remittance", "right")
    return pa.concat_tables(parts)


def _where(window: Window, alias: str = "") -> tuple[str, list]:
    return window.where(alias=alias)


def run_checks(conn, window: Window = Window(), rules: Rules = Rules(), examples: int = 5) -> dict[str, dict]:
    conn.register("_scope", _scope(conn, window, rules))
    where, params = _where(window)
    try:
        out = {}
        rows = conn.execute(f"""
            WITH m AS (SELECT leg::VARCHAR AS leg, side::VARCHAR AS side, record_id, count(*) AS n
                       FROM card_matches WHERE {where} GROUP BY ALL),
            x AS (SELECT leg, CASE WHEN record_kind = 'pms_posting' OR (leg = 'tpe_remittance'
                                   AND record_kind = 'tpe_transaction') THEN 'left' ELSE 'right' END AS side,
                         record_id, count(*) AS n
                  FROM exceptions WHERE {where} AND match_id IS NULL GROUP BY ALL),
            s AS (SELECT * FROM _scope WHERE leg <> 'tpe_remittance')
            SELECT s.leg, s.side, s.record_id, coalesce(m.n, 0) AS in_matches, coalesce(x.n, 0) AS in_exceptions
            FROM s LEFT JOIN m USING (leg, side, record_id) LEFT JOIN x USING (leg, side, record_id)
            WHERE coalesce(m.n, 0) + coalesce(x.n, 0) <> 1
            ORDER BY 1, 2, 3""", params + params).fetchall()
        scope_n = conn.execute("SELECT count(*) FROM _scope WHERE leg <> 'tpe_remittance'").fetchall()[0][0]
        out["every_record_once"] = {"passed": not rows, "records_in_scope": scope_n, "failing": len(rows),
                                    "examples": [list(r) for r in rows[:examples]]}
        rows = conn.execute(f"""SELECT leg::VARCHAR, side::VARCHAR, record_id, count(DISTINCT match_id)
            FROM card_matches WHERE {where} GROUP BY ALL HAVING count(*) > 1 ORDER BY 1, 2, 3""", params).fetchall()
        out["no_record_in_two_matches"] = {"passed": not rows, "failing": len(rows),
                                           "examples": [list(r) for r in rows[:examples]]}
        rows = conn.execute(f"""
            WITH money AS (
                SELECT hotel_id, DATE '1970-01-01' + d AS business_date,
                       sum(CASE WHEN side = 'left' THEN amount ELSE -amount END) AS ecart
                FROM _scope WHERE leg IN ('pms_tpe', 'pms_psp') GROUP BY ALL),
            summary AS (SELECT hotel_id, business_date, sum(ecart_cents) AS ecart,
                               sum(coalesce(resolved_cents, 0)) AS resolved
                        FROM daily_summary WHERE {where} GROUP BY ALL),
            exc AS (SELECT hotel_id, business_date,
                           sum(amount_cents) FILTER (WHERE resolved_at IS NULL) AS open_sum,
                           sum(amount_cents) FILTER (WHERE resolved_at IS NOT NULL) AS resolved_sum
                    FROM exceptions WHERE {where} AND leg IN ('pms_tpe', 'pms_psp') GROUP BY ALL)
            SELECT hotel_id, business_date, coalesce(money.ecart, 0), coalesce(summary.ecart, 0),
                   coalesce(open_sum, 0), coalesce(resolved_sum, 0), coalesce(summary.resolved, 0)
            FROM money FULL JOIN summary USING (hotel_id, business_date) FULL JOIN exc USING (hotel_id, business_date)
            ORDER BY 1, 2""", params + params).fetchall()
        bad = [r for r in rows if not (r[2] == r[3] == r[4] + r[5] and r[5] == r[6])]
        out["ecart_is_sum_of_exceptions"] = {
            "passed": not bad, "hotel_days": len(rows), "failing": len(bad),
            "ecart_cents": int(sum(r[2] for r in rows)), "open_exceptions_cents": int(sum(r[4] for r in rows)),
            "examples": [[str(x) for x in r] for r in bad[:examples]]}
        return out
    finally:
        conn.unregister("_scope")


def register_output(conn, output) -> None:
    """Make a MatchOutput's tables visible to `run_checks` under their table names."""
    conn.register("card_matches", output.card_matches)
    conn.register("exceptions", output.exceptions)
    conn.register("daily_summary", output.daily_summary)
