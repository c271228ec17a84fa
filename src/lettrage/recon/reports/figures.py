"""What a finance person reads about each mart after a run: counts, totals, écart, exceptions and
a short table, for the window the run rebuilt. Plain values (the Dagster layer wraps them)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from lettrage.recon.money import format_cents

PREVIEW_ROWS = 20


def _md(frame: pd.DataFrame, money: tuple[str, ...] = ()) -> str:
    if frame.empty:
        return "_no rows_"
    shown = frame.head(PREVIEW_ROWS).copy()
    for col in money:
        shown[col] = shown[col].map(lambda c: format_cents(int(c)) if pd.notna(c) else "")
    if "business_date" in shown:
        shown["business_date"] = shown["business_date"].map(lambda d: pd.Timestamp(d).date().isoformat())
    # amounts are formatted, so their unit suffix goes: "ecart_cents" reads "ecart"
    shown.columns = [c.removesuffix("_cents") for c in shown.columns]
    text = shown.to_markdown(index=False)
    return text + (f"\n\n_{len(frame) - PREVIEW_ROWS} more rows_" if len(frame) > PREVIEW_ROWS else "")


def _window(conn, relation: str, start: dt.date, end: dt.date, hotels: list[str] | None,
            select: str = "*", group_by: str = "") -> pd.DataFrame:
    sql = f"SELECT {select} FROM {relation} WHERE business_date >= ? AND business_date < ?"
    params: list = [start, end]
    if hotels:
        sql += " AND hotel_id IN (SELECT unnest(?))"
        params.append(hotels)
    return conn.execute(sql + (f" GROUP BY {group_by}" if group_by else ""), params).df()


def _count(conn, relation: str, start, end, hotels) -> int:
    return int(_window(conn, relation, start, end, hotels, select="count(*) AS n")["n"].iloc[0])


def mart_figures(conn: duckdb.DuckDBPyConnection, schema: str, name: str, start: dt.date, end: dt.date,
                 hotels: list[str] | None = None) -> dict[str, tuple[str, object]]:
    """{label: (kind, value)} with kind int | text | md, for one dbt model or seed."""
    if schema != "marts":
        relation = f"{schema}.{name}"
        has_date = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "AND column_name = 'business_date'", [schema, name]).fetchone()[0]
        if has_date:
            return {"rows_in_window": ("int", _count(conn, relation, start, end, hotels))}
        return {"rows": ("int", conn.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])}
    if name == "exceptions_open":
        rows = conn.execute("SELECT * FROM marts.exceptions_open").df()
        by_code = rows.groupby("code").agg(open=("exception_id", "count"), amount=("amount_cents", "sum"),
                                           oldest_days=("age_days", "max")).reset_index() if len(rows) else rows
        return {
            "open_exceptions": ("int", len(rows)),
            "oldest_days": ("int", int(rows["age_days"].max()) if len(rows) else 0),
            "by_code": ("md", _md(by_code, ("amount",))),
            "oldest_first": ("md", _md(rows[["hotel_id", "business_date", "code", "record_id", "amount_cents",
                                             "age_days"]], ("amount_cents",))),
        }
    if name == "reconciled_ledger":  # the biggest mart: counted in the warehouse, never loaded
        counts = _window(conn, "marts.reconciled_ledger", start, end, hotels,
                         select="record_kind, status, count(*) AS n", group_by="ALL")
        by_status = counts.pivot_table(index="record_kind", columns="status", values="n", aggfunc="sum",
                                       fill_value=0).reset_index() if len(counts) else counts
        status = counts.groupby("status")["n"].sum() if len(counts) else pd.Series(dtype="int64")
        return {
            "rows_in_window": ("int", int(counts["n"].sum()) if len(counts) else 0),
            "records_in_exception": ("int", int(status.get("exception", 0))),
            "records_unmatched": ("int", int(status.get("unmatched", 0))),
            "by_status": ("md", _md(by_status)),
        }
    rows = _window(conn, f"marts.{name}", start, end, hotels)
    out: dict[str, tuple[str, object]] = {"rows_in_window": ("int", len(rows))}
    if name == "daily_summary":
        per_day = rows.groupby(["hotel_id", "business_date"], as_index=False)[
            ["pms_cents", "tpe_cents", "psp_cents", "remitted_cents", "ecart_cents", "open_exception_count"]].sum()
        out.update({
            "pms_total": ("text", format_cents(int(rows["pms_cents"].sum()))),
            "money_taken": ("text", format_cents(int(rows["tpe_cents"].sum() + rows["psp_cents"].sum()))),
            "remitted_total": ("text", format_cents(int(rows["remitted_cents"].sum()))),
            "ecart": ("text", format_cents(int(rows["ecart_cents"].sum()))),
            "open_exceptions": ("int", int(rows["open_exception_count"].sum())),
            "days_with_ecart": ("int", int((per_day["ecart_cents"] != 0).sum())),
            "summary": ("md", _md(per_day, ("pms_cents", "tpe_cents", "psp_cents", "remitted_cents", "ecart_cents"))),
        })
    elif name == "remittance_list":
        out.update({
            "batches": ("int", len(rows)),
            "batches_not_covering_terminals": ("int", int((~rows["covers_terminals"].astype(bool)).sum())),
            "gross": ("text", format_cents(int(rows["gross_cents"].sum()))),
            "fees": ("text", format_cents(int(rows["fee_cents"].sum()))),
            "net": ("text", format_cents(int(rows["net_cents"].sum()))),
            "preview": ("md", _md(rows[["hotel_id", "business_date", "remittance_id", "gross_cents", "fee_cents",
                                        "net_cents", "difference_cents", "covers_terminals"]],
                                  ("gross_cents", "fee_cents", "net_cents", "difference_cents"))),
        })
    elif name == "revenue_by_group":
        groups = rows.groupby(["hotel_id", "group_name"], as_index=False)[
            ["posting_count", "amount_cents", "card_cents"]].sum()
        out["by_group"] = ("md", _md(groups, ("amount_cents", "card_cents")))
    elif name == "cashier_shifts":
        out.update({
            "shifts": ("int", len(rows)),
            "shifts_with_ecart": ("int", int((rows["ecart_cents"] != 0).sum())),
            "preview": ("md", _md(rows[["hotel_id", "business_date", "cashier_id", "shift", "pms_card_cents",
                                        "tpe_cents", "ecart_cents", "exception_count"]],
                                  ("pms_card_cents", "tpe_cents", "ecart_cents"))),
        })
    return out
