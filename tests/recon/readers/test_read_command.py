"""`lettrage read`: files in, a canonical parquet table out, what was read and rejected printed."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd

from lettrage.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_read_writes_the_canonical_table_and_says_what_it_read(tmp_path, capsys):
    out = tmp_path / "tpe.parquet"
    broken = tmp_path / "tpe_20260106.csv"
    broken.write_bytes((FIXTURES / "tpe_20260105.csv").read_bytes().replace(b"05/01/2026", b"32/01/2026", 1))
    code = main(["read", "--kind", "tpe_journal", "--format", "auto", str(FIXTURES / "tpe_20260105.csv"),
                 str(broken), str(FIXTURES / "tpe_20260105.csv"), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "tpe_20260105.csv: tpe_csv (cp1252), 3 rows: 3 read, 0 rejected" in printed
    assert "tpe_20260106.csv: tpe_csv (cp1252), 3 rows: 2 read, 1 rejected" in printed
    assert "  line 2: date '32/01/2026' is not a valid date (this file writes DD/MM/YYYY)" in printed
    assert "same content as" in printed and "not read twice" in printed
    assert "2 row(s) also in a file given later: the later rows are kept" in printed  # the same tickets again
    assert "wrote 3 tpe_transactions rows" in printed
    table = pd.read_parquet(out)
    assert len(table) == 3 and str(table["amount_cents"].dtype) == "Int64"
    assert table["txn_at"].dt.tz is not None and table["card_last4"].iloc[0] == "2008"


def test_a_hotel_config_gives_the_hotel_its_codes_and_its_protel_columns(tmp_path, capsys):
    export = tmp_path / "zahlungen.csv"
    export.write_text("Nr;Tag;Zeit;Code;Summe;Karte\n1;05.01.2026;01:20;31;1.329,69;************3517\n"
                      "2;05.01.2026;09:00;32;-45,00;************1111\n", encoding="cp1252")
    config = tmp_path / "hotel.yaml"
    config.write_text("""
hotel: {hotel_id: NYC1, name: Midtown, timezone: America/New_York, currency: USD, night_audit_time: "02:00"}
trx_codes:
  - {trx_code: "31", label: Mastercard, is_payment: true, card_brand: MASTERCARD, channel: terminal}
formats:
  protel:
    columns: {posting_id: Nr, business_date: Tag, time: Zeit, trx_code: Code, amount: Summe, card_number: Karte}
    decimal_comma: true
""")
    out = tmp_path / "pms.parquet"
    code = main(["read", "--kind", "pms_postings", "--format", "protel", "--hotel-config", str(config), str(export),
                 "--out", str(out)])
    assert code == 0, capsys.readouterr()
    rows = pd.read_parquet(out)
    assert rows["hotel_id"].tolist() == ["NYC1", "NYC1"] and rows["currency"].tolist() == ["USD", "USD"]
    assert rows["amount_cents"].tolist() == [132969, -4500]
    assert rows["card_brand"].tolist()[0] == "MASTERCARD" and rows["channel"].tolist()[0] == "terminal"
    assert rows["posted_at"].iloc[0] == pd.Timestamp("2026-01-06 06:20", tz="UTC")  # 01:20 New York, next day
    assert rows["business_date"].tolist() == [dt.date(2026, 1, 5)] * 2


def test_an_unreadable_file_exits_non_zero_naming_file_line_and_problem(tmp_path):
    missing = tmp_path / "tpe.csv"
    missing.write_text("N° TPE;N° transaction;Date;Carte\n002;1;05/01/2026;CB\n", encoding="utf-8")
    run = subprocess.run([str(Path(sys.executable).parent / "lettrage"), "read", "--kind", "tpe_journal", "--format",
                          "tpe_csv", str(missing), "--out", str(tmp_path / "x.parquet")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert f"lettrage read: {missing}:1: missing columns: amount" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_format_that_does_not_hold_the_kind_is_a_one_line_error(tmp_path, capsys):
    code = main(["read", "--kind", "tpe_journal", "--format", "ogone_xml", "x.xml", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "format 'ogone_xml' does not hold tpe_journal (formats for tpe_journal: tpe_csv, generic)" in \
        capsys.readouterr().err
