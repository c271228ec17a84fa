"""What a message to a guest (or to the hotel) says about a request: its merge values, the
rendered template, and the e-mail built from it (MIME: text + HTML, the logo inline, attachments,
Cc and Bcc) or the SMS text.

Merge values (the brochure's keywords) every template may use:
    amount, confirmation_no, first_name, last_name, guest_name, arrival_date, arrival_date_short,
    arrival_time, departure_date, guests, payment_method (direct payment / pre-authorisation / ...),
    email, phone, link_url, expires_at, installments, installment_amount, payer_label,
    order_id, request_id, kind, status_label, hotel (name, signature), logo_cid, lang
A value the request does not have is left out, so a template that needs it fails before sending.
"""

from __future__ import annotations

import datetime as dt
import functools
import mimetypes
from email import charset, encoders
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path

from lettrage.paylinks import templates, tokens
from lettrage.paylinks.rules import HotelProfile
from lettrage.paylinks.store import LinkRequest
from lettrage.paylinks.templates import TemplateLibrary

_QP_UTF8 = charset.Charset("utf-8")
_QP_UTF8.body_encoding = charset.QP  # readable in a raw mailbox, safe over 7-bit SMTP
KIND_LABELS = {
    "fr": {"sale": "paiement direct", "preauth": "pré-autorisation", "installments": "paiement en plusieurs fois",
           "split": "paiement partagé"},
    "en": {"sale": "direct payment", "preauth": "pre-authorisation", "installments": "payment in instalments",
           "split": "shared payment"},
}
STATUS_LABELS = {
    "fr": {"paid": "Payé", "authorised": "Pré-autorisé", "refused": "Refusé", "cancelled": "Abandonné",
           "pending": "En attente", "expired": "Expiré", "captured": "Capturé", "released": "Libéré",
           "refunded": "Remboursé", "partially_refunded": "Remboursé en partie", "sent": "Envoyé",
           "opened": "Ouvert", "failed": "Non délivré", "posted": "Posté"},
    "en": {"paid": "Paid", "authorised": "Pre-authorised", "refused": "Refused", "cancelled": "Abandoned",
           "pending": "Pending", "expired": "Expired", "captured": "Captured", "released": "Released",
           "refunded": "Refunded", "partially_refunded": "Partly refunded", "sent": "Sent", "opened": "Opened",
           "failed": "Not delivered", "posted": "Posted"},
}


def link_url(request: LinkRequest, public_base_url: str, secret: str) -> str:
    if request.expires_at is None:
        raise ValueError(f"request {request.id} has no expiry: a link must expire")
    return tokens.link_url(public_base_url, request.link_key, request.expires_at, secret)


def logo_cid(request: LinkRequest, profile: HotelProfile) -> str:
    return f"logo.{request.id}@{profile.domain}"


def merge_fields(request: LinkRequest, profile: HotelProfile, link: str | None, language: str | None = None,
                 extra: dict | None = None) -> dict:
    lang = language or request.language
    labels = KIND_LABELS.get(lang, KIND_LABELS["en"])
    guests = None if request.adults is None else request.adults + (request.children or 0)
    first_part = None
    if request.kind == "installments" and request.installments:
        first_part = request.amount_cents // request.installments + request.amount_cents % request.installments
    fields = {
        "lang": lang,
        "hotel": {"name": profile.name, "signature": list(profile.signature)},
        "request_id": request.id,
        "order_id": request.order_id,
        "kind": request.kind,
        "amount": templates.format_money(request.amount_cents, request.currency, lang),
        "payment_method": labels.get(request.kind, request.kind),
        "confirmation_no": request.confirmation_no,
        "first_name": request.guest_first_name,
        "last_name": request.guest_last_name,
        "guest_name": request.guest_name or None,
        "arrival_date": templates.format_date(request.arrival_date, lang) if request.arrival_date else None,
        "arrival_date_short": templates.format_short_date(request.arrival_date, lang) if request.arrival_date else None,
        "arrival_time": request.arrival_time,
        "departure_date": templates.format_date(request.departure_date, lang) if request.departure_date else None,
        "guests": guests,
        "email": request.email,
        "phone": request.phone,
        "link_url": link,
        "expires_at": templates.format_datetime(request.expires_at.astimezone(profile.tz), lang)
        if request.expires_at else None,
        "installments": request.installments,
        "installment_amount": templates.format_money(first_part, request.currency, lang) if first_part else None,
        "payer_label": request.payer_label,
        "status_label": STATUS_LABELS.get(lang, STATUS_LABELS["en"]).get(request.status),
        "logo_cid": logo_cid(request, profile),
    }
    fields.update(extra or {})
    return fields


@functools.lru_cache(maxsize=64)
def _file_bytes(path: Path, mtime: float) -> bytes:
    return path.read_bytes()


def _read(path: Path) -> bytes:
    return _file_bytes(path, path.stat().st_mtime)


def _address(name: str | None, address: str) -> str:
    return formataddr((name or "", address), charset="utf-8")


def _filename(name: str):
    return name if name.isascii() else ("utf-8", "", name)  # RFC 2231 for accented names


def build_email(profile: HotelProfile, rendered: templates.Rendered, *, to: str, to_name: str | None,
                cc: list[str], bcc: list[str], message_id: str, date: dt.datetime, logo_cid: str,
                attachments: list[Path]) -> Message:
    """multipart/mixed > [multipart/alternative > [text/plain, multipart/related > [text/html,
    logo (inline, by Content-ID)]], attachments...].

    Built with the classic `email.mime` classes: the newer EmailMessage API re-parses and
    re-folds every header and takes ~10x longer, which a batch of 10,000 messages feels."""
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(rendered.text, "plain", _QP_UTF8))
    related = MIMEMultipart("related")
    related.attach(MIMEText(rendered.html, "html", _QP_UTF8))
    logo = Path(profile.logo)
    image = MIMEImage(_read(logo), (mimetypes.guess_type(logo.name)[0] or "image/png").split("/")[1])
    image.add_header("Content-ID", f"<{logo_cid}>")
    image.add_header("Content-Disposition", "inline", filename=_filename(logo.name))
    related.attach(image)
    alternative.attach(related)
    msg = MIMEMultipart("mixed")
    msg.attach(alternative)
    for path in attachments:
        maintype, subtype = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").split("/")
        part = MIMEApplication(_read(path), subtype) if maintype == "application" else MIMEBase(maintype, subtype)
        if maintype != "application":
            part.set_payload(_read(path))
            encoders.encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=_filename(path.name))
        msg.attach(part)
    msg["From"] = _address(profile.sender_name or profile.name, profile.sender)
    msg["To"] = _address(to_name, to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if bcc:
        msg["Bcc"] = ", ".join(bcc)
    if profile.reply_to:
        msg["Reply-To"] = profile.reply_to
    # The older encoder keeps every space of a long accented subject (see notify/smtp.py).
    msg["Subject"] = Header(rendered.subject, "us-ascii" if rendered.subject.isascii() else "utf-8")
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    return msg


class Composer:
    """Renders a request's messages for one batch (one template library, cached files)."""

    def __init__(self, library: TemplateLibrary, public_base_url: str, link_secret: str):
        self.library, self.public_base_url, self.link_secret = library, public_base_url, link_secret

    def render(self, request: LinkRequest, profile: HotelProfile, name: str, parts: tuple[str, ...],
               language: str | None = None, extra: dict | None = None) -> templates.Rendered:
        link = link_url(request, self.public_base_url, self.link_secret) if request.expires_at else None
        fields = merge_fields(request, profile, link, language, extra)
        return self.library.render(request.hotel_id, request.service, language or request.language, name, fields,
                                   parts)

    def problem(self, request: LinkRequest, profile: HotelProfile) -> str | None:
        """Why this request's link message cannot be sent as it is, or None."""
        parts = {"email": templates.EMAIL_PARTS, "sms": ("sms",), "both": templates.EMAIL_PARTS + ("sms",)}
        try:
            self.render(request, profile, request.template, parts[request.channel])
        except (templates.TemplateError, ValueError) as exc:
            return str(exc)
        return None

    def email(self, request: LinkRequest, profile: HotelProfile, name: str, *, message_id: str, date: dt.datetime,
              to: str | None = None, attachments: list[Path] = (), extra: dict | None = None,
              language: str | None = None, copies: bool = True) -> Message:
        rendered = self.render(request, profile, name, templates.EMAIL_PARTS, language, extra)
        cc = list(dict.fromkeys([*profile.cc, *(request.cc or [])])) if copies else []
        bcc = list(dict.fromkeys([*profile.bcc, *(request.bcc or [])])) if copies else []
        return build_email(profile, rendered, to=to or request.email, to_name=None if to else request.guest_name,
                           cc=cc, bcc=bcc, message_id=message_id, date=date, logo_cid=logo_cid(request, profile),
                           attachments=list(attachments))

    def sms(self, request: LinkRequest, profile: HotelProfile, name: str, extra: dict | None = None,
            language: str | None = None) -> str:
        return self.render(request, profile, name, ("sms",), language, extra).sms
