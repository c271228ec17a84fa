"""From a hotel's internal records to the canonical tables of DOMAIN.md, with the ids the sources
carry: the PMS transaction number, the terminal and its ticket number, the PSP's PAYID.

Ids hold the hotel id so they are unique across the group; times become UTC instants and business
dates follow from them by the hotel's night audit, exactly as the readers compute them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.generate import clock
from lettrage.recon.generate.group import HotelProfile

COLLECTED_TYPES = ("sale", "refund", "completion")
# The letter closing a "numéro du fichier remis": C chip (and contactless), S magnetic stripe,
# @ authorisation requested (card not present).
REMISE_LETTER = {"chip": "C", "contactless": "C", "swipe": "S", "manual": "@"}


def _key_info(frame: pd.DataFrame, id_col: str, amount_col: str) -> pd.DataFrame:
    return pd.DataFrame({"key": frame["key"].to_numpy(), "record_id": frame[id_col].to_numpy(),
                         "business_date": frame["business_date"].to_numpy(),
                         "amount_cents": frame[amount_col].fillna(0).astype(np.int64).to_numpy()})


def posting_id(hotel_id: str, trx_no) -> str:
    return f"{hotel_id}-{trx_no}"


def tpe_txn_id(hotel_id: str, terminal: str, txn_no: int) -> str:
    return f"{hotel_id}-{terminal}-{txn_no:06d}"


def postings(profile: HotelProfile, pms: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """pms_postings rows (plus `key`), numbered in the order they were posted."""
    hotel = profile.hotel
    pms = pms.sort_values(["at", "key"], kind="stable").reset_index(drop=True)
    trx_no = int(rng.integers(1_000_000, 8_000_000)) + np.arange(len(pms))
    codes = profile.codes.set_index("trx_code")
    trx_code = pms["role"].map(profile.code_of)
    posted_at = clock.to_utc(hotel, pms["at"])
    cashiers = profile.cashiers
    return pd.DataFrame({
        "key": pms["key"].to_numpy(),
        "posting_id": [posting_id(hotel.hotel_id, t) for t in trx_no],
        "hotel_id": hotel.hotel_id,
        "business_date": clock.business_dates(hotel, posted_at),
        "posted_at": posted_at,
        "trx_code": trx_code,
        "amount_cents": pms["amount_cents"].astype("Int64"),
        "currency": hotel.currency,
        "card_last4": pms["card_last4"],
        "card_brand": trx_code.map(codes["card_brand"]),
        "channel": trx_code.map(codes["channel"]),
        "room": pms["room"], "folio_no": pms["folio_no"], "folio_window": pms["folio_window"].astype("Int64"),
        "reservation_id": pms["reservation_id"], "confirmation_no": pms["confirmation_no"],
        "guest_name": pms["guest_name"],
        "cashier_id": [cashiers[c].cashier_id for c in pms["cashier"]],
        "cashier_name": [cashiers[c].name for c in pms["cashier"]],
        "reference": pms["reference"],
        "source_system": hotel.pms_system,
    })


def tickets(profile: HotelProfile, tpe: pd.DataFrame, rng: np.random.Generator, start) -> pd.DataFrame:
    """tpe_transactions rows (plus `key`, `collected`, `remit_delta`), numbered per terminal."""
    hotel = profile.hotel
    tpe = tpe.sort_values(["terminal", "at", "key"], kind="stable").reset_index(drop=True)
    txn_at = clock.to_utc(hotel, tpe["at"])
    business_date = clock.business_dates(hotel, txn_at)
    first_no = rng.integers(1, 900_000, size=len(profile.terminals))
    first_collection = rng.integers(1, 99, size=len(profile.terminals))
    terminal = tpe["terminal"].to_numpy().astype(np.int64)
    txn_no = first_no[terminal] + tpe.groupby("terminal").cumcount().to_numpy()
    day = (pd.to_datetime(business_date) - pd.Timestamp(start)).dt.days.to_numpy()
    # One télécollecte per terminal and business date, numbered 01-99 and round again.
    collection = (first_collection[terminal] + day) % 99 + 1
    numbers = [t.number for t in profile.terminals]
    collected = tpe["collected"].to_numpy().astype(bool) & tpe["txn_type"].isin(COLLECTED_TYPES).to_numpy()
    remise_ref = [f"{numbers[t]}{n:06d}{c:02d}{REMISE_LETTER[m]}" if ok else None
                  for t, n, c, m, ok in zip(terminal, txn_no, collection, tpe["entry_mode"], collected, strict=True)]
    rows = pd.DataFrame({
        "key": tpe["key"].to_numpy(),
        "tpe_txn_id": [tpe_txn_id(hotel.hotel_id, numbers[t], n) for t, n in zip(terminal, txn_no, strict=True)],
        "hotel_id": hotel.hotel_id,
        "terminal_id": [numbers[t] for t in terminal],
        "terminal_label": [profile.terminals[t].label for t in terminal],
        "merchant_id": [profile.terminals[t].merchant_id for t in terminal],
        "txn_at": txn_at, "business_date": business_date,
        "txn_type": tpe["txn_type"], "amount_cents": tpe["amount_cents"].astype("Int64"),
        "currency": hotel.currency, "card_brand": tpe["card_brand"], "card_last4": tpe["card_last4"],
        "entry_mode": tpe["entry_mode"], "auth_code": tpe["auth_code"], "remise_ref": remise_ref,
        "dcc_amount_cents": tpe["dcc_amount_cents"].astype("Int64"), "dcc_currency": tpe["dcc_currency"],
        "tip_cents": pd.array([pd.NA] * len(tpe), dtype="Int64"),
        "collected": collected, "txn_no": txn_no,
        "remit_delta": tpe["remit_delta"].to_numpy() if "remit_delta" in tpe else 0,
    })
    return rows


def psp_payments(profile: HotelProfile, psp: pd.DataFrame) -> pd.DataFrame:
    """psp_transactions rows (plus `key`): one per PSP operation, PAYID.sub as id."""
    hotel = profile.hotel
    psp = psp.sort_values(["at", "key"], kind="stable").reset_index(drop=True)
    event_at = clock.to_utc(hotel, psp["at"])
    sub = psp.groupby("payid").cumcount().to_numpy()
    return pd.DataFrame({
        "key": psp["key"].to_numpy(),
        "psp_txn_id": [f"{p}/{s}" for p, s in zip(psp["payid"], sub, strict=True)],
        "hotel_id": hotel.hotel_id, "provider": "ogone", "order_id": psp["order_id"],
        "link_id": None, "psp_reference": psp["payid"].astype(str), "operation": psp["operation"],
        "status": psp["status"], "status_code": psp["status_code"], "event_at": event_at,
        "business_date": clock.business_dates(hotel, event_at), "amount_cents": psp["amount_cents"].astype("Int64"),
        "currency": hotel.currency, "card_brand": psp["card_brand"], "card_last4": psp["card_last4"],
        "auth_code": psp["auth_code"], "payidsub": sub,
    })


def key_info(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per record kind: key -> record id, business date, amount (for the truth)."""
    return {
        "pms": _key_info(tables["pms_postings"], "posting_id", "amount_cents"),
        "tpe": _key_info(tables["tpe_transactions"], "tpe_txn_id", "amount_cents"),
        "psp": _key_info(tables["psp_transactions"], "psp_txn_id", "amount_cents"),
        "rem": _key_info(tables["remittances"], "remittance_line_id", "gross_cents"),
    }


def only_canonical(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns of a table, lineage columns aside (readers add those)."""
    return rows[[c for c in schemas.columns(table) if c not in ("source_file", "ingested_at")]]
