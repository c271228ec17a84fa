"""SMS through the real twilio client, pointed at a local server speaking Twilio's API."""

import json
import re

from lettrage.paylinks import tokens

from .links_setup import make_requests, requests_, send_due, sends
from .servers import TwilioApi, reservation, use_smtp, use_twilio

SMS_ONLY = dict(email=None, phone="+33612345678")


def test_the_twilio_client_sends_the_sms_with_the_link_and_a_status_callback(links_env, twilio_api, monkeypatch):
    use_twilio(monkeypatch, twilio_api, "+33700000001")
    settings, sessions = make_requests([reservation(**SMS_ONLY)])
    report = send_due(settings, sessions)
    assert (report.sent, report.failed) == (1, 0)
    [post] = twilio_api.posts
    assert (post["To"], post["From"]) == ("+33612345678", "+33700000001")
    assert post["StatusCallback"] == "https://pay.hotel-lutece.example/sms/status"
    body = post["Body"]
    assert body.startswith("Hôtel Lutèce : paiement direct de 486,50 € pour la réservation 40012345 (arrivée le 12/06)")
    token = re.search(r"/l/(\S+)$", body)[1]
    [req] = requests_(sessions)
    assert tokens.read_token(token, "test-link-secret").link_key == req.link_key
    [send] = sends(sessions)
    assert (send.status, send.channel, send.provider_id) == ("sent", "sms", twilio_api.messages[0]["sid"])
    assert req.status == "sent"
    assert send_due(settings, sessions).sent == 0 and len(twilio_api.messages) == 1


def test_a_guarantee_goes_by_email_and_sms(links_env, twilio_api, smtp_server, monkeypatch):
    use_twilio(monkeypatch, twilio_api)
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests([reservation(non_refundable=False, guarantee_code="GTD",
                                                    arrival_date=__import__("datetime").date.today())])
    assert send_due(settings, sessions).sent == 2
    assert [s.channel for s in sends(sessions)] == ["email", "sms"]
    assert "pré-autorisation" in twilio_api.posts[0]["Body"]
    assert smtp_server.received[0].message["Subject"].startswith("Hôtel Lutèce – réservation 40012345 : pré-autorisation")


def test_a_twilio_outage_is_retried_and_an_invalid_number_is_a_permanent_failure(links_env, twilio_api, monkeypatch):
    use_twilio(monkeypatch, twilio_api)
    monkeypatch.setenv("LETTRAGE_LINK_RETRY_SECONDS", "0")
    settings, sessions = make_requests([reservation(**SMS_ONLY),
                                        reservation(reservation_id="R2", confirmation_no="40012346", email=None,
                                                    phone=TwilioApi.INVALID)])
    twilio_api.fail_next = [500]
    first = send_due(settings, sessions)
    assert (first.sent, first.retrying, first.failed) == (0, 1, 1)
    invalid = next(s for s in sends(sessions) if s.recipient == TwilioApi.INVALID)
    assert invalid.status == "failed" and "21211" in invalid.error and "not a valid phone number" in invalid.error
    assert any("21211" in p for p in first.problems)
    twilio_api.fail_next = [429]
    second = send_due(settings, sessions)  # too many requests: still transient
    assert (second.sent, second.retrying) == (0, 1)
    assert send_due(settings, sessions).sent == 1
    good = next(s for s in sends(sessions) if s.recipient == "+33612345678")
    assert (good.status, good.attempts) == ("sent", 3)
    assert [m["to"] for m in twilio_api.messages] == ["+33612345678"]
    assert [r.status for r in requests_(sessions)] == ["sent", "failed"]


def test_without_a_twilio_account_sms_are_written_to_var_sms(links_env):
    settings, sessions = make_requests([reservation(**SMS_ONLY)])
    assert send_due(settings, sessions).sent == 1
    [file] = list((links_env / "sms").glob("*.json"))
    record = json.loads(file.read_text(encoding="utf-8"))
    assert record["to"] == "+33612345678" and "486,50 €" in record["body"] and "/l/" in record["body"]
    assert sends(sessions)[0].provider_id == f"file:{file.name}"
