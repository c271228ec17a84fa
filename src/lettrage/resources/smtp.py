"""E-mail to the finance team (notices such as a failed daily run), through the SMTP server of
the settings, sent by the payment-link half's SMTP sender. With no server configured (a bare
demo machine) the message is written as an .eml file under the mail folder instead."""

from __future__ import annotations

import email.policy
import hashlib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import dagster as dg


class SmtpResource(dg.ConfigurableResource):
    """An SMTP server (TLS none | starttls | ssl) and who notices come from."""

    host: str = ""
    port: int = 25
    tls: str = "none"
    user: str = ""
    password: str = ""
    sender: str = "lettrage@lettrage.local"
    mail_dir: str = ""  # used when host is empty

    def send(self, to: str, subject: str, text: str) -> str:
        """Send one plain-text message; returns its Message-ID."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "lettrage.local")
        message.set_content(text)
        if not self.host:
            folder = Path(self.mail_dir) / "outbox"
            folder.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(message["Message-ID"].encode()).hexdigest()[:16]
            (folder / f"{name}.eml").write_bytes(message.as_bytes(policy=email.policy.default))
            return message["Message-ID"]
        from lettrage.paylinks.notify.smtp import SmtpSender

        with SmtpSender(self.host, self.port, self.tls, self.user, self.password) as sender:
            sender.send(message)
        return message["Message-ID"]
