"""A small hotel group's canonical and matching rows, written straight into a warehouse.

Two hotels, a week: card postings of several brands and cashiers, a cash and a transfer posting,
terminal tickets (one never posted, one pre-authorisation), a PSP payment, remittance batches
with fees (one ticket not remitted), the engine's matches (one of them manual) and exceptions
(one resolved by a person). Deterministic: the same call writes the same rows.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.hotels import Hotel
from lettrage.recon.warehouse import open_warehouse, replace_reference, replace_window

HOTELS = [
    Hotel("PAR1", "Hôtel du Parc", "Europe/Paris", night_audit_time="03:00"),
    Hotel("LON1", "Riverside London", "Europe/London", currency="EUR", night_audit_time="02:00"),
]
FIRST_DAY = dt.date(2026, 3, 2)
DAYS = 7
INGESTED_AT = pd.Timestamp("2026-03-10 05:00", tz="UTC")
SCHEMES = {"CB": "CB_VISA_MC", "VISA": "CB_VISA_MC", "MASTERCARD": "CB_VISA_MC", "MAESTRO": "CB_VISA_MC",
           "AMEX": "AMEX", "JCB": "JCB"}

TRX_CODES = [
    # code, label, group, is_payment, brand, channel
    ("9004", "American Express", "Réception", True, "AMEX", "terminal"),
    ("9012", "Visa", "Réception", True, "VISA", "terminal"),
    ("9013", "Mastercard", "Réception", True, "MASTERCARD", "terminal"),
    ("9014", "CB EMV", "Réception", True, "CB", "terminal"),
    ("9015", "JCB", "Réception", True, "JCB", "terminal"),
    ("9016", "Diners", "Réception", True, "DINERS", "terminal"),
    ("9023", "CB VAD", "Back office", True, "CB", "distance"),
    ("9030", "Paiement en ligne", "Back office", True, None, "psp"),  # the card is known at the PSP only
    ("9000", "Espèces", "Réception", True, None, "cash"),
    ("9150", "Transfert arrhes", "Back office", True, None, "transfer"),
]


def _local(hotel: Hotel, day: dt.date, hh: int, mm: int) -> pd.Timestamp:
    # times after midnight still belong to the business date until the night audit
    when = dt.datetime.combine(day + dt.timedelta(days=1 if hh < 3 else 0), dt.time(hh, mm))
    return pd.Timestamp(when, tz=hotel.timezone).tz_convert("UTC")


def frames(corrected_day: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Every table's rows. With `corrected_day`, that day's PMS file is the corrected one: a
    forgotten Visa posting is added and an amount keyed wrongly is fixed."""
    rows: dict[str, list[dict]] = {t: [] for t in (
        "pms_postings", "tpe_transactions", "remittances", "psp_transactions", "card_matches", "exceptions")}
    brands = {code: (brand, channel) for code, _l, _g, _p, brand, channel in TRX_CODES}
    for h_no, hotel in enumerate(HOTELS):
        rng = random.Random(h_no)
        for d_no in range(DAYS):
            day = FIRST_DAY + dt.timedelta(days=d_no)
            tag = f"{hotel.hotel_id}-{day:%m%d}"
            pms_file = f"inbox/{hotel.hotel_id}/pms_postings/pms_{day:%Y%m%d}.csv"
            tpe_file = f"inbox/{hotel.hotel_id}/tpe_journal/tpe_{day:%Y%m%d}.csv"

            def posting(n, code, cents, hh, mm, cashier, last4=None, ref=None, *, tag=tag, day=day,
                        hotel=hotel, pms_file=pms_file):
                brand, channel = brands[code]
                rows["pms_postings"].append(dict(
                    posting_id=f"P-{tag}-{n}", hotel_id=hotel.hotel_id, business_date=day,
                    posted_at=_local(hotel, day, hh, mm), trx_code=code, amount_cents=cents, currency="EUR",
                    card_last4=last4, card_brand=brand, channel=channel, room=str(100 + n), folio_no=f"F{n}",
                    folio_window=1, reservation_id=f"R{n}", confirmation_no=f"C{tag}{n}", guest_name="Guest",
                    cashier_id=cashier, cashier_name={"C1": "Adrian Hauke", "C2": "Colette Berau"}.get(cashier),
                    reference=ref, source_system="generic", source_file=pms_file, ingested_at=INGESTED_AT))
                return f"P-{tag}-{n}"

            def ticket(n, brand, cents, hh, mm, last4, txn_type="sale", *, tag=tag, day=day, hotel=hotel,
                       tpe_file=tpe_file):
                rows["tpe_transactions"].append(dict(
                    tpe_txn_id=f"T-{tag}-{n}", hotel_id=hotel.hotel_id, terminal_id="002",
                    terminal_label="TPE Hébergement (002)", merchant_id="M1", txn_at=_local(hotel, day, hh, mm),
                    business_date=day, txn_type=txn_type, amount_cents=cents, currency="EUR", card_brand=brand,
                    card_last4=last4, entry_mode="chip", auth_code=f"A{n}", remise_ref=f"002{n:06d}01C",
                    dcc_amount_cents=None, dcc_currency=None, tip_cents=None, source_file=tpe_file,
                    ingested_at=INGESTED_AT))
                return f"T-{tag}-{n}"

            amounts = [rng.randint(2_000, 150_000) for _ in range(8)]
            # card-present payments matched one to one, and one split (one posting, two tickets)
            pairs = [
                ("9012", "VISA", 0, 7, 10, "C1", "2111"),
                ("9014", "CB", 1, 9, 40, "C1", "3517"),
                ("9004", "AMEX", 2, 15, 5, "C2", "2008"),
                ("9015", "JCB", 3, 23, 30, "C2", "9434"),
                ("9013", "MASTERCARD", 4, 1, 15, "C2", "8015"),  # after midnight, before the audit
                ("9016", "DINERS", 5, 16, 45, "C2", "7331"),
            ]
            if corrected_day is not None and day == corrected_day:
                amounts[0] += 1_000  # the corrected file fixes an amount keyed wrongly
            matches, exceptions = rows["card_matches"], rows["exceptions"]
            for n, (code, brand, a, hh, mm, cashier, last4) in enumerate(pairs):
                pid = posting(n, code, amounts[a], hh, mm, cashier, last4)
                tid = ticket(n, "CB" if brand == "VISA" else brand, amounts[a], hh, mm - 3 if mm >= 3 else mm,
                             last4)
                stage = "manual" if (n == 5 and d_no == 1) else "exact"
                for side, rid in (("left", pid), ("right", tid)):
                    matches.append(dict(match_id=f"M-{tag}-{n}", hotel_id=hotel.hotel_id, business_date=day,
                                        leg="pms_tpe", side=side, record_id=rid, stage=stage,
                                        rule="same card, amount, brand family within window" if stage == "exact"
                                        else "matched by a person",
                                        time_delta_s=180, amount_delta_cents=0,
                                        flags=["LATE_POSTING"] if n == 4 else []))
            # split tender: one posting of 300.00 paid with two tickets
            pid = posting(6, "9013", 30_000, 11, 0, "C1", "4242")
            t1 = ticket(6, "MASTERCARD", 18_000, 10, 55, "4242")
            t2 = ticket(7, "MASTERCARD", 12_000, 10, 56, "4242")
            for side, rid in (("left", pid), ("right", t1), ("right", t2)):
                matches.append(dict(match_id=f"M-{tag}-split", hotel_id=hotel.hotel_id, business_date=day,
                                    leg="pms_tpe", side=side, record_id=rid, stage="split",
                                    rule="one posting, two tickets", time_delta_s=300, amount_delta_cents=0,
                                    flags=[]))
            # a refund: the PMS posts it negative, this terminal journal (and its acquirer) unsigned
            refund_post = posting(13, "9012", -2_000, 17, 0, "C1", "3333")
            refund_ticket = ticket(10, "CB", 2_000, 16, 58, "3333", txn_type="refund")
            for side, rid in (("left", refund_post), ("right", refund_ticket)):
                matches.append(dict(match_id=f"M-{tag}-refund", hotel_id=hotel.hotel_id, business_date=day,
                                    leg="pms_tpe", side=side, record_id=rid, stage="exact", rule="refund",
                                    time_delta_s=120, amount_delta_cents=0, flags=[]))
            # a ticket never posted on a folio, and a pre-authorisation (not money)
            lost = ticket(8, "VISA", amounts[6], 19, 20, "1111")
            exceptions.append(dict(exception_id=f"E-{tag}-1", hotel_id=hotel.hotel_id, business_date=day,
                                   code="MISSING_IN_PMS", record_kind="tpe_transaction", record_id=lost,
                                   amount_cents=amounts[6], detail="no posting for this ticket",
                                   opened_at=INGESTED_AT, resolved_at=None, resolution=None))
            ticket(9, "VISA", 50_000, 14, 0, "5555", txn_type="preauth")
            # a posting with no ticket; on day 2 a person resolved it (the guest paid cash)
            orphan = posting(7, "9012", amounts[7], 20, 10, "C1", "6060")
            resolved = d_no == 1
            exceptions.append(dict(exception_id=f"E-{tag}-2", hotel_id=hotel.hotel_id, business_date=day,
                                   code="MISSING_IN_TPE", record_kind="pms_posting", record_id=orphan,
                                   amount_cents=amounts[7], detail="no ticket for this posting",
                                   opened_at=INGESTED_AT,
                                   resolved_at=pd.Timestamp("2026-03-05 09:00", tz="UTC") if resolved else None,
                                   resolution="paid cash, posting corrected" if resolved else None))
            # VAD and online payments, cash and a deposit transfer (not card money)
            posting(8, "9023", 12_345, 8, 5, "C1", "7777")
            online = posting(9, "9030", 25_000, 12, 30, "C2", None, ref=f"ORD-{tag}")
            posting(10, "9000", 4_000, 13, 0, "C1")
            posting(11, "9150", 25_000, 14, 30, "C2")
            if corrected_day is not None and day == corrected_day:
                posting(12, "9012", 8_800, 21, 0, "C1", "2468")  # the posting the first file forgot
            psp_file = f"inbox/{hotel.hotel_id}/psp_journal/psp_{day:%Y%m%d}.csv"
            for n, (op, status, cents) in enumerate((("authorisation", "authorised", 25_000),
                                                     ("sale", "paid", 25_000))):
                rows["psp_transactions"].append(dict(
                    psp_txn_id=f"S-{tag}-{n}", hotel_id=hotel.hotel_id, provider="ogone", order_id=f"ORD-{tag}",
                    link_id=f"L-{tag}", psp_reference=f"PAY{n}", operation=op, status=status, status_code="9",
                    event_at=_local(hotel, day, 12, 20 + n), business_date=day, amount_cents=cents,
                    currency="EUR", card_brand="VISA", card_last4="4000", auth_code="X1",
                    source_file=psp_file, ingested_at=INGESTED_AT))
            for side, rid in (("left", online), ("right", f"S-{tag}-1")):
                matches.append(dict(match_id=f"M-{tag}-psp", hotel_id=hotel.hotel_id, business_date=day,
                                    leg="pms_psp", side=side, record_id=rid, stage="reference",
                                    rule="order reference", time_delta_s=600, amount_delta_cents=0, flags=[]))
            # the acquirer remits every sale ticket but one, in one batch per day, with fees
            remitted = [r for r in rows["tpe_transactions"]
                        if r["hotel_id"] == hotel.hotel_id and r["business_date"] == day
                        and r["txn_type"] in ("sale", "refund") and r["tpe_txn_id"] != lost]
            batch = f"RB{day:%m%d}{h_no}"
            rem_file = f"inbox/{hotel.hotel_id}/remittances/remises_{day:%Y%m%d}.csv"
            for n, t in enumerate(remitted):
                fee = t["amount_cents"] // 100 if t["txn_type"] == "sale" else 0
                line_id = f"L-{tag}-{n}"
                rows["remittances"].append(dict(
                    remittance_line_id=line_id, hotel_id=hotel.hotel_id, provider="cb", remittance_id=batch,
                    payout_id=None, merchant_id="M1", terminal_id="002", line_type=t["txn_type"], txn_at=t["txn_at"],
                    business_date=day, remittance_date=day + dt.timedelta(days=1),
                    value_date=day + dt.timedelta(days=2), card_brand=t["card_brand"],
                    card_last4=t["card_last4"], gross_cents=t["amount_cents"], fee_cents=fee,
                    net_cents=t["amount_cents"] - fee, currency="EUR", auth_code=t["auth_code"],
                    remise_ref=t["remise_ref"], psp_reference=None, merchant_reference=None,
                    source_file=rem_file, ingested_at=INGESTED_AT))
                for side, rid in (("left", t["tpe_txn_id"]), ("right", line_id)):
                    matches.append(dict(match_id=f"R-{tag}-{n}", hotel_id=hotel.hotel_id, business_date=day,
                                        leg="tpe_remittance", side=side, record_id=rid, stage="reference",
                                        rule="numéro du fichier remis", time_delta_s=None,
                                        amount_delta_cents=0, flags=[]))
            exceptions.append(dict(exception_id=f"E-{tag}-3", hotel_id=hotel.hotel_id, business_date=day,
                                   code="NOT_REMITTED", record_kind="tpe_transaction", record_id=lost,
                                   amount_cents=amounts[6], detail="not in any remittance",
                                   opened_at=INGESTED_AT, resolved_at=None, resolution=None))
    # columns the engine added since (and this sample does not set) stay empty
    out = {t: schemas.model(t).validate(pd.DataFrame(r).reindex(columns=schemas.columns(t))) for t, r in rows.items()}
    out["hotels"] = schemas.model("hotels").validate(pd.DataFrame([vars(h) for h in HOTELS]))
    out["trx_codes"] = schemas.model("trx_codes").validate(pd.DataFrame(
        [dict(hotel_id=h.hotel_id, trx_code=c, label=lab, group_name=g, is_payment=p, card_brand=b, channel=ch)
         for h in HOTELS for c, lab, g, p, b, ch in TRX_CODES]))
    engine = expected_daily_summary(out).rename(columns={"card_scheme": "card_brand"})
    engine["exception_count"] = engine["open_exception_count"]  # the engine counts the open ones
    out["daily_summary"] = schemas.model("daily_summary").validate(engine.reindex(columns=schemas.columns("daily_summary")))
    return out


def scheme(brand) -> str:
    return SCHEMES.get(brand, "OTHER") if isinstance(brand, str) else "OTHER"


def card_postings(t) -> pd.DataFrame:
    """Card payments posted in the PMS, with their scheme: their own card's, or for a posting with
    no brand (an online payment code) the card of the payment it matched."""
    p = t["pms_postings"]
    card = p["channel"].isin(["terminal", "distance", "psp"]) | (
        p["channel"].isna() & (p["card_last4"].notna() | p["card_brand"].notna()))
    m = t["card_matches"].query("leg in ['pms_tpe', 'pms_psp']")
    brands = pd.concat([t["tpe_transactions"].set_index("tpe_txn_id")["card_brand"],
                        t["psp_transactions"].set_index("psp_txn_id")["card_brand"]])
    partner = (m.query("side == 'left'")[["match_id", "record_id"]]
               .merge(m.query("side == 'right'")[["match_id", "record_id"]], on="match_id", suffixes=("", "_partner"))
               .sort_values("record_id_partner").drop_duplicates("record_id"))
    partner_brand = partner.set_index("record_id")["record_id_partner"].map(brands)
    own = p["card_brand"].where(p["card_brand"].notna(), p["posting_id"].map(partner_brand))
    return p[card].assign(card_scheme=own[card].map(scheme))


def expected_daily_summary(t) -> pd.DataFrame:
    """The daily summary per hotel, business date and card family, computed here in pandas (it is
    also what the matching engine writes into its own `daily_summary`)."""
    posts = card_postings(t)
    tpe = t["tpe_transactions"].query("txn_type in ['sale', 'refund', 'completion', 'cancel']")
    tpe = tpe.assign(card_scheme=tpe["card_brand"].map(scheme),
                     amount_cents=tpe["amount_cents"].where(~tpe["txn_type"].isin(["refund", "cancel"]),
                                                            -tpe["amount_cents"].abs()))
    psp = t["psp_transactions"]
    psp = psp[((psp["operation"].isin(["sale", "capture"])) & (psp["status"] == "paid"))
              | ((psp["operation"] == "refund") & psp["status"].isin(["paid", "refunded"]))]
    psp = psp.assign(card_scheme=psp["card_brand"].map(scheme),
                     amount_cents=psp["amount_cents"].where(psp["operation"] != "refund", -psp["amount_cents"].abs()))
    rem = t["remittances"].query("line_type in ['sale', 'refund']")
    rem = rem.assign(card_scheme=rem["card_brand"].map(scheme),
                     gross_cents=rem["gross_cents"].where(rem["line_type"] != "refund", -rem["gross_cents"].abs()))
    keys = ["hotel_id", "business_date", "card_scheme"]
    matched_ids = set(t["card_matches"].query("leg in ['pms_tpe', 'pms_psp'] and side == 'left'")["record_id"])
    parts = [
        posts.groupby(keys)["amount_cents"].sum().rename("pms_cents"),
        tpe.groupby(keys)["amount_cents"].sum().rename("tpe_cents"),
        psp.groupby(keys)["amount_cents"].sum().rename("psp_cents"),
        rem.groupby(keys)["gross_cents"].sum().rename("remitted_cents"),
        posts.groupby(keys)["posting_id"].count().rename("pms_count"),
        posts[posts["posting_id"].isin(matched_ids)].groupby(keys)["posting_id"].count().rename("matched_count"),
    ]
    record_scheme = pd.concat([
        posts[["posting_id", "card_scheme"]].rename(columns={"posting_id": "record_id"}),
        t["tpe_transactions"].assign(card_scheme=lambda f: f["card_brand"].map(scheme))[["tpe_txn_id", "card_scheme"]]
        .rename(columns={"tpe_txn_id": "record_id"}),
    ])
    exc = t["exceptions"].merge(record_scheme, on="record_id", how="left").fillna({"card_scheme": "OTHER"})
    parts.append(exc.groupby(keys)["exception_id"].count().rename("exception_count"))
    parts.append(exc[exc["resolved_at"].isna()].groupby(keys)["exception_id"].count().rename("open_exception_count"))
    days = pd.concat([p.reset_index()[["hotel_id", "business_date"]] for p in parts]).drop_duplicates()
    grid = days.merge(pd.DataFrame({"card_scheme": ["CB_VISA_MC", "AMEX", "JCB", "OTHER"]}), how="cross")
    out = grid.set_index(keys).join(parts).fillna(0).astype("int64").reset_index()
    out["ecart_cents"] = out["pms_cents"] - out["tpe_cents"] - out["psp_cents"]
    return out


def write(path, corrected_day: dt.date | None = None, only_day: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Write the group's rows into the warehouse at `path` (all days, or only `only_day`)."""
    tables = frames(corrected_day)
    start = only_day or FIRST_DAY
    end = (only_day or FIRST_DAY + dt.timedelta(days=DAYS - 1)) + dt.timedelta(days=1)
    with open_warehouse(path) as conn:
        replace_reference(conn, "hotels", tables["hotels"])
        replace_reference(conn, "trx_codes", tables["trx_codes"])
        for table, frame in tables.items():
            if table in ("hotels", "trx_codes"):
                continue
            part = frame[(frame["business_date"] >= start) & (frame["business_date"] < end)]
            replace_window(conn, table, part, start, end)
    return tables


def reconcile(warehouse, reports_dir, first: dt.date, last: dt.date, instance=None):
    """Build the marts and reports of [first, last] in one Dagster run, as a backfill does."""
    import dataclasses

    import dagster as dg

    from lettrage.assets.marts import finance_marts
    from lettrage.assets.reports import finance_reports
    from lettrage.config import load_settings
    from lettrage.resources import build_resources

    settings = dataclasses.replace(load_settings(), var_dir=reports_dir.parent, warehouse_path=warehouse,
                                   reports_dir=reports_dir)
    resources = build_resources(settings)
    return dg.materialize(
        [finance_marts, finance_reports],
        resources={k: resources[k] for k in ("dbt", "warehouse", "reports")},
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": first.isoformat(),
              "dagster/asset_partition_range_end": last.isoformat()},
        raise_on_error=False,
    )


LAST_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)


def failures(result) -> list[str]:
    """Why a run failed, for assertion messages."""
    return [str(e.event_specific_data.error.message if e.event_specific_data and getattr(
        e.event_specific_data, "error", None) else e.message) for e in result.all_events if e.is_failure]
