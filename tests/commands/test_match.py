"""`lettrage match` on canonical files: three parquet files and one line of JSON."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from lettrage.cli import main
from lettrage.recon.bench.generate import generate


def test_match_writes_outputs_and_one_json_line(tmp_path, capsys):
    generate(tmp_path / "in", 5_000, "psp_no_last4", seed=2)
    d = tmp_path / "in"
    code = main(["match", "--pms", str(d / "pms_postings.parquet"), "--tpe", str(d / "tpe_transactions.parquet"),
                 "--psp", str(d / "psp_transactions.parquet"), "--hotels", str(d / "hotels.csv"),
                 "--out", str(tmp_path / "out"), "--threads", "1", "--memory-limit", "500MB"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["rows_read"]["psp_transactions"] > 0
    assert summary["matched_left_records_by_stage"]["pms_psp:reference"] > 0
    cm = pq.read_table(tmp_path / "out" / "card_matches.parquet")
    assert {"match_id", "leg", "side", "record_id", "stage", "rule", "flags"} <= set(cm.column_names)
    s = pq.read_table(tmp_path / "out" / "daily_summary.parquet").to_pandas()
    assert int(s["ecart_cents"].sum()) == summary["ecart_cents"] == summary["pms_cents"] - summary["taken_cents"]


def test_match_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "p.parquet"
    bad.write_text("not parquet")
    code = main(["match", "--pms", str(bad), "--tpe", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(bad) in err[0]
    assert main(["match", "--pms", str(bad), "--tpe", str(bad), "--out", "o", "--memory-limit", "lots"]) == 2


def test_a_hotel_list_with_no_hotel_is_no_hotel_list(tmp_path, capsys):
    """A hotels.csv with its header and no row (a new group's export): every hotel is run on the
    defaults, as with no list at all, not a traceback."""
    generate(tmp_path / "in", 1_000, "default", seed=3)
    d = tmp_path / "in"
    (d / "empty.csv").write_text("hotel_id,name,timezone,night_audit_time,match_window_minutes\n")
    files = ["--pms", str(d / "pms_postings.parquet"), "--tpe", str(d / "tpe_transactions.parquet")]
    assert main(["match", *files, "--hotels", str(d / "empty.csv"), "--out", str(tmp_path / "a")]) == 0
    assert json.loads(capsys.readouterr().out)["rows_read"]["hotels"] == 0
    assert main(["match", *files, "--out", str(tmp_path / "b")]) == 0
    for name in ("card_matches", "exceptions", "daily_summary"):
        a, b = (pq.read_table(tmp_path / run / f"{name}.parquet") for run in ("a", "b"))
        assert a.num_rows > 0 and a.equals(b), name


def test_a_folder_of_parts_and_a_gzipped_csv_read_as_the_single_files(tmp_path, capsys):
    """Postings as a dataset written by parts, one folder a business date (hive partitions, the date
    only in the folder's name), tickets as a gzipped CSV: the same matches, exceptions and days as
    the same rows in two parquet files. A folder with no such file is one line naming it."""
    generate(tmp_path / "in", 2_000, "default", seed=5)
    d = tmp_path / "in"
    ds.write_dataset(pq.read_table(d / "pms_postings.parquet"), d / "postings", format="parquet",
                     partitioning=["business_date"], partitioning_flavor="hive")
    with gzip.open(d / "tickets.csv.gz", "wb") as fh:
        pcsv.write_csv(pq.read_table(d / "tpe_transactions.parquet"), fh)
    hotels = ["--hotels", str(d / "hotels.csv")]
    assert main(["match", "--pms", str(d / "pms_postings.parquet"), "--tpe", str(d / "tpe_transactions.parquet"),
                 *hotels, "--out", str(tmp_path / "files")]) == 0
    assert main(["match", "--pms", str(d / "postings"), "--tpe", str(d / "tickets.csv.gz"), *hotels,
                 "--out", str(tmp_path / "parts")]) == 0
    files, parts = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())
    assert len(list((d / "postings").iterdir())) > 10 and parts["rows_read"] == files["rows_read"]
    for name, key in (("card_matches", ["match_id", "record_id"]), ("exceptions", ["exception_id"]),
                      ("daily_summary", ["hotel_id", "business_date", "card_brand"])):
        a, b = (pq.read_table(tmp_path / run / f"{name}.parquet").sort_by([(k, "ascending") for k in key])
                for run in ("files", "parts"))
        assert a.num_rows > 0 and a.equals(b), name
    (tmp_path / "nothing").mkdir()
    assert main(["match", "--pms", str(tmp_path / "nothing"), "--tpe", str(d / "tickets.csv.gz"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{tmp_path / 'nothing'}: a folder with no parquet or CSV file" in err[0]


def test_match_reads_canonical_files_written_by_another_tool(tmp_path, capsys):
    """Files another generator could write within DOMAIN.md: CSV with ISO timestamps, brands as
    people spell them, masked card numbers in card_last4, 'SALE' and 'Terminal' for 'sale' and
    'terminal', a ticket of no stated type, a bare hotel list (ids, zone, audit time with seconds).
    The engine reads them as it reads its own."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "pms.csv").write_text(
        "posting_id,hotel_id,business_date,posted_at,amount_cents,card_last4,card_brand,channel\n"
        "P1,HX,2026-03-02,2026-03-02T09:04:00+01:00,12000,XXXX XXXX XXXX 4242,Visa,Terminal\n"
        "P2,HX,2026-03-02,2026-03-02T09:30:00+01:00,8000,************0007,American Express,terminal\n"
        "P3,HX,2026-03-02,2026-03-02T10:00:00+01:00,5000,1881,MasterCard,terminal\n"
        "P4,HX,2026-03-02,2026-03-02T11:00:00+01:00,7000,5555,Visa,terminal\n")
    (d / "tpe.csv").write_text(
        "tpe_txn_id,hotel_id,terminal_id,txn_at,business_date,txn_type,amount_cents,card_brand,card_last4\n"
        "T1,HX,TPE1,2026-03-02T08:01:00Z,2026-03-02,SALE,12000,CB,4242\n"
        "T2,HX,TPE1,2026-03-02T08:29:00Z,2026-03-02,,8000,AMEX,0007\n"
        "T3,HX,TPE1,2026-03-02T08:58:00Z,2026-03-02,sale,5000,mc,1881\n"
        "T4,HX,TPE1,2026-03-02T09:59:00Z,2026-03-02,sale,7000,Mastercard,5555\n")
    (d / "hotels.csv").write_text("hotel_id,timezone,night_audit_time\nHX,Europe/Paris,04:00:00\n")
    code = main(["match", "--pms", str(d / "pms.csv"), "--tpe", str(d / "tpe.csv"), "--hotels", str(d / "hotels.csv"),
                 "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["matched_left_records_by_stage"] == {"pms_tpe:exact": 4}
    # CB on the terminal, Visa on the folio: co-badged, no flag; Visa against Mastercard is one.
    assert summary["exceptions_by_code"] == {"BRAND_MISMATCH": 1}
    exc = pq.read_table(tmp_path / "out" / "exceptions.parquet").to_pylist()
    assert [(e["record_id"], e["card_brand"]) for e in exc] == [("P4", "CB_VISA_MC")]
    assert summary["ecart_cents"] == 0


def test_psp_and_remittance_files_without_business_dates_get_their_hotels_days(tmp_path, capsys):
    """DOMAIN.md gives PSP payments and remittance lines no business_date: a file laid out so is
    read with each row's business date on its hotel's clock (its time, else the remittance date),
    and matched as the same file with the dates written in."""
    import pyarrow.compute as pc

    from lettrage.recon.hotels import Hotel

    d = tmp_path / "in"
    generate(d, 6_000, "remittances", seed=4)
    generate(tmp_path / "psp", 6_000, "psp_no_last4", seed=4)
    psp = pq.read_table(tmp_path / "psp" / "psp_transactions.parquet")
    remittances = pq.read_table(d / "remittances.parquet")
    # the hotel far from UTC, its audit at 04:30: the business dates of payments read on its clock
    # (the readers' `Hotel.business_dates`) are written in, for many another day than UTC's
    hotel = Hotel("H00000", "H00000", "Pacific/Auckland", night_audit_time="04:30")
    (d / "hotels.csv").write_text("hotel_id,timezone,night_audit_time\nH00000,Pacific/Auckland,04:30\n")
    assert pc.unique(psp.column("hotel_id")).to_pylist() == pc.unique(remittances.column("hotel_id")).to_pylist() \
        == ["H00000"]

    def dated(table, time, dates=None):
        days = hotel.business_dates(table.column(time).to_pandas()).to_list() if dates is None else dates
        return table.set_column(table.schema.get_field_index("business_date"), "business_date",
                                pa.array(days, pa.date32()))

    psp = dated(psp, "event_at")
    assert pc.sum(pc.not_equal(psp.column("business_date"), pc.cast(psp.column("event_at"), pa.date32()))).as_py() \
        > psp.num_rows / 5
    pq.write_table(psp, d / "psp_transactions.parquet")
    # a remittance line without its time: its business date is its remittance date
    remittances = dated(remittances, "txn_at")
    days = remittances.column("business_date").to_pylist()
    days[0] = remittances.column("remittance_date")[0].as_py()
    times = remittances.column("txn_at").to_pylist()
    times[0] = None
    remittances = dated(remittances.set_column(remittances.schema.get_field_index("txn_at"), "txn_at",
                                               pa.array(times, remittances.schema.field("txn_at").type)), "", days)
    pq.write_table(remittances, d / "remittances.parquet")
    for name in ("psp_transactions", "remittances"):
        table = pq.read_table(d / f"{name}.parquet")
        pq.write_table(table.drop_columns(["business_date"]), d / f"{name}_domain.parquet")
    outputs = []
    for suffix in ("", "_domain"):
        code = main(["match", "--pms", str(d / "pms_postings.parquet"), "--tpe", str(d / "tpe_transactions.parquet"),
                     "--psp", str(d / f"psp_transactions{suffix}.parquet"),
                     "--remittances", str(d / f"remittances{suffix}.parquet"), "--hotels", str(d / "hotels.csv"),
                     "--out", str(tmp_path / f"out{suffix}")])
        assert code == 0, capsys.readouterr().err
        outputs.append(json.loads(capsys.readouterr().out))
    written, derived = outputs
    assert derived["rows_read"]["psp_transactions"] == psp.num_rows
    assert derived["rows_read"]["remittances"] == remittances.num_rows
    assert derived["matched_left_records_by_stage"]["tpe_remittance:reference"] > 5_000
    for name in ("card_matches", "exceptions", "daily_summary"):
        assert pq.read_table(tmp_path / "out_domain" / f"{name}.parquet").equals(
            pq.read_table(tmp_path / "out" / f"{name}.parquet")), name
