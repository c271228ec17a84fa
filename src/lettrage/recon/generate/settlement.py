"""Acquirer remittances: what the terminals' télécollecte brings back, a bank day or a few later.

- French hotels: the CB acquirer's "relevé de remises" (one remise per terminal and télécollecte,
  a line per ticket carrying its "numéro du fichier remis", fees per line), and AMEX direct
  acquiring (one summary of charges per day, paid three days later, with a payment line).
- Other hotels: Adyen, one settlement batch per bank day for every brand, ending with the
  merchant payout line.
Remittance dates fall on bank days (Monday to Friday): Friday's to Sunday's sales come on Monday.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lettrage.recon.generate.group import HotelProfile
from lettrage.recon.generate.guests import padded
from lettrage.recon.generate.truth import Truth

FEE_RATES = {  # commission in basis points of the gross, per provider and brand
    "cb": {"CB": 35, "VISA": 90, "MASTERCARD": 90, "MAESTRO": 90, "JCB": 190, "DINERS": 190, "UNIONPAY": 190},
    "amex": {"AMEX": 240},
    "adyen": {"VISA": 110, "MASTERCARD": 110, "MAESTRO": 100, "AMEX": 260, "JCB": 200, "DINERS": 200,
              "UNIONPAY": 200, "CB": 60},
}
ADYEN_FIXED_FEE = 11  # cents per transaction


def _next_bank_day(days: np.ndarray, after: int = 1) -> np.ndarray:
    """The first bank day at least `after` days later."""
    return np.busday_offset(np.asarray(days, dtype="datetime64[D]") + np.timedelta64(after, "D"), 0,
                            roll="forward")


def provider_of(profile: HotelProfile, brand: np.ndarray) -> np.ndarray:
    if profile.location.acquirer == "cb":
        return np.where(brand == "AMEX", "amex", "cb").astype(object)
    return np.full(len(brand), "adyen", dtype=object)


def remit(profile: HotelProfile, tpe: pd.DataFrame, truth: Truth, rng: np.random.Generator) -> pd.DataFrame:
    """Remittance lines (plus `key`) of the collected tickets, linked to them in the truth."""
    hotel = profile.hotel
    t = tpe[tpe["collected"]].sort_values(["business_date", "terminal_id", "txn_no"], kind="stable")
    t = t.reset_index(drop=True)
    brand = t["card_brand"].to_numpy().astype(object)
    provider = provider_of(profile, brand)
    bday = pd.to_datetime(t["business_date"]).to_numpy().astype("datetime64[D]")
    remittance_date = np.where(provider == "amex", _next_bank_day(bday, 3), _next_bank_day(bday, 1))
    value_date = np.where(provider == "amex", remittance_date, np.busday_offset(remittance_date, 1))
    gross = t["amount_cents"].to_numpy().astype(np.int64) + np.asarray(t["remit_delta"], dtype=np.int64)
    bps = np.array([FEE_RATES[p].get(b, 150) for p, b in zip(provider, brand, strict=True)])
    fee = np.where(gross > 0, np.round(gross * bps / 10_000), 0).astype(np.int64)
    fee = fee + np.where(provider == "adyen", ADYEN_FIXED_FEE, 0)
    # Remise numbers: per terminal and business date (CB), per day (AMEX), per bank day (Adyen).
    batch_key = np.where(provider == "cb", t["terminal_id"].to_numpy().astype(object) + "|" + bday.astype(str),
                         np.where(provider == "amex", bday.astype(str), remittance_date.astype(str))).astype(object)
    batch_key = provider + "|" + batch_key
    first_numbers = {"cb": int(rng.integers(100_000, 900_000)), "amex": int(rng.integers(10_000, 90_000)),
                     "adyen": int(rng.integers(100, 900))}
    order = pd.DataFrame({"p": provider, "k": batch_key, "d": remittance_date}).drop_duplicates("k")
    batch_no = {}
    for p, rows in order.groupby("p", sort=True):
        for i, k in enumerate(rows.sort_values(["d", "k"], kind="stable")["k"]):
            batch_no[k] = f"{first_numbers[p] + i:07d}" if p != "adyen" else str(first_numbers[p] + i)
    remittance_id = np.array([batch_no[k] for k in batch_key], dtype=object)
    payout_id = np.where(provider == "cb", None, np.char.add("P", remittance_date.astype(str)).astype(object))
    merchant = np.where(provider == "cb", t["merchant_id"].to_numpy().astype(object),
                        np.where(provider == "amex", profile.amex_se, profile.adyen_account)).astype(object)
    psp_ref = np.where(provider == "adyen", padded(rng.integers(0, 10**16, size=len(t)), 16), None).astype(object)
    lines = pd.DataFrame({
        "key_ticket": t["key"].to_numpy(),
        "hotel_id": hotel.hotel_id, "provider": provider, "remittance_id": remittance_id, "payout_id": payout_id,
        "merchant_id": merchant, "terminal_id": t["terminal_id"].to_numpy(),
        "line_type": np.where(gross < 0, "refund", "sale").astype(object), "txn_at": t["txn_at"].to_numpy(),
        "business_date": t["business_date"].to_numpy(), "remittance_date": remittance_date,
        "value_date": value_date, "card_brand": brand, "card_last4": t["card_last4"].to_numpy(),
        "gross_cents": gross, "fee_cents": fee, "net_cents": gross - fee, "currency": hotel.currency,
        "auth_code": t["auth_code"].to_numpy(), "remise_ref": t["remise_ref"].to_numpy(),
        "psp_reference": psp_ref,
        "merchant_reference": np.where(provider == "adyen", t["remise_ref"].to_numpy(), None).astype(object),
        "delta": np.asarray(t["remit_delta"], dtype=np.int64), "pos": np.arange(len(t)),
    })
    # The payout closing each AMEX payment and each Adyen batch: the money that reaches the bank.
    paid = lines[lines["provider"] != "cb"]
    payouts = paid.groupby(["provider", "remittance_date", "payout_id"], sort=True).agg(
        net_cents=("net_cents", "sum"), value_date=("value_date", "first"), merchant_id=("merchant_id", "first"),
        remittance_id=("remittance_id", "max")).reset_index()
    payouts = payouts.assign(hotel_id=hotel.hotel_id, line_type="payout", business_date=payouts["remittance_date"],
                             currency=hotel.currency, key_ticket=-1, delta=0, pos=len(t))
    lines = pd.concat([lines, payouts], ignore_index=True)
    lines["remittance_date"] = pd.to_datetime(lines["remittance_date"]).dt.date
    lines["value_date"] = pd.to_datetime(lines["value_date"]).dt.date
    lines["business_date"] = [d.date() if isinstance(d, pd.Timestamp) else d for d in lines["business_date"]]
    lines = lines.sort_values(["provider", "remittance_date", "remittance_id", "pos"], kind="stable")
    lines = lines.reset_index(drop=True)
    lines["line_no"] = lines.groupby(["provider", "remittance_id"]).cumcount() + 1
    lines["remittance_line_id"] = [f"{hotel.hotel_id}-{p}-{r}-{n:04d}" for p, r, n in
                                   zip(lines["provider"], lines["remittance_id"], lines["line_no"], strict=True)]
    lines["key"] = np.arange(len(lines), dtype=np.int64)
    for col in ("gross_cents", "fee_cents", "net_cents"):
        lines[col] = lines[col].astype("Int64")
    ticket = lines["key_ticket"] >= 0
    truth.add("tpe_remittance", "one_to_one", [("tpe", lines.loc[ticket, "key_ticket"].to_numpy())],
              [("rem", lines.loc[ticket, "key"].to_numpy())])
    for _, line in lines[lines["delta"] != 0].iterrows():
        truth.anomaly("REMITTANCE_MISMATCH", "rem", line["key"], [("tpe", line["key_ticket"])],
                      f"remitted {line['gross_cents']} cents, the ticket was {line['gross_cents'] - line['delta']}")
    return lines
