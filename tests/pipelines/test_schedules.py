"""The daily schedule reconciles the previous business date after the night audit, and a failed
reconciliation run e-mails finance (a real SMTP server on a free local port)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from lettrage.pipelines.failure_notice import notice, notify_finance_of_failed_reconciliation
from lettrage.pipelines.schedules import daily_schedule, run_time
from tests.paylinks.servers import running_smtp_server


@pytest.fixture(scope="module")
def defs():
    from lettrage.definitions import defs

    return defs


def test_the_schedule_runs_from_the_start_after_the_night_audit_in_the_group_time_zone(defs):
    schedule = defs.resolve_schedule_def("daily_reconciliation_after_night_audit")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "daily_reconciliation"
    assert schedule.cron_schedule == "0 6 * * *"  # LETTRAGE_DAILY_RUN_TIME, 06:00 by default
    assert schedule.execution_timezone == "Europe/Paris"


@pytest.mark.parametrize("tick, business_date", [
    (dt.datetime(2026, 3, 10, 6, 0), "2026-03-09"),
    (dt.datetime(2026, 3, 29, 6, 0), "2026-03-28"),  # the night clocks go forward
    (dt.datetime(2026, 1, 1, 6, 0), "2025-12-31"),
])
def test_a_morning_tick_reconciles_the_previous_business_date(defs, tick, business_date):
    schedule = defs.resolve_schedule_def("daily_reconciliation_after_night_audit")
    with dg.build_schedule_context(scheduled_execution_time=tick.replace(tzinfo=ZoneInfo("Europe/Paris"))) as ctx:
        result = schedule.evaluate_tick(ctx)
    if business_date < "2026-01-01":  # before the first business date: nothing to run
        assert not result.run_requests
        return
    [request] = result.run_requests
    assert request.partition_key == business_date


def test_the_run_time_is_a_setting():
    assert run_time("07:15") == (7, 15)
    from lettrage.assets import ingest
    from lettrage.resources import build_resources

    other = dg.Definitions(assets=ingest.SOURCE_ASSETS, schedules=[daily_schedule("07:15")],
                           resources=build_resources())
    assert other.resolve_schedule_def("daily_reconciliation_after_night_audit").cron_schedule == "15 7 * * *"
    with pytest.raises(ValueError, match="LETTRAGE_DAILY_RUN_TIME='7h15': expected a time of day as HH:MM"):
        run_time("7h15")


@pytest.fixture
def smtp():
    with running_smtp_server() as server:
        yield server


def failed_run(var_dir, instance):
    """The daily reconciliation of two days, failing because the inbox has no hotel list."""
    from lettrage.assets import ingest
    from lettrage.config import load_settings
    from lettrage.pipelines.jobs import daily_reconciliation
    from lettrage.resources import build_resources

    resources = build_resources(load_settings())
    defs = dg.Definitions(assets=ingest.SOURCE_ASSETS, jobs=[daily_reconciliation], resources=resources)
    job = defs.resolve_job_def("daily_reconciliation")
    result = job.execute_in_process(
        instance=instance, raise_on_error=False,
        tags={"dagster/asset_partition_range_start": "2026-03-02", "dagster/asset_partition_range_end": "2026-03-03",
              "lettrage/hotels": "PAR1"})
    assert not result.success
    return result


def test_a_failed_run_e_mails_finance_what_failed_and_how_to_rerun_it(var_dir, smtp, monkeypatch):
    from lettrage.resources.smtp import SmtpResource

    monkeypatch.setenv("LETTRAGE_FINANCE_EMAIL", "credit.manager@hotel.example")
    with dg.instance_for_test() as instance:
        result = failed_run(var_dir, instance)
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        ctx = dg.build_run_status_sensor_context(
            sensor_name=notify_finance_of_failed_reconciliation.name, dagster_event=failure,
            dagster_instance=instance, dagster_run=result.dagster_run,
            resources={"finance_mail": SmtpResource(host="127.0.0.1", port=smtp.port,
                                                    sender="lettrage@hotel.example")},
        ).for_run_failure()
        notify_finance_of_failed_reconciliation(ctx)
    [received] = smtp.received
    assert received.rcpt_tos == ["credit.manager@hotel.example"]
    message = received.message
    assert message["Subject"] == "[lettrage] Reconciliation failed: business date 2026-03-02 to 2026-03-03"
    body = message.get_content()
    assert f"The run {result.run_id} of daily_reconciliation failed." in body
    assert "Hotels: PAR1" in body
    assert "  - hotels: " in body and "hotels.csv" in body  # the failed step and why
    assert f"/runs/{result.run_id}" in body
    assert "lettrage backfill --from 2026-03-02 --to 2026-03-03 --hotel PAR1" in body


def test_other_jobs_failing_do_not_e_mail_finance(smtp):
    from lettrage.resources.smtp import SmtpResource

    @dg.op
    def send_links():
        raise RuntimeError("no SMTP")

    @dg.job
    def link_sending():
        send_links()

    with dg.instance_for_test() as instance:
        result = link_sending.execute_in_process(instance=instance, raise_on_error=False)
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        ctx = dg.build_run_status_sensor_context(
            sensor_name=notify_finance_of_failed_reconciliation.name, dagster_event=failure,
            dagster_instance=instance, dagster_run=result.dagster_run,
            resources={"finance_mail": SmtpResource(host="127.0.0.1", port=smtp.port)}).for_run_failure()
        notify_finance_of_failed_reconciliation(ctx)
    assert smtp.received == []


def test_a_backfill_of_reconciliation_assets_from_the_ui_counts_as_reconciliation(defs):
    from lettrage.pipelines.failure_notice import is_reconciliation

    repo = defs.get_repository_def()

    def run(*keys):
        return dg.DagsterRun(job_name="__ASSET_JOB", asset_selection=frozenset(dg.AssetKey(k) for k in keys))

    assert is_reconciliation(run(["marts", "daily_summary"]), repo)
    assert is_reconciliation(run(["pms_postings"]), repo)
    assert not is_reconciliation(dg.DagsterRun(job_name="__ASSET_JOB"), repo)


def test_the_sensor_watches_the_reconciliation_from_the_start(defs):
    sensor = defs.resolve_sensor_def("notify_finance_of_failed_reconciliation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_notice_never_carries_a_card_number():
    subject, text = notice("daily_reconciliation", "r1", {"dagster/partition": "2026-03-02"},
                            [("pms_postings", "bad line 4: card 4111111111111111 not a posting")], "http://ui")
    assert "4111111111111111" not in text and "************1111" in text
    assert subject == "[lettrage] Reconciliation failed: business date 2026-03-02"


def test_a_notice_gives_the_run_id_whole_even_where_its_digits_pass_for_a_card_number():
    run_id = "36591f80-8f89-4029-8858-3144bf466629"  # 89-4029-8858-3144 passes the Luhn check
    _, text = notice("daily_reconciliation", run_id, {"dagster/partition": "2026-03-02"},
                     [("pms_postings", "bad line 4")], "http://ui")
    assert f"The run {run_id} of daily_reconciliation failed." in text
    assert f"http://ui/runs/{run_id}" in text


def test_without_an_smtp_server_the_notice_is_kept_as_a_file(tmp_path):
    from lettrage.resources.smtp import SmtpResource

    SmtpResource(host="", mail_dir=str(tmp_path)).send("finance@hotel.example", "subject", "body\n")
    [eml] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert (message["To"], message["Subject"], message.get_content()) == ("finance@hotel.example", "subject", "body\n")


def test_the_notice_uses_the_configured_settings(monkeypatch):
    from lettrage.config import load_settings
    from lettrage.resources.finance import finance_resources

    monkeypatch.setenv("LETTRAGE_SMTP_HOST", "smtp.hotel.example")
    monkeypatch.setenv("LETTRAGE_SMTP_PASSWORD", "s3cret")
    mail = finance_resources(dataclasses.replace(load_settings()))["finance_mail"]
    assert mail.host == "smtp.hotel.example"
    assert "s3cret" not in repr(mail)
