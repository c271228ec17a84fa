"""The payment links' resources: the operational store, the SMTP relay and Twilio.

Secrets are bound by environment variable name (dg.EnvVar), so the UI never shows them. An empty
SMTP host means a local mail sink writing to `mail_dir`; an empty Twilio account means SMS
written as files to `sms_dir`.
"""

from __future__ import annotations

import dataclasses
import os

import dagster as dg

from lettrage.config import Settings, load_settings


class OpsStoreResource(dg.ConfigurableResource):
    """The operational store (SQLAlchemy URL): link requests, sends, PSP events, users."""

    url: str

    def sessions(self, read_only: bool = False):
        """Session factory; read-only ones (sensors) neither migrate nor take the write lock."""
        from lettrage.paylinks import store

        return store.session_factory(self.url, read_only=read_only)

    def exists(self) -> bool:
        """False when the store was never created (a SQLite file not there yet)."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return True
        from pathlib import Path

        return Path(url.database).exists()


class SmtpRelayResource(dg.ConfigurableResource):
    """The SMTP server the guests' e-mails leave by (TLS none | starttls | ssl); the From address
    is each hotel's own (its link rules)."""

    host: str = ""
    port: int = 25
    tls: str = "none"
    user: str = ""
    password: str = ""
    mail_dir: str = ""

    def apply(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, smtp_host=self.host, smtp_port=self.port, smtp_tls=self.tls,
                                   smtp_user=self.user, smtp_password=self.password,
                                   mail_dir=type(settings.mail_dir)(self.mail_dir) if self.mail_dir
                                   else settings.mail_dir)


class TwilioResource(dg.ConfigurableResource):
    """Twilio's Messages API (the real client); `base_url` points it at another server."""

    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    base_url: str = ""
    sms_dir: str = ""

    def apply(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, twilio_account_sid=self.account_sid, twilio_auth_token=self.auth_token,
                                   twilio_from=self.from_number, twilio_base_url=self.base_url,
                                   sms_dir=type(settings.sms_dir)(self.sms_dir) if self.sms_dir else settings.sms_dir)


def link_resources(s: Settings | None = None) -> dict:
    s = s or load_settings()
    # A PostgreSQL URL holds a password: bound by name when it comes from the environment.
    url = dg.EnvVar("LETTRAGE_OPS_STORE_URL") if os.environ.get("LETTRAGE_OPS_STORE_URL") else s.ops_store_url
    return {
        "ops_store": OpsStoreResource(url=url),
        "guest_mail": SmtpRelayResource(
            host=s.smtp_host, port=s.smtp_port, tls=s.smtp_tls, user=s.smtp_user,
            password=dg.EnvVar("LETTRAGE_SMTP_PASSWORD") if s.smtp_password else "", mail_dir=str(s.mail_dir)),
        "guest_sms": TwilioResource(
            account_sid=s.twilio_account_sid,
            auth_token=dg.EnvVar("TWILIO_AUTH_TOKEN") if s.twilio_auth_token else "",
            from_number=s.twilio_from, base_url=s.twilio_base_url, sms_dir=str(s.sms_dir)),
    }
