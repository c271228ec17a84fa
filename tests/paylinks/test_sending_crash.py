"""Killing the sending process between recording and sending, then running again, delivers each
message exactly once (a real process, ended at that point by a fault-injection hook); an attempt
whose holder hung is settled once its lease is over, by asking the provider, never by guessing."""

import datetime as dt
import os
import subprocess
import sys

import pytest

from lettrage.cli import main
from lettrage.paylinks import sending
from lettrage.paylinks.notify.mail_sink import find

from .links_setup import deliver, make_requests, send_due, sends
from .servers import reservation, use_smtp, use_twilio

GUESTS = [reservation(reservation_id=f"R{i}", confirmation_no=f"4001000{i}", email=f"guest{i}@example.org",
                      phone=f"+3361234500{i}") for i in range(1, 4)]


def send_due_process(fault: str | None = None, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LETTRAGE_FAULT"}
    if fault:
        env["LETTRAGE_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "lettrage", "links", *(extra or ("send-due",))],
                          env=env, capture_output=True, text=True, timeout=120)


def test_killed_after_recording_the_next_run_sends_each_message_once(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests(GUESTS)
    crashed = send_due_process("after_record")
    assert crashed.returncode == 75, crashed.stderr
    assert [s.status for s in sends(sessions)] == ["recorded"] * 3 and not smtp_server.received
    again = send_due_process()
    assert again.returncode == 0, again.stderr
    assert "Sent 3" in again.stdout
    counts = smtp_server.by_message_id()
    assert sorted(counts) == sorted(s.message_id for s in sends(sessions)) and set(counts.values()) == {1}
    assert [s.status for s in sends(sessions)] == ["sent"] * 3


def test_killed_after_the_local_sink_took_it_the_message_is_found_not_sent_again(links_env):
    settings, sessions = make_requests(GUESTS)  # no SMTP relay: a local sink writes var/mail/
    assert send_due_process("after_handover").returncode == 75
    [first] = [s for s in sends(sessions) if s.lease_until is not None]
    assert first.status == "recorded" and find(links_env / "mail", first.message_id) is not None
    again = send_due_process()
    assert again.returncode == 0, again.stderr
    assert "1 interrupted attempt(s) had been delivered: not sent again" in again.stdout
    assert len(list((links_env / "mail").glob("*.eml"))) == 3
    assert all(find(links_env / "mail", s.message_id) for s in sends(sessions))
    assert [s.status for s in sends(sessions)] == ["sent"] * 3
    assert sends(sessions)[0].error == "found delivered after an interrupted attempt"


class Crash(BaseException):
    """Stands for the process dying at a fault point (in this process, for the lease cases)."""


def crash_at(monkeypatch, point: str) -> None:
    def fault(where):
        if where == point:
            raise Crash(where)

    monkeypatch.setattr(sending, "_fault", fault)


def test_an_attempt_whose_holder_hung_is_looked_up_at_twilio_once_its_lease_is_over(links_env, twilio_api,
                                                                                   monkeypatch):
    use_twilio(monkeypatch, twilio_api)
    settings, sessions = make_requests([{**g, "email": None} for g in GUESTS])
    crash_at(monkeypatch, "after_handover")
    with pytest.raises(Crash):
        send_due(settings, sessions)  # Twilio took the first SMS; its holder (alive) never said so
    crash_at(monkeypatch, "nowhere")
    now = dt.datetime.now(dt.UTC)
    early = deliver(settings, sessions, now)
    assert early.found_sent == 0 and len(twilio_api.messages) == 3  # the lease still runs: left alone
    assert sends(sessions)[0].status == "recorded"
    later = deliver(settings, sessions, now + dt.timedelta(minutes=11))
    assert later.found_sent == 1 and len(twilio_api.messages) == 3
    first = sends(sessions)[0]
    assert (first.status, first.provider_id) == ("sent", twilio_api.messages[0]["sid"])


def test_with_a_relay_that_cannot_be_asked_the_send_is_unknown_until_a_person_settles_it(links_env, smtp_server,
                                                                                         monkeypatch, capsys):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests(GUESTS)
    crash_at(monkeypatch, "after_handover")
    with pytest.raises(Crash):
        send_due(settings, sessions)
    crash_at(monkeypatch, "nowhere")
    report = deliver(settings, sessions, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11))
    assert report.unknown == 1 and "lettrage links resolve 1 --sent" in report.problems[0]
    assert len(smtp_server.received) == 3  # never a blind second message
    assert [s.status for s in sends(sessions)] == ["unknown", "sent", "sent"]
    assert main(["links", "list"]) == 0
    assert "! send 1 (request 1, email to guest1@example.org) is unknown" in capsys.readouterr().out
    assert main(["links", "resolve", "1", "--sent", "--user", "night-auditor"]) == 0
    assert "Send 1 is now sent" in capsys.readouterr().out
    assert sends(sessions)[0].status == "sent" and len(smtp_server.received) == 3
    assert main(["links", "resolve", "1", "--sent"]) == 2
    assert "only an unknown send is resolved by hand" in capsys.readouterr().err
