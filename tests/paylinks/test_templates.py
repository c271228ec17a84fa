"""The message library: every message renders in every language, strictly."""

import datetime as dt
import re

import pytest

from lettrage.paylinks import templates
from lettrage.paylinks.templates import MissingMergeValue, TemplateLibrary

FIELDS = {
    "lang": "fr", "hotel": {"name": "Hôtel Lutèce", "signature": ["Hôtel Lutèce", "12 rue de Sèvres"]},
    "request_id": 7, "order_id": "40012345-1", "kind": "sale", "amount": "486,50 €", "payment_method": "paiement direct",
    "confirmation_no": "40012345", "first_name": "Émilie", "last_name": "Durand", "guest_name": "Émilie Durand",
    "arrival_date": "vendredi 12 juin 2026", "arrival_date_short": "12/06", "arrival_time": "15:30",
    "departure_date": "dimanche 14 juin 2026", "guests": 3, "email": "emilie@example.org", "phone": "+33612345678",
    "link_url": "https://pay.example/l/TOKEN", "expires_at": "15/06/2026 à 18:00", "installments": 3,
    "installment_amount": "162,18 €", "status_label": "Payé", "logo_cid": "logo.7@hotel.example",
}
LIBRARY = TemplateLibrary()  # compiled templates are cached: one library for the module
MESSAGES = sorted(p.relative_to(templates.HERE).with_suffix("").parts
                  for p in templates.HERE.glob("*/*/*.j2"))


@pytest.mark.parametrize(("service", "language", "name"), MESSAGES, ids=["/".join(m) for m in MESSAGES])
@pytest.mark.parametrize("kind", ["sale", "preauth", "installments", "split"])
def test_every_message_renders_every_block_with_no_blank_and_no_leftover(service, language, name, kind):
    out = LIBRARY.render("H1", service, language, name, {**FIELDS, "kind": kind})
    for part in templates.PARTS:
        text = getattr(out, part)
        assert text.strip(), f"{part} is empty"
        assert "None" not in text and "{{" not in text and "{%" not in text
    assert "\n" not in out.subject and "\n" not in out.sms
    assert "cid:logo.7@hotel.example" in out.html and "Hôtel Lutèce" in out.html
    assert out.text.rstrip().endswith("12 rue de Sèvres") or name == "hotel_notice"


def test_the_language_is_the_guests():
    fr = TemplateLibrary().render("H1", "reservation", "fr", "link", FIELDS)
    en = TemplateLibrary().render("H1", "reservation", "en", "link", {**FIELDS, "lang": "en"})
    assert fr.text.startswith("Bonjour Émilie Durand") and "Payer en ligne" in fr.html
    assert en.text.startswith("Dear Émilie Durand") and "Pay online" in en.html


def test_a_missing_merge_value_is_an_error_that_names_it():
    fields = {k: v for k, v in FIELDS.items() if k != "confirmation_no"}
    with pytest.raises(MissingMergeValue, match=r"reservation/fr/link.j2: the merge value 'confirmation_no' is missing"):
        TemplateLibrary().render("H1", "reservation", "fr", "link", fields)
    with pytest.raises(MissingMergeValue, match="'first_name'"):  # None counts as missing, never a blank
        TemplateLibrary().render("H1", "reservation", "en", "reminder", {**FIELDS, "first_name": None})


def test_an_optional_value_may_be_absent():
    out = TemplateLibrary().render("H1", "reservation", "fr", "link", {**FIELDS, "arrival_time": None})
    assert "arrivée le vendredi 12 juin 2026, départ" in out.text


def test_the_html_is_escaped_and_the_text_is_not():
    out = TemplateLibrary().render("H1", "reservation", "en", "link", {**FIELDS, "last_name": "<b>O'Hara & Co</b>"})
    assert "&lt;b&gt;O&#39;Hara &amp; Co&lt;/b&gt;" in out.html and "<b>O'Hara" not in out.html
    assert "<b>O'Hara & Co</b>" in out.text


def test_a_template_edited_in_the_store_wins_the_hotels_own_first():
    body = "{% block subject %}{{ scope }} {{ confirmation_no }}{% endblock %}{% block text %}x{% endblock %}" \
           "{% block html %}x{% endblock %}{% block sms %}x{% endblock %}"
    library = TemplateLibrary({("*", "reservation", "fr", "link"): body.replace("{{ scope }}", "group"),
                               ("H2", "reservation", "fr", "link"): body.replace("{{ scope }}", "hotel")})
    assert library.render("H1", "reservation", "fr", "link", FIELDS).subject == "group 40012345"
    assert library.render("H2", "reservation", "fr", "link", FIELDS).subject == "hotel 40012345"
    assert library.locate("H1", "restaurant", "fr", "link")[0] == "restaurant/fr/link.j2"
    # services without their own response messages use the reservation ones
    assert library.locate("H1", "restaurant", "en", "response_paid")[0] == "reservation/en/response_paid.j2"


def test_a_broken_template_and_an_unknown_message_are_reported():
    library = TemplateLibrary({("*", "reservation", "fr", "link"): "{% block subject %}{{ x }{% endblock %}"})
    with pytest.raises(templates.TemplateError, match="line 1"):
        library.render("H1", "reservation", "fr", "link", FIELDS)
    with pytest.raises(templates.TemplateError, match="no template 'welcome'"):
        TemplateLibrary().render("H1", "reservation", "fr", "welcome", FIELDS)


def test_languages_and_formats():
    assert templates.languages() == ["en", "fr"]
    assert [templates.normalise_language(v, ["en", "fr"], "en") for v in ("FR", "fr-BE", "F", "French", "de", None)] \
        == ["fr", "fr", "fr", "fr", "en", "en"]
    assert templates.format_money(123_456, "EUR", "fr") == "1\u202f234,56\u00a0€"
    assert templates.format_money(123_456, "EUR", "en") == "€1,234.56"
    assert templates.format_money(5, "CHF", "en") == "CHF\u00a00.05"
    assert templates.format_date(dt.date(2026, 6, 12), "fr") == "vendredi 12 juin 2026"
    assert templates.format_date(dt.date(2026, 6, 12), "en") == "Friday 12 June 2026"
    assert re.fullmatch(r"12/06/2026 à 18:05", templates.format_datetime(dt.datetime(2026, 6, 12, 18, 5), "fr"))
