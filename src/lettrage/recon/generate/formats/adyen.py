"""Adyen's Settlement Details Report (CSV), one file per settlement batch, as
`recon/readers/adyen_sdr.py` reads it: the documented columns, debit and credit columns, fees
split into markup, scheme fees and interchange, the batch closed by its MerchantPayout line
(research/hotel.md §3.3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from lettrage.recon.generate.formats.files import days_of, local_iso, money, text_or_none, write_by_day
from lettrage.recon.generate.group import HotelProfile

HEADER = ["Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
          "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
          "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)",
          "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Payment Method Variant",
          "Modification Merchant Reference", "Batch Number", *[f"Reserved{i}" for i in range(4, 11)],
          "Booking Date", "Booking Date TimeZone"]
METHODS = {"VISA": "visa", "MASTERCARD": "mc", "AMEX": "amex", "CB": "cartebancaire", "MAESTRO": "maestro",
           "JCB": "jcb", "DINERS": "diners", "UNIONPAY": "cup"}
# Zones whose abbreviation is a number in the tz database, by the names Adyen prints.
ABBREVIATIONS = {"Asia/Singapore": "SGT", "Asia/Dubai": "GST"}


def zone_names(utc: pd.Series, timezone: str) -> np.ndarray:
    zone = ZoneInfo(timezone)
    return np.array([ABBREVIATIONS.get(timezone) or t.to_pydatetime().astimezone(zone).tzname() for t in utc],
                    dtype=object)


def _pair(cents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(debit, credit) texts: credits positive, debits positive in their own column."""
    credit = np.where(cents > 0, money(np.abs(cents)), None)
    debit = np.where(cents < 0, money(np.abs(cents)), None)
    return debit, credit


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    tz = profile.hotel.timezone
    n = len(rows)
    payout = (rows["line_type"] == "payout").to_numpy()
    txn = rows["txn_at"]
    local = local_iso(txn, tz)
    # the payout is created on its booking date, at the start of the bank day
    booking = [dt.datetime.combine(d, dt.time(6)) for d in rows["remittance_date"]]
    created = np.where(payout, [b.strftime("%Y-%m-%d %H:%M:%S") for b in booking],
                       [None if s is None else s.replace("T", " ") for s in local])
    booking_utc = pd.Series(pd.to_datetime(booking)).dt.tz_localize(tz).dt.tz_convert("UTC")
    zones = np.where(payout, zone_names(booking_utc, tz), zone_names(txn.where(~payout, booking_utc.values), tz))
    gross = rows["gross_cents"].fillna(0).astype(np.int64).to_numpy()
    net = rows["net_cents"].astype(np.int64).to_numpy()
    fee = -rows["fee_cents"].fillna(0).astype(np.int64).to_numpy()
    # Interchange++: the fee split as Adyen reports it (fixed markup, scheme fees, interchange).
    markup = np.where(payout, 0, np.minimum(fee, 11))
    scheme = (fee - markup) * 15 // 100
    interchange = fee - markup - scheme
    g_debit, g_credit = _pair(np.where(payout, 0, gross))
    n_debit, n_credit = _pair(net)
    fees = {name: np.where(payout, None, money(values)) for name, values in
            (("Markup (NC)", markup), ("Scheme Fees (NC)", scheme), ("Interchange (NC)", interchange))}
    currency = rows["currency"].to_numpy()
    columns = {
        "Company Account": np.full(n, "LettrageGroup", dtype=object),
        "Merchant Account": rows["merchant_id"].to_numpy(),
        "Psp Reference": text_or_none(rows["psp_reference"]),
        "Merchant Reference": text_or_none(rows["merchant_reference"]),
        "Payment Method": np.array([None if b is None or pd.isna(b) else METHODS.get(b, "card")
                                    for b in rows["card_brand"]], dtype=object),
        "Creation Date": created, "TimeZone": zones,
        "Type": rows["adyen_type"].to_numpy(),
        "Modification Reference": text_or_none(rows["modification_reference"]),
        "Gross Currency": np.where(payout, None, currency), "Gross Debit (GC)": g_debit, "Gross Credit (GC)": g_credit,
        "Exchange Rate": np.where(payout, None, "1"),
        "Net Currency": currency, "Net Debit (NC)": n_debit, "Net Credit (NC)": n_credit,
        "Commission (NC)": np.full(n, None, dtype=object), **fees,
        "Payment Method Variant": np.full(n, None, dtype=object),
        "Modification Merchant Reference": np.full(n, None, dtype=object),
        "Batch Number": rows["remittance_id"].to_numpy(),
        **{f"Reserved{i}": np.full(n, None, dtype=object) for i in range(4, 11)},
        "Booking Date": [d.isoformat() for d in rows["remittance_date"]],
        "Booking Date TimeZone": zone_names(booking_utc, tz),
    }
    written = []
    dates = rows[date_column].to_numpy()
    for positions in days_of(dates).values():
        batch = rows["remittance_id"].iloc[positions[0]]
        part = {k: np.asarray(v, dtype=object)[positions] for k, v in columns.items()}
        written += write_by_day(directory, f"settlement_detail_report_batch_{batch}_{{ymd}}.csv", part,
                                dates[positions])
    return written
