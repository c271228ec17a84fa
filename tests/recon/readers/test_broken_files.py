"""Broken deliveries never crash and never lose a row silently: the file or the row is refused, with
the file, the line and the problem named, and no card number in the message."""

import datetime as dt
from pathlib import Path

import pytest

from lettrage.recon.hotels import Hotel
from lettrage.recon.readers import UnreadableFile, protel, read_file
from lettrage.recon.readers.hotel_config import FormatMapping

FIXTURES = Path(__file__).parent / "fixtures"
PARIS = Hotel("H1", "Hôtel du Port", "Europe/Paris")
PAN = "4970101234562001"  # Luhn-valid
TPE_HEADER = "N° TPE;N° transaction;Date;Heure;Type;Montant;Carte;N° carte;Numéro du fichier remis"


def write(tmp_path, name, content, encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def accounted(result):
    assert result.rows_in == len(result.rows) + len(result.rejects)
    return result


@pytest.mark.parametrize("kind", ["pms_postings", "tpe_journal", "remittances", "psp_journal", "reservations"])
def test_an_empty_file_is_refused_as_empty(tmp_path, kind):
    path = write(tmp_path, "empty.csv", "\r\n  \n")
    with pytest.raises(UnreadableFile, match="empty"):
        read_file(path, kind, PARIS)


def test_a_binary_file_is_refused_not_guessed(tmp_path):
    path = write(tmp_path, "export.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    with pytest.raises(UnreadableFile, match="binary content"):
        read_file(path, "tpe_journal", PARIS)


def test_utf16_with_its_mark_and_utf8_with_bom_read_like_utf8(tmp_path):
    text = (FIXTURES / "tpe_20260105.csv").read_bytes().decode("cp1252")
    for name, data in [("utf16.csv", text.encode("utf-16")), ("bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))]:
        result = accounted(read_file(write(tmp_path, name, data), "tpe_journal", PARIS))
        assert len(result.rows) == 3 and result.rows.iloc[0]["terminal_label"] == "TPE Hébergement (002)"


def test_utf16_without_its_mark_is_named_as_a_wrong_encoding(tmp_path):
    text = (FIXTURES / "tpe_20260105.csv").read_bytes().decode("cp1252")
    with pytest.raises(UnreadableFile, match="UTF-16 without its byte-order mark"):
        read_file(write(tmp_path, "utf16le.csv", text.encode("utf-16-le")), "tpe_journal", PARIS)


def test_missing_columns_name_the_column_and_the_header_line(tmp_path):
    path = write(tmp_path, "tpe.csv", "N° TPE;N° transaction;Date;Carte;N° autorisation\n002;1;05/01/2026;CB;12\n")
    with pytest.raises(UnreadableFile) as err:
        read_file(path, "tpe_journal", PARIS, fmt="tpe_csv")
    assert f"{path}:1: missing columns: amount" in str(err.value)


def test_a_wrong_separator_is_named(tmp_path):
    text = (FIXTURES / "protel_20260105.csv").read_bytes().decode("cp1252").replace(";", ",").replace("1,329", "1329")
    path = write(tmp_path, "protel.csv", text)
    mapping = FormatMapping(separator=";", columns=dict(protel.DEFAULT.columns))  # the hotel says: semicolons
    with pytest.raises(UnreadableFile, match="the header is one column: is the separator ';' right"):
        read_file(path, "pms_postings", PARIS, fmt="protel", mappings={"protel": mapping})


def test_rows_in_another_delimiter_or_cut_short_are_rejected_and_the_others_read(tmp_path):
    lines = [TPE_HEADER,
             f"002;000123;05/01/2026;06:33;Débit;258,95;AMEX;{PAN};00200012301C",
             "002,000124,05/01/2026,06:40,Débit,10,CB,*****1111,00200012401C",
             "002;000125;31/02/2026;07:00;Débit;12,00;CB;*****2222;00200012501C",
             "002;000126;05/01/2026;07:05;Remise;12,00;CB;*****3333;00200012601C",
             "002;000127;05/01/2026;07:10;Débit;1"]
    result = accounted(read_file(write(tmp_path, "tpe_20260105.csv", "\n".join(lines)), "tpe_journal", PARIS))
    assert result.rows["tpe_txn_id"].tolist() == ["H1:002:20260105:000123"]
    assert result.rows.iloc[0]["card_last4"] == "2001" and result.masked_pans == 1
    reasons = dict(zip(result.rejects["line_no"], result.rejects["reason"], strict=True))
    assert reasons[3].startswith("only 1 of the 9 fields")
    assert reasons[4] == "date '31/02/2026' is not a valid date (this file writes DD/MM/YYYY)"
    assert reasons[5].startswith("transaction type 'Remise' is not one lettrage knows")
    assert reasons[6] == "only 6 of the 9 fields of the header (truncated line?)"
    assert not any(PAN in str(v) for v in result.rejects.to_numpy().ravel())


def test_a_repeated_source_key_is_rejected_naming_the_line_it_repeats(tmp_path):
    text = (FIXTURES / "opera_fin_20260105.csv").read_text()
    lines = text.splitlines()
    path = write(tmp_path, "opera.csv", "\n".join([*lines, lines[1]]))
    result = accounted(read_file(path, "pms_postings", PARIS))
    assert len(result.rows) == 5
    assert result.rejects.iloc[0]["reason"] == "posting_id H1:100001 repeats line 2"
    assert result.rejects.iloc[0]["line_no"] == 7


def test_a_truncated_xml_report_is_refused_with_its_line(tmp_path):
    text = (FIXTURES / "ogone_20260105.xml").read_text(encoding="latin-1")
    path = write(tmp_path, "ogone.xml", text[: text.index("<PAYMENT ID=\"3012345670\"") + 40], "latin-1")
    with pytest.raises(UnreadableFile, match=r"ogone.xml:\d+: not well-formed XML"):
        read_file(path, "psp_journal", PARIS)


def test_a_message_quoting_the_file_never_shows_a_card_number(tmp_path):
    path = write(tmp_path, f"dump_{PAN}.csv", f"who knows;{PAN}\n1;2\n")
    with pytest.raises(UnreadableFile) as err:
        read_file(path, "pms_postings", PARIS)
    assert "format not recognised" in str(err.value) and PAN not in str(err.value)
    assert "************2001" in str(err.value)


def test_reservations_without_a_date_in_the_name_take_the_day_of_delivery(tmp_path):
    path = write(tmp_path, "resv.txt", (FIXTURES / "opera_resv_20260105.txt").read_text())
    result = read_file(path, "reservations", PARIS)
    assert len(result.rows) == 3 and result.rows["business_date"].map(lambda d: isinstance(d, dt.date)).all()
