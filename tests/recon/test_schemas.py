import datetime as dt

import pandas as pd
import pandera.errors
import pytest

from lettrage.recon import schemas
from lettrage.recon.hotels import Hotel
from lettrage.recon.warehouse import open_warehouse, replace_window


def test_every_domain_table_has_ddl_from_its_model(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as conn:
        for table in schemas.TABLES:
            cols = [r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall()]
            assert cols == schemas.columns(table)
        types = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name = 'pms_postings'").fetchall())
    assert types["amount_cents"] == "BIGINT"
    assert types["posted_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["business_date"] == "DATE"


def test_money_must_be_whole_cents_and_brands_normalised():
    row = {c: None for c in schemas.columns("tpe_transactions")}
    row.update(hotel_id="H1", source_file="f", ingested_at=pd.Timestamp("2026-01-01", tz="UTC"), tpe_txn_id="t1",
               terminal_id="T1", txn_at=pd.Timestamp("2026-01-01 10:00", tz="UTC"), business_date=dt.date(2026, 1, 1),
               txn_type="sale", amount_cents=1234, currency="EUR", card_brand="VISA", card_last4="2008")
    schemas.model("tpe_transactions").validate(pd.DataFrame([row]))
    with pytest.raises(pandera.errors.SchemaError):
        schemas.model("tpe_transactions").validate(pd.DataFrame([{**row, "card_brand": "Visa Electron"}]))
    with pytest.raises((pandera.errors.SchemaError, pandera.errors.SchemaErrors)):
        schemas.model("tpe_transactions").validate(pd.DataFrame([{**row, "amount_cents": 12.5}]))


def test_business_date_follows_the_night_audit():
    paris = Hotel("H1", "Paris", "Europe/Paris", night_audit_time="03:00")
    assert paris.business_date(dt.datetime(2026, 3, 2, 0, 40)) == dt.date(2026, 3, 1)
    assert paris.business_date(dt.datetime(2026, 3, 2, 3, 5)) == dt.date(2026, 3, 2)
    late_audit = Hotel("H2", "NY", "America/New_York", night_audit_time="23:30")
    assert late_audit.business_date(dt.datetime(2026, 3, 2, 23, 45)) == dt.date(2026, 3, 3)
    # aware timestamps are converted to the hotel's zone first: 23:40 UTC is 00:40 in Paris (winter)
    assert paris.business_date(dt.datetime(2026, 3, 1, 23, 40, tzinfo=dt.UTC)) == dt.date(2026, 3, 1)


def test_replace_window_is_idempotent_and_scoped_to_hotels(tmp_path):
    def rows(hotel, day, n):
        return pd.DataFrame([{"hotel_id": hotel, "business_date": day, "card_brand": f"B{i}", "pms_cents": 100,
                              "tpe_cents": 100, "psp_cents": 0, "remitted_cents": 0, "ecart_cents": 0,
                              "matched_count": 1, "exception_count": 0, "resolved_cents": 0} for i in range(n)])
    d1, d2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
    with open_warehouse(tmp_path / "w.duckdb") as conn:
        replace_window(conn, "daily_summary", pd.concat([rows("H1", d1, 2), rows("H2", d1, 3)]), d1, d2)
        replace_window(conn, "daily_summary", rows("H1", d1, 1), d1, d2, ["H1"])
        replace_window(conn, "daily_summary", rows("H1", d1, 1), d1, d2, ["H1"])
        counts = dict(conn.execute("SELECT hotel_id, count(*) FROM daily_summary GROUP BY 1").fetchall())
    assert counts == {"H1": 1, "H2": 3}
