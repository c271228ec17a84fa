"""The demo journey, end to end, as `make demo` runs it: links to the local SMTP sink, guests paying
on the simulator over HTTP, notifications applied once, one response e-mail per outcome."""

from __future__ import annotations

import email
import email.policy

from lettrage.config import load_settings
from lettrage.paylinks import store
from lettrage.service.journey import run_demo_journey


def test_demo_journey(var_dir):
    settings = load_settings()
    summary = run_demo_journey(settings, timeout=60)
    store.dispose_all()
    by_guest = {s.guest: s for s in summary.steps}
    assert {g: s.request_status for g, s in by_guest.items()} == {
        "Anne Martin": "paid", "John Smith": "refused", "Sofia Rossi": "authorised", "Lukas Weber": "cancelled",
        "Famille Dupont": "paid"}
    assert by_guest["Anne Martin"].page == "Merci, votre paiement est confirmé"
    assert by_guest["Sofia Rossi"].page == "Thank you, your card guarantees your booking"
    # Each guest: the link, then exactly one response (duplicated and late notifications add nothing).
    assert {s.guest_messages for s in summary.steps} == {2}
    assert summary.forged_refused and summary.ignored >= len(summary.steps)
    assert summary.hotel_notices == 6  # one per outcome, and one per share of the split bill
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted((var_dir / "mail").glob("*.eml"))]
    to_anne = [m for m in mails if "anne.martin@guest.example" in m["To"]]
    assert len(to_anne) == 2 and any("Paiement reçu" in m["Subject"] for m in to_anne)
    text = "\n".join(summary.lines())
    assert "Famille Dupont" in text and "forged notification refused: yes" in text
