"""The first leg's ids, read once the big joins are done: held as 16 bytes when they are UUIDs,
as text otherwise, and given back exactly as read."""

from __future__ import annotations

import uuid

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lettrage.recon.matching.record_ids import FixedIds, PackedUuids, read_ids, subset_of
from lettrage.recon.matching.select import id_ranks


@pytest.fixture
def conn():
    conn = duckdb.connect()
    yield conn
    conn.close()


def _read(conn, ids, batch_rows=64):
    conn.execute("CREATE OR REPLACE TABLE t AS SELECT unnest(?::VARCHAR[]) AS id", [ids])
    return read_ids(conn, "SELECT id FROM t", [], len(ids), batch_rows=batch_rows)


def _uuids(n):
    return [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15_C2B2AE3D27D4EB4F) % (1 << 128))) for i in range(n)]


def test_ids_of_every_length_are_read_batch_by_batch(conn):
    ids = [f"{'x' * (i % 7)}{i}-{'é' * (i % 3)}" for i in range(5000)] + ["550e8400-e29b-41d4-a716-446655440000"] * 3
    ids[4321] = None  # a file may lack one: it stays missing, the others keep their places
    read = _read(conn, ids)
    assert isinstance(read, pa.StringArray) and read.to_pylist() == ids
    for n in (len(ids) - 1, len(ids) + 1):  # the table changed since its records were read
        with pytest.raises(ValueError, match="changed between their two reads"):
            read_ids(conn, "SELECT id FROM t", [], n, batch_rows=64)


def test_uuids_are_held_as_16_bytes_and_given_back_as_read(conn):
    ids = _uuids(5000) + ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]
    read = _read(conn, ids)
    assert isinstance(read, PackedUuids) and read.packed.nbytes == 16 * len(ids)
    assert read.take(pa.array(np.arange(len(ids)))).to_pylist() == ids
    some = np.array([4999, 0, 17, 17, 5001])
    assert read.take(pa.array(some)).to_pylist() == [ids[i] for i in some]
    assert subset_of(read, some).take(np.arange(len(some))).to_pylist() == [ids[i] for i in some]
    # ties go to the lowest id: the same order as the text's
    nodes = np.arange(0, len(ids), 3)
    assert (id_ranks(read, nodes) == id_ranks(pa.array(ids), nodes)).all()
    with pytest.raises(IndexError):
        read.take(pa.array([len(ids)]))


@pytest.mark.parametrize("odd", ["550E8400-E29B-41D4-A716-446655440000", "550e8400e29b41d4a716446655440000",
                                 "{550e8400-e29b-41d4-a716-446655440000}", "550e8400-e29b-41d4-a716-44665544000g",
                                 "550e8400-e29b-41d4-a716_446655440000", "", None])
@pytest.mark.parametrize("where", [0, 63, 64, 4000])
def test_one_id_not_written_the_canonical_way_keeps_them_all_as_text(conn, odd, where):
    """Upper case, no dashes, braces, a letter not hex, a stray character, empty, missing: in the
    first batch or after batches already held as bytes. Of the same length as the others, they
    are all rows of text (`FixedIds`)."""
    ids = _uuids(5000)
    ids[where] = odd
    read = _read(conn, ids)
    same_length = odd is not None and len(odd) == 36
    assert isinstance(read, FixedIds if same_length else pa.StringArray)
    assert read.take(pa.array(np.arange(len(ids)))).to_pylist() == ids


def test_ids_of_one_length_are_held_as_rows_and_given_back_as_read(conn):
    """Most systems number their records at one width: held as rows of bytes, taken back as the
    text they were (accents too), ranked in the order of their text; one id of another length, or
    a missing one, and they are held as strings."""
    ids = [f"{'PE'[i % 2]}{(i * 7919) % 100_003:08d}" for i in range(3000)]
    read = _read(conn, ids)
    assert isinstance(read, FixedIds) and read.rows.shape == (3000, 9)
    some = np.array([2999, 0, 17, 17, 1234])
    assert read.take(pa.array(some)).to_pylist() == [ids[i] for i in some]
    assert read.take(some).type == pa.string()
    assert subset_of(read, some).take(np.arange(len(some))).to_pylist() == [ids[i] for i in some]
    nodes = np.arange(0, len(ids), 2)
    assert (id_ranks(read, nodes) == id_ranks(pa.array(ids), nodes)).all()
    with pytest.raises(IndexError):
        read.take(np.array([len(ids)]))
    accented = [f"é{i:06d}" for i in range(300)]  # eight bytes each
    assert _read(conn, accented).take(np.arange(300)).to_pylist() == accented
    for other in ("P123", None):
        ids[2500] = other
        assert isinstance(_read(conn, ids), pa.StringArray)


def test_no_ids(conn):
    conn.execute("CREATE TABLE t (id VARCHAR)")
    assert read_ids(conn, "SELECT id FROM t", [], 0).to_pylist() == []
