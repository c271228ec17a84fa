"""The synthetic hotel group: its layout, its determinism, its truth, and that every file reads
back through the real readers into exactly the rows that were generated (native formats and the
generic CSV alike)."""

import datetime as dt
import hashlib
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest

from lettrage.recon import inbox, schemas
from lettrage.recon.generate import build_hotel, canonical_rows, generate_group
from lettrage.recon.generate.anomalies import INJECTED
from lettrage.recon.generate.group import make_hotel
from lettrage.recon.hotels import Hotel, load_hotels
from lettrage.recon.masking import mask, mask_text
from lettrage.recon.readers import read_file
from lettrage.recon.readers.hotel_config import hotel_mappings

SEED, HOTELS, DAYS = 11, 6, 2
START = dt.date(2026, 3, 28)  # the window holds Europe's switch to summer time (29 March)
VISA_FAMILY = {"CB", "VISA", "MASTERCARD", "MAESTRO"}
NATIVE = {  # hotel -> the reader each kind's files must be recognised as
    "H001": {"pms_postings": {"opera_csv"}, "remittances": {"cb_remittance", "amex_eptrn"},
             "reservations": {"opera_resv"}},
    "H002": {"pms_postings": {"protel"}, "remittances": {"adyen_sdr"}},
    "H003": {"pms_postings": {"onq"}, "remittances": {"adyen_sdr"}},
    "H004": {"pms_postings": {"opera_trexport"}, "reservations": {"opera_resv"}},
    "H005": {"pms_postings": {"starlight"}},
    "H006": {"pms_postings": {"generic"}},
}


def generate(root: Path, formats: str, hotels=HOTELS, days=DAYS, seed=SEED) -> Path:
    generate_group(root, hotels=hotels, days=days, seed=seed, start=START, formats=formats)
    return root


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("native"), "native")


@pytest.fixture(scope="module")
def generic(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("generic"), "generic")


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, dict[str, pd.DataFrame]]]:
    """The rows each format must read back into, per format, hotel and table (drawn in memory)."""
    native = {make_hotel(SEED, i).hotel_id: canonical_rows(build_hotel(make_hotel(SEED, i), SEED, START, DAYS,
                                                                       HOTELS))
              for i in range(HOTELS)}
    generic = {h: {t: rows.copy() for t, rows in tables.items()} for h, tables in native.items()}
    for tables in generic.values():  # an id written in a file goes through the card-number mask
        tables["remittances"]["remittance_line_id"] = tables["remittances"]["remittance_line_id"].map(mask)
    return {"native": native, "generic": generic}


def read_back(root: Path, fmt: str) -> tuple[dict[str, dict[str, pd.DataFrame]], dict[tuple, set[str]]]:
    """Every file of the inbox read with the real readers, as the pipeline reads them (the hotel's
    code table and column mappings, the schema checked once per table); per hotel and canonical
    table. Also the formats recognised."""
    hotels = inbox.hotels_of(root)
    frames, formats = {}, {}
    for hotel_id, hotel in hotels.items():
        codes = read_file(next((root / hotel_id / "trx_codes").iterdir()), "trx_codes", hotel, fmt="generic").rows
        mappings = hotel_mappings(root / hotel_id)
        for kind, table in schemas.SOURCE_KINDS.items():
            for f in inbox.scan(root, [kind], [hotel_id]):
                result = read_file(f.path, kind, hotel, fmt=fmt, trx_codes=codes, mappings=mappings, validate=False)
                assert result.rejects.empty, (f.path, result.rejects.to_dict("records"))
                assert result.rows_in == len(result.rows), f.path
                assert result.masked_pans == 0, f.path  # no field holds anything like a full card number
                formats.setdefault((hotel_id, kind), set()).add(result.format)
                frames.setdefault(table, []).append(result.rows)
    tables = {}
    for table, parts in frames.items():
        rows = pd.concat(parts, ignore_index=True)
        rows = schemas.model(table).validate(rows[schemas.columns(table)])
        for hotel_id, part in rows.groupby("hotel_id"):
            tables.setdefault(hotel_id, {})[table] = part.reset_index(drop=True)
    return tables, formats


def as_text(frame: pd.DataFrame, columns: list[str], key: list[str]) -> list[tuple]:
    frame = frame[columns].sort_values(key).reset_index(drop=True)
    return [tuple(None if pd.isna(v) else str(v) for v in row) for row in frame.itertuples(index=False)]


def assert_same_rows(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for hotel_id, tables in expected.items():
        for table, rows in tables.items():
            key = list(schemas.TABLES[table][1])
            columns = list(rows.columns)
            assert len(got[hotel_id][table]) == len(rows), (hotel_id, table)
            assert as_text(got[hotel_id][table], columns, key) == as_text(rows, columns, key), (hotel_id, table)


@pytest.fixture(scope="module")
def generic_read(generic):
    return read_back(generic, "generic")


def test_generic_csv_reads_back_into_exactly_the_generated_rows(generic_read, expected):
    got, formats = generic_read
    assert_same_rows(got, expected["generic"])
    assert {f for fs in formats.values() for f in fs} == {"generic"}


def test_native_files_read_back_into_the_same_rows_as_the_generic_csv(native, expected):
    got, formats = read_back(native, "auto")
    for hotel_id, kinds in NATIVE.items():
        for kind, wanted in kinds.items():
            assert formats[(hotel_id, kind)] == wanted, (hotel_id, kind, formats[(hotel_id, kind)])
    everywhere = {f for (_, kind), fs in formats.items() for f in fs if kind in ("tpe_journal", "psp_journal")}
    assert everywhere == {"tpe_csv", "ogone_xml"}
    assert_same_rows(got, expected["native"])
    # the generic CSV of the same seed holds the same rows (ids read through the mask aside)
    for hotel_id, tables in expected["native"].items():
        for table, rows in tables.items():
            other = expected["generic"][hotel_id][table]
            same = [c for c in rows.columns if c != "remittance_line_id"]
            assert rows[same].equals(other[same]), (hotel_id, table)


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_the_same_bytes_and_another_seed_other_ones(tmp_path):
    first = digest(generate(tmp_path / "a", "native", hotels=1, days=1))
    assert first == digest(generate(tmp_path / "b", "native", hotels=1, days=1))
    other = digest(generate(tmp_path / "c", "native", hotels=1, days=1, seed=SEED + 1))
    assert set(first) & set(other) and all(first[k] != other[k] for k in set(first) & set(other)
                                           if "pms_postings" in k)


def test_layout_one_file_per_hotel_kind_and_day_named_with_its_date(native):
    hotels = load_hotels(native / "hotels.csv")
    assert list(hotels) == [f"H00{i}" for i in range(1, HOTELS + 1)]
    header = (native / "hotels.csv").read_text().splitlines()[0].split(",")
    assert header == list(Hotel.__dataclass_fields__)
    window = {START + dt.timedelta(days=i) for i in range(DAYS)}
    for hotel_id in hotels:
        assert sorted(p.name for p in (native / hotel_id).iterdir() if p.is_dir()) == sorted(schemas.SOURCE_KINDS)
        assert len(list((native / hotel_id / "trx_codes").iterdir())) == 1
        for kind in ("pms_postings", "tpe_journal", "reservations"):
            files = [f for f in inbox.scan(native, [kind], [hotel_id])]
            assert {f.file_date for f in files} == window, (hotel_id, kind)
            assert len(files) == DAYS
        remittances = inbox.scan(native, ["remittances"], [hotel_id])
        assert remittances and all(f.file_date > START for f in remittances)
        per_day = {}
        for f in remittances:  # one file per provider and remittance date
            per_day.setdefault((f.file_date, f.path.name.split("_")[0]), []).append(f)
        assert all(len(v) == 1 for v in per_day.values())
    assert (native / "H005" / "hotel.yaml").exists()  # the Starlight export's column mapping
    truth = native / "_truth"
    assert {p.name for p in truth.iterdir()} >= {"matches.csv", "anomalies.csv", "README.txt"}
    assert not [f for f in inbox.scan(native) if "_truth" in f.path.parts]


@pytest.fixture(scope="module")
def group(generic, generic_read):
    """The generic group read back, with its truth."""
    got, _ = generic_read
    tables = {t: pd.concat([got[h][t] for h in got], ignore_index=True) for t in schemas.SOURCE_KINDS.values()}
    matches = pd.read_csv(generic / "_truth" / "matches.csv", dtype=str, keep_default_na=False)
    anomalies = pd.read_csv(generic / "_truth" / "anomalies.csv", dtype=str, keep_default_na=False)
    return tables, matches, anomalies, inbox.hotels_of(generic)


def test_truth_names_existing_records_and_every_exception_code(group):
    tables, matches, anomalies, _ = group
    ids = {"pms_postings": "posting_id", "tpe_transactions": "tpe_txn_id", "remittances": "remittance_line_id",
           "psp_transactions": "psp_txn_id"}
    for record_kind, col in ids.items():
        known = set(tables[record_kind][col])
        assert set(matches.loc[matches.record_kind == record_kind, "record_id"]) <= known
        assert set(anomalies.loc[anomalies.record_kind == record_kind, "record_id"]) <= known
    assert set(INJECTED) <= set(anomalies["code"]) <= set(schemas.EXCEPTION_CODES)  # every code of DOMAIN.md
    assert set(matches["kind"]) == {"one_to_one", "one_to_many", "many_to_one"}
    assert set(matches["leg"]) == {"pms_tpe", "tpe_remittance", "pms_psp"}
    assert (matches.groupby("match_id")["side"].nunique() == 2).all()  # every group has both sides


def _family(brand) -> str:
    return "V" if brand in VISA_FAMILY else str(brand)


def test_each_anomaly_is_what_its_code_says(group):
    tables, matches, anomalies, hotels = group
    pms = tables["pms_postings"].set_index("posting_id")
    tpe = tables["tpe_transactions"].set_index("tpe_txn_id")
    rem = tables["remittances"].set_index("remittance_line_id")
    psp = tables["psp_transactions"]
    paired = matches[matches.leg == "pms_tpe"]
    grouped = set(paired["record_id"])
    partner = {}
    for _, g in paired.groupby("match_id"):
        for r in g["record_id"]:
            partner[r] = [x for x in g["record_id"] if x != r]
    for a in anomalies.itertuples():
        related = [r.split(":", 1)[1] for r in a.related.split(";") if r]
        hotel = hotels[a.hotel_id]
        if a.code == "MISSING_IN_TPE":
            assert pms.at[a.record_id, "channel"] == "terminal" and a.record_id not in grouped
        elif a.code == "MISSING_IN_PMS":
            assert a.record_id not in grouped
        elif a.code == "DUPLICATE_TPE":
            first, second = tpe.loc[related[0]], tpe.loc[a.record_id]
            assert (first.card_last4, first.amount_cents) == (second.card_last4, second.amount_cents)
            assert dt.timedelta(0) < second.txn_at - first.txn_at <= dt.timedelta(minutes=5)
        elif a.code == "DUPLICATE_PMS":
            first, second = pms.loc[related[0]], pms.loc[a.record_id]
            assert (first.trx_code, first.amount_cents, first.card_last4) == \
                (second.trx_code, second.amount_cents, second.card_last4)
        elif a.code in ("AMOUNT_MISMATCH", "BRAND_MISMATCH", "PAN_MISMATCH", "LATE_POSTING"):
            posting, ticket = pms.loc[a.record_id], tpe.loc[partner[a.record_id][0]]
            if a.code == "AMOUNT_MISMATCH":
                assert 0 < abs(posting.amount_cents - ticket.amount_cents) <= hotel.amount_tolerance_cents
            elif a.code == "BRAND_MISMATCH":
                assert _family(posting.card_brand) != _family(ticket.card_brand)
            elif a.code == "PAN_MISMATCH":
                assert posting.card_last4 != ticket.card_last4 and posting.amount_cents == ticket.amount_cents
            else:
                assert posting.posted_at - ticket.txn_at > dt.timedelta(minutes=hotel.match_window_minutes)
        elif a.code == "TIMING_DIFFERENCE":
            assert pms.at[a.record_id, "business_date"] != tpe.at[related[0], "business_date"]
        elif a.code == "REFUND_UNMATCHED":
            refund = tpe.loc[a.record_id]
            same_card = tpe[(tpe.hotel_id == a.hotel_id) & (tpe.card_last4 == refund.card_last4)]
            assert refund.txn_type == "refund" and not (same_card.amount_cents > 0).any()
        elif a.code == "SPLIT_AMBIGUOUS":
            total = pms.at[a.record_id, "amount_cents"]
            tickets = [tpe.at[r, "amount_cents"] for r in related if r in tpe.index]
            assert sum(1 for x, y in combinations(tickets, 2) if x + y == total) >= 2
        elif a.code == "NOT_REMITTED":
            assert tpe.at[a.record_id, "remise_ref"] not in set(rem["remise_ref"].dropna())
            assert a.record_id not in set(matches.loc[matches.leg == "tpe_remittance", "record_id"])
        elif a.code == "REMITTANCE_MISMATCH":
            assert rem.at[a.record_id, "gross_cents"] != tpe.at[related[0], "amount_cents"]
        elif a.code == "PSP_NOT_POSTED":
            payment = psp[psp.psp_txn_id == a.record_id].iloc[0]
            deposits = pms[(pms.channel == "psp") & (pms.hotel_id == a.hotel_id)]
            assert payment.status == "paid"
            assert payment.order_id not in set(deposits.reference) | set(deposits.confirmation_no)
        elif a.code == "POSTED_WITHOUT_PSP":
            posting = pms.loc[a.record_id]
            paid = psp[(psp.status == "paid") & (psp.hotel_id == a.hotel_id)]
            assert posting.channel == "psp" and posting.confirmation_no not in set(paid.order_id)


def test_clean_matches_agree_on_card_amount_and_time(group):
    tables, matches, anomalies, hotels = group
    flagged = set(anomalies["record_id"]) | {r.split(":", 1)[1] for rel in anomalies["related"] for r in
                                             rel.split(";") if r}
    ids = {"pms_postings": "posting_id", "tpe_transactions": "tpe_txn_id", "remittances": "remittance_line_id",
           "psp_transactions": "psp_txn_id"}
    amount = {"pms_postings": "amount_cents", "tpe_transactions": "amount_cents", "remittances": "gross_cents",
              "psp_transactions": "amount_cents"}
    record = {kind: tables[kind].set_index(col).to_dict("index") for kind, col in ids.items()}
    groups: dict[str, dict] = {}
    for m in matches.itertuples():
        g = groups.setdefault(m.match_id, {"leg": m.leg, "hotel": m.hotel_id, "left": [], "right": []})
        g[m.side].append((m.record_kind, m.record_id))
    cobadged = 0
    for match_id, g in groups.items():
        if {r for _, r in g["left"] + g["right"]} & flagged:
            continue
        sides = {s: [(k, record[k][r]) for k, r in g[s]] for s in ("left", "right")}
        totals = {s: sum(row[amount[k]] for k, row in rows) for s, rows in sides.items()}
        assert totals["left"] == totals["right"], match_id
        leg = g["leg"]
        if leg == "pms_tpe":
            window = dt.timedelta(minutes=hotels[g["hotel"]].match_window_minutes)
            for _, posting in sides["left"]:
                for _, ticket in sides["right"]:
                    assert posting["card_last4"] == ticket["card_last4"]
                    assert _family(posting["card_brand"]) == _family(ticket["card_brand"])
                    assert abs(posting["posted_at"] - ticket["txn_at"]) <= window
                    cobadged += ticket["card_brand"] == "CB" and posting["card_brand"] in ("VISA", "MASTERCARD")
        elif leg == "pms_psp":  # the confirmation number travels as the PSP order reference
            posting, payment = sides["left"][0][1], sides["right"][0][1]
            assert payment["order_id"] in (posting["reference"], posting["confirmation_no"])
    assert cobadged > 0  # CB on the terminal, Visa or Mastercard in the PMS


def test_it_looks_like_real_hotels(group, native):
    tables, _, _, hotels = group
    assert len({h.timezone for h in hotels.values()}) >= 4
    audits = {h.night_audit_time for h in hotels.values()}
    assert "23:30" in audits and any("01:00" <= a <= "04:00" for a in audits)
    tpe = tables["tpe_transactions"]
    sales = tpe[tpe.txn_type.isin(["sale", "completion"])]
    hours = [t.tz_convert(hotels[h].timezone).hour for t, h in zip(sales.txn_at, sales.hotel_id, strict=True)]
    assert sum(7 <= h < 11 for h in hours) > len(hours) / 2  # the check-out peak
    assert set(tpe.txn_type) >= {"sale", "refund", "preauth", "completion", "cancel"}
    assert tpe.amount_cents.value_counts().iloc[0] >= 3  # room rates repeat
    pms = tables["pms_postings"]
    assert set(pms.channel.dropna()) >= {"terminal", "distance", "psp", "cash", "transfer", "other"}
    # a payment after midnight, before the night audit, belongs to the previous business date
    local = [(t.tz_convert(hotels[h].timezone), h) for t, h in zip(pms.posted_at, pms.hotel_id, strict=True)]
    assert any(t.hour < int(hotels[h].night_audit_time[:2]) and b == t.date() - dt.timedelta(days=1)
               for (t, h), b in zip(local, pms.business_date, strict=True))
    resv = tables["reservations"]
    assert resv.phone.dropna().str.fullmatch(r"\+[1-9]\d{6,14}").all() and resv.phone.notna().mean() > .7
    assert len(set(resv.language)) >= 5 and resv.non_refundable.any() and (resv.deposit_due_cents > 0).any()
    assert (resv.arrival_date - resv.business_date).max() > dt.timedelta(days=14)
    assert set(resv.status) == {"reserved", "in_house", "checked_out", "cancelled", "no_show"}


def test_no_full_card_number_anywhere(native):
    """Only masked numbers and last 4 digits: no text file holds anything the card-number mask
    would catch (fixed-width AMEX records, whose fields touch, are checked field by field when
    read back)."""
    for path in native.rglob("*"):
        if path.is_file() and path.suffix != ".dat":
            text = path.read_bytes().decode("latin-1")
            assert mask_text(text)[1] == 0, (path, mask_text(text)[0][:200])
