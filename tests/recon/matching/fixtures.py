"""The seed brochure's sample card-reconciliation screen (SECUR Connect, 03/10/2014), as canonical
rows: each "TPE Hébergement (NNN)" line is a terminal ticket, each "[room]" line a PMS posting."""

from __future__ import annotations

import datetime as dt

import pandas as pd

DAY = dt.date(2014, 10, 3)
CODES = {"9004": ("AMEX", "terminal"), "9012": ("VISA", "terminal"), "9013": ("MASTERCARD", "terminal"),
         "9023": ("CB", "distance")}


def _utc(hhmmss: str) -> pd.Timestamp:  # Paris, summer time: UTC+2
    return pd.Timestamp(f"2014-10-03 {hhmmss}", tz="Europe/Paris").tz_convert("UTC")


# (id, time, terminal, brand printed, last 4, amount cents, type)
TICKETS = [
    ("T-A1001", "06:33:33", "002", "AMEX", "2008", 25895, "sale"),
    ("T-A1002", "06:48:22", "003", "CB", "2111", 13900, "sale"),
    ("T-A1003", "06:54:43", "002", "AMEX", "1002", 25435, "sale"),
    ("T-A1004", "06:23:43", "001", "CB", "3517", 132969, "sale"),
    ("T-E1149", "06:28:59", "001", "CB", "3517", -132969, "refund"),
    ("T-A1005", "06:40:02", "002", "CB", "8015", -419, "refund"),
    ("T-A1006", "06:59:51", "003", "MASTERCARD", "8015", 9270, "sale"),
    ("T-A1007", "07:01:30", "002", "CB", "7331", 42330, "sale"),
    ("T-A1008", "07:03:49", "001", "MASTERCARD", "7331", 42330, "sale"),
]
# (id, time, room, trx code, last 4, amount cents, cashier)
POSTINGS = [
    ("P-223", "06:36:00", "223", "9004", "2008", 25895, "192"),
    ("P-9050", "06:51:00", "9050", "9012", "2111", 13900, "206"),
    ("P-301", "06:57:00", "301", "9004", "1002", 25435, "192"),
    ("P-306", "06:26:00", "306", "9013", "3517", 132969, "192"),
    ("P-306C", "06:30:00", "306", "9023", "3517", -132969, "192"),
    ("P-140", "06:43:00", "140", "9013", "8015", -419, "192"),
    ("P-115", "07:03:00", "115", "9013", "2233", 56744, "198"),
    ("P-123", "07:04:00", "123", "9012", "9434", 42330, "198"),
    ("P-310A", "07:06:00", "310", "9013", "2233", 600, "213"),
    ("P-310B", "07:06:00", "310", "9012", "9434", 600, "198"),
]


def tickets() -> pd.DataFrame:
    return pd.DataFrame([{"tpe_txn_id": i, "hotel_id": "SEED", "terminal_id": term, "txn_at": _utc(t),
                          "business_date": DAY, "txn_type": kind, "amount_cents": amt, "currency": "EUR",
                          "card_brand": brand, "card_last4": last4, "remise_ref": None, "source_file": "seed"}
                         for i, t, term, brand, last4, amt, kind in TICKETS])


def postings() -> pd.DataFrame:
    return pd.DataFrame([{"posting_id": i, "hotel_id": "SEED", "business_date": DAY, "posted_at": _utc(t),
                          "trx_code": code, "amount_cents": amt, "currency": "EUR", "card_last4": last4,
                          "card_brand": CODES[code][0], "channel": CODES[code][1], "room": room,
                          "cashier_id": cashier, "reference": None, "confirmation_no": None, "source_file": "seed"}
                         for i, t, room, code, last4, amt, cashier in POSTINGS])


def warehouse():
    """A DuckDB connection holding the screen's postings and tickets as canonical tables."""
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.register("_p", postings())
    conn.register("_t", tickets())
    conn.execute("CREATE TABLE pms_postings AS SELECT * FROM _p")
    conn.execute("CREATE TABLE tpe_transactions AS SELECT * FROM _t")
    return conn
