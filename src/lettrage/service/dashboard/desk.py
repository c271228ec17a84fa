"""What every dashboard page needs: the settings, the ops store, the session codec, the templates,
and who is asking (the logged-in user, checked against the store on every request)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from lettrage.config import Settings, load_settings
from lettrage.paylinks import store
from lettrage.recon.money import format_cents
from lettrage.service.dashboard.access import allowed
from lettrage.service.dashboard.sessions import COOKIE, Session, SessionCodec

PREFIX = "/dashboard"
FLASH_COOKIE = "lettrage_flash"
TEMPLATES = Path(__file__).parent / "templates"


class Refused(Exception):
    """A request the dashboard turns down: 401 (no session), 403 (role, CSRF, hotel), 404, 409."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class DeskUser:
    username: str
    role: str
    hotel_ids: tuple[str, ...]  # empty: every hotel of the group

    def sees(self, hotel_id: str) -> bool:
        return not self.hotel_ids or hotel_id in self.hotel_ids


def _when(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


class Desk:
    """One per app: built on first use from the app's settings (`app.state.settings`) or the environment."""

    def __init__(self, settings: Settings, sessions=None):
        self.settings = settings
        self.sessions = sessions or store.session_factory(settings.ops_store_url)
        self.codec = SessionCodec(settings.session_secret, max_age=settings.session_minutes * 60)
        self.secure_cookies = settings.public_base_url.startswith("https://")
        self.templates = Jinja2Templates(directory=str(TEMPLATES))
        self.templates.env.filters["money"] = lambda cents, cur="EUR": format_cents(cents, cur or "EUR")
        self.templates.env.filters["when"] = _when

    @staticmethod
    def of(request: Request) -> Desk:
        app = request.app
        desk = getattr(app.state, "lettrage_desk", None)
        if desk is None:
            desk = Desk(getattr(app.state, "settings", None) or load_settings(), getattr(app.state, "sessions", None))
            app.state.lettrage_desk = desk
        return desk

    # --- sessions -------------------------------------------------------------------------------
    def session(self, request: Request) -> Session | None:
        return self.codec.load(request.cookies.get(COOKIE))

    def set_session(self, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, self.codec.dump(session), max_age=self.codec.max_age, httponly=True,
                            samesite="lax", secure=self.secure_cookies, path=PREFIX)

    def user(self, request: Request) -> DeskUser | None:
        """The logged-in user, re-read from the store (a removed or deactivated user is out at once)."""
        session = self.session(request)
        if not session or not session.username:
            return None
        from sqlalchemy import select

        with self.sessions() as s:
            row = s.scalars(select(store.User).where(store.User.username == session.username)).first()
            if row is None or not row.active:
                return None
            hotels = tuple(h for h in (row.hotel_ids or []) if h != "*")
            return DeskUser(row.username, row.role, hotels)

    def require(self, request: Request, permission: str, form: dict | None = None) -> DeskUser:
        """The user, if logged in, holding `permission`, and (for a form) with the session's CSRF token."""
        user = self.user(request)
        if user is None:
            raise Refused(401, "Not logged in", "Log in to use the dashboard.")
        if form is not None and not self.codec.csrf_ok(self.session(request), form.get("csrf_token")):
            raise Refused(403, "Form refused", "This form has expired or did not come from the dashboard. "
                                               "Reload the page and try again.")
        if not allowed(user.role, permission):
            raise Refused(403, "Not allowed", f"Your role ({user.role}) does not allow this.")
        return user

    # --- pages ----------------------------------------------------------------------------------
    def page(self, request: Request, name: str, user: DeskUser | None, status: int = 200,
             session: Session | None = None, **values) -> HTMLResponse:
        session = session or self.session(request)
        flashes = []
        raw = request.cookies.get(FLASH_COOKIE)
        if raw:
            data = self.codec.load_flash(raw)
            if data:
                flashes.append(data)
        response = self.templates.TemplateResponse(request, name, {
            "prefix": PREFIX, "user": user, "flashes": flashes,
            "csrf_token": self.codec.csrf_token(session) if session else "",
            "can": (lambda p: allowed(user.role, p)) if user else (lambda p: False),
            **values,
        }, status_code=status)
        if raw:
            response.delete_cookie(FLASH_COOKIE, path=PREFIX)
        return response

    def redirect(self, path: str, flash: tuple[str, str] | None = None) -> RedirectResponse:
        response = RedirectResponse(PREFIX + path, status_code=303)
        if flash:
            response.set_cookie(FLASH_COOKIE, self.codec.dump_flash(flash), max_age=60, httponly=True,
                                samesite="lax", secure=self.secure_cookies, path=PREFIX)
        return response

    def refused(self, request: Request, exc: Refused) -> Response:
        if exc.status == 401 and request.method == "GET":
            return RedirectResponse(f"{PREFIX}/login?next={quote(request.url.path)}", status_code=303)
        user = self.user(request)
        if user is not None and exc.status == 403:
            # A refused action is worth knowing about (who tried what).
            with store.transaction(self.sessions) as s:
                self.audit(s, user, "refused", f"{request.method} {request.url.path}"[:120], exc.message)
        return self.page(request, "refused.html", user, status=exc.status, title=exc.title, message=exc.message)

    # --- the request's messages ------------------------------------------------------------------
    def link_url(self, request) -> str | None:
        """The guest's link, while it can still be paid (shown so reception can read it out or copy it)."""
        from lettrage.paylinks import messages
        from lettrage.paylinks.status import OPEN

        if request.status not in OPEN or request.expires_at is None or request.expires_at <= dt.datetime.now(dt.UTC):
            return None
        return messages.link_url(request, self.settings.public_base_url, self.settings.link_secret)

    def profile(self, hotel_id: str):
        from lettrage.paylinks.outbox import rules_book

        return rules_book(self.settings).get(hotel_id).profile

    def send_now(self, request_id: int) -> str:
        """Send a request's link message(s) now, exactly once (the same send the sensor would make);
        returns one line saying what happened."""
        from lettrage.paylinks import sending
        from lettrage.paylinks.outbox import open_outbox
        from lettrage.paylinks.rules import RulesError

        with store.transaction(self.sessions) as s:
            req = s.get(store.LinkRequest, request_id)
            if req.status != "scheduled":
                return f"Not sent: the request is {req.status}."
            _, problem = self.preview(s, req)
            if problem:
                req.problem = problem
                req.status = "draft"  # held, as the rules hold theirs, until someone fixes it
                return f"Held, not sent: {problem}"
        try:
            with open_outbox(self.settings, self.sessions) as outbox:
                with store.transaction(self.sessions) as s:
                    req = s.get(store.LinkRequest, request_id)
                    recorded = [sending.record_send(s, req, outbox, kind="link", channel=ch, template=req.template,
                                                    key=f"link:{req.id}:{ch}") for ch in sending.channels(req.channel)]
                    s.flush()
                    ids = [x.id for x in recorded if x is not None]
                report = sending.deliver(self.sessions, outbox, send_ids=ids)
        except RulesError as exc:
            return f"Not sent: {exc}"
        with self.sessions() as s:
            status = s.get(store.LinkRequest, request_id).status
        if report.sent:
            return f"Sent ({', '.join(sending.channels(req.channel))}); the request is {status}."
        return f"Not sent yet ({'; '.join(report.problems) or 'will be retried'}); the request is {status}."

    def preview(self, s, request):
        """(the rendered link message, None) or (None, why it cannot be sent)."""
        from lettrage.paylinks import messages, templates
        from lettrage.paylinks.rules import RulesError

        parts = templates.EMAIL_PARTS if request.channel in ("email", "both") else ("sms",)
        try:
            composer = messages.Composer(templates.TemplateLibrary.from_store(s), self.settings.public_base_url,
                                         self.settings.link_secret)
            return composer.render(request, self.profile(request.hotel_id), request.template, parts), None
        except (templates.TemplateError, RulesError, ValueError) as exc:
            return None, str(exc)

    @staticmethod
    def audit(s, user: DeskUser, action: str, target: str | None = None, detail: str | None = None) -> None:
        from lettrage.paylinks.requests import audit

        audit(s, user.username, action, target, detail)


class DeskRoute(APIRoute):
    """Every dashboard route: a `Refused` becomes the refusal page (or the login page for a GET)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as exc:
                return Desk.of(request).refused(request, exc)

        return guarded


def router() -> APIRouter:
    return APIRouter(route_class=DeskRoute)
