"""The service's PSP events reach the warehouse's PSP journal (real Dagster materialisation), and
the sensor finds new events in the operational store alone."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest
from sqlalchemy import select, update

from lettrage.paylinks import payments, store
from lettrage.paylinks.psp import ogone
from lettrage.paylinks.psp_journal import SOURCE
from lettrage.paylinks.requests import create_manual
from lettrage.recon.hotels import Hotel, write_hotels
from lettrage.recon.warehouse import open_warehouse

DAY = dt.date(2026, 3, 10)
# 14:00 in Paris on DAY: well inside the business date.
AT = dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC)


def apply(sessions, order_id, status, amount, payid, sub="", when=AT, via="notification", **extra):
    params = {"orderID": order_id, "amount": amount, "currency": "EUR", "STATUS": str(status), "PAYID": payid,
              "PAYIDSUB": sub, "BRAND": "VISA", "CARDNO": "XXXXXXXXXXXX4242", "ACCEPTANCE": "A1B2", **extra}
    note = payments.from_ogone(ogone.read_feedback(params), via)
    event_id = payments.record_event(sessions, "ogone", {"via": via, "params": params}, True, note)
    with store.transaction(sessions) as s:
        s.execute(update(store.PspEvent).where(store.PspEvent.id == event_id).values(received_at=when))
    return payments.apply_event(sessions, event_id, note)


@pytest.fixture
def world(var_dir):
    inbox = var_dir / "inbox"
    write_hotels([Hotel("H1", "Hôtel Lutèce", "Europe/Paris"), Hotel("H2", "Other", "Europe/Paris")],
                 inbox / "hotels.csv")
    url = f"sqlite:///{var_dir / 'ops.sqlite'}"
    sessions = store.session_factory(url)
    now = dt.datetime.now(dt.UTC)

    def request(kind, amount, hotel="H1", conf="C-1"):
        with store.transaction(sessions) as s:
            return create_manual(s, hotel_id=hotel, amount_cents=amount, kind=kind, channel="email", language="en",
                                 service="reservation", created_by="t", expires_at=now + dt.timedelta(days=3),
                                 status="sent", confirmation_no=conf, email="g@example.org").order_id

    sale, preauth, other = request("sale", 15075), request("preauth", 30000, conf="C-2"), \
        request("sale", 9900, hotel="H2", conf="C-3")
    apply(sessions, sale, 9, "150.75", "111")
    apply(sessions, sale, 9, "150.75", "111", via="redirect")  # duplicate: not money twice
    apply(sessions, sale, 8, "50", "111", sub="1", when=AT + dt.timedelta(hours=2))  # partial refund
    apply(sessions, preauth, 5, "300", "222")
    apply(sessions, preauth, 9, "120", "222", sub="1", via="directlink")  # no-show capture
    apply(sessions, preauth, 99, "300", "222")  # late, ignored
    apply(sessions, other, 9, "99", "333", when=AT - dt.timedelta(days=1))  # another date
    from lettrage.resources import build_resources

    yield sessions, build_resources(), var_dir / "warehouse.duckdb"
    store.dispose_all()


def test_link_payments_land_in_the_psp_journal(world):
    from lettrage.assets.psp import link_payments_are_referenced, psp_link_payments

    sessions, resources, warehouse = world
    with open_warehouse(warehouse) as conn:  # a row of the PSP's own report for the same capture
        conn.execute("INSERT INTO psp_transactions (psp_txn_id, hotel_id, provider, order_id, psp_reference, operation,"
                     " status, status_code, event_at, business_date, amount_cents, currency, source_file, ingested_at) "
                     "VALUES ('222:1:9:SAS', 'H1', 'ogone', 'C-2-1', '222', 'capture', 'paid', '9', ?, ?, 12000, 'EUR',"
                     " 'ogone_report.xml', now())", [AT, DAY])
    result = dg.materialize([psp_link_payments, link_payments_are_referenced], partition_key=DAY.isoformat(),
                            resources=resources, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute("SELECT order_id, operation, status, amount_cents, psp_reference, card_last4, link_id "
                            "FROM psp_transactions WHERE source_file = ? ORDER BY event_at, amount_cents",
                            [SOURCE]).fetchall()
        total = conn.execute("SELECT count(*) FROM psp_transactions").fetchone()[0]
    assert [r[:4] for r in rows] == [("C-1-1", "sale", "paid", 15075), ("C-2-1", "authorisation", "authorised", 30000),
                                     ("C-1-1", "refund", "refunded", -5000)]
    assert all(r[4] and r[5] == "4242" and r[6] for r in rows)
    assert total == 4  # the capture comes from the PSP's report only, never twice
    meta = result.asset_materializations_for_node("psp_link_payments")[0].metadata
    assert meta["events_written"].value == 3 and meta["already_in_psp_report"].value == 1
    assert "270.75" in meta["paid_through_links"].value  # the sale and the no-show capture
    assert result.get_asset_check_evaluations()[0].passed

    # Re-running the same day leaves the journal as it was (idempotent).
    again = dg.materialize([psp_link_payments], partition_key=DAY.isoformat(), resources=resources,
                           instance=dg.DagsterInstance.ephemeral())
    assert again.success
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM psp_transactions").fetchone()[0] == 4


def test_sensor_reads_the_ops_store_only(world, monkeypatch):
    from lettrage.assets.psp import new_psp_events

    sessions, resources, warehouse = world
    assert not warehouse.exists()  # the sensor never needs (nor opens) the warehouse
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"ops_store": resources["ops_store"]})
        # Events arrive "now" as far as the sensor knows: make them yesterday's and the day before.
        yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        with store.transaction(sessions) as s:
            s.execute(update(store.PspEvent).values(received_at=yesterday))
        requests = new_psp_events(context)
        keys = sorted(r.partition_key for r in requests)
        day = yesterday.astimezone(dt.timezone(dt.timedelta(hours=1))).date()
        assert day.isoformat() in keys and len(keys) <= 2
        assert context.cursor == "7"  # the last event applied (the duplicate and the late status were not)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor,
                                          resources={"ops_store": resources["ops_store"]})
        assert isinstance(new_psp_events(context), dg.SkipReason)
    assert not warehouse.exists()


def test_installments_are_charged_by_the_morning_run(var_dir, monkeypatch):
    from lettrage.assets.psp import installment_charges
    from lettrage.config import load_settings
    from lettrage.paylinks.psp.simulator import TEST_CARDS, Simulator, SimulatorSettings
    from lettrage.resources import build_resources
    from lettrage.service.serving import BackgroundServer, free_port

    port = free_port()
    monkeypatch.setenv("LETTRAGE_OGONE_URL", f"http://127.0.0.1:{port}/ncol/test")
    settings = load_settings()
    sim = Simulator(SimulatorSettings.from_settings(settings, notify_url=""))
    sim.aliases["LTR-H1-C-9-1"] = TEST_CARDS[0]  # kept by the PSP at the first, consented payment
    sessions = store.session_factory(settings.ops_store_url)
    with store.transaction(sessions) as s:
        order_id = create_manual(s, hotel_id="H1", amount_cents=30000, kind="installments", channel="email",
                                 language="en", service="reservation", created_by="t", status="sent",
                                 expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3), confirmation_no="C-9",
                                 installments=3, email="g@example.org").order_id
    request_id = payments.open_part(sessions, 1).request_id
    apply(sessions, f"{order_id}-P1", 9, "100", "901", ALIAS="LTR-H1-C-9-1")
    with store.transaction(sessions) as s:  # part 2 fell due yesterday, part 3 is later
        s.execute(update(store.Payment).where(store.Payment.seq == 2).values(
            due_date=dt.date.today() - dt.timedelta(days=1)))
    with BackgroundServer(sim.app, port=port):
        result = dg.materialize([installment_charges], resources=build_resources(settings),
                                instance=dg.DagsterInstance.ephemeral())
        again = dg.materialize([installment_charges], resources=build_resources(settings),
                               instance=dg.DagsterInstance.ephemeral())
    assert result.success and again.success
    meta = result.asset_materializations_for_node("installment_charges")[0].metadata
    assert (meta["charged"].value, meta["refused"].value) == (1, 0)
    assert again.asset_materializations_for_node("installment_charges")[0].metadata["charged"].value == 0
    with store.transaction(sessions) as s:
        parts = s.execute(select(store.Payment).where(store.Payment.request_id == request_id)
                          .order_by(store.Payment.seq)).scalars().all()
        assert [p.status for p in parts] == ["paid", "paid", "planned"]
        assert parts[1].psp_reference and parts[1].psp_reference != "901"
    assert [t.order_id for t in sim.transactions.values()] == [f"{order_id}-P2"]
    store.dispose_all()
