"""The inbox sensor asks for one run per business date a new file feeds, never twice for one file."""

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from lettrage.config import load_settings
from lettrage.pipelines.inbox_sensor import inbox_sensor
from lettrage.pipelines.partitions import HOTELS_TAG
from lettrage.recon.hotels import Hotel, write_hotels
from lettrage.resources.inbox import InboxResource

FIXTURES = Path(__file__).parents[1] / "recon" / "readers" / "fixtures"


@pytest.fixture
def box(tmp_path):
    root = tmp_path / "inbox"
    write_hotels([Hotel("H1", "Paris", "Europe/Paris", pms_system="opera"),
                  Hotel("H2", "Lyon", "Europe/Paris", pms_system="opera")], root / "hotels.csv")
    return root


def deliver(root, hotel, kind, name, content=None):
    (root / hotel / kind).mkdir(parents=True, exist_ok=True)
    path = root / hotel / kind / name
    if content is None:
        shutil.copy(FIXTURES / name, path)
    else:
        path.write_bytes(content)
    return path


def tick(root, instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={
        "inbox_files": InboxResource(path=str(root), quarantine_path=str(root.parent / "quarantine"))})
    return inbox_sensor(context)


def test_new_files_request_one_run_per_business_date_for_their_hotels(box):
    deliver(box, "H1", "tpe_journal", "tpe_20260105.csv")
    deliver(box, "H2", "pms_postings", "opera_fin_20260105.csv")
    deliver(box, "H1", "remittances", "remises_20260106.csv")
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(box, instance)
        requests = {r.partition_key: r for r in result.run_requests}
        assert sorted(requests) == ["2026-01-05", "2026-01-06"]
        assert requests["2026-01-05"].tags[HOTELS_TAG] == "H1,H2"
        assert requests["2026-01-06"].tags[HOTELS_TAG] == "H1"  # the remise's own payout line
        assert all(r.run_key.startswith(f"inbox:{r.partition_key}:") for r in result.run_requests)

        # nothing new: nothing asked; the same file touched again: still nothing
        again = tick(box, instance, result.cursor)
        assert again.run_requests == []
        path = box / "H1" / "tpe_journal" / "tpe_20260105.csv"
        os.utime(path, (path.stat().st_atime + 5, path.stat().st_mtime + 5))
        touched = tick(box, instance, again.cursor)
        assert touched.run_requests == []

        # a corrected content: one run for its date, with a new key
        path.write_bytes(path.read_bytes().replace(b"258,95", b"285,95"))
        corrected = tick(box, instance, touched.cursor)
        assert [(r.partition_key, r.tags[HOTELS_TAG]) for r in corrected.run_requests] == [("2026-01-05", "H1")]
        assert corrected.run_requests[0].run_key != requests["2026-01-05"].run_key


def test_a_file_is_not_processed_twice_even_without_the_cursor(box):
    deliver(box, "H1", "tpe_journal", "tpe_20260105.csv")
    with dg.DagsterInstance.ephemeral() as instance:
        first = tick(box, instance).run_requests
        second = tick(box, instance).run_requests  # cursor lost: same files, same run keys
        assert [r.run_key for r in first] == [r.run_key for r in second]


def test_a_date_reconciled_after_the_file_arrived_is_not_run_again(box):
    deliver(box, "H1", "tpe_journal", "tpe_20260105.csv")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("tpe_transactions", partition="2026-01-05"))
        assert tick(box, instance).run_requests == []


def test_a_day_not_yet_closed_waits_in_the_cursor(box):
    # the group's today (its partitions close in its time zone: after 22:00 UTC, Paris is already tomorrow)
    today = dt.datetime.now(ZoneInfo(load_settings().group_timezone)).date()
    text = (FIXTURES / "tpe_20260105.csv").read_bytes().replace(b"05/01/2026", today.strftime("%d/%m/%Y").encode())
    text = text.replace(b"06/01/2026", (today + dt.timedelta(days=1)).strftime("%d/%m/%Y").encode())
    deliver(box, "H1", "tpe_journal", f"tpe_{today:%Y%m%d}.csv", text)
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(box, instance)
        assert result.run_requests == []
        assert today.isoformat() in result.cursor


def test_without_a_hotel_list_the_sensor_skips_and_says_why(tmp_path):
    (tmp_path / "inbox").mkdir()
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(tmp_path / "inbox", instance)
    assert isinstance(result, dg.SkipReason) and "hotels.csv" in result.skip_message
