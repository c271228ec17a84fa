"""Reading a leg's records: hotels become codes; ids can be read later, in the same order."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import CancelledError, Future

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lettrage.recon.matching import sides
from lettrage.recon.matching.brands import BRANDS
from lettrage.recon.matching.sides import (
    PMS_TPE_SCOPE,
    Hotels,
    Window,
    hotel_codes,
    last4_digits,
    last4_sql,
    load_postings,
    load_tickets,
)
from tests.recon.matching import fixtures


@pytest.fixture
def conn():
    conn = duckdb.connect()
    names = [f"H{i:05d}" for i in range(3000)] + ["L'Hôtel du Parc"]
    conn.execute("CREATE TABLE pms_postings AS SELECT unnest(?::VARCHAR[]) AS hotel_id", [names * 2])
    yield conn
    conn.close()


def test_each_row_reads_its_hotels_code(conn):
    hotels = hotel_codes(conn, Window(), ["pms_postings"])
    assert hotels.bits is not None  # the hash bits, not the ENUM cast
    read = conn.execute(f"SELECT hotel_id, {hotels.sql()} AS code FROM pms_postings").fetchnumpy()
    codes = hotels.codes(read["code"])
    assert [hotels[c] for c in codes] == list(read["hotel_id"])


def test_hotels_whose_hash_bits_cannot_be_told_apart_are_read_by_name(conn):
    names = ["H00001", "H00002"]
    hotels = Hotels(names, [7, 7])  # the same hash: no bits tell them apart
    assert hotels.bits is None
    read = conn.execute(f"SELECT {hotels.sql()} AS code FROM (VALUES ('H00002'), ('H00001')) t(hotel_id)").fetchnumpy()
    assert list(hotels.codes(read["code"])) == [1, 0]


def test_a_hotel_outside_the_run_is_an_error_not_another_hotel(conn):
    hotels = hotel_codes(conn, Window(), ["pms_postings"])
    strangers = [f"not a hotel of the run {i}" for i in range(100)]
    slots = conn.execute(f"SELECT {hotels.sql()} AS code FROM (SELECT unnest(?::VARCHAR[]) AS hotel_id)",
                         [strangers]).fetchnumpy()["code"]
    free = slots[hotels.lookup[slots] < 0]  # most strangers' bits are no hotel's
    assert len(free) > 50
    with pytest.raises(ValueError, match="not among the run's hotels"):
        hotels.codes(np.asarray(free[:1]))


# --- ids read once the big joins are done ---------------------------------------------------

@pytest.fixture
def seed():
    conn = fixtures.warehouse()
    yield conn
    conn.close()


@pytest.mark.parametrize("window", [Window(), Window(fixtures.DAY, fixtures.DAY + dt.timedelta(days=1), ("SEED",))])
def test_ids_read_later_are_each_records_own(seed, window):
    hotels = hotel_codes(seed, window, ["pms_postings", "tpe_transactions"])
    now = load_postings(seed, window, PMS_TPE_SCOPE, hotels)
    later = load_postings(seed, window, PMS_TPE_SCOPE, hotels, late_ids=True)
    assert not later.record_ids.done()  # not read with the rest
    assert later.n == now.n == len(fixtures.POSTINGS)
    some = later.subset(later.amount > 0)  # a part of the side, made before its ids are read
    later.read_ids(seed)
    assert later.ids.to_pylist() == now.ids.to_pylist() == [p[0] for p in fixtures.POSTINGS]
    assert (later.amount == now.amount).all() and (later.ts == now.ts).all()
    assert some.ids.to_pylist() == [p[0] for p in fixtures.POSTINGS if p[5] > 0]


def test_tickets_a_cancellation_voids_are_left_out_with_their_ids_read_at_once(seed):
    seed.execute("""INSERT INTO tpe_transactions BY NAME SELECT * REPLACE ('T-VOID' AS tpe_txn_id, 'cancel' AS txn_type,
                    txn_at + INTERVAL 2 MINUTE AS txn_at) FROM tpe_transactions WHERE tpe_txn_id = 'T-A1002'""")
    hotels = hotel_codes(seed, Window(), ["pms_postings", "tpe_transactions"])
    tickets, voided = load_tickets(seed, Window(), 1800, hotels, late_ids=True)
    assert voided == 1
    assert not isinstance(tickets.record_ids, Future)  # the ids told which tickets to leave out
    assert "T-A1002" not in tickets.ids.to_pylist() and "T-VOID" not in tickets.ids.to_pylist()
    assert tickets.n == len(fixtures.TICKETS) - 1


def test_a_side_read_a_few_rows_at_a_time_is_the_side_read_at_once(seed, monkeypatch):
    """Rows are read in slices into arrays made for all of them: slices of two rows give the very
    side one slice gives (cancelled tickets left out, terminals and references as read)."""
    seed.execute("""INSERT INTO tpe_transactions BY NAME SELECT * REPLACE ('T-VOID' AS tpe_txn_id, 'cancel' AS txn_type,
                    txn_at + INTERVAL 2 MINUTE AS txn_at) FROM tpe_transactions WHERE tpe_txn_id = 'T-A1002'""")
    hotels = hotel_codes(seed, Window(), ["pms_postings", "tpe_transactions"])
    whole = load_tickets(seed, Window(), 1800, hotels)[0]
    monkeypatch.setattr(sides, "READ_ROWS", 2)
    sliced = load_tickets(seed, Window(), 1800, hotels)[0]
    assert sliced.n == whole.n == len(fixtures.TICKETS) - 1
    assert sliced.ids.to_pylist() == whole.ids.to_pylist()
    for name in ("hotel", "ts", "amount", "last4", "brand", "bdate"):
        assert (getattr(sliced, name) == getattr(whole, name)).all(), name
    assert sliced.extra["terminal"].to_pylist() == whole.extra["terminal"].to_pylist()
    assert (sliced.extra["ref"] == whole.extra["ref"]).all()


def test_a_connection_that_may_reorder_rows_reads_the_ids_with_the_rest(seed):
    seed.execute("SET preserve_insertion_order = false")
    hotels = hotel_codes(seed, Window(), ["pms_postings", "tpe_transactions"])
    side = load_postings(seed, Window(), PMS_TPE_SCOPE, hotels, late_ids=True)
    assert not isinstance(side.record_ids, Future)  # two reads could come in two orders
    assert sorted(side.ids.to_pylist()) == sorted(p[0] for p in fixtures.POSTINGS)


def test_ids_never_read_do_not_keep_anyone_waiting(seed):
    hotels = hotel_codes(seed, Window(), ["pms_postings", "tpe_transactions"])
    later = load_postings(seed, Window(), PMS_TPE_SCOPE, hotels, late_ids=True)
    some = later.subset(later.amount > 0)
    later.abandon_ids()  # the run failed before reading them
    assert later.record_ids.cancelled() and some.record_ids.cancelled()
    with pytest.raises(CancelledError):
        _ = later.ids
    with pytest.raises(CancelledError):
        _ = some.ids
    later.read_ids(seed)  # too late: nothing is read
    assert later.record_ids.cancelled()


# --- brands and times as the files hold them ------------------------------------------------

@pytest.mark.parametrize("unit", ["TIMESTAMPTZ", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"])
@pytest.mark.parametrize("hashes_collide", [False, True])
def test_brands_as_spelled_and_times_of_any_unit_are_read_as_codes_and_seconds(seed, unit, hashes_collide,
                                                                              monkeypatch):
    spellings = ["Visa", "MC", "American Express", "CB", None, "Carte maison", "VISA ", "jcb", "MASTERCARD", "AMEX"]
    rows = seed.execute("SELECT posting_id FROM pms_postings ORDER BY posting_id").fetchall()
    for (posting_id,), brand in zip(rows, spellings, strict=True):
        seed.execute("UPDATE pms_postings SET card_brand = ? WHERE posting_id = ?", [brand, posting_id])
    seed.execute("UPDATE pms_postings SET posted_at = NULL WHERE posting_id = 'P-140'")  # a posting without time
    seed.execute(f"CREATE TABLE p2 AS SELECT * REPLACE (posted_at::{unit} AS posted_at) FROM pms_postings")
    seed.execute("DROP TABLE pms_postings")
    seed.execute("ALTER TABLE p2 RENAME TO pms_postings")
    hotels = hotel_codes(seed, Window(), ["pms_postings", "tpe_transactions"])
    if hashes_collide:  # no bits of the hashes tell the brands apart: read by name (CASE)
        monkeypatch.setattr(sides, "_hashes", lambda conn, values: [7] * len(values))
    side = load_postings(seed, Window(), PMS_TPE_SCOPE, hotels)
    read = dict(zip(side.ids.to_pylist(), zip(side.brand.tolist(), side.ts.tolist(), strict=True), strict=True))
    expected_brand = dict(zip([r[0] for r in rows], ["VISA", "MASTERCARD", "AMEX", "CB", "", "", "VISA", "JCB",
                                                     "MASTERCARD", "AMEX"], strict=True))
    assert {i: BRANDS[b] for i, (b, _) in read.items()} == expected_brand
    posted = {p[0]: int(fixtures._utc(p[1]).timestamp()) for p in fixtures.POSTINGS}
    posted["P-140"] = 0
    assert {i: t for i, (_, t) in read.items()} == posted


# --- card numbers as written ------------------------------------------------------------------

CARD_NUMBERS = [  # as written -> the last 4 digits the engine reads (-1: none)
    ("4242", 4242), ("0042", 42), ("42", 42), (" 42", 42), ("42 ", 42), (" 4242 ", 4242), ("4242    ", 4242),
    ("XXXX XXXX XXXX 1234", 1234), ("XXXXXXXXXXXX2302", 2302), ("497010******0208", 208), ("••••1234", 1234),
    ("4111111111111111", 1111), ("12345", 2345), ("XXXX XXXX XXXX 123 ", 123), ("   42", 42), ("12   ", 12),
    ("", -1), (None, -1), ("    ", -1), ("12-34", -1), ("abcd", -1), ("123a", -1), ("é12", -1), ("x 42", -1),
    ("+123", -1), ("-12", -1), ("1.5", -1), ("12\t", -1)]


def test_last_4_digits_are_read_alike_from_buffers_and_in_sql():
    """The sides read them from Arrow's buffers; the look-up of refunds' sales before a run joins on
    them in SQL: both read the same digits from each value, in chunks, slices and any string type."""
    conn = duckdb.connect()
    written = [w for w, _ in CARD_NUMBERS] * 3
    expected = [d for _, d in CARD_NUMBERS] * 3
    conn.execute("CREATE TABLE t AS SELECT * FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS u(v, i)", [written])
    assert [r[0] for r in conn.execute(f"SELECT {last4_sql('v')} FROM t ORDER BY i").fetchall()] == expected
    text = pa.array(written, pa.string())
    n = len(CARD_NUMBERS)
    for read in (pa.chunked_array([text]), pa.chunked_array([text.slice(0, 5), text.slice(5, n), text.slice(5 + n)]),
                 pa.chunked_array([text.cast(pa.large_string())]), pa.chunked_array([text.cast(pa.string_view())]),
                 conn.sql("SELECT CAST(v AS VARCHAR) FROM t ORDER BY i").to_arrow_table().column(0)):
        assert last4_digits(read).tolist() == expected, read.type
    assert last4_digits(pa.chunked_array([pa.array([None, None], pa.string())])).tolist() == [-1, -1]
