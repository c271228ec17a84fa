"""AMEX EPTRN: fixed-width records laid out by hand at the positions of the published layout."""

import datetime as dt

import pytest

from lettrage.recon.hotels import Hotel
from lettrage.recon.readers import UnreadableFile, detect, read_file

PARIS = Hotel("H1", "Hôtel du Port", "Europe/Paris")
AMEX_CARD = "378282246310005"  # a full (Luhn-valid) card member number, as a careless export may carry


def zoned(cents: int, width: int) -> str:
    """Zoned decimal: the last digit carries the sign ({A-I positive, }J-R negative)."""
    digits = str(abs(cents)).zfill(width)
    return digits[:-1] + ("{ABCDEFGHI" if cents >= 0 else "}JKLMNOPQR")[int(digits[-1])]


def record(detail: str, **fields: tuple[int, str]) -> str:
    """One detail record: payee, SE, payment year and number, record type, then fields at (start, text)."""
    line = [" "] * 450
    common = {1: "3491124567", 11: "3491124567", 31: "2026", 35: "PAY00042", 43: "3", 44: detail}
    for start, text in [*common.items(), *fields.values()]:
        line[start - 1: start - 1 + len(text)] = list(text)
    return "".join(line).rstrip()


def eptrn(details: list[str], trailer: bool = True) -> str:
    lines = ["DFHDR01062026" + "0452" + "000001" + "HOTEL DU PORT".ljust(20), *details]
    if trailer:
        lines.append("DFTRL01062026" + "0452" + "000001" + " " * 60 + str(len(details) + 2).zfill(7))
    return "\n".join(lines) + "\n"


DETAILS = [
    record("00", date=(46, "2026008"), amount=(53, zoned(29250, 11))),
    record("10", day=(46, "2026005"), processed=(53, "2026006"), soc=(60, "000140"), gross=(66, zoned(30000, 11)),
           discount=(77, zoned(750, 9)), service=(86, zoned(0, 7)), net=(100, zoned(29250, 11))),
    record("11", day=(46, "2026005"), processed=(53, "2026006"), soc=(60, "000140"), soc_amount=(66, zoned(30000, 13)),
           roc=(79, zoned(20000, 13)), card=(92, AMEX_CARD), se_ref=(118, "CONF001"), roc_no=(137, "0000000001"),
           tran=(147, "2026005")),
    record("11", day=(46, "2026005"), processed=(53, "2026006"), soc=(60, "000140"), soc_amount=(66, zoned(30000, 13)),
           roc=(79, zoned(10000, 13)), card=(92, "XXXXXXXXXXX1007"), roc_no=(137, "0000000002"),
           tran=(147, "2026004")),
]


def test_eptrn_records_become_payout_fee_and_card_lines(tmp_path):
    path = tmp_path / "EPTRN_20260108.dat"
    path.write_text(eptrn(DETAILS))
    assert detect(path, "remittances") == "amex_eptrn"
    result = read_file(path, "remittances", PARIS)
    rows = result.rows
    assert result.rows_in == 4 and result.rejects.empty and result.masked_pans == 1
    assert rows["line_type"].tolist() == ["payout", "fee", "sale", "sale"]
    assert rows["net_cents"].tolist() == [-29250, -750, 20000, 10000]  # the payment balances its charges and fee
    assert rows["net_cents"].sum() == 0
    assert rows["card_last4"].tolist()[2:] == ["0005", "1007"]
    assert rows["business_date"].tolist() == [dt.date(2026, 1, 8), dt.date(2026, 1, 5), dt.date(2026, 1, 5),
                                              dt.date(2026, 1, 4)]
    assert set(rows["payout_id"]) == {"2026PAY00042"} and set(rows["card_brand"]) == {"AMEX"}
    assert rows.iloc[2]["merchant_reference"] == "CONF001"
    assert not rows.astype(str).apply(lambda c: c.str.contains(AMEX_CARD)).any().any()


def test_a_soc_without_its_charges_is_one_sale_line_with_its_fee(tmp_path):
    path = tmp_path / "EPTRN.dat"
    path.write_text(eptrn(DETAILS[:2]))
    rows = read_file(path, "remittances", PARIS).rows
    assert rows.iloc[1][["line_type", "gross_cents", "fee_cents", "net_cents"]].tolist() == ["sale", 30000, -750, 29250]


def test_a_file_without_its_trailer_is_truncated(tmp_path):
    path = tmp_path / "EPTRN.dat"
    path.write_text(eptrn(DETAILS, trailer=False))
    with pytest.raises(UnreadableFile, match="no DFTRL trailer: the file is truncated"):
        read_file(path, "remittances", PARIS)


def test_impossible_julian_dates_and_cut_records_are_rejected_with_their_line(tmp_path):
    bad_date = DETAILS[2].replace("2026005", "2026400")
    cut = DETAILS[3][:85]
    path = tmp_path / "EPTRN.dat"
    path.write_text(eptrn([DETAILS[0], bad_date, cut]))
    result = read_file(path, "remittances", PARIS)
    assert result.rows["line_type"].tolist() == ["payout"]
    assert result.rejects["line_no"].tolist() == [3, 4]
    assert result.rejects["reason"].iloc[0] == "TRAN_DATE '2026400' is not a Julian date YYYYDDD"
    assert "truncated" in result.rejects["reason"].iloc[1]
    assert AMEX_CARD not in result.rejects["raw"].iloc[0] and "*****0005" in result.rejects["raw"].iloc[0]
