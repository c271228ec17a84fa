"""Requests made from reservations the way `link_requests` makes them, for the sending tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lettrage.config import load_settings
from lettrage.paylinks import requests, sending, store
from lettrage.paylinks.messages import Composer
from lettrage.paylinks.outbox import open_outbox, rules_book
from lettrage.paylinks.store import LinkRequest, LinkSend
from lettrage.paylinks.templates import TemplateLibrary


def make_requests(rows, now: dt.datetime | None = None):
    """Rules over `rows` into the store of the current settings; returns (settings, sessions)."""
    settings = load_settings()
    sessions = store.session_factory(settings.ops_store_url)
    link_rules = rules_book(settings).get("H1")
    composer = Composer(TemplateLibrary(), settings.public_base_url, settings.link_secret)
    result = requests.apply_rules(sessions, link_rules, composer, rows, now)
    assert not result.held, result.held
    return settings, sessions


def send_due(settings, sessions, now: dt.datetime | None = None) -> sending.Report:
    with open_outbox(settings, sessions) as outbox:
        return sending.send_due(sessions, outbox, now)


def deliver(settings, sessions, now: dt.datetime) -> sending.Report:
    with open_outbox(settings, sessions) as outbox:
        return sending.deliver(sessions, outbox, now)


def table(sessions, model, *order):
    with sessions() as s:
        rows = s.scalars(select(model).order_by(*(order or [model.id]))).all()
        for row in rows:
            if isinstance(row, LinkRequest):
                _ = row.sends
        return rows


def sends(sessions):
    return table(sessions, LinkSend)


def requests_(sessions):
    return table(sessions, LinkRequest)
