"""Acquirer remittances: what the terminals' télécollecte brings back, a bank day or a few later.

- French hotels: the CB acquirer's "relevé de remises" (one remise per terminal and business
  date, a line per ticket with its "numéro du fichier remis" and its commission, and the remise's
  total credited to the bank), and AMEX direct acquiring (one summary of charges per business
  date, its records of charge, its discount, and the payment to the bank three days later).
- Other hotels: Adyen, one settlement batch per bank day for every brand, ending with the
  merchant payout line.
Remittance dates fall on bank days (Monday to Friday): Friday's to Sunday's sales come on Monday.
Signs are the readers': fees and payouts negative, so a remise's net lines sum to zero with its
payout (DOMAIN.md, `recon/readers/__init__.py`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.generate.group import HotelProfile
from lettrage.recon.generate.truth import Truth

FEE_BPS = {  # commission in basis points of the gross, per provider and brand
    "cb_acquirer": {"CB": 35, "VISA": 90, "MASTERCARD": 90, "MAESTRO": 90},
    "amex": {"AMEX": 240},
    "adyen": {"VISA": 110, "MASTERCARD": 110, "MAESTRO": 100, "AMEX": 260, "CB": 60},
}
OTHER_BPS = 190
ADYEN_FIXED_FEE = 11  # cents per transaction
LINE_COLUMNS = [c for c in schemas.columns("remittances") if c not in ("source_file", "ingested_at")]


def next_bank_day(days: np.ndarray, after: int = 1) -> np.ndarray:
    """The first bank day at least `after` days later."""
    return np.busday_offset(np.asarray(days, dtype="datetime64[D]") + np.timedelta64(after, "D"), 0,
                            roll="forward")


def _dates(values: np.ndarray) -> list:
    return [pd.Timestamp(d).date() for d in values]


def remit(profile: HotelProfile, tpe: pd.DataFrame, truth: Truth, rng: np.random.Generator) -> pd.DataFrame:
    """Remittance lines in canonical columns (plus `key`, `key_ticket`, `delta` and what the
    writers need), linked to their tickets in the truth. Ids are filled by `canonical`."""
    t = tpe[tpe["collected"]].sort_values(["business_date", "terminal_id", "txn_no"], kind="stable")
    t = t.reset_index(drop=True)
    brand = t["card_brand"].to_numpy().astype(object)
    if profile.location.acquirer == "cb":
        provider = np.where(brand == "AMEX", "amex", "cb_acquirer").astype(object)
    else:
        provider = np.full(len(t), "adyen", dtype=object)
    parts = [_cb(profile, t[provider == "cb_acquirer"], rng), _amex(profile, t[provider == "amex"], rng),
             _adyen(profile, t[provider == "adyen"], rng)]
    lines = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else \
        pd.DataFrame(columns=[*LINE_COLUMNS, "key_ticket", "delta"])
    lines["key"] = np.arange(len(lines), dtype=np.int64)
    for col in ("gross_cents", "fee_cents", "net_cents"):
        lines[col] = lines[col].astype("Int64")
    ticket = lines["key_ticket"].notna() & (lines["key_ticket"] >= 0)
    truth.add("tpe_remittance", "one_to_one", [("tpe", lines.loc[ticket, "key_ticket"].to_numpy())],
              [("rem", lines.loc[ticket, "key"].to_numpy())])
    for _, line in lines[lines["delta"].fillna(0) != 0].iterrows():
        ticket_amount = int(line["gross_cents"]) - int(line["delta"])
        truth.anomaly("REMITTANCE_MISMATCH", "rem", line["key"], [("tpe", int(line["key_ticket"]))],
                      f"remitted {int(line['gross_cents'])} cents for a ticket of {ticket_amount}")
    return lines


def _ticket_lines(t: pd.DataFrame, provider: str, bps_of: dict, fixed: int = 0) -> dict:
    gross = t["amount_cents"].to_numpy().astype(np.int64) + t["remit_delta"].to_numpy().astype(np.int64)
    bps = np.array([bps_of.get(b, OTHER_BPS) for b in t["card_brand"]])
    commission = np.where(gross > 0, np.round(gross * bps / 10_000), 0).astype(np.int64) + fixed
    return {"gross": gross, "commission": commission, "line_type": np.where(gross < 0, "refund", "sale")}


def references(rng: np.random.Generator, n: int) -> np.ndarray:
    """Adyen's 16-character PSP references: letters and digits (a 16-digit number would pass for a
    card number and be masked on the way in)."""
    alphabet = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
    chars = alphabet[rng.integers(len(alphabet), size=(n, 16))]
    chars[:, 0] = alphabet[rng.integers(24, size=n)]  # a letter first
    return np.array(["".join(row) for row in chars], dtype=object)


def _frame(n: int, **columns) -> pd.DataFrame:
    """Lines with every canonical column, typed alike whatever a provider leaves empty."""
    out = {}
    for c in LINE_COLUMNS:
        value = columns.get(c)
        if c == "txn_at":
            out[c] = pd.to_datetime(pd.Series(np.full(n, None) if value is None else value), utc=True)
        elif c.endswith("_cents"):
            out[c] = pd.array(np.full(n, None) if value is None else np.broadcast_to(value, n), dtype="Int64")
        else:
            out[c] = np.full(n, None, dtype=object) if value is None else np.broadcast_to(
                np.asarray(value, dtype=object), n).copy()
    extra = {k: np.broadcast_to(v, n).copy() for k, v in columns.items() if k not in out}
    return pd.DataFrame({**out, **extra})


def _cb(profile: HotelProfile, t: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One remise per terminal and business date; its total credited the next bank day."""
    if t.empty:
        return pd.DataFrame()
    hotel = profile.hotel
    v = _ticket_lines(t, "cb_acquirer", FEE_BPS["cb_acquirer"])
    bday = pd.to_datetime(t["business_date"]).to_numpy().astype("datetime64[D]")
    remittance_date = next_bank_day(bday, 1)
    value_date = np.busday_offset(remittance_date, 1)
    batch = pd.Series(list(zip(bday, t["terminal_id"], strict=True)))
    first = int(rng.integers(100_000, 900_000))
    numbers = {k: f"{first + i:07d}" for i, k in enumerate(dict.fromkeys(batch))}
    remittance_id = np.array([numbers[k] for k in batch], dtype=object)
    fee = -v["commission"]
    lines = _frame(
        len(t), hotel_id=hotel.hotel_id, provider="cb_acquirer", remittance_id=remittance_id,
        merchant_id=t["merchant_id"].to_numpy(), terminal_id=t["terminal_id"].to_numpy(),
        line_type=v["line_type"], txn_at=t["txn_at"].to_numpy(), business_date=t["business_date"].to_numpy(),
        remittance_date=_dates(remittance_date), value_date=_dates(value_date),
        card_brand=t["card_brand"].to_numpy(), card_last4=t["card_last4"].to_numpy(), gross_cents=v["gross"],
        fee_cents=fee, net_cents=v["gross"] + fee, currency=hotel.currency, auth_code=t["auth_code"].to_numpy(),
        remise_ref=t["remise_ref"].to_numpy(), key_ticket=t["key"].to_numpy(),
        delta=t["remit_delta"].to_numpy(), pos=np.arange(len(t)))
    payouts = lines.groupby("remittance_id", sort=False).agg(
        net=("net_cents", "sum"), merchant_id=("merchant_id", "first"), terminal_id=("terminal_id", "first"),
        remittance_date=("remittance_date", "first"), value_date=("value_date", "first"),
        pos=("pos", "max")).reset_index()
    paid = _frame(
        len(payouts), hotel_id=hotel.hotel_id, provider="cb_acquirer",
        remittance_id=payouts["remittance_id"].to_numpy(), payout_id=payouts["remittance_id"].to_numpy(),
        merchant_id=payouts["merchant_id"].to_numpy(), terminal_id=payouts["terminal_id"].to_numpy(),
        line_type="payout", business_date=payouts["remittance_date"].to_numpy(),
        remittance_date=payouts["remittance_date"].to_numpy(), value_date=payouts["value_date"].to_numpy(),
        net_cents=-payouts["net"].to_numpy(), currency=hotel.currency, delta=0, pos=payouts["pos"] + .5)
    return pd.concat([lines, paid], ignore_index=True).sort_values(["remittance_date", "pos"], kind="stable")


def _amex(profile: HotelProfile, t: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """EPTRN: per business date a summary of charges (SOC) with its records of charge (ROC); the
    SOC's discount is its own fee line; SOCs are paid three bank days later, one payment a day."""
    if t.empty:
        return pd.DataFrame()
    hotel = profile.hotel
    v = _ticket_lines(t, "amex", FEE_BPS["amex"])
    bday = pd.to_datetime(t["business_date"]).to_numpy().astype("datetime64[D]")
    paid_on = next_bank_day(bday, 3)
    first_soc = int(rng.integers(10_000, 90_000))
    socs = {d: f"{first_soc + i:06d}" for i, d in enumerate(dict.fromkeys(bday))}
    first_payment = int(rng.integers(1_000_000, 9_000_000))
    payments = {d: f"{str(d)[:4]}{first_payment + i:08d}" for i, d in enumerate(sorted(set(paid_on)))}
    soc = np.array([socs[d] for d in bday], dtype=object)
    payout = np.array([payments[d] for d in paid_on], dtype=object)
    roc = np.array([f"{term}{no:06d}" for term, no in zip(t["terminal_id"], t["txn_no"], strict=True)], dtype=object)
    se = profile.amex_se
    ids = np.array([f"{hotel.hotel_id}:amex:{se}:{s}:{r}" for s, r in zip(soc, roc, strict=True)], dtype=object)
    rocs = _frame(
        len(t), remittance_line_id=ids, hotel_id=hotel.hotel_id, provider="amex", remittance_id=soc,
        payout_id=payout, merchant_id=se, line_type=v["line_type"], business_date=t["business_date"].to_numpy(),
        remittance_date=_dates(paid_on), card_brand="AMEX", card_last4=t["card_last4"].to_numpy(),
        gross_cents=v["gross"], fee_cents=0, net_cents=v["gross"], currency=hotel.currency, remise_ref=roc,
        merchant_reference=roc, key_ticket=t["key"].to_numpy(), delta=t["remit_delta"].to_numpy(),
        discount=v["commission"], pos=np.arange(len(t)))
    by_soc = rocs.groupby("remittance_id", sort=False).agg(
        gross=("gross_cents", "sum"), discount=("discount", "sum"), payout_id=("payout_id", "first"),
        business_date=("business_date", "first"), remittance_date=("remittance_date", "first"),
        pos=("pos", "min")).reset_index()
    fees = _frame(
        len(by_soc), hotel_id=hotel.hotel_id, provider="amex", remittance_id=by_soc["remittance_id"].to_numpy(),
        payout_id=by_soc["payout_id"].to_numpy(), merchant_id=se, line_type="fee",
        business_date=by_soc["business_date"].to_numpy(), remittance_date=by_soc["remittance_date"].to_numpy(),
        card_brand="AMEX", fee_cents=-by_soc["discount"].to_numpy(), net_cents=-by_soc["discount"].to_numpy(),
        currency=hotel.currency, delta=0, soc_amount=by_soc["gross"].to_numpy(), pos=by_soc["pos"] - .5)
    both = pd.concat([rocs, fees], ignore_index=True)
    by_payment = both.groupby("payout_id", sort=False).agg(
        net=("net_cents", "sum"), remittance_date=("remittance_date", "first"), pos=("pos", "min")).reset_index()
    pay = _frame(
        len(by_payment), hotel_id=hotel.hotel_id, provider="amex", remittance_id=by_payment["payout_id"].to_numpy(),
        payout_id=by_payment["payout_id"].to_numpy(), merchant_id=se, line_type="payout",
        business_date=by_payment["remittance_date"].to_numpy(),
        remittance_date=by_payment["remittance_date"].to_numpy(),
        value_date=by_payment["remittance_date"].to_numpy(), card_brand="AMEX", net_cents=-by_payment["net"].to_numpy(),
        currency=hotel.currency, delta=0, pos=by_payment["pos"] - .75)
    return pd.concat([both, pay], ignore_index=True).sort_values(["remittance_date", "pos"], kind="stable")


def _adyen(profile: HotelProfile, t: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One settlement batch per bank day (booking date), ending with its merchant payout."""
    if t.empty:
        return pd.DataFrame()
    hotel = profile.hotel
    v = _ticket_lines(t, "adyen", FEE_BPS["adyen"], fixed=ADYEN_FIXED_FEE)
    bday = pd.to_datetime(t["business_date"]).to_numpy().astype("datetime64[D]")
    booked = next_bank_day(bday, 1)
    first = int(rng.integers(100, 900))
    batches = {d: str(first + i) for i, d in enumerate(sorted(set(booked)))}
    batch = np.array([batches[d] for d in booked], dtype=object)
    account = profile.adyen_account
    psp, modification = references(rng, len(t)), references(rng, len(t))
    kind = np.where(v["line_type"] == "refund", "Refunded", "Settled").astype(object)
    ids = np.array([f"{hotel.hotel_id}:{account}:{b}:{p}:{k}:{m}" for b, p, k, m in
                    zip(batch, psp, kind, modification, strict=True)], dtype=object)
    fee = -v["commission"]
    lines = _frame(
        len(t), remittance_line_id=ids, hotel_id=hotel.hotel_id, provider="adyen", remittance_id=batch,
        payout_id=np.array([f"{account}:{b}" for b in batch], dtype=object), merchant_id=account,
        line_type=v["line_type"], txn_at=t["txn_at"].to_numpy(), business_date=t["business_date"].to_numpy(),
        remittance_date=_dates(booked), card_brand=t["card_brand"].to_numpy(), gross_cents=v["gross"],
        fee_cents=fee, net_cents=v["gross"] + fee, currency=hotel.currency, psp_reference=psp,
        merchant_reference=t["remise_ref"].to_numpy(), key_ticket=t["key"].to_numpy(),
        delta=t["remit_delta"].to_numpy(), adyen_type=kind, modification_reference=modification,
        pos=np.arange(len(t)))
    by_batch = lines.groupby("remittance_id", sort=False).agg(
        net=("net_cents", "sum"), payout_id=("payout_id", "first"), remittance_date=("remittance_date", "first"),
        pos=("pos", "max")).reset_index()
    payouts = _frame(
        len(by_batch), hotel_id=hotel.hotel_id, provider="adyen", remittance_id=by_batch["remittance_id"].to_numpy(),
        payout_id=by_batch["payout_id"].to_numpy(), merchant_id=account, line_type="payout",
        business_date=by_batch["remittance_date"].to_numpy(), remittance_date=by_batch["remittance_date"].to_numpy(),
        net_cents=-by_batch["net"].to_numpy(), currency=hotel.currency, delta=0, adyen_type="MerchantPayout",
        pos=by_batch["pos"] + .5)
    return pd.concat([lines, payouts], ignore_index=True).sort_values(["remittance_date", "pos"], kind="stable")
