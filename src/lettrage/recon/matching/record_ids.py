"""The ids of the first leg's millions of records, read once the matching needs them
(`sides.Side.read_ids`), for the outputs and for ties.

Ids that are all UUIDs written the canonical way ('0f8fad5b-d9cb-469f-a165-70867728950e', lower
case, as most systems and DuckDB write them) are held as their 16 bytes (`PackedUuids`): as text,
10 M + 10 M of them are 0.8 GB, the run's largest holding when its memory peaks; as bytes, 0.3 GB.
They are written out again exactly as read, and in the same order (the bytes' order is the
text's). Other ids all of one length (as most systems number their records) are held as rows of
bytes (`FixedIds`): the ledger takes millions of them, and a row is gathered in a third of the
time a string array's take needs. Any other ids are held as the strings they are.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lettrage.recon.matching import _text

UUID_CHARS = 36


class PackedUuids:
    """Canonical UUID ids as 16 bytes each; `take` gives them back as text, like a string array's."""

    def __init__(self, packed: np.ndarray):
        self.packed = packed  # (n, 16) uint8

    def __len__(self) -> int:
        return len(self.packed)

    def take(self, indices) -> pa.Array:
        """The ids at `indices` (positions, as an Arrow or numpy array), as strings."""
        idx = _positions(indices)
        text = np.empty(UUID_CHARS * len(idx), dtype=np.uint8)
        _text.format(self.packed, idx, text)
        return _of_width(UUID_CHARS, text)

    def subset(self, indices: np.ndarray) -> PackedUuids:
        return PackedUuids(self.packed[indices])


class FixedIds:
    """Ids all of one length (one byte or more) as rows of bytes; `take` gives them back as text."""

    def __init__(self, rows: np.ndarray):
        self.rows = rows  # (n, width) uint8
        self._items = rows.view(np.dtype((np.void, rows.shape[1]))).reshape(-1)  # a row as one item

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, indices) -> pa.Array:
        """The ids at `indices` (positions, as an Arrow or numpy array), as strings."""
        return _of_width(self.rows.shape[1], np.take(self._items, _positions(indices)).view(np.uint8))

    def subset(self, indices: np.ndarray) -> FixedIds:
        return FixedIds(self.rows[indices])


def _positions(indices) -> np.ndarray:
    return np.ascontiguousarray(indices.to_numpy() if isinstance(indices, pa.Array) else indices, dtype=np.int64)


def _of_width(width: int, text: np.ndarray) -> pa.Array:
    """Strings of `width` bytes each, one after the other in `text`, as a string array."""
    size = len(text)
    offsets = np.arange(0, size + 1, width, dtype=np.int32 if size < 2 ** 31 else np.int64)
    kind = pa.StringArray if size < 2 ** 31 else pa.LargeStringArray
    return kind.from_buffers(size // width, pa.py_buffer(offsets), pa.py_buffer(text))


def subset_of(ids, indices: np.ndarray):
    """Some of the ids (`indices`: positions), held as the whole is."""
    return ids.subset(indices) if isinstance(ids, (PackedUuids, FixedIds)) else ids.take(pa.array(indices))


def read_ids(conn, sql: str, params: list, n: int, batch_rows: int = 1 << 20):
    """The one string column of `n` rows `sql` reads: `PackedUuids` while every id is a canonical
    UUID, `FixedIds` when all have one length, else a string array. Copied batch by batch into room
    made for all of them (not read whole, then copied again: twice the memory of millions of ids)."""
    packed = np.empty((n, 16), dtype=np.uint8)  # untouched pages cost nothing if ids are not UUIDs
    strings: _Strings | None = None
    rows = 0
    for batch in conn.sql(sql, params=params).to_arrow_reader(batch_rows):
        column = batch.column(0).cast(pa.large_string())
        k = len(column)
        if rows + k > n:
            raise ValueError("the records changed between their two reads")
        if strings is None and k and not _pack(column, packed[rows:rows + k]):
            strings = _Strings(n)  # the ids so far as text, then all the others
            if rows:
                strings.add(PackedUuids(packed[:rows]).take(np.arange(rows)))
            packed = None
        if strings is not None:
            strings.add(column)
        rows += k
    if rows != n:
        raise ValueError("the records changed between their two reads")
    if strings is None:
        return PackedUuids(packed) if n else pa.array([], pa.string())
    return strings.held()


def _pack(column: pa.LargeStringArray, out: np.ndarray) -> bool:
    """`column`'s ids as 16 bytes each into `out`, when every one is a canonical UUID."""
    data = column.buffers()[2]
    if column.null_count or data is None:
        return False
    return _text.pack(_offsets(column), data, out)


def _offsets(column: pa.LargeStringArray) -> np.ndarray:
    return np.frombuffer(column.buffers()[1], np.int64, count=len(column) + 1, offset=8 * column.offset)


class _Strings:
    """n strings, added batch by batch into buffers grown at the length of those so far."""

    def __init__(self, n: int):
        self.n = n
        self.offsets = np.zeros(n + 1, dtype=np.int64)
        self.data = np.zeros(0, dtype=np.uint8)
        self.valid = None
        self.rows = self.size = 0
        self.width: int | None = None  # the one length of them all so far (-1: they differ)

    def add(self, column: pa.Array) -> None:
        column = column.cast(pa.large_string())
        k, rows, size = len(column), self.rows, self.size
        if column.null_count:
            self.valid = np.ones(self.n, dtype=bool) if self.valid is None else self.valid
            self.valid[rows:rows + k] = column.is_valid().to_numpy(zero_copy_only=False)
        first = _offsets(column)
        length = int(first[-1] - first[0])
        if k and self.width != -1:
            lengths = np.diff(first)
            width = int(lengths[0]) if self.width is None else self.width
            self.width = width if width > 0 and not column.null_count and (lengths == width).all() else -1
        if size + length > len(self.data):  # room for the rest, at the length of the ids so far
            grown = np.empty(max(size + length, int((size + length) * self.n / (rows + k) * 1.05)), dtype=np.uint8)
            grown[:size] = self.data[:size]
            self.data = grown
        if length:
            self.data[size:size + length] = np.frombuffer(column.buffers()[2], np.uint8, count=length,
                                                          offset=int(first[0]))
        self.offsets[rows + 1:rows + k + 1] = first[1:] - first[0] + size
        self.rows, self.size = rows + k, size + length

    def held(self) -> pa.Array | FixedIds:
        """The strings, as rows of bytes when they all have one length (`FixedIds`)."""
        if self.width not in (None, -1) and self.rows == self.n:
            return FixedIds(self.data[:self.size].reshape(self.n, self.width))
        return self.array()

    def array(self) -> pa.Array:
        n, size = self.n, self.size
        nulls = None if self.valid is None else pa.py_buffer(np.packbits(self.valid, bitorder="little"))
        if size < 2 ** 31:
            return pa.StringArray.from_buffers(n, pa.py_buffer(self.offsets.astype(np.int32)),
                                               pa.py_buffer(self.data[:size]), nulls)
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(self.offsets), pa.py_buffer(self.data[:size]), nulls)
