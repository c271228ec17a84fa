"""Sending e-mail by SMTP from the hotel's own domain (TLS: none, STARTTLS or SSL).

The SMTP dialogue is driven step by step so that a failure says whether the server may hold the
message: anything before DATA (connection, login, MAIL FROM, RCPT TO) means it does not; a break
while the data is going out means it may (`in_doubt`). One connection serves a whole batch.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from email.header import Header
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import Path

from lettrage.paylinks.notify import DeliveryError

TLS_MODES = ("none", "starttls", "ssl")


class _WirePolicy(email.policy.EmailPolicy):
    """email.policy.SMTP, except the Subject: Python 3.11 can drop the space between two encoded
    words when it folds a long non-ASCII subject ("40012345 :pré-autorisation", CPython
    gh-144156). The older encoder keeps every space inside the encoded words."""

    def _fold(self, name, value, refold_binary=False):
        if name.lower() == "subject":
            text = str(value)
            folded = Header(text, "us-ascii" if text.isascii() else "utf-8", header_name=name).encode(
                linesep=self.linesep)
            return f"{name}: {folded}{self.linesep}"
        return super()._fold(name, value, refold_binary)


WIRE_POLICY = _WirePolicy(linesep="\r\n")  # CRLF line ends, headers encoded for 7-bit transport


_CLASSIC_WIRE = email.policy.compat32.clone(linesep="\r\n", mangle_from_=False)


def wire_bytes(message: Message) -> bytes:
    """The message exactly as it goes over SMTP (built with EmailMessage or email.mime)."""
    if isinstance(message.policy, email.policy.EmailPolicy):
        return message.as_bytes(policy=WIRE_POLICY)
    return message.as_bytes(policy=_CLASSIC_WIRE)


def _outcome(code: int) -> str:
    return "permanent" if 500 <= code < 600 else "transient"


def _text(resp) -> str:
    return resp.decode(errors="replace") if isinstance(resp, bytes) else str(resp)


class SmtpSender:
    """One SMTP server. Use as a context manager around a batch: the connection is reused."""

    channel = "email"

    def __init__(self, host: str, port: int = 25, tls: str = "none", user: str = "", password: str = "",
                 timeout: float = 30.0, accepted_dir: Path | None = None):
        if tls not in TLS_MODES:
            raise ValueError(f"SMTP TLS mode {tls!r}: use one of {', '.join(TLS_MODES)}")
        self.host, self.port, self.tls, self.user, self._password = host, port, tls, user, password
        self.timeout = timeout
        # Where a local sink writes what it accepted: lets a crash in doubt be resolved by looking.
        self.accepted_dir = Path(accepted_dir) if accepted_dir else None
        self._conn: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host}:{self.port}, tls={self.tls}, user={self.user or '-'})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._conn = None

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.tls == "ssl":
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.tls == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.user:
                conn.login(self.user, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            # The account, not the message, is wrong: keep the message for when it is fixed.
            raise DeliveryError("transient", f"SMTP login refused for {self.user!r} on {self.host}:{self.port} "
                                             f"({exc.smtp_code})", exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError("transient", f"cannot reach SMTP server {self.host}:{self.port}: {exc}") from None
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn = None

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipients: list[str], primary: set[str]) -> dict:
        code, resp = conn.mail(sender)
        if code != 250:
            conn.rset()
            raise DeliveryError(_outcome(code), f"sender {sender} refused: {code} {_text(resp)}", code)
        refused = {}
        for rcpt in recipients:
            code, resp = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, _text(resp))
        stopped = [r for r in recipients if r in refused and r in primary] or \
            (list(refused) if len(refused) == len(recipients) else [])
        if stopped:
            conn.rset()
            codes = [refused[r][0] for r in stopped]
            outcome = "permanent" if all(500 <= c < 600 for c in codes) else "transient"
            detail = "; ".join(f"{r}: {refused[r][0]} {refused[r][1]}" for r in stopped)
            raise DeliveryError(outcome, f"recipient refused: {detail}", codes[0])
        return refused

    def send(self, message: Message) -> str:
        """Hand one message over. Returns a note (e.g. copies refused); raises DeliveryError."""
        sender = parseaddr(message["Sender"] or message["From"])[1]
        recipients = [a for _, a in getaddresses(message.get_all("To", []) + message.get_all("Cc", [])
                                                 + message.get_all("Bcc", [])) if a]
        primary = {a for _, a in getaddresses(message.get_all("To", [])) if a}
        del message["Bcc"]  # blind copies travel in the envelope only
        data = wire_bytes(message)
        for retry in (True, False):
            conn = self._conn or self._connect()
            try:
                refused = self._envelope(conn, sender, list(dict.fromkeys(recipients)), primary)
                break
            except smtplib.SMTPServerDisconnected:
                self._drop()  # an idle connection the server closed: once more on a new one
                if not retry:
                    raise DeliveryError("transient", f"SMTP server {self.host}:{self.port} disconnected") from None
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise DeliveryError("transient", f"SMTP error before the data was sent: {exc}") from None
        try:
            code, resp = conn.data(data)
        except smtplib.SMTPDataError as exc:
            conn.rset()
            raise DeliveryError(_outcome(exc.smtp_code), f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                                exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError("in_doubt", f"connection lost while the message was being sent: {exc}") from None
        if code != 250:  # smtplib returns the final reply instead of raising
            conn.rset()
            raise DeliveryError(_outcome(code), f"message refused: {code} {_text(resp)}", code)
        return "; ".join(f"copy to {r} refused: {c} {t}" for r, (c, t) in refused.items())

    def lookup(self, message_id: str) -> bool | None:
        """Did the server accept this Message-ID? None: it cannot be known (a real relay)."""
        if self.accepted_dir is None:
            return None
        from lettrage.paylinks.notify.mail_sink import find

        return find(self.accepted_dir, message_id) is not None
