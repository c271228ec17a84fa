"""A local SMTP server (aiosmtpd) that writes every message it accepts to a folder.

The demo sends here when no SMTP relay is configured (`var/mail/`), and `lettrage mail-sink`
runs one on its own. Each message is one `.eml` file, named after its Message-ID, with the
envelope on top (Return-Path, X-Envelope-To: the blind copies show there, as in a mailbox).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import socket
from pathlib import Path

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _digest(message_id: str) -> str:
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:24]


def find(mail_dir: Path, message_id: str) -> Path | None:
    """The file of the message with this Message-ID, if the sink accepted it."""
    hits = sorted(Path(mail_dir).glob(f"*-{_digest(message_id)}.eml"))
    return hits[0] if hits else None


class _Writer:
    def __init__(self, mail_dir: Path):
        self.mail_dir = Path(mail_dir)
        self._seq = itertools.count()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        content = envelope.original_content or envelope.content
        head = content.split(b"\r\n\r\n", 1)[0]
        m = _MESSAGE_ID.search(head)
        message_id = m[1].decode() if m else f"<no-id-{next(self._seq)}>"
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        envelope_lines = (f"Return-Path: <{envelope.mail_from}>\r\n"
                          f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        target = self.mail_dir / f"{stamp}-{next(self._seq):06d}-{_digest(message_id)}.eml"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(envelope_lines + content)
        os.replace(tmp, target)  # a reader never sees half a message
        return "250 OK: queued as " + target.name


class MailSink:
    """`with MailSink(var / "mail") as sink:` ... send to 127.0.0.1:sink.port ..."""

    def __init__(self, mail_dir: Path, host: str = "127.0.0.1", port: int | None = None):
        self.mail_dir, self.host, self.port = Path(mail_dir), host, port
        self._controller = None

    def start(self) -> MailSink:
        from aiosmtpd.controller import Controller

        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        self._controller = Controller(_Writer(self.mail_dir), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
