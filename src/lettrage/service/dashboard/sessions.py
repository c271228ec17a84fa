"""Dashboard sessions and CSRF tokens.

A session is a signed, timestamped cookie (itsdangerous) holding a random session id and, once
logged in, the username. It expires after `max_age` seconds; the user's role is re-read from the
store on every request, so a changed role or a removed user takes effect at once.
Every form carries a CSRF token bound to the session id (HMAC), checked on every POST; the login
form too, through the anonymous session the login page opens. Logging in issues a new session id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "lettrage_session"


@dataclass(frozen=True)
class Session:
    sid: str
    username: str | None = None


class SessionCodec:
    def __init__(self, secret: str, max_age: int):
        if not secret:
            raise ValueError("LETTRAGE_SESSION_SECRET is empty: the dashboard cannot sign its sessions")
        self._secret = secret.encode()
        self._signer = URLSafeTimedSerializer(secret, salt="lettrage-dashboard-session")
        self._flash = URLSafeTimedSerializer(secret, salt="lettrage-dashboard-flash")
        self.max_age = max_age

    def new(self, username: str | None = None) -> Session:
        return Session(sid=secrets.token_urlsafe(18), username=username)

    def dump(self, session: Session) -> str:
        return self._signer.dumps({"sid": session.sid, "user": session.username})

    def load(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when it is missing, altered or expired."""
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        return Session(sid=data["sid"], username=data.get("user"))

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._secret, f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        return bool(session and token) and hmac.compare_digest(self.csrf_token(session), token)

    # A one-line message carried to the next page after a redirect ("3 requests marked POSTED").
    def dump_flash(self, flash: tuple[str, str]) -> str:
        return self._flash.dumps(list(flash))

    def load_flash(self, cookie: str) -> tuple[str, str] | None:
        try:
            kind, text = self._flash.loads(cookie, max_age=120)
        except (BadSignature, ValueError, TypeError):
            return None
        return str(kind), str(text)
