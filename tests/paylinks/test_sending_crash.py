"""Killing the sending process between recording and sending, then running again, delivers each
message exactly once (a real process, ended at that point by a fault-injection hook)."""

import os
import subprocess
import sys

from lettrage.cli import main
from lettrage.paylinks.notify.mail_sink import find

from .links_setup import make_requests, sends
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


def test_killed_after_twilio_or_the_local_sink_took_it_the_message_is_found_not_sent_again(links_env, twilio_api,
                                                                                          monkeypatch):
    use_twilio(monkeypatch, twilio_api)  # SMS by Twilio; e-mail to a local sink writing var/mail/
    settings, sessions = make_requests([{**GUESTS[0], "email": None}, *GUESTS[1:]])  # the first by SMS only
    assert send_due_process("after_handover").returncode == 75  # Twilio has the SMS; not marked sent
    assert len(twilio_api.messages) == 1 and sends(sessions)[0].status == "recorded"
    second = send_due_process("after_handover")  # looks the SMS up, then dies after the sink took an e-mail
    assert second.returncode == 75
    first, email = sends(sessions)[:2]
    assert (first.status, first.provider_id) == ("sent", twilio_api.messages[0]["sid"])
    assert email.status == "recorded" and find(links_env / "mail", email.message_id) is not None
    third = send_due_process()
    assert third.returncode == 0, third.stderr
    assert "1 interrupted attempt(s) had been delivered: not sent again" in third.stdout
    assert len(twilio_api.messages) == 1 and len(list((links_env / "mail").glob("*.eml"))) == 2
    assert [s.status for s in sends(sessions)] == ["sent"] * 3
    assert sends(sessions)[1].error == "found delivered after an interrupted attempt"


def test_with_a_relay_that_cannot_be_asked_the_send_is_unknown_until_a_person_settles_it(links_env, smtp_server,
                                                                                         monkeypatch, capsys):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests(GUESTS)
    assert send_due_process("after_handover").returncode == 75
    again = send_due_process()
    assert "unknown 1" in again.stdout and "lettrage links resolve 1 --sent" in again.stdout
    assert len(smtp_server.received) == 3  # never a blind second message
    assert [s.status for s in sends(sessions)] == ["unknown", "sent", "sent"]
    assert main(["links", "list"]) == 0
    assert "! send 1 (request 1, email to guest1@example.org) is unknown" in capsys.readouterr().out
    assert main(["links", "resolve", "1", "--sent", "--user", "night-auditor"]) == 0
    assert "Send 1 is now sent" in capsys.readouterr().out
    assert sends(sessions)[0].status == "sent" and len(smtp_server.received) == 3
    assert main(["links", "resolve", "1", "--sent"]) == 2
    assert "only an unknown send is resolved by hand" in capsys.readouterr().err
