"""No full card number goes further than its file: every Luhn-valid 13-19 digit run is masked."""

import pandas as pd
import pytest

from lettrage.recon.masking import luhn_ok, mask, mask_frame, mask_text

VISA, AMEX, MC_19 = "4970101234562001", "378282246310005", "6304000000000000000"  # Luhn-valid test numbers


def test_luhn_accepts_card_numbers_and_refuses_typos():
    assert luhn_ok(VISA) and luhn_ok(AMEX) and luhn_ok("4111111111111111")
    assert not luhn_ok("4970101234562002")


@pytest.mark.parametrize("text, expected", [
    (VISA, "************2001"),
    ("paid by 4970 1012 3456 2001 at desk", "paid by **** **** **** 2001 at desk"),
    ("4970-1012-3456-2001", "****-****-****-2001"),
    ("REF4970101234562001X", "REF************2001X"),
    ("room 101 4970 1012 3456 2001", "room 101 **** **** **** 2001"),
    (AMEX, "***********0005"),
    ("card " + MC_19 + ".", "card ***************0000."),
])
def test_card_numbers_are_masked_anywhere_keeping_the_last_4_and_the_layout(text, expected):
    masked, count = mask_text(text)
    assert masked == expected and count == 1
    assert len(masked) == len(text)


@pytest.mark.parametrize("text", [
    "4970101234562002",            # fails Luhn: a typo, not a card
    "0000000000012345",            # a zero-padded amount
    "20260105103000",              # a compact timestamp
    "*****2008", "XXXX XXXX XXXX 2008", "123456789012",  # already masked, too short
    "tel +33 6 12 34 56 78",
])
def test_other_numbers_are_left_alone(text):
    assert mask_text(text) == (text, 0)


def test_two_numbers_in_one_value_are_both_counted():
    masked, count = mask_text(f"first {VISA} then {AMEX}")
    assert count == 2 and VISA not in masked and AMEX not in masked


def test_deep_mask_finds_a_number_glued_inside_a_long_digit_run():
    line = "0001234" + VISA + "000000"
    assert VISA not in mask(line)
    assert mask_text(line) == (line, 0)  # a field value is not searched inside longer runs


def test_frames_are_masked_column_by_column_and_counted():
    frame = pd.DataFrame({"a": [VISA, "x", None], "b": [1, 2, 3], "c": ["ok", f"n {AMEX}", "ok"]})
    masked, count = mask_frame(frame)
    assert count == 2
    assert masked.loc[0, "a"] == "************2001" and AMEX not in masked.loc[1, "c"]
    assert frame.loc[0, "a"] == VISA  # the input is not changed in place
