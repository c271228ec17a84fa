"""Scoring the engine's outputs against a generator's truth.

Truth in the shape `lettrage generate` writes (`_truth/matches.csv` and `anomalies.csv`) and the
benchmark generator writes as parquet: matches (match_id, leg, kind, side, record_id), one row per
record of a true group; anomalies (code, record_id), one row per record an exception is about.

Pairs are (left record, right record) of one group. Kinds: `one_to_one`, `split` (one_to_many,
many_to_one), `amount_mismatch` (a one-to-one pair whose posting carries AMOUNT_MISMATCH).
A predicted pair is right if the truth pairs the same records. "Value-equivalent" also counts a
pair right when the truth pairs its posting with an identical ticket (same hotel, card, amount):
swapping two identical charges changes nothing a person could check.
Exception codes likewise: precision and recall, and value-equivalent ones that also count an
exception on a record identical to the one the truth names, minutes from it (`_code_swaps`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SWAP_S = 900  # identical records this close: which one an exception is about is arbitrary


def _src(path: Path) -> str:
    p = str(path).replace("'", "''")
    return f"read_csv('{p}', header = true, all_varchar = true)" if str(path).endswith(".csv") \
        else f"read_parquet('{p}')"


def score(out_dir: Path, truth_matches: Path, truth_anomalies: Path, inputs: dict[str, Path] | None = None,
          conn: duckdb.DuckDBPyConnection | None = None) -> dict:
    own = conn is None
    conn = conn or duckdb.connect()
    out_dir = Path(out_dir)
    try:
        conn.execute(f"CREATE OR REPLACE TEMP VIEW pm AS SELECT * FROM read_parquet('{out_dir / 'card_matches.parquet'}')")
        conn.execute(f"CREATE OR REPLACE TEMP VIEW px AS SELECT * FROM read_parquet('{out_dir / 'exceptions.parquet'}')")
        conn.execute(f"CREATE OR REPLACE TEMP VIEW tm AS SELECT * FROM {_src(truth_matches)}")
        conn.execute(f"CREATE OR REPLACE TEMP VIEW ta AS SELECT * FROM {_src(truth_anomalies)}")
        conn.execute("""
        CREATE OR REPLACE TEMP TABLE truth_pairs AS
        WITH g AS (SELECT leg, match_id, kind, side, record_id FROM tm)
        SELECT l.leg, l.record_id AS l, r.record_id AS r,
               CASE WHEN l.kind IN ('one_to_many', 'many_to_one', 'split') THEN 'split'
                    WHEN l.record_id IN (SELECT record_id FROM ta WHERE code = 'AMOUNT_MISMATCH') THEN 'amount_mismatch'
                    ELSE 'one_to_one' END AS kind,
               l.record_id IN (SELECT record_id FROM ta WHERE code = 'LATE_POSTING') AS late
        FROM g l JOIN g r ON l.match_id = r.match_id AND l.leg = r.leg AND l.side = 'left' AND r.side = 'right'""")
        conn.execute("""
        CREATE OR REPLACE TEMP TABLE pred_pairs AS
        WITH g AS (SELECT leg::VARCHAR AS leg, match_id, side::VARCHAR AS side, record_id,
                          stage::VARCHAR AS stage, flags, count(*) OVER (PARTITION BY leg, match_id) AS n FROM pm)
        SELECT l.leg, l.record_id AS l, r.record_id AS r,
               CASE WHEN l.n > 2 THEN 'split'
                    WHEN list_contains(l.flags, 'AMOUNT_MISMATCH') THEN 'amount_mismatch'
                    ELSE 'one_to_one' END AS kind
        FROM g l JOIN g r ON l.match_id = r.match_id AND l.leg = r.leg AND l.side = 'left' AND r.side = 'right'""")
        equivalent = "FALSE"
        if inputs and "pms_postings" in inputs and "tpe_transactions" in inputs:
            conn.execute(f"""CREATE OR REPLACE TEMP TABLE keys AS
                SELECT posting_id AS id, 'pms' AS src, hotel_id, card_last4, amount_cents,
                       epoch(posted_at::TIMESTAMPTZ) AS ts FROM {_src(inputs['pms_postings'])}
                UNION ALL SELECT tpe_txn_id, 'tpe', hotel_id, card_last4, amount_cents, epoch(txn_at::TIMESTAMPTZ)
                FROM {_src(inputs['tpe_transactions'])}""")
            equivalent = """EXISTS (SELECT 1 FROM truth_pairs t JOIN keys a ON a.id = t.r JOIN keys b ON b.id = p.r
                               WHERE t.leg = p.leg AND t.l = p.l AND a.hotel_id = b.hotel_id
                                 AND a.card_last4 IS NOT DISTINCT FROM b.card_last4 AND a.amount_cents = b.amount_cents)
                         OR EXISTS (SELECT 1 FROM truth_pairs t JOIN keys a ON a.id = t.l JOIN keys b ON b.id = p.l
                               WHERE t.leg = p.leg AND t.r = p.r AND a.hotel_id = b.hotel_id
                                 AND a.card_last4 IS NOT DISTINCT FROM b.card_last4 AND a.amount_cents = b.amount_cents)"""
        kinds = {}
        rows = conn.execute(f"""
        WITH p AS (SELECT p.*, t.l IS NOT NULL AS ok FROM pred_pairs p
                   LEFT JOIN truth_pairs t ON t.leg = p.leg AND t.l = p.l AND t.r = p.r),
        pk AS (SELECT leg, kind, count(*) AS predicted, count(*) FILTER (WHERE ok) AS correct,
                      count(*) FILTER (WHERE ok OR ({equivalent})) AS equivalent FROM p GROUP BY ALL),
        t AS (SELECT t.*, p.l IS NOT NULL AS found FROM truth_pairs t
              LEFT JOIN pred_pairs p ON t.leg = p.leg AND t.l = p.l AND t.r = p.r),
        tk AS (SELECT leg, kind, count(*) AS truth, count(*) FILTER (WHERE found) AS found,
                      count(*) FILTER (WHERE NOT late) AS truth_in_window,
                      count(*) FILTER (WHERE found AND NOT late) AS found_in_window FROM t GROUP BY ALL)
        SELECT coalesce(pk.leg, tk.leg), coalesce(pk.kind, tk.kind), coalesce(predicted, 0), coalesce(correct, 0),
               coalesce(equivalent, 0), coalesce(truth, 0), coalesce(found, 0), coalesce(truth_in_window, 0),
               coalesce(found_in_window, 0)
        FROM pk FULL JOIN tk ON pk.leg = tk.leg AND pk.kind = tk.kind ORDER BY 1, 2""").fetchall()
        for leg, kind, predicted, correct, equiv, truth, found, tw, fw in rows:
            kinds[f"{leg}:{kind}"] = {
                "predicted": predicted, "truth": truth,
                "precision": _ratio(correct, predicted), "precision_value_equivalent": _ratio(equiv, predicted),
                "recall": _ratio(found, truth), "recall_in_window": _ratio(fw, tw)}
        codes = {}
        swaps = _code_swaps(conn) if equivalent != "FALSE" else {}
        for code, predicted, truth, both in conn.execute("""
            WITH p AS (SELECT DISTINCT code, record_id FROM px), t AS (SELECT DISTINCT code, record_id FROM ta)
            SELECT coalesce(p.code, t.code) AS code, count(p.code), count(t.code), count(p.code) FILTER (WHERE t.code IS NOT NULL)
            FROM p FULL JOIN t ON p.code = t.code AND p.record_id = t.record_id GROUP BY ALL ORDER BY 1""").fetchall():
            codes[code] = {"predicted": predicted, "truth": truth, "precision": _ratio(both, predicted),
                           "recall": _ratio(both, truth),
                           "precision_value_equivalent": _ratio(both + swaps.get(code, 0), predicted),
                           "recall_value_equivalent": _ratio(both + swaps.get(code, 0), truth)}
        return {"kinds": kinds, "codes": codes}
    finally:
        if own:
            conn.close()


def _code_swaps(conn, within_s: int = SWAP_S) -> dict[str, int]:
    """Per code, exceptions on the "wrong" one of identical records: the engine flags record x,
    the truth an identical record y (same table, hotel, card, amount, at most `within_s` apart),
    neither flags the other. Of two identical charges minutes apart, which one is the duplicate
    (or the one never posted) is arbitrary; x and y are paired one to one, in time order."""
    rows = conn.execute(f"""
        WITH p AS (SELECT DISTINCT code, record_id FROM px), t AS (SELECT DISTINCT code, record_id FROM ta),
        only_p AS (SELECT p.* FROM p ANTI JOIN t ON t.code = p.code AND t.record_id = p.record_id),
        only_t AS (SELECT t.* FROM t ANTI JOIN p ON t.code = p.code AND t.record_id = p.record_id),
        a AS (SELECT o.code, k.*, row_number() OVER (PARTITION BY o.code, k.src, k.hotel_id, k.card_last4,
                     k.amount_cents ORDER BY k.ts, k.id) AS n
              FROM only_p o JOIN keys k ON k.id = o.record_id WHERE k.card_last4 IS NOT NULL),
        b AS (SELECT o.code, k.*, row_number() OVER (PARTITION BY o.code, k.src, k.hotel_id, k.card_last4,
                     k.amount_cents ORDER BY k.ts, k.id) AS n
              FROM only_t o JOIN keys k ON k.id = o.record_id WHERE k.card_last4 IS NOT NULL)
        SELECT a.code, count(*) FROM a JOIN b ON a.code = b.code AND a.src = b.src AND a.hotel_id = b.hotel_id
          AND a.card_last4 = b.card_last4 AND a.amount_cents = b.amount_cents AND a.n = b.n
          AND abs(a.ts - b.ts) <= {int(within_s)} GROUP BY ALL""").fetchall()
    return dict(rows)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 5) if b else None
