"""After the payment: capture or release a pre-authorisation, refund, charge installments: from
the API and the command line, against the simulator's DirectLink."""

from __future__ import annotations

import datetime as dt

from lettrage.paylinks import payments
from tests.service.conftest import make_request

API = {"Authorization": "Bearer api-token-xyz"}


def authorised(live, amount_cents=36000):
    rid = make_request(live.sessions, kind="preauth", amount_cents=amount_cents, language="en")
    page = live.http.get(live.link(rid))
    assert live.to_psp_form(page)[1]["OPERATION"] == "RES"
    result = live.pay(page)
    assert "your card guarantees your booking" in result.text
    live.simulator.wait_for_notifications()
    assert live.request(rid).status == "authorised"
    return rid


def test_no_show_capture_of_one_night_then_partial_and_full_refund(live):
    rid = authorised(live)
    assert live.http.post(f"/api/requests/{rid}/capture", json={"amount": "120.00"}).status_code == 401
    too_much = live.http.post(f"/api/requests/{rid}/capture", json={"amount": "999.00"}, headers=API)
    assert too_much.status_code == 409 and "36000 cents are authorised" in too_much.json()["error"]
    captured = live.http.post(f"/api/requests/{rid}/capture", json={"amount": "120.00"}, headers=API)
    assert captured.status_code == 200, captured.text
    assert captured.json()["request_status"] == "captured" and captured.json()["payment_status"] == "paid"
    assert live.simulator.transactions[live.parts(rid)[0].psp_reference].captured_cents == 12000

    partial = live.http.post(f"/api/requests/{rid}/refund", json={"amount": "20.00"}, headers=API).json()
    assert (partial["request_status"], partial["payment_status"]) == ("partially_refunded", "partially_refunded")
    rest = live.http.post(f"/api/requests/{rid}/refund", headers=API).json()
    assert (rest["request_status"], rest["payment_status"]) == ("refunded", "refunded")
    nothing = live.http.post(f"/api/requests/{rid}/refund", headers=API)
    assert nothing.status_code == 409
    live.simulator.wait_for_notifications()  # the PSP's own status notifications: duplicates, no change
    assert live.request(rid).status == "refunded"
    kinds = live.sends(rid)
    assert kinds.count(("response", "authorised")) == 1 and kinds.count(("response", "captured")) == 1
    assert [k for k in kinds if k[0] == "response" and "refunded" in k[1]] == \
        [("response", "partially_refunded"), ("response", "refunded")]


def test_release_from_the_command_line(live, monkeypatch, capsys):
    from lettrage.cli import main

    rid = authorised(live)
    for name, value in {"LETTRAGE_OGONE_URL": live.settings.ogone_url, "LETTRAGE_OGONE_PSPID": "HOTELTEST",
                        "LETTRAGE_OGONE_SHA_IN": live.settings.ogone_sha_in,
                        "LETTRAGE_OGONE_SHA_OUT": live.settings.ogone_sha_out, "LETTRAGE_OGONE_ALGORITHM": "sha512",
                        "LETTRAGE_OGONE_USERID": "api-user", "LETTRAGE_OGONE_PASSWORD": "api-pass-123",
                        "LETTRAGE_LINK_RULES_DIR": str(live.settings.link_rules_dir)}.items():
        monkeypatch.setenv(name, value)
    assert main(["payments", "refund", str(rid)]) == 1
    err = capsys.readouterr().err
    assert "nothing was taken to refund" in err and len(err.strip().splitlines()) == 1
    assert main(["payments", "release", str(rid)]) == 0
    assert "request released, payment released" in capsys.readouterr().out
    assert live.request(rid).status == "released"
    assert live.simulator.transactions[live.parts(rid)[0].psp_reference].status == 6
    assert main(["payments", "capture", str(rid), "--amount", "10"]) == 1
    assert "only an authorised payment can be captured" in capsys.readouterr().err


def test_installments_first_with_consent_then_merchant_initiated(live):
    rid = make_request(live.sessions, kind="installments", amount_cents=30001, language="en", installments=3)
    page = live.http.get(live.link(rid))
    fields = live.to_psp_form(page)[1]
    assert fields["AMOUNT"] == "10001" and fields["ALIAS"] and fields["COF_INITIATOR"] == "CIT"
    assert "next 2 payment(s)" in fields["ALIASUSAGE"]
    result = live.pay(page, store_card="1")
    assert "payment is confirmed" in result.text
    live.simulator.wait_for_notifications()
    parts = live.parts(rid)
    assert [(p.seq, p.amount_cents, p.status) for p in parts] == [(1, 10001, "paid"), (2, 10000, "planned"),
                                                                  (3, 10000, "planned")]
    assert parts[1].alias == parts[2].alias == fields["ALIAS"]
    assert live.request(rid).status == "paid"

    # Nothing is due yet; on the due date of part 2 only part 2 is charged; a second run charges nothing.
    assert payments.charge_due_installments(live.sessions, live.settings, parts[0].due_date) == []
    on_due = payments.charge_due_installments(live.sessions, live.settings, parts[1].due_date)
    assert [o.part_status for o in on_due] == ["paid"]
    assert payments.charge_due_installments(live.sessions, live.settings, parts[1].due_date) == []
    later = payments.charge_due_installments(live.sessions, live.settings, parts[2].due_date + dt.timedelta(days=1))
    assert [o.part_status for o in later] == ["paid"]
    assert [p.status for p in live.parts(rid)] == ["paid", "paid", "paid"]
    assert [k for k in live.sends(rid) if k[0] == "response"] == [("response", "paid")] * 3


def test_a_refused_installment_is_reported(live):
    rid = make_request(live.sessions, kind="installments", amount_cents=20000, language="en", installments=2)
    live.pay(live.http.get(live.link(rid)), card="4000000000009995", store_card="1")
    live.simulator.wait_for_notifications()
    due = live.parts(rid)[1].due_date
    (outcome,) = payments.charge_due_installments(live.sessions, live.settings, due)
    assert outcome.part_status == "refused"
    assert ("response", "refused") in live.sends(rid) and ("hotel_notice", "refused") in live.sends(rid)
    assert live.request(rid).status == "paid"  # the first part stays paid


def test_an_installment_charge_without_answer_is_looked_up_not_repeated(live):
    from sqlalchemy import update

    from lettrage.paylinks import store
    from lettrage.paylinks.psp import ogone

    rid = make_request(live.sessions, kind="installments", amount_cents=30000, language="en", installments=3)
    live.pay(live.http.get(live.link(rid)), store_card="1")
    live.simulator.wait_for_notifications()
    parts = live.parts(rid)
    # Part 2 reached the PSP but the answer was lost; part 3 never left (both left "pending").
    ogone.DirectLink(ogone.OgoneAccount.from_settings(live.settings)).alias_payment(
        order_id=parts[1].order_id, alias=parts[1].alias, amount_cents=parts[1].amount_cents, currency="EUR")
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with store.transaction(live.sessions) as s:
        s.execute(update(store.Payment).where(store.Payment.id.in_([parts[1].id, parts[2].id]))
                  .values(status="pending", updated_at=an_hour_ago))
    outcomes = payments.charge_due_installments(live.sessions, live.settings, parts[0].due_date)
    assert [o.part_status for o in outcomes] == ["paid"]
    assert [p.status for p in live.parts(rid)] == ["paid", "paid", "planned"]
    charged = [t.order_id for t in live.simulator.transactions.values() if t.order_id.endswith(("-P2", "-P3"))]
    assert charged == [parts[1].order_id]  # found at the PSP, not charged a second time


def test_worldline_capture_is_settled_by_its_webhook(live, settings):
    import base64
    import dataclasses
    import hashlib
    import hmac
    import json

    from lettrage.service.serving import BackgroundServer
    from tests.paylinks.psp.test_worldline import FakeWorldline

    rid = make_request(live.sessions, kind="preauth", amount_cents=50000, language="en")
    live.http.get(live.link(rid))
    order = live.parts(rid)[0].order_id

    def webhook(event_id, status, category, amount):
        body = json.dumps({"id": event_id, "type": "payment.x", "payment": {
            "id": "WL-PAY-1", "status": status, "statusOutput": {"statusCategory": category},
            "paymentOutput": {"amountOfMoney": {"amount": amount, "currencyCode": "EUR"},
                              "references": {"merchantReference": order}}}}).encode()
        sig = base64.b64encode(hmac.new(b"wl-webhook-secret", body, hashlib.sha256).digest()).decode()
        return live.http.post("/psp/worldline/webhook", content=body, headers={"X-GCS-Signature": sig})

    assert webhook("w1", "PENDING_CAPTURE", "PENDING_MERCHANT", 50000).status_code == 200
    fake = FakeWorldline("k", "s")
    with BackgroundServer(fake.app) as wl:
        other = dataclasses.replace(settings, worldline_api_endpoint=wl.url, worldline_merchant_id="M1",
                                    worldline_api_key="k", worldline_api_secret="s")
        asked = payments.capture(live.sessions, other, rid, 20000)
    assert fake.calls == [("capture", "WL-PAY-1", {"amount": 20000, "isFinal": True})]
    assert (asked.part_status, live.request(rid).status) == ("authorised", "authorised")  # requested only
    assert webhook("w2", "CAPTURED", "COMPLETED", 20000).status_code == 200
    assert live.request(rid).status == "captured"
