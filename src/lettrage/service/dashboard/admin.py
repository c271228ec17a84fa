"""The administrator's pages: dashboard users, message templates, each hotel's link rules."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import Request
from sqlalchemy import select

from lettrage.paylinks import store
from lettrage.paylinks import templates as library
from lettrage.service.dashboard.access import ROLES
from lettrage.service.dashboard.desk import Desk, Refused
from lettrage.service.dashboard.desk import router as desk_router
from lettrage.service.dashboard.passwords import WeakPassword, hash_password

router = desk_router()
MESSAGES = ("link", "reminder", "response_paid", "response_authorised", "response_refused", "response_cancelled",
            "response_pending", "response_refunded", "hotel_notice")


def _hotels(value: str) -> list[str]:
    hotels = [h.strip() for h in value.replace(";", ",").split(",") if h.strip()]
    return hotels or ["*"]


# --- users -------------------------------------------------------------------------------------

@router.get("/admin/users")
def users_page(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "manage_users")
    with desk.sessions() as s:
        rows = s.scalars(select(store.User).order_by(store.User.username)).all()
    return desk.page(request, "admin_users.html", user, active="users", rows=rows, roles=ROLES)


@router.post("/admin/users")
async def add_user(request: Request):
    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "manage_users", dict(form))
    username = str(form.get("username", "")).strip()
    role = str(form.get("role", ""))
    if not username or role not in ROLES:
        return desk.redirect("/admin/users", ("error", "A user needs a username and one of the roles."))
    try:
        password_hash = hash_password(str(form.get("password", "")))
    except WeakPassword as exc:
        return desk.redirect("/admin/users", ("error", f"User {username} not added: {exc}."))
    hotels = _hotels(str(form.get("hotels", "")))
    with store.transaction(desk.sessions) as s:
        if s.scalars(select(store.User).where(store.User.username == username)).first():
            return desk.redirect("/admin/users", ("error", f"User {username} already exists."))
        s.add(store.User(username=username, password_hash=password_hash, role=role, hotel_ids=hotels, active=True))
        Desk.audit(s, user, "user added", f"user:{username}", f"role {role}, hotels {', '.join(hotels)}")
    return desk.redirect("/admin/users", ("ok", f"User {username} added ({role})."))


@router.post("/admin/users/{username}")
async def change_user(request: Request, username: str):
    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "manage_users", dict(form))
    with store.transaction(desk.sessions) as s:
        row = s.scalars(select(store.User).where(store.User.username == username)).first()
        if row is None:
            raise Refused(404, "No such user", f"There is no user {username}.")
        changes = []
        role = str(form.get("role", row.role))
        if role not in ROLES:
            raise Refused(422, "No such role", f"{role!r} is not one of {', '.join(ROLES)}.")
        active = form.get("active") == "yes"
        if username == user.username and (role != row.role or not active):
            return desk.redirect("/admin/users", ("error", "You cannot change your own role or lock yourself out."))
        if role != row.role:
            changes.append(f"role {row.role} -> {role}")
            row.role = role
        hotels = _hotels(str(form.get("hotels", ",".join(row.hotel_ids or []))))
        if hotels != list(row.hotel_ids or []):
            changes.append(f"hotels {', '.join(row.hotel_ids or [])} -> {', '.join(hotels)}")
            row.hotel_ids = hotels
        if active != row.active:
            changes.append("reactivated" if active else "deactivated")
            row.active = active
        if form.get("password"):
            try:
                row.password_hash = hash_password(str(form.get("password")))
            except WeakPassword as exc:
                return desk.redirect("/admin/users", ("error", f"Password of {username} not changed: {exc}."))
            changes.append("password reset")
        if changes:
            Desk.audit(s, user, "user changed", f"user:{username}", "; ".join(changes))
    return desk.redirect("/admin/users", ("ok", f"User {username}: {'; '.join(changes) or 'nothing changed'}."))


# --- templates ---------------------------------------------------------------------------------

def _template_key(q) -> tuple[str, str, str, str]:
    hotel = (q.get("hotel_id") or "*").strip() or "*"
    service, language, name = q.get("service", "reservation"), q.get("language", "en"), q.get("name", "link")
    if service not in library.SERVICES or language not in library.languages() or name not in MESSAGES:
        raise Refused(422, "No such template", f"Choose a service ({', '.join(library.SERVICES)}), a language "
                                               f"({', '.join(library.languages())}) and a message.")
    return hotel, service, language, name


def _current_body(s, key) -> tuple[str, str]:
    """(body, where it comes from) of the template a message would use now."""
    lib = library.TemplateLibrary.from_store(s)
    label, body = lib.locate(*key)
    if body is None:
        body = (library.HERE / label).read_text(encoding="utf-8")
    return body, label


@router.get("/admin/templates")
def templates_page(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "manage_templates")
    key = _template_key(request.query_params)
    with desk.sessions() as s:
        overrides = s.scalars(select(store.Template).order_by(store.Template.hotel_id, store.Template.service,
                                                              store.Template.language, store.Template.name)).all()
        body, label = _current_body(s, key)
    return desk.page(request, "admin_templates.html", user, active="templates", overrides=overrides, key=key,
                     body=body, label=label, services=library.SERVICES, languages=library.languages(),
                     messages=MESSAGES, error="")


def check_template(body: str) -> str | None:
    """A problem with a template body (syntax, a missing block), or None."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(library.HERE)))
    try:
        template = env.from_string(body)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    missing = [p for p in library.PARTS if p not in template.blocks]
    return f"the blocks {', '.join(missing)} are missing" if missing else None


@router.post("/admin/templates")
async def save_template(request: Request):
    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "manage_templates", dict(form))
    key = _template_key(form)
    body = str(form.get("body", "")).replace("\r\n", "\n")
    problem = check_template(body)
    if problem:
        with desk.sessions() as s:
            overrides = s.scalars(select(store.Template)).all()
        return desk.page(request, "admin_templates.html", user, status=422, active="templates", overrides=overrides,
                         key=key, body=body, label="(not saved)", services=library.SERVICES,
                         languages=library.languages(), messages=MESSAGES, error=f"Not saved: {problem}")
    hotel, service, language, name = key
    T = store.Template
    with store.transaction(desk.sessions) as s:
        row = s.scalars(select(T).where(T.hotel_id == hotel, T.service == service, T.language == language,
                                        T.name == name)).first()
        if row is None:
            row = T(hotel_id=hotel, service=service, language=language, name=name)
            s.add(row)
        row.body, row.updated_by = body, user.username
        Desk.audit(s, user, "template saved", f"template:{hotel}/{service}/{language}/{name}", f"{len(body)} characters")
    query = f"?hotel_id={hotel}&service={service}&language={language}&name={name}"
    return desk.redirect(f"/admin/templates{query}", ("ok", f"Template {hotel}/{service}/{language}/{name} saved."))


# --- link rules --------------------------------------------------------------------------------

def _rule_hotels(desk: Desk) -> list[str]:
    rules_dir = desk.settings.link_rules_dir or desk.settings.inbox_dir
    found = {p.parent.name for p in rules_dir.glob("*/link_rules.yaml")} if rules_dir.is_dir() else set()
    try:
        from lettrage.recon.hotels import HOTELS_FILE, load_hotels

        found |= set(load_hotels(desk.settings.inbox_dir / HOTELS_FILE))
    except (FileNotFoundError, ValueError):
        pass
    return sorted(found)


@router.get("/admin/rules")
def rules_page(request: Request):
    from lettrage.paylinks.rules import EXAMPLE, rules_path

    desk = Desk.of(request)
    user = desk.require(request, "manage_rules")
    hotels = _rule_hotels(desk)
    hotel = request.query_params.get("hotel_id") or (hotels[0] if hotels else "")
    if hotel and hotel not in hotels:
        raise Refused(404, "No such hotel", f"There is no hotel {hotel!r} in the group.")
    path = rules_path(desk.settings.link_rules_dir or desk.settings.inbox_dir, hotel) if hotel else None
    text = path.read_text(encoding="utf-8") if path and path.is_file() else EXAMPLE.read_text(encoding="utf-8")
    return desk.page(request, "admin_rules.html", user, active="rules", hotels=hotels, hotel=hotel, text=text,
                     exists=bool(path and path.is_file()), path=path, error="")


@router.post("/admin/rules")
async def save_rules(request: Request):
    from lettrage.paylinks.rules import RulesError, parse_rules, rules_path

    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "manage_rules", dict(form))
    hotels = _rule_hotels(desk)
    hotel = str(form.get("hotel_id", ""))
    if hotel not in hotels:
        raise Refused(404, "No such hotel", f"There is no hotel {hotel!r} in the group.")
    text = str(form.get("text", "")).replace("\r\n", "\n")
    path = rules_path(desk.settings.link_rules_dir or desk.settings.inbox_dir, hotel)
    try:
        rules = parse_rules(text, path, hotel)
    except RulesError as exc:
        return desk.page(request, "admin_rules.html", user, status=422, active="rules", hotels=hotels, hotel=hotel,
                         text=text, exists=path.is_file(), path=path, error=f"Not saved: {exc}")
    _write_atomically(path, text)
    with store.transaction(desk.sessions) as s:
        Desk.audit(s, user, "link rules saved", f"hotel:{hotel}", f"{len(rules.rules)} rule(s), mode {rules.mode}")
    return desk.redirect(f"/admin/rules?hotel_id={hotel}",
                         ("ok", f"Link rules of {hotel} saved: {len(rules.rules)} rule(s), mode {rules.mode}."))


def _write_atomically(path: Path, text: str) -> None:
    # The rules asset may read the file at any moment: it sees the old or the new one, never half.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
