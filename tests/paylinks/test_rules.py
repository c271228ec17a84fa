"""Link rules (the documented example file) over reservations: who gets what, when, how."""

import datetime as dt
from pathlib import Path

import pytest

from lettrage.paylinks import rules

from .servers import reservation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
EXAMPLE = rules.load_rules(rules.EXAMPLE, "H1", "Hôtel Lutèce", "Europe/Paris")


def planned(**overrides):
    result = rules.plan([reservation(**overrides)], EXAMPLE, NOW)
    assert len(result.planned) + len(result.skipped) == 1
    return result.planned[0] if result.planned else result.skipped[0][1]


def test_the_example_file_reads_and_says_who_sends():
    assert EXAMPLE.mode == "automatic" and EXAMPLE.language == "fr"
    assert EXAMPLE.profile.sender == "reservations@hotel-lutece.example"
    assert EXAMPLE.profile.domain == "hotel-lutece.example"
    assert [p.name for p in EXAMPLE.profile.attachments] == ["conditions-de-vente.pdf"]
    assert [r.name for r in EXAMPLE.rules] == ["prepay_non_refundable", "deposit_due", "company_pays",
                                               "long_stay_installments", "group_split", "no_show_guarantee"]


def test_a_non_refundable_stay_is_paid_now_in_the_guests_language():
    p = planned()
    assert (p.rule, p.kind, p.amount_cents, p.channel, p.language, p.service) == \
        ("prepay_non_refundable", "sale", 48_650, "email", "fr", "reservation")
    assert p.send_after == NOW and p.expires_at == NOW + dt.timedelta(days=3) and p.reminder_days == [1]
    assert (p.status, p.confirmation_no, p.adults, p.children) == ("scheduled", "40012345", 2, 1)


def test_a_deposit_due_asks_for_what_is_still_owed_and_expires_before_arrival():
    p = planned(non_refundable=False, deposit_due_cents=10_000, deposit_paid_cents=2_000,
                arrival_date=dt.date(2026, 3, 5))
    assert (p.rule, p.amount_cents) == ("deposit_due", 8_000)
    # 5 days after sending would be after arrival: the link stops at arrival (midnight, Paris)
    assert p.expires_at == dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.UTC)


def test_a_company_paying_uses_the_accounting_library():
    p = planned(non_refundable=False, payment_method="company", language="en-GB")
    assert (p.rule, p.service, p.payer_label, p.language) == ("company_pays", "accounting", "Third party", "en")


def test_a_long_stay_is_split_in_installments_and_a_group_shares_the_bill():
    p = planned(non_refundable=False, total_cents=400_000, arrival_date=dt.date(2026, 7, 1))
    assert (p.rule, p.kind, p.installments, p.amount_cents) == ("long_stay_installments", "installments", 3, 400_000)
    g = planned(non_refundable=False, rate_code="GROUP", arrival_date=dt.date(2026, 7, 1))
    assert (g.kind, g.installments) == ("split", 4)
    assert g.send_after == dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)  # D-30 at 09:00 in Paris (summer time)


def test_a_guarantee_is_a_pre_authorisation_sent_from_d_minus_18_in_the_hotels_time():
    p = planned(non_refundable=False, guarantee_code="GTD", total_cents=33_333)
    assert (p.rule, p.kind, p.channel) == ("no_show_guarantee", "preauth", "both")
    assert p.amount_cents == 10_000  # 30 % of 333.33, rounded to the cent
    assert p.send_after == dt.datetime(2026, 5, 25, 8, 0, tzinfo=dt.UTC)  # 10:00 Paris on 25 May
    assert p.expires_at == dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
    soon = planned(non_refundable=False, guarantee_code="GTD", arrival_date=dt.date(2026, 3, 10))
    assert soon.send_after == NOW  # D-18 is already past: now


def test_contacts_decide_the_channel():
    assert planned(non_refundable=False, guarantee_code="GTD", phone=None).channel == "email"
    assert planned(email=None).channel == "sms"  # e-mail wanted, only a mobile number known
    assert planned(email=None, phone=None) == "rule prepay_non_refundable: no e-mail address or mobile number"


@pytest.mark.parametrize(("overrides", "why"), [
    ({"status": "cancelled"}, "reservation cancelled"),
    ({"status": "no_show"}, "reservation no show"),
    ({"deposit_paid_cents": 48_650}, "already paid"),
    ({"non_refundable": False}, "no rule applies"),
    ({"non_refundable": False, "guarantee_code": "GTD", "total_cents": 0}, "rule no_show_guarantee: nothing to pay"),
])
def test_who_gets_nothing(overrides, why):
    assert planned(**overrides) == why


def test_step_by_step_mode_holds_requests_for_approval(tmp_path):
    text = rules.EXAMPLE.read_text(encoding="utf-8").replace("mode: automatic", "mode: step_by_step")
    path = tmp_path / "link_rules.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "conditions-de-vente.pdf").write_bytes(b"%PDF-1.4\n")
    assert rules.plan([reservation()], rules.load_rules(path, "H1"), NOW).planned[0].status == "pending_approval"


BASE = """hotel:
  sender: desk@hotel.example
rules:
  - name: prepay
    when: {non_refundable: true}
"""


@pytest.mark.parametrize(("text", "message"), [
    (BASE + "    amount: lots\n", r"link_rules.yaml:4: rule 'prepay': amount 'lots' is total, balance, deposit"),
    (BASE + "    kind: barter\n", r":4: rule 'prepay': kind: 'barter' is not one of sale, preauth"),
    (BASE + "    colour: blue\n", r":4: rule 'prepay': unknown setting\(s\) colour"),
    (BASE.replace("non_refundable", "shoe_size"), r":5: rule 'prepay': cannot test 'shoe_size'"),
    (BASE + "    send: {days: 18, before: birthday}\n", r"send.before: 'birthday' is not one of arrival"),
    (BASE + "    attachments: [missing.pdf]\n", r"attachments: file 'missing.pdf' not found"),
    (BASE + "    kind: installments\n", r"parts \(installments need a number of parts\)"),
    (BASE.replace("desk@hotel.example", "desk"), r":2: hotel.sender: the From address"),
    (BASE + "  - name: x\n    when: [oops\n", r"link_rules.yaml:\d+: not valid YAML"),
])
def test_a_bad_rules_file_names_the_file_the_line_and_the_problem(tmp_path, text, message):
    path = tmp_path / "link_rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rules.RulesError, match=message):
        rules.load_rules(path, "H1")


def test_a_hotel_without_rules_is_told_where_to_put_them(tmp_path):
    book = rules.RulesBook(tmp_path, {})
    with pytest.raises(rules.RulesError, match=r"H9/link_rules.yaml: no link rules for this hotel"):
        book.get("H9")
    assert rules.rules_path(tmp_path, "H9") == Path(tmp_path) / "H9" / "link_rules.yaml"


def test_the_columns_rules_may_test_are_the_reservations_table():
    from lettrage.recon import schemas

    assert list(rules.RESERVATION_COLUMNS) == schemas.columns("reservations")
