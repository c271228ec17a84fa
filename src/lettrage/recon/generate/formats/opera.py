"""Oracle OPERA exports: the financial transactions CSV (one line per folio posting, debit and
credit columns per ledger), the tagged TREXPORT text, and the reservation export, as
`recon/readers/opera_csv.py`, `opera_trexport.py` and `opera_resv.py` read them
(research/hotel.md §1.2-1.3). Dates are Oracle's `DD-MON-YY`; amounts have a decimal point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lettrage.recon.generate.formats.files import (
    local_iso,
    masked_pan,
    money,
    reformat,
    text_or_none,
    write_by_day,
)
from lettrage.recon.generate.group import HotelProfile

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def oracle_date(dates) -> np.ndarray:
    """'03-MAR-26' for each date (None stays None)."""
    return np.array([None if d is None or pd.isna(d) else f"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year % 100:02d}"
                     for d in dates], dtype=object)


def oracle_time(utc: pd.Series, timezone: str) -> np.ndarray:
    """'03-MAR-26 07:16:07' (local wall clock)."""
    iso = local_iso(utc, timezone)
    return np.array([None if s is None else f"{s[8:10]}-{MONTHS[int(s[5:7]) - 1]}-{s[2:4]} {s[11:19]}" for s in iso],
                    dtype=object)


def _sides(amount: np.ndarray, on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(debit, credit) texts of the rows where `on`, empty elsewhere: payments are credits."""
    credit = np.where(on & (amount > 0), money(amount), None)
    debit = np.where(on & (amount < 0), money(-amount), None)
    return debit, credit


def write_financial(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    tz = profile.hotel.timezone
    amount = rows["amount_cents"].to_numpy().astype(np.int64)
    deposit = (rows["channel"] == "psp").to_numpy()  # deposits paid by link sit on the deposit ledger
    transfer = (rows["channel"] == "transfer").to_numpy() & (rows["trx_code"] == profile.code_of["deposit_transfer"]).to_numpy()
    g_debit, g_credit = _sides(amount, ~deposit)
    d_debit, d_credit = _sides(-amount, transfer)  # the deposit ledger gives what the folio receives
    dd, dc = _sides(amount, deposit)
    columns = {
        "TRX_NO": rows["trx_no"].astype(str).to_numpy(),
        "RESORT": rows["hotel_id"].to_numpy(),
        "TRX_DATE": oracle_date(rows["business_date"]),
        "POSTING_DATE": oracle_time(rows["posted_at"], tz),
        "TRX_CODE": rows["trx_code"].to_numpy(),
        "TRX_DESCRIPTION": rows["label"].to_numpy(),
        "FT_SUBTYPE": np.full(len(rows), "FC", dtype=object),
        "GUEST_ACCOUNT_DEBIT": g_debit, "GUEST_ACCOUNT_CREDIT": g_credit,
        "DEP_LED_DEBIT": np.where(deposit, dd, d_debit), "DEP_LED_CREDIT": np.where(deposit, dc, d_credit),
        "CURRENCY": rows["currency"].to_numpy(),
        "ROOM": text_or_none(rows["room"]),
        "FOLIO_VIEW": text_or_none(rows["folio_window"]),
        "BILL_NO": text_or_none(rows["folio_no"]),
        "RESV_NAME_ID": text_or_none(rows["reservation_id"]),
        "CONFIRMATION_NO": text_or_none(rows["confirmation_no"]),
        "GUEST_NAME": text_or_none(rows["guest_name"]),
        "CASHIER_ID": rows["cashier_id"].to_numpy(),
        "CASHIER_NAME": rows["cashier_name"].to_numpy(),
        "REFERENCE": text_or_none(rows["reference"]),
        "CREDIT_CARD_NUMBER": masked_pan(rows["card_last4"]),
    }
    return write_by_day(directory, "fin_trx_{ymd}.csv", columns, rows[date_column].to_numpy())


def write_trexport(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    """`NNNTAG=value` lines, one block per transaction, blocks separated by a blank line."""
    tz = profile.hotel.timezone
    clock = reformat(local_iso(rows["posted_at"], tz), "{H}:{M}:{S}")
    fields = [
        ("001REGISTER", text_or_none(rows["reservation_id"])),
        ("002WINDOW", text_or_none(rows["folio_window"])),
        ("003ZN", text_or_none(rows["room"])),
        ("005NAME", text_or_none(rows["guest_name"])),
        ("006LNR", rows["trx_code"].to_numpy()),
        ("007DATB", np.array([d.strftime("%Y%m%d") for d in rows["business_date"]], dtype=object)),
        ("008TEXT", rows["label"].to_numpy()),
        ("010ZEIT", clock),
        ("011PREIS", money(rows["amount_cents"], sign=-1)),  # folio sign: payments negative
        ("012ANZ", np.full(len(rows), "1", dtype=object)),
        ("014TRXNR", rows["trx_no"].astype(str).to_numpy()),
        ("015KASSE", rows["cashier_id"].to_numpy()),
        ("016BENUTZER", rows["cashier_name"].to_numpy()),
        ("017WAEHRUNG", rows["currency"].to_numpy()),
        ("018BELEG", text_or_none(rows["reference"])),
        ("019KARTE", masked_pan(rows["card_last4"])),
        ("020CONFNR", text_or_none(rows["confirmation_no"])),
    ]
    blocks = ["\n".join(f"{tag}={values[i]}" for tag, values in fields if values[i] is not None) + "\n"
              for i in range(len(rows))]
    written = []
    from lettrage.recon.generate.formats.files import days_of

    for day, positions in days_of(rows[date_column].to_numpy()).items():
        path = directory / f"TREXPORT_{day:%Y%m%d}.TXT"
        path.write_text("\n".join(blocks[i] for i in positions), encoding="cp1252", newline="\r\n")
        written.append(path)
    return written


STATUS = {"reserved": "RESERVED", "in_house": "CHECKED IN", "checked_out": "CHECKED OUT", "cancelled": "CANCELLED",
          "no_show": "NO SHOW"}


def write_reservations(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    tz = profile.hotel.timezone
    columns = {
        "RESORT": rows["hotel_id"].to_numpy(),
        "RESV_NAME_ID": np.array([r.split(":", 1)[1] for r in rows["reservation_id"]], dtype=object),
        "CONFIRMATION_NO": rows["confirmation_no"].to_numpy(),
        "RESV_STATUS": rows["status"].map(STATUS).to_numpy(),
        "INSERT_DATE": oracle_time(rows["created_at"], tz),
        "BUSINESS_DATE": oracle_date(rows["business_date"]),
        "ARRIVAL_DATE": oracle_date(rows["arrival_date"]),
        "ARRIVAL_TIME": text_or_none(rows["arrival_time"]),
        "DEPARTURE_DATE": oracle_date(rows["departure_date"]),
        "ADULTS": text_or_none(rows["adults"]), "CHILDREN": text_or_none(rows["children"]),
        "GUEST_LAST_NAME": rows["guest_last_name"].to_numpy(), "GUEST_FIRST_NAME": rows["guest_first_name"].to_numpy(),
        "EMAIL_ADDRESS": text_or_none(rows["email"]), "PHONE": text_or_none(rows["phone"]),
        "LANGUAGE": rows["language"].to_numpy(), "ROOM_TYPE": rows["room_type"].to_numpy(),
        "RATE_CODE": rows["rate_code"].to_numpy(), "SHARE_AMOUNT": money(rows["total_cents"]),
        "DEPOSIT_AMOUNT": money(rows["deposit_due_cents"]),
        "DEPOSIT_PAID": money(rows["deposit_paid_cents"]),
        "CURRENCY": rows["currency"].to_numpy(), "GUARANTEE_CODE": rows["guarantee_code"].to_numpy(),
        "PAYMENT_METHOD": rows["payment_method"].to_numpy(),
        "CANCELLATION_DEADLINE": oracle_time(rows["cancellation_deadline"], tz),
        "NON_REFUNDABLE_YN": np.where(rows["non_refundable"].to_numpy(dtype=bool), "Y", "N").astype(object),
    }
    return write_by_day(directory, "RESVEXPORT_{ymd}.csv", columns, rows[date_column].to_numpy())
