"""The link assets in real Dagster runs: warehouse reservations -> requests -> messages sent once,
metadata a person reads, the check that nothing went twice, and the sensor that reads the store."""

import datetime as dt

import dagster as dg
import pandas as pd
import pytest
from sqlalchemy import select

from lettrage.assets.links import link_requests, link_rules_readable, link_sends, no_request_sent_twice
from lettrage.config import load_settings
from lettrage.paylinks import store
from lettrage.paylinks.store import LinkRequest, LinkSend
from lettrage.pipelines.links import due_link_sends
from lettrage.recon import schemas
from lettrage.recon.warehouse import open_warehouse, replace_window
from lettrage.resources.inbox import InboxResource
from lettrage.resources.links import link_resources
from lettrage.resources.warehouse import WarehouseResource
from tests.paylinks.links_setup import make_requests, send_due
from tests.paylinks.servers import prepare_links_env, reservation, running_smtp_server, use_smtp

EXPORT_DAY = dt.date(2026, 3, 1)


def load_reservations(settings, rows):
    frame = pd.DataFrame([{**r, "business_date": EXPORT_DAY, "source_file": "resv_20260301.csv",
                           "ingested_at": pd.Timestamp("2026-03-02T05:00Z")} for r in rows])
    frame = schemas.model("reservations").validate(frame[schemas.columns("reservations")])
    with open_warehouse(settings.warehouse_path) as conn:
        replace_window(conn, "reservations", frame, EXPORT_DAY, EXPORT_DAY + dt.timedelta(days=1), ["H1"])


@pytest.fixture
def smtp_server():
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def world(var_dir, smtp_server, monkeypatch):
    prepare_links_env(var_dir, monkeypatch)
    use_smtp(monkeypatch, smtp_server)
    settings = load_settings()
    load_reservations(settings, [
        reservation(),  # non-refundable: paid now, by e-mail
        reservation(reservation_id="R2", confirmation_no="40012346", email=None),  # by SMS (files: no Twilio)
        reservation(reservation_id="R3", confirmation_no="40012347", status="cancelled"),
        reservation(reservation_id="R4", confirmation_no="40012348", non_refundable=False),  # no rule
    ])
    resources = {"warehouse": WarehouseResource(path=str(settings.warehouse_path)),
                 "inbox_files": InboxResource(path=str(settings.inbox_dir), quarantine_path=str(settings.quarantine_dir)),
                 **link_resources(settings)}
    return settings, resources, smtp_server


def materialize(resources, instance):
    result = dg.materialize([link_requests, link_sends, no_request_sent_twice, link_rules_readable],
                            resources=resources, instance=instance)
    assert result.success
    meta = {key.to_user_string(): result.asset_materializations_for_node(key.path[-1])[0].metadata
            for key in (link_requests.key, link_sends.key)}
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    return meta, checks


def value(meta, name):
    return meta[name].value if hasattr(meta[name], "value") else meta[name].text


def test_reservations_become_requests_and_messages_sent_once_with_readable_metadata(world):
    settings, resources, smtp = world
    with dg.instance_for_test() as instance:
        meta, checks = materialize(resources, instance)
        requests_meta, sends_meta = meta["link_requests"], meta["link_sends"]
        assert value(requests_meta, "reservations_read") == 4
        assert value(requests_meta, "requests_created") == 2
        by_hotel = value(requests_meta, "by_hotel")
        assert "| H1 | 4 | automatic | 2 | 0 | 0 | 0 |" in by_hotel
        assert "reservation cancelled: 1" in by_hotel and "no rule applies: 1" in by_hotel
        assert value(sends_meta, "sent") == 2 and value(sends_meta, "failed") == 0
        assert "| email | sent | 1 |" in value(sends_meta, "this_run_by_channel")
        assert "| sms | sent | 1 |" in value(sends_meta, "this_run_by_channel")
        status_table = value(sends_meta, "requests_by_status_and_channel")
        assert "| sent | email | 1 | 486.50" in status_table and "| sent | sms | 1 | 486.50" in status_table
        assert checks["no_request_sent_twice"].passed and checks["link_rules_readable"].passed
        assert len(smtp.received) == 1 and len(list((settings.sms_dir).glob("*.json"))) == 1


def test_the_check_catches_a_link_sent_twice(world):
    settings, resources, _ = world
    _, sessions = make_requests([reservation()])
    send_due(settings, sessions)
    assert no_request_sent_twice(ops_store=resources["ops_store"]).passed
    with store.transaction(sessions) as s:  # what a buggy sender would leave: a second "sent" link
        first = s.scalar(select(LinkSend).where(LinkSend.channel == "email"))
        s.add(LinkSend(request_id=first.request_id, channel="email", kind="link", idempotency_key="bug", status="sent",
                       message_id="<other@hotel-lutece.example>", attempts=1, in_doubt=False))
    result = no_request_sent_twice(ops_store=resources["ops_store"])
    assert not result.passed and result.metadata["sent_twice"].value == 1


def test_a_broken_rules_file_fails_its_check_with_the_file_and_line(world):
    settings, resources, _ = world
    path = settings.inbox_dir / "H1" / "link_rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: preauth", "kind: barter"), encoding="utf-8")
    result = link_rules_readable(inbox_files=resources["inbox_files"])
    assert not result.passed
    assert "link_rules.yaml:" in result.metadata["problems"].value and "'barter'" in result.metadata["problems"].value


def test_the_sensor_reads_the_store_only_and_asks_for_a_run_when_something_is_due(world):
    settings, resources, _ = world
    settings.warehouse_path.unlink()  # the sensor never needs the warehouse
    with dg.instance_for_test() as instance:
        def tick():
            return due_link_sends(dg.build_sensor_context(instance=instance,
                                                          resources={"ops_store": resources["ops_store"]}))

        skipped = tick()
        assert isinstance(skipped, dg.SkipReason) and "no operational store" in skipped.skip_message
        _, sessions = make_requests([reservation(), reservation(reservation_id="R2", confirmation_no="40012346")])
        request = tick()
        assert isinstance(request, dg.RunRequest) and request.run_key.startswith("links-")
        assert request.tags["lettrage/due"].startswith("2 requests")
        send_due(settings, sessions)
        idle = tick()
        assert isinstance(idle, dg.SkipReason) and idle.skip_message == "nothing due"
    with sessions() as s:
        assert sorted(s.scalars(select(LinkRequest.status))) == ["sent", "sent"]
