"""Logging in and out of the dashboard."""

from __future__ import annotations

from fastapi import Request

from lettrage.paylinks import store
from lettrage.service.dashboard.desk import PREFIX, Desk, Refused
from lettrage.service.dashboard.desk import router as desk_router
from lettrage.service.dashboard.passwords import hash_password, verify_password
from lettrage.service.dashboard.sessions import COOKIE

router = desk_router()
# Checked when the username is unknown, so that a wrong name and a wrong password take as long.
_DECOY = hash_password("decoy-password-never-used")


def _safe_next(value: str | None) -> str:
    value = value or ""
    return value if value.startswith(PREFIX + "/") and "//" not in value[1:] and "\\" not in value else PREFIX + "/"


@router.get("/login")
def login_page(request: Request, next: str = ""):  # noqa: A002 - the query parameter's name
    desk = Desk.of(request)
    if desk.user(request):
        return desk.redirect(_safe_next(next).removeprefix(PREFIX))
    session = desk.session(request) or desk.codec.new()
    response = desk.page(request, "login.html", None, session=session, next=_safe_next(next), error="")
    desk.set_session(response, session)
    return response


@router.post("/login")
async def login(request: Request):
    from sqlalchemy import select

    desk = Desk.of(request)
    form = await request.form()
    session = desk.session(request)
    if not desk.codec.csrf_ok(session, form.get("csrf_token")):
        raise Refused(403, "Form refused", "This login form has expired. Reload the page and try again.")
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    with store.transaction(desk.sessions) as s:
        row = s.scalars(select(store.User).where(store.User.username == username)).first()
        ok = verify_password(password, row.password_hash if row else _DECOY) and row is not None and row.active
        s.add(store.AuditEntry(username=username or "?", action="login" if ok else "login_refused",
                               target=f"user:{username}"))
        if ok:
            row.last_login_at = store.utcnow()
    if not ok:
        response = desk.page(request, "login.html", None, status=401, next=_safe_next(form.get("next")),
                             error="Unknown user or wrong password.")
        return response
    response = desk.redirect(_safe_next(form.get("next")).removeprefix(PREFIX))
    desk.set_session(response, desk.codec.new(username))  # a new session id at login
    return response


@router.post("/logout")
async def logout(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "view_requests", dict(await request.form()))
    with store.transaction(desk.sessions) as s:
        desk.audit(s, user, "logout", f"user:{user.username}")
    response = desk.redirect("/login")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
