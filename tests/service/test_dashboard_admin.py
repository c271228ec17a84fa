"""The administrator's side: `lettrage users add`, the link rules and the templates edited in the
dashboard (checked before they are saved, every change in the audit log)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from lettrage.config import load_settings
from lettrage.paylinks import store
from lettrage.service.dashboard.passwords import verify_password
from tests.service.dashboard_fixtures import csrf, login

LETTRAGE = str(Path(sys.executable).parent / "lettrage")


def test_users_add_stores_a_hash_and_never_prints_the_password(var_dir, monkeypatch, capsys):
    from lettrage.cli import main

    env = {**os.environ, "LETTRAGE_USER_PASSWORD": "Réception-2026!"}
    out = subprocess.run([LETTRAGE, "users", "add", "lea", "--role", "reception", "--hotels", "H1,H2"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Added user lea: reception, hotels H1, H2." in out.stdout
    assert "Réception-2026!" not in out.stdout + out.stderr

    monkeypatch.setenv("LETTRAGE_USER_PASSWORD", "Réception-2026!")
    assert main(["users", "add", "lea", "--role", "admin"]) == 2
    assert capsys.readouterr().err.strip() == \
        "lettrage users: user lea already exists (--reset sets a new role, hotels and password)"
    monkeypatch.setenv("LETTRAGE_USER_PASSWORD", "short")
    assert main(["users", "add", "max", "--role", "admin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.delenv("LETTRAGE_USER_PASSWORD")
    monkeypatch.setattr("getpass.getpass", lambda prompt: (_ for _ in ()).throw(EOFError()))  # no terminal
    assert main(["users", "add", "max", "--role", "admin"]) == 2
    assert "no password" in capsys.readouterr().err

    sessions = store.session_factory(load_settings().ops_store_url)
    with sessions() as s:
        users = {u.username: u for u in s.scalars(select(store.User))}
        assert set(users) == {"lea"}
        assert users["lea"].role == "reception" and users["lea"].hotel_ids == ["H1", "H2"]
        assert verify_password("Réception-2026!", users["lea"].password_hash)
        assert not verify_password("Réception-2026", users["lea"].password_hash)
    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out.split() == ["lea", "reception", "H1,H2"]


def test_the_command_knows_the_dashboard_roles():
    from lettrage.commands.users import ROLES
    from lettrage.service.dashboard.access import ROLES as DASHBOARD_ROLES

    assert ROLES == DASHBOARD_ROLES


def test_admin_edits_link_rules_checked_before_saving(app, var_dir):
    from lettrage.paylinks.rules import EXAMPLE

    c = TestClient(app)
    assert login(c, "adam").status_code == 303
    (var_dir / "inbox").mkdir()
    (var_dir / "inbox" / "hotels.csv").write_text("hotel_id,name,timezone\nH1,Hôtel Lutèce,Europe/Paris\n")
    page = c.get("/dashboard/admin/rules?hotel_id=H1")
    assert page.status_code == 200 and "has no rules yet" in page.text
    token = csrf(c, "/dashboard/admin/rules")
    broken = EXAMPLE.read_text(encoding="utf-8").replace("mode: automatic", "mode: sometimes")
    refused = c.post("/dashboard/admin/rules", data={"csrf_token": token, "hotel_id": "H1", "text": broken})
    assert refused.status_code == 422 and "Not saved" in refused.text and "mode" in refused.text
    target = var_dir / "inbox" / "H1" / "link_rules.yaml"
    assert not target.exists()
    good = EXAMPLE.read_text(encoding="utf-8").replace("attachments: [conditions-de-vente.pdf]", "attachments: []")
    saved = c.post("/dashboard/admin/rules", data={"csrf_token": token, "hotel_id": "H1", "text": good})
    assert saved.status_code == 200 and "Link rules of H1 saved" in saved.text
    assert target.read_text(encoding="utf-8") == good
    assert c.post("/dashboard/admin/rules", data={"csrf_token": token, "hotel_id": "H9", "text": good}).status_code == 404
    finance = TestClient(app)
    login(finance, "fanny")
    assert finance.post("/dashboard/admin/rules", data={"csrf_token": csrf(finance), "hotel_id": "H1",
                                                        "text": good}).status_code == 403
    with app.state.sessions() as s:
        entries = [(a.username, a.action, a.target) for a in s.scalars(select(store.AuditEntry))]
    assert ("adam", "link rules saved", "hotel:H1") in entries


def test_admin_edits_a_template_that_then_wins_over_the_library(app):
    from lettrage.paylinks.templates import TemplateLibrary

    c = TestClient(app)
    login(c, "adam")
    key = "hotel_id=H1&service=reservation&language=en&name=link"
    page = c.get(f"/dashboard/admin/templates?{key}")
    assert page.status_code == 200 and "reservation/en/link.j2" in page.text
    token = csrf(c, f"/dashboard/admin/templates?{key}")
    form = {"csrf_token": token, "hotel_id": "H1", "service": "reservation", "language": "en", "name": "link"}
    bad = c.post("/dashboard/admin/templates", data={**form, "body": "{% block subject %}Pay {{ amount }"})
    assert bad.status_code == 422 and "Not saved: line 1" in bad.text
    missing = c.post("/dashboard/admin/templates", data={**form, "body": "{% block subject %}x{% endblock %}"})
    assert missing.status_code == 422 and "text, html, sms are missing" in missing.text
    body = ("{% block subject %}Your stay at {{ hotel.name }}{% endblock %}{% block text %}Pay {{ link_url }}"
            "{% endblock %}{% block html %}<a href='{{ link_url }}'>Pay</a>{% endblock %}"
            "{% block sms %}Pay {{ link_url }}{% endblock %}")
    ok = c.post("/dashboard/admin/templates", data={**form, "body": body})
    assert ok.status_code == 200 and "Template H1/reservation/en/link saved" in ok.text
    with app.state.sessions() as s:
        library = TemplateLibrary.from_store(s)
    rendered = library.render("H1", "reservation", "en", "link", {"hotel": {"name": "Lutèce"}, "link_url": "L"})
    assert rendered.subject == "Your stay at Lutèce" and rendered.text.strip() == "Pay L"
    reception = TestClient(app)
    login(reception, "rita")
    assert reception.post("/dashboard/admin/templates", data={**form, "csrf_token": csrf(reception),
                                                              "body": body}).status_code == 403
