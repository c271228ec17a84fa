"""Ogone signatures against the published test vectors, status codes, amounts, the hosted-page form."""

from __future__ import annotations

import hashlib

import pytest

from lettrage.paylinks.psp import ogone

PASS = "Mysecretsig1875!?"

# Ogone e-Commerce Basic guide §6.2 (SHA-1 in the guide; SHA-256/512 computed from the same string).
BAS_SHA_IN = {"AMOUNT": "1500", "CURRENCY": "EUR", "LANGUAGE": "en_US", "ORDERID": "1234", "PSPID": "MyPSPID"}
# marlon-be/marlon-ogone AllParametersShaComposerTest: names in mixed case, one unknown parameter.
MARLON_MINIMAL = {"currency": "EUR", "ACCEPTANCE": 1234, "amount": 15, "BRAND": "VISA",
                  "CARDNO": "xxxxxxxxxxxx1111", "NCERROR": 0, "PAYID": 32100123, "PM": "CreditCard",
                  "STATUS": 9, "orderID": 12, "unknownparam": "some value"}
MARLON_EXTENSIVE = {"orderID": "myorderid1678834094", "currency": "EUR", "amount": "99", "PM": "CreditCard",
                    "ACCEPTANCE": "test123", "STATUS": "9", "CARDNO": "XXXXXXXXXXXX1111", "ED": "0312",
                    "CN": "Some Name", "TRXDATE": "01/10/11", "PAYID": "9126297", "NCERROR": "0", "BRAND": "VISA",
                    "COMPLUS": "my feedbackmessage", "IP": "12.123.12.123", "foo": "bar"}


@pytest.mark.parametrize("algorithm, expected", [
    ("sha1", "F4CC376CD7A834D997B91598FA747825A238BE0A"),
    ("sha256", "E019359BAA3456AE5A986B6AABD22CF1B3E09438739E97F17A7F61DF5A11B30F"),
    ("sha512", "D1CFE8833A297D0922E908B2B44934B09EE966EF1584DC0D696304E07BB58BA71973C2383C831D878D8A243BB7D7DFFF"
               "BE53CEE21955CDFEF44FE82E551F859D"),
])
def test_sha_in_published_vector(algorithm, expected):
    assert ogone.sha_in(BAS_SHA_IN, PASS, algorithm) == expected


def test_sha_out_guide_vector():
    params = {"ACCEPTANCE": "1234", "amount": "15", "BRAND": "VISA", "CARDNO": "XXXXXXXXXXXX1111",
              "currency": "EUR", "NCERROR": "0", "orderID": "12", "PAYID": "32100123", "PM": "CreditCard",
              "STATUS": "9"}
    assert ogone.sha_out(params, PASS, "sha1") == "209113288F93A9AB8E474EA78D899AFDBB874355"


@pytest.mark.parametrize("params, algorithm, expected", [
    (MARLON_MINIMAL, "sha1", "B209960D5703DD1047F95A0F97655FFE5AC8BD52"),
    (MARLON_MINIMAL, "sha256", "FD15F9371F2B42E3CAEC53BF2576AC89AAEBF53FD8FBA8F0B2EA13EAA823189D"),
    (MARLON_MINIMAL, "sha512", "5377F95D498947BECC23E02C2C7DDE182EE1221F1A6629B091110DF653FE0C32FCACF5F9B87B4C51"
                               "68FC12B7183095623750004355DE938A2B8DECC6DB6D9F62"),
    (MARLON_EXTENSIVE, "sha1", "D58400479DCEDD6B6C7E67D61FDC0CC9E6ED65CB"),
    (MARLON_EXTENSIVE, "sha256", "A06D4534724885350BA5350731B02F4083370F8C9EED59D1F1C5E2B78EC3C257"),
    (MARLON_EXTENSIVE, "sha512", "31B74E4E0C7BCE4DED9DEAA97D4D3FB419EF6E2FDBD98C18D340B276A9F751E747972A0469A74B"
                                 "73E4C41F38F0F3F58BAD8D7107CA54DF936569852887EB6BE4"),
])
def test_sha_out_library_vectors(params, algorithm, expected):
    assert ogone.sha_out(params, PASS, algorithm) == expected


def test_sha_out_non_ascii_in_utf8_and_latin1():
    # Same library: COMPLUS with accented letters, hashed as UTF-8 or as ISO-8859-1 (account charset).
    params = {**MARLON_EXTENSIVE, "COMPLUS": "Non ASCÏÏ CHÄRÄCTËRS"}
    assert ogone.sha_out(params, PASS, "sha512") == (
        "2880212A315FDFA216E4BADAC0F9A72C05448266895EFB544D84247C9CD0239B8A87B64C4B1EFE2E38892D49C1B616D2E87F"
        "BE4DD1CB9E386F2562E7B112351D")
    assert ogone.sha_out(params, PASS, "sha512", encoding="iso-8859-1") == (
        "95BA73E29938863971158FE51BFE75BD03CA27C30982226B7C6569048DBFBD9096DF75D656C5FECDC59D485DD31A6594DAF4"
        "3D4216D5FE0F7BB9B586ABB7B6F8")


def test_rule_with_an_unseen_passphrase_and_parameters():
    # The construction spelled out, independently of the module: names upper-cased, sorted, empty
    # values dropped, passphrase after every pair; SHA-OUT ignores parameters outside its list.
    passphrase = "zQ#8 unseen-ÿ"
    params = {"orderID": "R-77", "amount": "120.5", "STATUS": "5", "PAYIDSUB": "2", "ALIAS": "",
              "ECI": "7", "return_to": "x", "NCERRORPLUS": "!", "CARDNO": "XXXXXXXXXXXX4444"}
    signed = ["AMOUNT=120.5", "CARDNO=XXXXXXXXXXXX4444", "ECI=7", "ORDERID=R-77", "PAYIDSUB=2", "STATUS=5"]
    expected = hashlib.sha512("".join(p + passphrase for p in signed).encode()).hexdigest().upper()
    assert ogone.sha_out(params, passphrase, "SHA-512") == expected
    assert ogone.verify_sha_out({**params, "SHASIGN": expected.lower()}, passphrase, "sha512")
    # Any change to a signed value, or the wrong passphrase, fails; unsigned extras do not matter.
    assert not ogone.verify_sha_out({**params, "STATUS": "9", "SHASIGN": expected}, passphrase, "sha512")
    assert not ogone.verify_sha_out({**params, "SHASIGN": expected}, passphrase + "x", "sha512")
    assert ogone.verify_sha_out({**params, "return_to": "y", "SHASIGN": expected}, passphrase, "sha512")
    assert not ogone.verify_sha_out(params, passphrase, "sha512")  # no SHASIGN at all


def test_sha_in_signs_every_parameter_and_skips_shasign():
    params = {"PSPID": "P", "ORDERID": "1", "AMOUNT": "100", "CURRENCY": "EUR", "COF_INITIATOR": "CIT"}
    signed = ogone.sha_in(params, "pp", "sha256")
    assert ogone.sha_in({**params, "SHASIGN": "X"}, "pp", "sha256") == signed
    assert ogone.sha_in({**params, "COF_INITIATOR": "MIT"}, "pp", "sha256") != signed
    assert ogone.verify_sha_in({**params, "SHASIGN": signed}, "pp", "sha256")
    assert not ogone.verify_sha_in({**params, "AMOUNT": "1", "SHASIGN": signed}, "pp", "sha256")


def test_conflicting_duplicate_names_are_refused():
    with pytest.raises(ogone.SignatureError, match="ORDERID"):
        ogone.sha_out([("orderID", "1"), ("ORDERID", "2")], "pp", "sha1")
    # A notification repeating a signed parameter never verifies, whichever value was signed.
    good = ogone.sha_out({"orderID": "1", "STATUS": "9"}, "pp", "sha1")
    assert ogone.verify_sha_out([("orderID", "1"), ("STATUS", "9"), ("SHASIGN", good)], "pp")
    assert not ogone.verify_sha_out([("orderID", "1"), ("STATUS", "9"), ("ORDERID", "2"), ("SHASIGN", good)], "pp")
    assert not ogone.verify_sha_out([("orderID", "1"), ("STATUS", "9"), ("SHASIGN", good), ("SHASIGN", "B")], "pp")


def test_unknown_algorithm_and_missing_passphrase():
    with pytest.raises(ogone.SignatureError, match="md5"):
        ogone.sha_in(BAS_SHA_IN, PASS, "md5")
    with pytest.raises(ogone.SignatureError, match="passphrase"):
        ogone.sha_out(BAS_SHA_IN, "", "sha1")


@pytest.mark.parametrize("text, cents", [("15", 1500), ("15.1", 1510), ("15.12", 1512), ("0.07", 7),
                                         ("1234567.89", 123456789)])
def test_feedback_amount_to_cents(text, cents):
    assert ogone.parse_amount(text) == cents
    assert ogone.parse_amount(ogone.format_amount(cents)) == cents


@pytest.mark.parametrize("bad", ["15,12", "1.234", "-5", "1e3", "", "15.", "abc"])
def test_feedback_amount_refuses_what_is_not_one(bad):
    with pytest.raises(ValueError):
        ogone.parse_amount(bad)


@pytest.mark.parametrize("code, status", [
    ("0", "error"), ("1", "cancelled"), ("2", "refused"), ("41", "pending"), ("46", "pending"),
    ("5", "authorised"), ("51", "pending"), ("52", "uncertain"), ("6", "cancelled"), ("7", "cancelled"),
    ("8", "refunded"), ("81", "pending"), ("83", "refused"), ("9", "paid"), ("91", "pending"),
    ("92", "uncertain"), ("93", "refused"), ("95", "paid"), ("99", "pending"), ("17", "error"), ("x", "error"),
])
def test_status_codes(code, status):
    assert ogone.status_of(code).status == status


def test_hosted_page_form_is_signed_and_in_cents():
    account = ogone.OgoneAccount("MyPSPID", "https://secure.ogone.com/ncol/test", "in-pass", "out-pass", "sha512")
    page = ogone.hosted_page(account, order_id="LNK-42", amount_cents=15075, currency="EUR", language="fr",
                             accept_url="https://h/ok", decline_url="https://h/ko", exception_url="https://h/ex",
                             cancel_url="https://h/cancel", operation="RES", guest_name="Anne Martin")
    f = page.fields
    assert page.action == "https://secure.ogone.com/ncol/test/orderstandard_utf8.asp"
    assert (f["AMOUNT"], f["LANGUAGE"], f["OPERATION"], f["ORDERID"]) == ("15075", "fr_FR", "RES", "LNK-42")
    assert ogone.verify_sha_in(f, "in-pass", "sha512")
    assert "EMAIL" not in f  # empty values are not sent
    with pytest.raises(ValueError):
        ogone.hosted_page(account, order_id="x", amount_cents=0, currency="EUR", language="en", accept_url="a",
                          decline_url="b", exception_url="c", cancel_url="d")


def test_installment_form_asks_for_an_alias():
    account = ogone.OgoneAccount("P", "http://sim/ncol/test", "i", "o", "sha256")
    f = ogone.hosted_page(account, order_id="L1-1", amount_cents=5000, currency="EUR", language="en_GB",
                          accept_url="a", decline_url="b", exception_url="c", cancel_url="d",
                          alias="LTR-L1", alias_usage="Your card is kept for the next 2 payments").fields
    assert (f["ALIAS"], f["ALIASOPERATION"], f["COF_INITIATOR"], f["COF_TRANSACTION"]) == \
        ("LTR-L1", "BYMERCHANT", "CIT", "FIRST")
    assert f["LANGUAGE"] == "en_US"


def test_ncresponse_is_read():
    r = ogone.read_ncresponse('<?xml version="1.0"?><ncresponse orderID="5" PAYID="33146134" NCERROR="0" '
                              'NCERRORPLUS="!" ACCEPTANCE="" STATUS="91" AMOUNT="1.5" CURRENCY="GBP"/>')
    assert r.ok and r.pay_id == "33146134" and r.status.status == "pending" and r.amount_cents == 150
    refused = ogone.read_ncresponse('<ncresponse PAYID="1" NCERROR="50001127" STATUS="0" NCERRORPLUS="no"/>')
    assert not refused.ok and refused.status.status == "error"
    with pytest.raises(ogone.DirectLinkError):
        ogone.read_ncresponse("<html>maintenance</html>")


def test_latin1_account_and_unencodable_values():
    params = {"orderID": "É-1", "STATUS": "9", "CN": "Zoë Ürgen"}
    latin = ogone.sha_out(params, "pp", "sha256", encoding="iso-8859-1")
    assert ogone.verify_sha_out({**params, "SHASIGN": latin}, "pp", "sha256", "iso-8859-1")
    assert not ogone.verify_sha_out({**params, "SHASIGN": latin}, "pp", "sha256", "utf-8")
    assert not ogone.verify_sha_out({**params, "CN": "李", "SHASIGN": latin}, "pp", "sha256", "iso-8859-1")
