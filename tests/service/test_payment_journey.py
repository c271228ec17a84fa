"""A guest opens the link, pays on the simulator's hosted page, comes back; the notifications
(duplicated, replayed, reordered, forged) change each outcome once and send one message each."""

from __future__ import annotations

import httpx

from lettrage.paylinks.psp import ogone
from tests.service.conftest import SHA_OUT, make_request


def notify(live, params: dict, method: str = "POST", passphrase: str = SHA_OUT) -> httpx.Response:
    signed = {**params, "SHASIGN": ogone.sha_out(params, passphrase, "sha512")}
    if method == "GET":
        return live.http.get("/psp/ogone/notify", params=signed)
    return live.http.post("/psp/ogone/notify", data=signed)


def feedback(order_id, status, amount="150.75", payid="5550001", **extra):
    return {"orderID": order_id, "amount": amount, "currency": "EUR", "PM": "CreditCard", "STATUS": str(status),
            "CARDNO": "XXXXXXXXXXXX1111", "PAYID": payid, "NCERROR": "0", "BRAND": "VISA", **extra}


def test_guest_pays_a_sale_and_hears_once(live, smtp):
    rid = make_request(live.sessions)
    page = live.http.get(live.link(rid))
    action, fields = live.to_psp_form(page)
    assert action == f"{live.settings.ogone_url}/orderstandard_utf8.asp"
    assert (fields["AMOUNT"], fields["OPERATION"], fields["LANGUAGE"], fields["CURRENCY"]) == \
        ("15075", "SAL", "fr_FR", "EUR")
    assert ogone.verify_sha_in(fields, live.settings.ogone_sha_in, "sha512")

    result = live.pay(page)
    assert result.status_code == 200 and "paiement est confirmé" in result.text and "150.75" in result.text
    live.simulator.wait_for_notifications()
    row = live.request(rid)
    assert row.status == "paid"
    (part,) = live.parts(rid)
    assert (part.status, part.amount_cents, part.psp_reference) == ("paid", 15075, result.url.params["PAYID"])
    # The redirect and the server-to-server notification are both stored; only one changed anything.
    events = live.events(rid)
    assert sorted(e.raw["via"] for e in events) == ["notification", "redirect"]
    assert sorted(e.applied for e in events) == [False, True]
    assert "duplicate" in next(e.detail for e in events if not e.applied)
    assert live.sends(rid) == [("response", "paid"), ("hotel_notice", "paid")]
    live.delivered(rid, 2)
    (to_guest,) = smtp.to("anne.martin@example.org")
    assert "Paiement reçu" in to_guest["Subject"] and "150,75" in to_guest.get_body(("plain",)).get_content()
    (notice,) = smtp.to("finance@hotel-lutece.example")
    assert "CONF-1001" in notice["Subject"]
    # Opening the link again says it is paid; it never leads to a second payment.
    again = live.http.get(live.link(rid))
    assert "paiement est confirmé" in again.text and "psp-form" not in again.text


def test_duplicates_replays_and_late_statuses_change_nothing(live):
    rid = make_request(live.sessions, language="en")
    live.http.get(live.link(rid))  # the guest opened the link: the part exists
    order = live.parts(rid)[0].order_id
    assert notify(live, feedback(order, 9)).status_code == 200
    for late in (feedback(order, 9), feedback(order, 99), feedback(order, 5), feedback(order, 2, payid="5550002"),
                 feedback(order, 1, payid="5550003"), feedback(order, 9)):
        assert notify(live, late, method="GET").status_code == 200
    row = live.request(rid)
    assert row.status == "paid"
    assert live.parts(rid)[0].status == "paid"
    assert live.sends(rid) == [("response", "paid"), ("hotel_notice", "paid")]
    events = live.events(rid)
    assert len(events) == 7 and sum(e.applied for e in events) == 1


def test_out_of_order_refusal_then_payment(live):
    rid = make_request(live.sessions, language="en")
    live.http.get(live.link(rid))
    order = live.parts(rid)[0].order_id
    # First attempt refused, second paid; the refusal's duplicate arrives last.
    notify(live, feedback(order, 2, payid="1", NCERROR="30001001"))
    assert live.request(rid).status == "refused"
    notify(live, feedback(order, 9, payid="2"))
    notify(live, feedback(order, 2, payid="1", NCERROR="30001001"))
    assert live.request(rid).status == "paid"
    assert live.sends(rid) == [("response", "refused"), ("hotel_notice", "refused"),
                               ("response", "paid"), ("hotel_notice", "paid")]


def test_forged_and_tampered_notifications_are_refused_and_kept(live, caplog):
    rid = make_request(live.sessions)
    live.http.get(live.link(rid))
    order = live.parts(rid)[0].order_id
    forged = notify(live, feedback(order, 9), passphrase="guessed-passphrase")
    assert forged.status_code == 403 and SHA_OUT not in forged.text
    good = {**feedback(order, 2), "SHASIGN": ogone.sha_out(feedback(order, 2), SHA_OUT, "sha512")}
    tampered = live.http.post("/psp/ogone/notify", data={**good, "STATUS": "9"})
    unsigned = live.http.post("/psp/ogone/notify", data=feedback(order, 9))
    assert tampered.status_code == unsigned.status_code == 403
    assert live.request(rid).status == "opened"
    assert live.sends(rid) == []
    events = live.events()
    assert len(events) == 3 and not any(e.signature_ok or e.applied for e in events)
    assert all(e.order_id == order for e in events)  # kept as received, for a person to look at
    assert caplog.text.count("SHA-OUT signature missing or wrong") == 3
    # A full card number in a notification is masked before it is stored.
    live.http.post("/psp/ogone/notify", data={**feedback(order, 9), "CARDNO": "4111111111111111", "SHASIGN": "1"})
    stored = str(live.events()[-1].raw)
    assert "4111111111111111" not in stored and "************1111" in stored
    assert SHA_OUT not in caplog.text and live.settings.ogone_sha_in not in caplog.text
    # A result URL with forged parameters says nothing about the order.
    page = live.http.get("/result/accepted", params={**feedback(order, 9), "SHASIGN": "00"})
    assert "We are checking your payment" in page.text or "vérifions" in page.text
    assert "150.75" not in page.text


def test_unseen_passphrase_algorithm_and_parameters(live, settings):
    # The account signs with SHA-1 and a passphrase this code never saw, with extra parameters.
    import dataclasses

    from lettrage.service.app import create_app
    from lettrage.service.serving import BackgroundServer

    other = dataclasses.replace(settings, ogone_sha_out="Zq!9 unseen pass ∆", ogone_algorithm="sha1")
    rid = make_request(live.sessions)
    live.http.get(live.link(rid))
    order = live.parts(rid)[0].order_id
    params = {**feedback(order, 5, amount="150.75"), "ED": "0330", "CN": "Anne Martin", "TRXDATE": "06/01/26",
              "ECI": "5", "IP": "203.0.113.9", "COMPLUS": "room 12", "extra_key": "not signed"}
    with BackgroundServer(create_app(other)) as srv:
        ok = httpx.post(srv.url + "/psp/ogone/notify",
                        data={**params, "SHASIGN": ogone.sha_out(params, "Zq!9 unseen pass ∆", "sha1")})
        bad = httpx.post(srv.url + "/psp/ogone/notify",
                         data={**params, "SHASIGN": ogone.sha_out(params, "Zq!9 unseen pass ∆", "sha256")})
    assert (ok.status_code, bad.status_code) == (200, 403)
    assert live.request(rid).status == "authorised"


def test_refused_then_guest_retries_on_the_same_link(live):
    rid = make_request(live.sessions, language="en")
    refused = live.pay(live.http.get(live.link(rid)), card="4000000000000002")
    assert "Your payment was refused" in refused.text
    retry = refused.text.split('id="retry" href="')[1].split('"')[0]
    paid = live.pay(live.http.get(retry))
    assert "Thank you, your payment is confirmed" in paid.text
    live.simulator.wait_for_notifications()
    assert live.request(rid).status == "paid"
    assert [k for k, _ in live.sends(rid)].count("response") == 2  # refused, then paid: one each


def test_abandoned_and_uncertain_payments(live):
    abandoned = make_request(live.sessions, language="en")
    page = live.pay(live.http.get(live.link(abandoned)), action="cancel")
    assert "Your payment was cancelled" in page.text
    uncertain = make_request(live.sessions, language="en", confirmation_no="CONF-2")
    page = live.pay(live.http.get(live.link(uncertain)), card="4000000000000051")
    assert "being checked" in page.text and "do not pay again" in page.text
    live.simulator.wait_for_notifications()
    assert (live.request(abandoned).status, live.request(uncertain).status) == ("cancelled", "pending")
    assert live.http.get(live.link(abandoned)).status_code == 410
    # While the bank has not answered, the link does not offer a second payment.
    again = live.http.get(live.link(uncertain))
    assert "being checked" in again.text and "psp-form" not in again.text


def test_links_that_are_not_ours_reveal_nothing(live):
    rid = make_request(live.sessions, language="fr")
    good = live.link(rid)
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for path in (altered, "/l/guess", "/l/" + "A" * 48):
        page = live.http.get(path, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert page.status_code == 404 and "n’est pas valide" in page.text
        assert "Anne" not in page.text and "CONF-1001" not in page.text
    assert "not valid" in live.http.get("/l/guess").text
