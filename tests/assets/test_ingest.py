"""Ingestion through the real Dagster machinery: native files in, canonical rows, rejects, file registry
and quarantine out; checks in the UI; and no full card number anywhere (warehouse, event log, logs)."""

import re
from pathlib import Path

import dagster as dg
import pytest

from lettrage.assets import ingest, ingest_checks
from lettrage.config import load_settings
from lettrage.pipelines.partitions import business_date
from lettrage.recon.hotels import Hotel, write_hotels
from lettrage.recon.warehouse import open_warehouse
from lettrage.resources import build_resources

FIXTURES = Path(__file__).parents[1] / "recon" / "readers" / "fixtures"
PANS = ["4111111111111111", "4970101234562001", "5555555555554444"]  # all Luhn-valid


def spaced(pan: str) -> str:
    return " ".join(pan[i:i + 4] for i in range(0, len(pan), 4))


def leaks(text: str) -> list[str]:
    return [p for p in PANS if p in text or spaced(p) in text or p in re.sub(r"[ \-]", "", text)]


def check(name: str):
    return next(c for c in ingest_checks.INGEST_CHECKS if name in {k.name for k in c.check_keys})


@pytest.fixture
def inbox(var_dir):
    settings = load_settings()
    root = settings.inbox_dir
    write_hotels([Hotel("H1", "Hôtel du Port", "Europe/Paris", pms_system="opera")], root / "hotels.csv")

    def deliver(kind, name, content=None):
        (root / "H1" / kind).mkdir(parents=True, exist_ok=True)
        target = root / "H1" / kind / name
        target.write_bytes(content if content is not None else (FIXTURES / name).read_bytes())

    # the code table says 9023 is a terminal payment: its posting without a last 4 breaks a finance rule
    deliver("trx_codes", "trx_codes.csv", (FIXTURES / "trx_codes.csv").read_bytes().replace(b"CB,distance", b"CB,terminal"))
    deliver("pms_postings", "opera_fin_20260105.csv")                 # a card number in a free-text reference
    deliver("pms_postings", "opera_fin_20260105 (1).csv", (FIXTURES / "opera_fin_20260105.csv").read_bytes())
    deliver("pms_postings", "pms_20260105_dump.csv", f"card;{PANS[2]}\nx;y\n".encode())  # unreadable
    tpe = (FIXTURES / "tpe_20260105.csv").read_bytes().replace(b"*****2008", PANS[1].encode())
    tpe += f"002;TPE;1234567;31/02/2026;06:50:00;000130;D\xe9bit;10,00;978;CB;{PANS[1]};C;1;1\r\n".encode("cp1252")
    deliver("tpe_journal", "tpe_20260105.csv", tpe)
    return settings


def test_a_day_is_ingested_with_checks_and_no_card_number_anywhere(inbox, var_dir):
    assets = [ingest.hotels, ingest.trx_codes, ingest.pms_postings, ingest.tpe_transactions,
              check("pms_postings_schema"), check("tpe_transactions_schema"), check("pms_postings_expectations")]
    with dg.instance_for_test(temp_dir=str(var_dir / "dagster_home")) as instance:
        result = dg.materialize(assets, partition_key="2026-01-05", resources=build_resources(), instance=instance)
        assert result.success
        pms = result.asset_materializations_for_node("pms_postings")[0].metadata
        tpe = result.asset_materializations_for_node("tpe_transactions")[0].metadata
        assert (pms["rows"].value, pms["files_read"].value, pms["files_duplicate"].value,
                pms["files_quarantined"].value, pms["card_numbers_masked"].value) == (5, 1, 1, 1, 1)
        assert (tpe["rows_in"].value, tpe["rows_out"].value, tpe["rows_rejected"].value) == (4, 3, 1)
        assert tpe["card_numbers_masked"].value == 2
        assert "not a valid date" in tpe["rejects"].value and "quarantined" in pms["files"].value

        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert evaluations["pms_postings_schema"].passed and evaluations["tpe_transactions_schema"].passed
        rules = evaluations["pms_postings_expectations"]
        assert not rules.passed and rules.severity == dg.AssetCheckSeverity.WARN
        assert "| card payments carry a last 4 | ❌ failed | 4 | 1 |" in rules.metadata["rules"].value
        assert "| one currency per hotel: the hotel's own | ✅ passed |" in rules.metadata["rules"].value

        events = "\n".join(repr(e) for e in instance.all_logs(result.run_id))
        assert "card_numbers_masked" in events and leaks(events) == []

    quarantined = inbox.quarantine_dir / "H1" / "pms_postings" / "pms_20260105_dump.csv"
    reason = quarantined.with_name(quarantined.name + ".reason.txt").read_text()
    assert "missing columns" in reason and "************4444" in reason and leaks(reason) == []

    with open_warehouse(inbox.warehouse_path) as conn:
        files = dict(conn.execute("SELECT file_name, status FROM inbox_files").fetchall())
        assert files == {"opera_fin_20260105.csv": "read", "opera_fin_20260105 (1).csv": "duplicate",
                         "pms_20260105_dump.csv": "quarantined", "tpe_20260105.csv": "read"}
        assert conn.execute("SELECT line_no, reason FROM rejects").fetchall() == [
            (5, "date '31/02/2026' is not a valid date (this file writes DD/MM/YYYY)")]
        assert conn.execute("SELECT card_last4 FROM tpe_transactions ORDER BY txn_at").fetchall()[0] == ("2001",)
        texts = []
        for table, column in conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                          "WHERE data_type = 'VARCHAR'").fetchall():
            texts += [str(v) for (v,) in conn.execute(f'SELECT "{column}" FROM {table}').fetchall()]
        conn.execute("CHECKPOINT")
    assert leaks("\n".join(texts)) == []
    for path in [inbox.warehouse_path, *(var_dir / "dagster_home").rglob("*")]:
        if path.is_file():
            data = path.read_bytes().decode("latin-1")
            assert leaks(data) == [], path


def test_bad_rows_in_the_warehouse_stop_the_run_before_the_ledger(inbox, var_dir):
    with open_warehouse(inbox.warehouse_path) as conn:  # another hotel's row, stored wrong by someone else
        conn.execute("INSERT INTO pms_postings (posting_id, hotel_id, source_file, ingested_at, business_date, "
                     "posted_at, trx_code, amount_cents, currency, card_brand) VALUES ('X1', 'H9', 'f', now(), "
                     "DATE '2026-01-05', TIMESTAMPTZ '2026-01-05 10:00:00+00', '9012', 100, 'EUR', 'Visa Electron')")
    reached = []

    @dg.asset(deps=["pms_postings"], partitions_def=business_date, group_name="matching", kinds={"python"})
    def ledger_probe():
        """Stands for the matching step that must not see bad data."""
        reached.append(True)

    result = dg.materialize([ingest.pms_postings, check("pms_postings_schema"), ledger_probe],
                            partition_key="2026-01-05", resources=build_resources(), raise_on_error=False,
                            instance=dg.DagsterInstance.ephemeral())
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "pms_postings_schema")
    assert not evaluation.passed and "Visa Electron" in evaluation.metadata["failure_cases"].value
    assert reached == []
