"""E-mail to guests through a real SMTP server: valid MIME, every merge value, sent once."""

import datetime as dt
import re

from sqlalchemy import select

from lettrage.paylinks import rules, store, tokens
from lettrage.paylinks.store import LinkRequest

from .links_setup import deliver, make_requests, requests_, send_due, sends
from .servers import reservation, use_smtp

EN_GUEST = dict(reservation_id="R2", confirmation_no="40012346", guest_first_name="John", guest_last_name="Smith",
                email="john.smith@example.com", language="en", total_cents=20_000)


def test_each_guest_gets_one_valid_message_with_everything_in_their_language(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests([reservation(), reservation(**EN_GUEST)])
    with store.transaction(sessions) as s:  # the desk copies the booker on John's request
        s.scalar(select(LinkRequest).where(LinkRequest.reservation_id == "R2")).cc = ["booker@agency.example"]
    report = send_due(settings, sessions)
    assert (report.recorded, report.sent, report.failed) == (2, 2, 0)
    fr, en = sorted(smtp_server.received, key=lambda r: r.message["To"].addresses[0].username != "emilie.durand")
    msg = fr.message
    req, req_en = requests_(sessions)
    send_fr = req.sends[0]

    assert msg["From"].addresses[0].addr_spec == "reservations@hotel-lutece.example"
    assert fr.mail_from == "reservations@hotel-lutece.example"
    assert str(msg["To"]) == "Émilie Durand <emilie.durand@example.org>"
    assert msg["Message-ID"] == send_fr.message_id and send_fr.message_id.endswith("@hotel-lutece.example>")
    assert msg["Reply-To"] == "reception@hotel-lutece.example"
    assert msg["Bcc"] is None and "archives@hotel-lutece.example" in fr.rcpt_tos  # blind copy: envelope only
    assert msg["Cc"] is None and en.message["Cc"] == "booker@agency.example"
    assert set(en.rcpt_tos) == {"john.smith@example.com", "booker@agency.example", "archives@hotel-lutece.example"}

    # multipart/mixed > [multipart/alternative > [text/plain, multipart/related > [text/html, logo]], pdf]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    text_part, related = alternative.get_payload()
    html_part, logo = related.get_payload()
    assert (alternative.get_content_type(), text_part.get_content_type(), related.get_content_type(),
            html_part.get_content_type(), logo.get_content_type()) == \
        ("multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png")
    cid = logo["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content() and logo.get_content_disposition() == "inline"
    assert logo.get_content() == (rules.EXAMPLE.parent.parent / "templates" / "logo.png").read_bytes()
    assert (attachment.get_filename(), attachment.get_content_type(), attachment.get_content_disposition()) == \
        ("conditions-de-vente.pdf", "application/pdf", "attachment")
    assert attachment.get_content() == (rules.EXAMPLE.parent / "conditions-de-vente.pdf").read_bytes()

    text, html = text_part.get_content(), html_part.get_content()
    for value in ("486,50\u00a0€", "40012345", "Émilie", "Durand", "vendredi 12 juin 2026", "15:30", "3 personne(s)",
                  "paiement direct", "emilie.durand@example.org", "dimanche 14 juin 2026"):
        assert value in text, value
    for value in ("486,50\u00a0€", "40012345", "Émilie Durand", "vendredi 12 juin 2026 vers 15:30",
                  "Personnes</td><td><strong>3</strong>", "paiement direct", "emilie.durand@example.org"):
        assert value in html, value
    assert msg["Subject"] == "Hôtel Lutèce – réservation 40012345 : paiement direct de 486,50 €"
    assert "None" not in text and "{{" not in text
    url = re.search(r"https://pay\.hotel-lutece\.example/l/(\S+)", text)
    assert tokens.read_token(url[1], "test-link-secret").link_key == req.link_key
    assert url[0] in html

    english = en.message.get_body(("plain",)).get_content()
    assert english.startswith("Dear John Smith") and "€200.00" in english and "Friday 12 June 2026" in english
    assert en.message.get_body(("html",)).get_content().count("Pay online") == 1

    assert [r.status for r in (req, req_en)] == ["sent", "sent"] and req.sent_at is not None
    assert (send_fr.status, send_fr.attempts, send_fr.kind, send_fr.channel) == ("sent", 1, "link", "email")
    again = send_due(settings, sessions)
    assert (again.recorded, again.sent) == (0, 0) and len(smtp_server.received) == 2


def test_a_busy_server_is_retried_with_growing_delays_and_gets_the_message_once(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    monkeypatch.setenv("LETTRAGE_LINK_RETRY_SECONDS", "30")
    settings, sessions = make_requests([reservation()])
    smtp_server.busy = 2
    first = send_due(settings, sessions)
    [send] = sends(sessions)
    assert (first.retrying, send.status, send.attempts) == (1, "recorded", 1) and "451" in send.error
    assert (send.next_attempt_at - send.last_attempt_at).total_seconds() == 30
    assert send_due(settings, sessions).sent == 0 and sends(sessions)[0].attempts == 1  # not due yet
    now = dt.datetime.now(dt.UTC)
    deliver(settings, sessions, now + dt.timedelta(seconds=31))
    [send] = sends(sessions)
    assert send.attempts == 2 and (send.next_attempt_at - send.last_attempt_at).total_seconds() == 60
    assert deliver(settings, sessions, now + dt.timedelta(seconds=200)).sent == 1
    [send] = sends(sessions)
    assert (send.status, send.attempts, send.error) == ("sent", 3, None)
    assert len(smtp_server.received) == 1 and requests_(sessions)[0].status == "sent"


def test_after_the_last_attempt_the_send_fails_and_is_reported(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    monkeypatch.setenv("LETTRAGE_LINK_RETRY_SECONDS", "0")
    monkeypatch.setenv("LETTRAGE_LINK_MAX_ATTEMPTS", "2")
    settings, sessions = make_requests([reservation()])
    smtp_server.busy = 5
    send_due(settings, sessions)
    report = send_due(settings, sessions)
    [send] = sends(sessions)
    assert (send.status, send.attempts) == ("failed", 2) and send.error.startswith("gave up after 2 attempts")
    assert report.failed == 1 and "gave up" in report.problems[0]
    assert requests_(sessions)[0].status == "failed" and not smtp_server.received


def test_a_refused_address_ends_the_send_nobody_gets_a_copy_and_it_is_reported(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests([reservation(), reservation(**EN_GUEST)])
    smtp_server.refuse = {"emilie.durand@example.org"}
    report = send_due(settings, sessions)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    failed = next(s for s in sends(sessions) if s.status == "failed")
    assert failed.attempts == 1 and "550" in failed.error and "emilie.durand@example.org" in failed.error
    assert any("emilie.durand@example.org" in p and "550" in p for p in report.problems)
    req = next(r for r in requests_(sessions) if r.reservation_id == "R1")
    assert req.status == "failed" and "550" in req.problem
    assert [r.rcpt_tos[0] for r in smtp_server.received] == ["john.smith@example.com"]  # no orphan Bcc/Cc copy
    assert send_due(settings, sessions).sent == 0


def test_a_request_cancelled_or_paid_before_its_turn_is_not_sent(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests([reservation(), reservation(**EN_GUEST)])
    from lettrage.paylinks.outbox import open_outbox
    from lettrage.paylinks.sending import deliver as deliver_all
    from lettrage.paylinks.sending import record_due

    with open_outbox(settings, sessions) as outbox:
        record_due(sessions, outbox)
        with store.transaction(sessions) as s:
            first, second = s.scalars(select(LinkRequest).order_by(LinkRequest.id)).all()
            first.status = "cancelled"
            second.status = "paid"  # paid at the desk meanwhile
        report = deliver_all(sessions, outbox)
    assert (report.sent, report.skipped) == (0, 2) and not smtp_server.received
    assert {s.error for s in sends(sessions)} == {"not sent: the request is cancelled", "not sent: the request is paid"}


def test_a_reminder_goes_once_when_its_day_comes_while_nobody_has_paid(links_env, smtp_server, monkeypatch):
    use_smtp(monkeypatch, smtp_server)
    settings, sessions = make_requests([reservation()])
    send_due(settings, sessions)
    assert send_due(settings, sessions, dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)).sent == 0
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)
    assert send_due(settings, sessions, tomorrow).sent == 1
    assert send_due(settings, sessions, tomorrow + dt.timedelta(hours=1)).sent == 0
    link, reminder = (r.message for r in smtp_server.received)
    assert reminder["Subject"].startswith("Rappel – Hôtel Lutèce") and reminder["Message-ID"] != link["Message-ID"]
    assert [s.kind for s in sends(sessions)] == ["link", "reminder"]
