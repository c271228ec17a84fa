"""Each native format, written by hand from its public description, reads into the right rows."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from lettrage.recon.hotels import Hotel
from lettrage.recon.readers import detect, read_file

FIXTURES = Path(__file__).parent / "fixtures"
PARIS = Hotel("H1", "Hôtel du Port", "Europe/Paris", night_audit_time="03:00", pms_system="opera")
JAN5 = dt.date(2026, 1, 5)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def trx_codes():
    return read_file(FIXTURES / "trx_codes.csv", "trx_codes", PARIS).rows


def read(name, kind, trx_codes=None):
    result = read_file(FIXTURES / name, kind, PARIS, trx_codes=trx_codes)
    assert result.rows_in == len(result.rows) + len(result.rejects)
    return result


def pick(rows: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in r) for r in rows[columns].itertuples(index=False)]


@pytest.mark.parametrize("name, kind, fmt", [
    ("opera_fin_20260105.csv", "pms_postings", "opera_csv"),
    ("trexport_20260105.txt", "pms_postings", "opera_trexport"),
    ("onq_20260105.chr", "pms_postings", "onq"),
    ("protel_20260105.csv", "pms_postings", "protel"),
    ("starlight_20260105.csv", "pms_postings", "starlight"),
    ("opera_resv_20260105.txt", "reservations", "opera_resv"),
    ("tpe_20260105.csv", "tpe_journal", "tpe_csv"),
    ("remises_20260106.csv", "remittances", "cb_remittance"),
    ("adyen_sdr_20260106.csv", "remittances", "adyen_sdr"),
    ("ogone_20260105.xml", "psp_journal", "ogone_xml"),
    ("trx_codes.csv", "trx_codes", "generic"),
])
def test_format_is_recognised_by_content(name, kind, fmt):
    assert detect(FIXTURES / name, kind, PARIS) == fmt


def test_opera_csv_folds_debit_and_credit_into_one_signed_amount(trx_codes):
    r = read("opera_fin_20260105.csv", "pms_postings", trx_codes)
    assert pick(r.rows, ["posting_id", "amount_cents", "card_last4", "card_brand", "channel"]) == [
        ("H1:100001", 25895, "2008", "AMEX", "terminal"),        # guest ledger credit
        ("H1:100002", 13900, "2111", "CB", "terminal"),
        ("H1:100003", -18000, None, None, None),                 # a room charge is a debit
        ("H1:100004", 42330, None, "CB", "distance"),             # deposit ledger credit (VAD)
        ("H1:100005", -419, "8015", "MASTERCARD", "terminal"),   # a refund: debit on the folio
    ]
    # 00:40 on 6 January is still business date 5 January (audit at 03:00), Paris is UTC+1
    second = r.rows.iloc[1]
    assert second["business_date"] == JAN5 and second["posted_at"] == utc("2026-01-05 23:40")
    assert r.rows.iloc[0]["guest_name"] == "Hauke, Adrian" and r.rows.iloc[0]["cashier_name"] == "Adrian Hauke"
    assert r.masked_pans == 1 and r.rows.iloc[3]["reference"] == "paid by **** **** **** 1111 on phone"


def test_opera_trexport_groups_tagged_lines_into_postings(trx_codes):
    r = read("trexport_20260105.txt", "pms_postings", trx_codes)
    assert pick(r.rows, ["posting_id", "trx_code", "amount_cents", "card_last4", "room", "folio_window"]) == [
        ("H1:100001", "9004", 25895, "2008", "306", 1),
        ("H1:100002", "9012", 13900, "2111", "140", 1),
        ("H1:100003", "1000", -18000, None, "306", None),     # 2 x 90.00 of room charge
    ]
    assert list(r.rows["business_date"]) == [JAN5] * 3
    assert list(r.rows["posted_at"]) == [utc("2026-01-05 05:33:33"), utc("2026-01-05 23:40"), utc("2026-01-06 01:10")]


def test_onq_reads_caret_separated_quoted_values_with_us_dates():
    r = read("onq_20260105.chr", "pms_postings")
    assert pick(r.rows, ["posting_id", "business_date", "amount_cents", "card_brand", "card_last4", "confirmation_no"]) == [
        ("H1:T0001", JAN5, 25895, "VISA", "1111", "3141592"),
        ("H1:T0002", JAN5, 132969, "AMEX", "0005", "3141593"),
        ("H1:T0003", JAN5, -4500, "MASTERCARD", "4444", "3141594"),
    ]
    assert r.rows.iloc[1]["posted_at"] == utc("2026-01-05 22:58") and r.rows.iloc[0]["guest_name"] == "Smith, John"


def test_protel_default_layout_reads_windows_1252_with_decimal_commas():
    r = read("protel_20260105.csv", "pms_postings")
    assert r.encoding == "cp1252"
    assert pick(r.rows, ["posting_id", "amount_cents", "guest_name", "card_brand", "card_last4", "source_system"]) == [
        ("H1:70001", 132969, "Müller", "MASTERCARD", "3517", "protel"),
        ("H1:70002", -4500, "Grün", "VISA", "1111", "protel"),
        ("H1:70003", 10000, "Weiß", None, None, "protel"),
    ]
    assert r.rows.iloc[1]["posted_at"] == utc("2026-01-06 00:20")  # 01:20 after midnight, business date 5 Jan


def test_starlight_reads_masks_of_every_shape():
    r = read("starlight_20260105.csv", "pms_postings")
    assert pick(r.rows, ["posting_id", "amount_cents", "card_brand", "card_last4"]) == [
        ("H1:S-1", 25000, "VISA", "2008"), ("H1:S-2", 9990, "MASTERCARD", "4444")]  # "Master Card - VAD"


def test_opera_reservation_export():
    r = read("opera_resv_20260105.txt", "reservations")
    assert pick(r.rows, ["confirmation_no", "status", "arrival_date", "total_cents", "deposit_due_cents", "phone",
                         "non_refundable"]) == [
        ("CONF001", "reserved", dt.date(2026, 1, 20), 54000, 18000, "+33612345678", False),
        ("CONF002", "in_house", dt.date(2026, 1, 4), 31050, 31050, "+33698765432", True),
        ("CONF003", "no_show", dt.date(2026, 1, 5), 12000, None, None, False),  # a national number is not E.164
    ]
    assert set(r.rows["business_date"]) == {JAN5}  # the export's date, from its name


def test_terminal_journal_signs_refunds_and_keeps_the_remise_reference():
    r = read("tpe_20260105.csv", "tpe_journal")
    assert pick(r.rows, ["tpe_txn_id", "txn_type", "amount_cents", "card_brand", "card_last4", "entry_mode",
                         "remise_ref", "business_date"]) == [
        ("H1:002:20260105:000123", "sale", 25895, "AMEX", "2008", "chip", "00200012301C", JAN5),
        ("H1:003:20260106:000045", "sale", 13900, "CB", "2111", "contactless", "00300004501@", JAN5),
        ("H1:002:20260105:000124", "refund", -419, "CB", "8015", "chip", "00200012401C", JAN5),
    ]
    assert r.rows.iloc[0]["terminal_label"] == "TPE Hébergement (002)" and r.rows.iloc[0]["currency"] == "EUR"


def test_cb_remittance_lines_fees_and_payout():
    r = read("remises_20260106.csv", "remittances")
    assert pick(r.rows, ["line_type", "gross_cents", "fee_cents", "net_cents", "remise_ref", "business_date"]) == [
        ("sale", 13900, -42, 13858, "00300004501@", JAN5),
        ("refund", -419, None, -419, "00200012401C", JAN5),
        ("payout", None, None, -13439, None, dt.date(2026, 1, 6)),
    ]
    assert r.rows["net_cents"].sum() == 0  # a remise's lines and its payout balance
    assert set(r.rows["value_date"]) == {dt.date(2026, 1, 8)}


def test_adyen_settlement_details_report():
    r = read("adyen_sdr_20260106.csv", "remittances")
    assert pick(r.rows, ["line_type", "gross_cents", "fee_cents", "net_cents", "card_brand", "merchant_reference"]) == [
        ("sale", 18000, -108, 17892, "VISA", "CONF001"),
        ("refund", -5000, 0, -5000, "MASTERCARD", "CONF007"),   # mc_applepay
        ("fee", None, None, -120, None, None),
        ("payout", None, None, -12772, None, None),
    ]
    assert r.rows["net_cents"].sum() == 0 and set(r.rows["remittance_id"]) == {"42"}
    assert r.rows.iloc[0]["txn_at"] == utc("2026-01-05 13:03:11")  # CET
    assert set(r.rows["remittance_date"]) == {dt.date(2026, 1, 6)}  # the batch's payout date


def test_ogone_download_reply():
    r = read("ogone_20260105.xml", "psp_journal")
    assert pick(r.rows, ["order_id", "psp_reference", "operation", "status", "amount_cents", "card_brand",
                         "card_last4", "link_id"]) == [
        ("CONF001", "3012345678", "sale", "paid", 18000, "VISA", "1111", "L-0001"),
        ("CONF002", "3012345679", "authorisation", "authorised", 31050, "MASTERCARD", "4444", None),
        ("CONF009", "3012345670", "refund", "refunded", -7500, "AMEX", "0005", None),
        ("CONF010", "3012345671", "sale", "refused", 9900, "CB", "2008", None),
    ]
    assert r.rows.iloc[0]["event_at"] == utc("2026-01-05 13:03:11")


def test_ids_are_stable_across_reading_the_same_file_again():
    first = read("remises_20260106.csv", "remittances").rows["remittance_line_id"].tolist()
    again = read("remises_20260106.csv", "remittances").rows["remittance_line_id"].tolist()
    assert first == again and len(set(first)) == 3
