"""The message library: one Jinja2 file per service, language and message, with four blocks.

    <service>/<language>/<message>.j2       e.g. reservation/fr/link.j2
        {% block subject %} {% block text %} {% block html %} {% block sms %}

Services: reservation, accounting, restaurant. Messages: link, reminder (every service);
response_paid, response_authorised, response_refused, response_cancelled, response_pending,
response_refunded and hotel_notice (reservation; the other services use those unless they have
their own). A template edited in the dashboard (the store's `templates` table) wins over the
file: first the hotel's own, then the group's ("*").

Merge values are checked strictly: a template that uses a value the request does not have is an
error (MissingMergeValue) before anything is sent, never a blank in a guest's message. A template
shows an optional value with `{% if arrival_time is defined %}`. The HTML block is auto-escaped;
the text, subject and SMS blocks are not (they are not HTML).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

HERE = Path(__file__).parent
LOGO = HERE / "logo.png"
SERVICES = ("reservation", "accounting", "restaurant")
FALLBACK_SERVICE = "reservation"
PARTS = ("subject", "text", "html", "sms")
EMAIL_PARTS = ("subject", "text", "html")


class TemplateError(Exception):
    """A template that cannot be found or rendered."""


class MissingMergeValue(TemplateError):
    """A template uses a merge value the request does not have."""

    def __init__(self, template: str, field: str, part: str):
        self.template, self.field, self.part = template, field, part
        super().__init__(f"{template}: the merge value '{field}' is missing (used in the {part})")


@dataclass(frozen=True)
class Rendered:
    template: str  # where it came from, e.g. "reservation/fr/link.j2" or "store:H1/reservation/fr/link"
    subject: str = ""
    text: str = ""
    html: str = ""
    sms: str = ""


def languages(service: str = FALLBACK_SERVICE) -> list[str]:
    """Languages the packaged library has for a service."""
    folder = HERE / service
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def normalise_language(value, available: list[str], default: str) -> str:
    """'FR', 'fr-FR', 'fr_BE', 'French', 'F' -> 'fr' when the library has it, else `default`."""
    text = str(value or "").strip().lower()
    code = {"f": "fr", "e": "en", "french": "fr", "english": "en", "français": "fr", "anglais": "en"}.get(
        text, re.split(r"[-_ ]", text)[0][:2] if text else "")
    return code if code in available else default


def _tidy(part: str, text: str) -> str:
    if part in ("subject", "sms"):
        return " ".join(text.split())
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


_UNDEFINED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


class TemplateLibrary:
    """Finds and renders messages. `overrides` maps (hotel_id or "*", service, language, name)
    to a template body (the store's `templates` rows); build one library per batch of sends."""

    def __init__(self, overrides: dict[tuple[str, str, str, str], str] | None = None):
        self.overrides = overrides or {}
        loader = jinja2.FileSystemLoader(str(HERE))
        common = {"undefined": jinja2.StrictUndefined, "loader": loader, "keep_trailing_newline": True}
        self._envs = {False: jinja2.Environment(autoescape=False, **common),
                      True: jinja2.Environment(autoescape=True, **common)}
        self._compiled: dict[tuple, jinja2.Template] = {}

    @classmethod
    def from_store(cls, session) -> TemplateLibrary:
        from sqlalchemy import select

        from lettrage.paylinks.store import Template

        rows = session.scalars(select(Template)).all()
        return cls({(t.hotel_id, t.service, t.language, t.name): t.body for t in rows})

    def locate(self, hotel_id: str, service: str, language: str, name: str) -> tuple[str, str | None]:
        """(template label, overriding body or None for the packaged file)."""
        for svc in dict.fromkeys((service, FALLBACK_SERVICE)):
            for owner in (hotel_id, "*"):
                body = self.overrides.get((owner, svc, language, name))
                if body is not None:
                    return f"store:{owner}/{svc}/{language}/{name}", body
            path = f"{svc}/{language}/{name}.j2"
            if (HERE / path).is_file():
                return path, None
        raise TemplateError(f"no template {name!r} for service {service!r} in language {language!r}")

    def _template(self, label: str, body: str | None, html: bool) -> jinja2.Template:
        key = (label, html)
        if key not in self._compiled:
            env = self._envs[html]
            try:
                self._compiled[key] = env.from_string(body) if body is not None else env.get_template(label)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"{label}, line {exc.lineno}: {exc.message}") from exc
        return self._compiled[key]

    def render(self, hotel_id: str, service: str, language: str, name: str, fields: dict,
               parts: tuple[str, ...] = PARTS) -> Rendered:
        """Render some blocks of a message. Values that are None count as missing."""
        label, body = self.locate(hotel_id, service, language, name)
        values = {k: v for k, v in fields.items() if v is not None and v != ""}
        out = {}
        for part in parts:
            template = self._template(label, body, html=(part == "html"))
            block = template.blocks.get(part)
            if block is None:
                raise TemplateError(f"{label}: no '{part}' block")
            try:
                out[part] = _tidy(part, "".join(block(template.new_context(values))))
            except jinja2.UndefinedError as exc:
                m = _UNDEFINED.search(str(exc))
                raise MissingMergeValue(label, (m[1] or m[2]) if m else str(exc), part) from exc
        return Rendered(template=label, **out)


# How amounts and dates read in each language (no locale database needed for two languages).
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
_FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre"]
_FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def format_money(cents: int, currency: str, language: str) -> str:
    """12345, EUR: fr '123,45 €', en '€123.45'."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    symbol = _SYMBOLS.get(currency, currency)
    if language == "fr":
        return f"{sign}{whole:,}".replace(",", "\u202f") + f",{frac:02d}\u00a0{symbol}"
    prefix = symbol if symbol in _SYMBOLS.values() else f"{symbol}\u00a0"
    return f"{sign}{prefix}{whole:,}.{frac:02d}"


def format_date(day: dt.date, language: str) -> str:
    """fr 'jeudi 12 mars 2026', en 'Thursday 12 March 2026'."""
    if language == "fr":
        return f"{_FR_DAYS[day.weekday()]} {day.day} {_FR_MONTHS[day.month - 1]} {day.year}"
    return f"{day:%A} {day.day} {day:%B %Y}"


def format_short_date(day: dt.date, language: str) -> str:
    return f"{day:%d/%m}" if language == "fr" else f"{day.day} {day:%b}"


def format_datetime(at: dt.datetime, language: str) -> str:
    """A local time: fr '12/03/2026 à 18:00', en '12 March 2026, 18:00'."""
    if language == "fr":
        return f"{at:%d/%m/%Y} à {at:%H:%M}"
    return f"{at.day} {at:%B %Y}, {at:%H:%M}"
