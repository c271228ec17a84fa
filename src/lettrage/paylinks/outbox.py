"""The outbox of this installation, from the settings: the SMTP relay or, without one, a local
mail sink writing to var/mail/; Twilio or, without an account, files under var/sms/; the
template library (with the dashboard's edits) and every hotel's rules.

    with open_outbox(settings, sessions) as outbox:
        report = sending.send_due(sessions, outbox)
"""

from __future__ import annotations

import csv
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace

from lettrage.config import Settings
from lettrage.paylinks.messages import Composer
from lettrage.paylinks.notify.mail_sink import MailSink
from lettrage.paylinks.notify.sms import SmsFiles, TwilioSender
from lettrage.paylinks.notify.smtp import SmtpSender
from lettrage.paylinks.rules import RulesBook
from lettrage.paylinks.sending import Outbox, SendPolicy
from lettrage.paylinks.templates import TemplateLibrary


@contextmanager
def email_sender(settings: Settings):
    """The configured SMTP relay, or a mail sink started here for the time of the batch."""
    if settings.smtp_host:
        with SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_user,
                        settings.smtp_password) as sender:
            yield sender
        return
    with MailSink(settings.mail_dir) as sink, \
            SmtpSender("127.0.0.1", sink.port, accepted_dir=settings.mail_dir) as sender:
        yield sender


def sms_sender(settings: Settings):
    if settings.twilio_account_sid:
        return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from,
                            base_url=settings.twilio_base_url)
    return SmsFiles(settings.sms_dir, settings.twilio_from or "LETTRAGE")


def rules_book(settings: Settings) -> RulesBook:
    """Every hotel's rules, with its name and time zone from hotels.csv (read here with the csv
    module: recon.hotels would pull pandas into every command that sends a message)."""
    hotels = {}
    hotels_file = settings.inbox_dir / "hotels.csv"
    if hotels_file.exists():
        with hotels_file.open(newline="", encoding="utf-8-sig") as fh:
            hotels = {row["hotel_id"]: SimpleNamespace(name=row.get("name"), timezone=row.get("timezone"))
                      for row in csv.DictReader(fh) if row.get("hotel_id")}
    return RulesBook(settings.link_rules_dir or settings.inbox_dir, hotels, settings.group_timezone)


def policy(settings: Settings) -> SendPolicy:
    return SendPolicy(backoff_seconds=settings.link_retry_seconds, max_attempts=settings.link_max_attempts,
                      status_callback_url=f"{settings.public_base_url.rstrip('/')}/sms/status")


@contextmanager
def open_outbox(settings: Settings, sessions, email: bool = True, sms: bool = True):
    """An Outbox for one batch. `email=False` / `sms=False` leave a channel out (nothing started)."""
    with sessions() as s:
        library = TemplateLibrary.from_store(s)
    with ExitStack() as stack:
        yield Outbox(
            composer=Composer(library, settings.public_base_url, settings.link_secret),
            rules=rules_book(settings),
            email=stack.enter_context(email_sender(settings)) if email else None,
            sms=stack.enter_context(sms_sender(settings)) if sms else None,
            policy=policy(settings),
            fallback_notify=settings.finance_email,
        )
