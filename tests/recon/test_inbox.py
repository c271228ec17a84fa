"""The inbox: re-deliveries are recognised, corrected files replace earlier ones, unreadable files go
to quarantine with their reason, and every file's rows are accounted for."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from lettrage.recon import inbox
from lettrage.recon.hotels import Hotel, write_hotels

FIXTURES = Path(__file__).parent / "readers" / "fixtures"
JAN5, JAN6 = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
PARIS = Hotel("H1", "Hôtel du Port", "Europe/Paris", pms_system="opera")


@pytest.fixture
def box(tmp_path):
    root = tmp_path / "inbox"
    write_hotels([PARIS], root / "hotels.csv")
    return root


def deliver(root: Path, kind: str, name: str, content: bytes | None = None, source: str | None = None,
            age_s: int = 0) -> Path:
    folder = root / "H1" / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if content is not None else (FIXTURES / (source or name)).read_bytes())
    when = path.stat().st_mtime - age_s
    os.utime(path, (when, when))
    return path


def load(root, kind, start=JAN5, end=JAN6, **kw):
    result = inbox.load(root, kind, start, end, {"H1": PARIS}, quarantine_dir=root.parent / "quarantine", **kw)
    for f in result.files:
        assert f["rows_in"] == f["rows_out"] + f["rejected"], f
    return result


def test_the_same_file_delivered_twice_is_read_once(box):
    deliver(box, "tpe_journal", "tpe_20260105.csv", age_s=60)
    deliver(box, "tpe_journal", "tpe_20260105 copie.csv", source="tpe_20260105.csv")
    result = load(box, "tpe_journal")
    assert len(result.rows) == 3
    status = {f["file_name"]: (f["status"], f["detail"]) for f in result.files}
    assert status["tpe_20260105 copie.csv"] == ("duplicate", "same content as tpe_20260105.csv")


def test_a_corrected_file_replaces_the_earlier_one_and_the_replacement_is_recorded(box):
    deliver(box, "tpe_journal", "tpe_20260105.csv", age_s=60)
    corrected = (FIXTURES / "tpe_20260105.csv").read_bytes().replace(b"258,95", b"285,95")
    deliver(box, "tpe_journal", "tpe_20260105_v2.csv", corrected)
    result = load(box, "tpe_journal")
    assert sorted(result.rows["amount_cents"]) == [-419, 13900, 28595]
    status = {f["file_name"]: (f["status"], f["detail"]) for f in result.files}
    assert status["tpe_20260105.csv"] == ("replaced", "replaced by tpe_20260105_v2.csv")
    assert status["tpe_20260105_v2.csv"][0] == "read"


def test_an_unreadable_file_goes_to_quarantine_with_its_reason_and_the_rest_still_loads(box):
    deliver(box, "pms_postings", "opera_fin_20260105.csv")
    deliver(box, "pms_postings", "opera_20260105_cut.csv", b"\x00\x00garbage")
    result = load(box, "pms_postings")
    assert len(result.rows) == 5
    moved = box.parent / "quarantine" / "H1" / "pms_postings" / "opera_20260105_cut.csv"
    assert moved.exists() and not (box / "H1" / "pms_postings" / "opera_20260105_cut.csv").exists()
    reason = moved.with_name(moved.name + ".reason.txt").read_text()
    assert "binary content" in reason and "sha256: " in reason
    entry = next(f for f in result.files if f["file_name"] == "opera_20260105_cut.csv")
    assert entry["status"] == "quarantined" and "binary content" in entry["detail"]


def test_rows_repeated_by_a_later_overlapping_export_are_kept_once(box):
    deliver(box, "pms_postings", "opera_fin_20260105.csv", age_s=60)
    lines = (FIXTURES / "opera_fin_20260105.csv").read_text().splitlines()
    deliver(box, "pms_postings", "opera_fin_20260105_evening.csv", "\n".join([lines[0], lines[2]]).encode())
    result = load(box, "pms_postings")
    assert len(result.rows) == 5 and result.rows["posting_id"].is_unique
    reject = result.rejects.iloc[0]
    assert reject["reason"] == ("posting_id H1:100002 is also in opera_fin_20260105_evening.csv, delivered later: "
                                "that row is kept")
    first = next(f for f in result.files if f["file_name"] == "opera_fin_20260105.csv")
    assert (first["rows_in"], first["rows_out"], first["rejected"]) == (5, 4, 1)


def test_rows_failing_the_schema_are_rejects_of_their_file(box):
    text = (FIXTURES / "tpe_20260105.csv").read_bytes().replace(b";978;", b";EURO;", 1)
    deliver(box, "tpe_journal", "tpe_20260105.csv", text)
    result = load(box, "tpe_journal")
    assert len(result.rows) == 2
    assert result.rejects.iloc[0][["line_no", "reason"]].tolist() == [2, "currency 'EURO' has the wrong form"]
    rejects = result.reject_rows()
    assert rejects["reject_id"].is_unique and rejects.iloc[0]["kind"] == "tpe_journal"


def test_rows_outside_the_window_are_left_to_their_own_run(box):
    deliver(box, "remittances", "remises_20260106.csv")
    result = load(box, "remittances", JAN6, JAN6 + dt.timedelta(days=1))
    assert result.rows["line_type"].tolist() == ["payout"]
    assert result.files[0]["rows_out"] == 3 and result.files[0]["in_window"] == 1


def test_a_broken_hotel_mapping_holds_its_files_without_quarantining_them(box):
    path = deliver(box, "pms_postings", "protel_20260105.csv")
    (box / "H1" / "hotel.yaml").write_text("formats:\n  protel:\n    sign: upside_down\n")
    result = load(box, "pms_postings")
    assert result.files[0]["status"] == "held" and "sign must be one of" in result.files[0]["detail"]
    assert path.exists()


def test_business_dates_of_a_file_come_from_its_rows(box):
    tpe = inbox.InboxFile(deliver(box, "tpe_journal", "tpe_20260105.csv"), "H1", "tpe_journal")
    assert inbox.business_dates_of(tpe, PARIS) == {JAN5}  # 00:48 on the 6th is still the 5th
    remises = inbox.InboxFile(deliver(box, "remittances", "remises_20260106.csv"), "H1", "remittances")
    assert inbox.business_dates_of(remises, PARIS) == {JAN5, JAN6}
    broken = inbox.InboxFile(deliver(box, "pms_postings", "pms_2026-01-07.csv", b"nonsense"), "H1", "pms_postings")
    assert inbox.business_dates_of(broken, PARIS) == {dt.date(2026, 1, 7)}


def test_versions_of_a_delivery_are_told_by_their_names():
    def delivery(name):
        return inbox.InboxFile(Path(name), "H1", "tpe_journal").delivery

    assert delivery("tpe_20260105.csv") == ("tpe_20260105.csv", 0)
    assert delivery("tpe_20260105_v2.csv") == ("tpe_20260105.csv", 2)
    assert delivery("tpe_20260105-corrige.csv") == ("tpe_20260105.csv", 1)
    assert delivery("tpe_20260105 (3).csv") == ("tpe_20260105.csv", 3)
    assert delivery("tpe_002_20260105.csv")[0] != delivery("tpe_003_20260105.csv")[0]


def test_scan_ignores_other_folders(box):
    deliver(box, "tpe_journal", "tpe_20260105.csv")
    (box / "_truth").mkdir()
    (box / "_truth" / "x.csv").write_text("x")
    (box / "H1" / "notes").mkdir()
    (box / "H1" / "notes" / "readme.txt").write_text("x")
    shutil.copy(FIXTURES / "tpe_20260105.csv", box / "H1" / "tpe_journal" / ".hidden.csv")
    assert [f.path.name for f in inbox.scan(box)] == ["tpe_20260105.csv"]
