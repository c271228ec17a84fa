"""From a hotel's internal records to the canonical tables of DOMAIN.md, as the readers of its
own export formats produce them: the same ids (the source's key with the hotel id in front, or
the readers' content hash where a source has no key), and only the columns its formats carry.
So the generic CSV of a hotel and its native files read back into the same rows, and the truth
names the records the pipeline will see.

Times become UTC instants; business dates follow from them by the hotel's night audit, exactly
as the readers compute them.
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
# Posting columns a PMS export does not carry (the readers leave them empty).
PMS_GAPS = {
    "opera_trexport": {"folio_no"},
    "onq": {"folio_window", "reference"},
    "protel": {"confirmation_no"},
    "starlight": {"folio_window", "cashier_name"},
}
PSP_ACTIONS = {"sale": "SAL", "authorisation": "RES", "refund": "RFD"}


def _key_info(frame: pd.DataFrame, id_col: str, amount_col: str) -> pd.DataFrame:
    return pd.DataFrame({"key": frame["key"].to_numpy(), "record_id": frame[id_col].to_numpy(),
                         "business_date": frame["business_date"].to_numpy(),
                         "amount_cents": frame[amount_col].fillna(0).astype(np.int64).to_numpy()})


def postings(profile: HotelProfile, pms: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """pms_postings rows (plus `key` and `label`), numbered in the order they were posted."""
    hotel = profile.hotel
    pms = pms.sort_values(["at", "key"], kind="stable").reset_index(drop=True)
    trx_no = int(rng.integers(1_000_000, 8_000_000)) + np.arange(len(pms))
    codes = profile.codes.set_index("trx_code")
    trx_code = pms["role"].map(profile.code_of)
    posted_at = clock.to_utc(hotel, pms["at"])
    cashiers = profile.cashiers
    # OnQ knows a stay by its confirmation number only.
    resv = pms["confirmation_no"] if profile.pms_format == "onq" else pms["reservation_id"]
    rows = pd.DataFrame({
        "key": pms["key"].to_numpy(),
        "posting_id": [f"{hotel.hotel_id}:{t}" for t in trx_no],
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
        "reservation_id": resv, "confirmation_no": pms["confirmation_no"],
        "guest_name": pms["guest_name"],
        "cashier_id": [cashiers[c].cashier_id for c in pms["cashier"]],
        "cashier_name": [cashiers[c].name for c in pms["cashier"]],
        "reference": pms["reference"],
        "source_system": hotel.pms_system,
        "label": trx_code.map(codes["label"]),
        "trx_no": trx_no,
    })
    for gap in PMS_GAPS.get(profile.pms_format, ()):
        rows[gap] = pd.array([pd.NA] * len(rows), dtype="Int64") if gap == "folio_window" else None
    return rows


def tickets(profile: HotelProfile, tpe: pd.DataFrame, rng: np.random.Generator, start) -> pd.DataFrame:
    """tpe_transactions rows (plus `key`, `collected`, `txn_no`, `remit_delta`), numbered per
    terminal; the id is the terminal, the local day and the ticket number, as the journal reader
    makes it."""
    hotel = profile.hotel
    tpe = tpe.sort_values(["terminal", "at", "key"], kind="stable").reset_index(drop=True)
    txn_at = clock.to_utc(hotel, tpe["at"])
    business_date = clock.business_dates(hotel, txn_at)
    local_day = clock.to_local(hotel, txn_at).dt.strftime("%Y%m%d")
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
    return pd.DataFrame({
        "key": tpe["key"].to_numpy(),
        "tpe_txn_id": [f"{hotel.hotel_id}:{numbers[t]}:{d}:{n:06d}" for t, d, n in zip(terminal, local_day, txn_no,
                                                                                        strict=True)],
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


def psp_payments(profile: HotelProfile, psp: pd.DataFrame) -> pd.DataFrame:
    """psp_transactions rows (plus `key`, `payidsub`, `action`): one per PSP operation, with the
    Ogone report's key (PAYID, PAYIDSUB, STATUS, ACTION)."""
    hotel = profile.hotel
    psp = psp.sort_values(["at", "key"], kind="stable").reset_index(drop=True)
    event_at = clock.to_utc(hotel, psp["at"])
    sub = psp.groupby("payid").cumcount().to_numpy()
    action = psp["operation"].map(PSP_ACTIONS).to_numpy()
    ids = [f"{hotel.hotel_id}:{p}:{s}:{c}:{a}" for p, s, c, a in
           zip(psp["payid"], sub, psp["status_code"], action, strict=True)]
    return pd.DataFrame({
        "key": psp["key"].to_numpy(), "psp_txn_id": ids,
        "hotel_id": hotel.hotel_id, "provider": "ogone", "order_id": psp["order_id"],
        "link_id": None, "psp_reference": psp["payid"].astype(str), "operation": psp["operation"],
        "status": psp["status"], "status_code": psp["status_code"], "event_at": event_at,
        "business_date": clock.business_dates(hotel, event_at), "amount_cents": psp["amount_cents"].astype("Int64"),
        "currency": hotel.currency, "card_brand": psp["card_brand"], "card_last4": psp["card_last4"],
        "auth_code": psp["auth_code"], "payidsub": sub, "action": action,
    })


def _python(value):
    """A cell as the readers' row dicts hold it: None for missing, Python ints."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value


def hash_ids(profile: HotelProfile, lines: pd.DataFrame) -> pd.DataFrame:
    """Remittance lines whose source has no key (CB relevé lines, payouts, AMEX SOC fees) get the
    id the reader gives them: a hash of the row's content, computed by the readers' own
    `records.fill_ids` on the rows as `records.build` lays them out (the native round-trip test
    holds the two together).

    One call per provider stands for one call per file: a row's content renders the same whenever
    every file of the provider holds the same kinds of lines (each file holds tickets and the
    payout that closes them), and rows of different files differ by their dates."""
    from lettrage.recon.readers.records import fill_business_dates, fill_ids

    if not lines["remittance_line_id"].isna().any():
        return lines
    hotel = profile.hotel
    columns = schemas.columns("remittances")
    for _, part in lines.groupby("provider", sort=False):
        hashed = part["remittance_line_id"].isna().to_numpy()
        if not hashed.any():
            continue
        frame = pd.DataFrame({c: [_python(v) for v in part[c]] if c in part else [None] * len(part)
                              for c in columns})
        frame = frame.astype(object).where(frame.notna(), None)
        frame["hotel_id"], frame["source_file"] = hotel.hotel_id, "remittances.csv"
        frame = fill_ids(fill_business_dates(frame, "remittances", hotel, None), "remittances", f"{hotel.hotel_id}:")
        lines.loc[part.index[hashed], "remittance_line_id"] = frame["remittance_line_id"].to_numpy()[hashed]
    return lines


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
