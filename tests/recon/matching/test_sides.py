"""Reading a leg's records: hotels become codes."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from lettrage.recon.matching.sides import Hotels, Window, hotel_codes


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
