"""The per-hotel, per-day summary printed at the end of a run: rows per kind and card totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lettrage.recon.money import format_cents
from lettrage.recon.warehouse import connect

KIND_QUERIES = {
    "PMS": ("pms_postings", "amount_cents", "card_last4 IS NOT NULL OR channel IN ('terminal','distance','psp')"),
    "TPE": ("tpe_transactions", "amount_cents", "TRUE"),
    "PSP": ("psp_transactions", "amount_cents", "status = 'paid'"),
    "Remitted": ("remittances", "gross_cents", "line_type IN ('sale','refund')"),
}


def summary_rows(path: Path, first: dt.date, last: dt.date) -> list[dict]:
    conn = connect(path, read_only=True)
    try:
        out: dict[tuple, dict] = {}
        for label, (table, amount, where) in KIND_QUERIES.items():
            for hotel_id, day, n, total in conn.execute(
                f"SELECT hotel_id, business_date, count(*), coalesce(sum({amount}), 0) FROM {table} "
                f"WHERE business_date BETWEEN ? AND ? AND ({where}) GROUP BY ALL", [first, last]).fetchall():
                row = out.setdefault((hotel_id, day), {"hotel_id": hotel_id, "business_date": day})
                row[f"{label}_rows"], row[f"{label}_cents"] = n, int(total)
        has_summary = conn.execute(
            "SELECT count(*) FROM daily_summary WHERE business_date BETWEEN ? AND ?", [first, last]).fetchone()[0]
        if has_summary:
            for hotel_id, day, ecart, exc in conn.execute(
                "SELECT hotel_id, business_date, sum(ecart_cents), sum(exception_count) FROM daily_summary "
                "WHERE business_date BETWEEN ? AND ? GROUP BY ALL", [first, last]).fetchall():
                row = out.setdefault((hotel_id, day), {"hotel_id": hotel_id, "business_date": day})
                row["ecart_cents"], row["exceptions"] = int(ecart), int(exc)
        return [out[k] for k in sorted(out)]
    finally:
        conn.close()


def print_summary(path: Path, first: dt.date, last: dt.date) -> None:
    rows = summary_rows(path, first, last)
    head = f"{'hotel':<8} {'date':<10} " + " ".join(f"{k + ' rows':>9} {k + ' total':>16}" for k in KIND_QUERIES)
    if any("ecart_cents" in r for r in rows):
        head += f" {'écart':>14} {'exceptions':>10}"
    print("\n" + head)
    print("-" * len(head))
    for r in rows:
        line = f"{r['hotel_id']:<8} {r['business_date']!s:<10} " + " ".join(
            f"{r.get(k + '_rows', 0):>9} {format_cents(r.get(k + '_cents', 0)):>16}" for k in KIND_QUERIES)
        if "ecart_cents" in r:
            line += f" {format_cents(r['ecart_cents']):>14} {r['exceptions']:>10}"
        print(line)
