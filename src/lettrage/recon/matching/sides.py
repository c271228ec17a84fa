"""The records each leg matches, read from the canonical tables into compact arrays.

Only the money a leg is about is read (its scope): PMS card postings on terminal and distance
codes, or on the PSP code; terminal sales, refunds and completions (pre-authorisations are not
money, and a ticket voided by a cancellation is neither); paid and refunded PSP operations;
remittance sale and refund lines. Amounts are signed cents (refunds negative whatever the source
did), times are seconds since the epoch (UTC), brands are codes (`brands.BRANDS`).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lettrage.recon.matching import _text
from lettrage.recon.matching.brands import brand_code, brand_sql
from lettrage.recon.matching.record_ids import PackedUuids, read_ids, subset_of

EPOCH = dt.date(1970, 1, 1)
KEY_AMOUNT = (1 << 33) - 1
READ_ROWS = 1 << 18  # rows read at a time: the slices' memory is reused, not millions of rows' touched anew


@dataclass
class Side:
    """One side of a leg: `n` records as parallel arrays (index = position)."""

    kind: str  # record kind as the ledger names it: pms_posting, tpe_transaction, ...
    record_ids: pa.Array | PackedUuids | Future  # the ids, or their reading to come (`read_ids`)
    hotel: np.ndarray  # int32 hotel code
    ts: np.ndarray  # int64 epoch seconds
    amount: np.ndarray  # int64 signed cents
    last4: np.ndarray  # int16, -1 unknown
    brand: np.ndarray  # int8 brand code, 0 unknown
    bdate: np.ndarray  # int32 days since 1970-01-01
    extra: dict[str, pa.Array] = field(default_factory=dict)
    id_query: tuple[str, list] | None = None  # how the ids are read, when they are read later

    @property
    def n(self) -> int:
        return len(self.amount)

    @property
    def ids(self) -> pa.Array | PackedUuids:
        """The records' ids (`ids.take(positions)` gives them as strings); read later
        (`read_ids`), they are waited for."""
        ids = self.record_ids  # once: another thread may swap the future for its result meanwhile
        if isinstance(ids, Future):
            ids = self.record_ids = ids.result()
        return ids

    def read_ids(self, conn) -> None:
        """Read the ids of a side loaded without them (`late_ids`), on `conn`. Those waiting for
        them get them, or the error."""
        future = self.record_ids
        if not isinstance(future, Future):
            return
        try:
            if not future.set_running_or_notify_cancel():
                return  # abandoned
        except RuntimeError:  # read already
            return
        try:
            future.set_result(read_ids(conn, *self.id_query, self.n))
        except BaseException as exc:
            future.set_exception(exc)
            raise

    def abandon_ids(self) -> None:
        """The ids will not be read (the run failed): those waiting for them stop waiting."""
        if isinstance(self.record_ids, Future):
            self.record_ids.cancel()

    def positions(self) -> np.ndarray:
        """0..n-1 (int32), made once: the records' positions as DuckDB sees them."""
        if "_positions" not in self.extra:
            self.extra["_positions"] = np.arange(self.n, dtype=np.int32)
        return self.extra["_positions"]

    def card_keys(self, nodes: np.ndarray | None = None) -> np.ndarray:
        """(hotel, last 4, amount) of the records (all, or `nodes`) packed in one int64: 16 + 14 +
        34 bits, for amounts within +-KEY_AMOUNT (85 million; `keyed()` tells which records)."""
        if nodes is None:
            return _pack_card(self.hotel, self.last4, self.amount)
        return _pack_card(self.hotel[nodes], self.last4[nodes], self.amount[nodes])

    def per_hotel(self, hotels: int) -> np.ndarray:
        """About how many records each hotel code has (counted on every 16th record; made once)."""
        if "_per_hotel" not in self.extra:
            self.extra["_per_hotel"] = 16 * np.bincount(self.hotel[::16], minlength=hotels)
        return self.extra["_per_hotel"]

    def keyed(self, nodes: np.ndarray | None = None) -> np.ndarray:
        """Which records (all, or `nodes`) have a card number and an amount `card_keys` holds (the
        whole side's made once, with its keys)."""
        if nodes is None:
            if "_keyed" not in self.extra:
                self.extra["_keyed"] = (self.last4 >= 0) & (np.abs(self.amount) <= KEY_AMOUNT)
            return self.extra["_keyed"]
        return (self.last4[nodes] >= 0) & (np.abs(self.amount[nodes]) <= KEY_AMOUNT)

    def subset(self, mask: np.ndarray) -> Side:
        idx = np.flatnonzero(mask)
        take = pa.array(idx)
        whole = self.record_ids  # once: see `ids`
        if isinstance(whole, Future):  # the subset's ids come with the side's
            ids = Future()

            def pass_on(read: Future) -> None:
                if read.cancelled():
                    ids.cancel()
                elif read.exception() is not None:
                    ids.set_exception(read.exception())
                else:
                    ids.set_result(subset_of(read.result(), idx))

            whole.add_done_callback(pass_on)
        else:
            ids = subset_of(whole, idx)
        return Side(self.kind, ids, self.hotel[idx], self.ts[idx], self.amount[idx],
                    self.last4[idx], self.brand[idx], self.bdate[idx],
                    {k: v[idx] if isinstance(v, np.ndarray) else v.take(take) for k, v in self.extra.items()
                     if not k.startswith("_")})


def _pack_card(hotel: np.ndarray, last4: np.ndarray, amount: np.ndarray) -> np.ndarray:
    key = np.clip(amount, -KEY_AMOUNT, KEY_AMOUNT)  # in place from here: no temporaries of millions
    key += 1 << 33
    part = np.maximum(last4, 0).astype(np.int64)
    part <<= 34
    key |= part
    part = hotel.astype(np.int64)
    part <<= 48
    key |= part
    return key


@dataclass(frozen=True)
class Window:
    """Which rows a run reads: business dates [start, end) (None = all) and some hotels (None = all)."""

    start: dt.date | None = None
    end: dt.date | None = None
    hotel_ids: tuple[str, ...] | None = None

    def where(self, date_col: str = "business_date", alias: str = "") -> tuple[str, list]:
        a = f"{alias}." if alias else ""
        parts, params = ["TRUE"], []
        if self.start is not None:
            parts.append(f"{a}{date_col} >= ?")
            params.append(self.start)
        if self.end is not None:
            parts.append(f"{a}{date_col} < ?")
            params.append(self.end)
        if self.hotel_ids is not None:
            # a function, not a semi-join: the rows keep the order they are read in
            parts.append(f"list_contains(?::VARCHAR[], {a}hotel_id)")
            params.append(list(self.hotel_ids))
        return " AND ".join(parts), params


def _read_side(kind: str, conn, ids: str, cols: str, tail: str, params: list, decode: dict,
               extra: tuple[str, ...] = (), leave_out: pa.Array | None = None, late_ids: bool = False) -> Side:
    """The records `SELECT ids AS id, cols tail` reads (without the ids `leave_out`), as a side.
    The rows are counted first, then read a slice at a time into arrays made for all of them
    (the whole result as one Arrow table first was a third more memory, and its pages touched
    for the first time, for both sides read at the same time). `late_ids`: the ids are read when
    asked for (`Side.read_ids`), not now; the rows are read in the same order both times (unless
    the connection may reorder rows: then they are read now, as they are when some ids are left
    out). `decode[name]` turns a read column into its array (the others are copied as they are)."""
    leaving = leave_out is not None and len(leave_out) > 0
    late = late_ids and not leaving and bool(
        conn.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0])
    n = conn.execute(f"SELECT count(*) {tail}", params).fetchall()[0][0]
    columns = (*(() if late else (("id", None),)), ("hotel", np.int32), ("ts", np.int64), ("amount", np.int64),
               ("last4", np.int16), ("brand", np.int8), ("bdate", np.int32),
               *((e, np.int64 if e in decode else None) for e in extra))
    arrays = {name: np.empty(n, dtype) if dtype is not None else [] for name, dtype in columns}
    rows = 0
    reader = conn.sql(f"SELECT {cols} {tail}" if late else f"SELECT {ids} AS id, {cols} {tail}",
                      params=params).to_arrow_reader(READ_ROWS)
    for batch in reader:
        if leaving:
            batch = batch.filter(pc.invert(pc.is_in(batch.column("id"), value_set=leave_out)))
        k = len(batch)
        if rows + k > n:
            raise ValueError("the records changed while they were read")
        for name, dtype in columns:
            column = batch.column(name)
            if dtype is None:
                arrays[name].append(column)
            else:
                arrays[name][rows:rows + k] = decode[name](pa.chunked_array([column])) if name in decode \
                    else column.to_numpy(zero_copy_only=False)
        rows += k
    if rows != n and not leaving:
        raise ValueError("the records changed while they were read")
    for name, dtype in columns:
        arrays[name] = arrays[name][:rows] if dtype is not None else \
            pa.chunked_array(arrays[name], type=reader.schema.field(name).type).combine_chunks()
    side = Side(kind=kind, record_ids=Future() if late else arrays.pop("id"), hotel=arrays.pop("hotel"),
                ts=arrays.pop("ts"), amount=arrays.pop("amount"), last4=arrays.pop("last4"),
                brand=arrays.pop("brand"), bdate=arrays.pop("bdate"), extra=arrays,
                id_query=(f"SELECT {ids} AS id {tail}", params) if late else None)
    side.keyed()  # made by the thread that read the side, while the other side is read
    return side


class HashCodes:
    """Codes of a column's few distinct values, read as a few bits of each value's hash (`sql`)
    and looked up (`codes`): a CASE or an ENUM cast does the same at several times the cost for
    millions of rows. The bits are chosen so that no two of the values (`hashes`, NULL's among
    them if it occurs) share them; when no bits will do, `sql` is `fallback(column)`, which reads
    the codes themselves."""

    def __init__(self, what: str, hashes: list[int], codes, fallback):
        self.what, self.fallback = what, fallback
        self.shift = self.bits = None
        h = np.array(hashes, dtype=np.uint64)
        for bits in (8, 16, 20, 24):
            for shift in range(64 - bits):
                slots = (h >> np.uint64(shift)) & np.uint64((1 << bits) - 1)
                if len(np.unique(slots)) == len(h):
                    self.shift, self.bits = shift, bits
                    self.lookup = np.full(1 << bits, -1, dtype=np.int32)
                    self.lookup[slots.astype(np.int64)] = codes
                    return

    def sql(self, column: str) -> str:
        if self.bits is None:
            return self.fallback(column)
        kind = "UTINYINT" if self.bits <= 8 else "USMALLINT" if self.bits <= 16 else "INTEGER"
        return f"((hash({column}) >> {self.shift}) & {(1 << self.bits) - 1})::{kind}"

    def codes(self, read: np.ndarray) -> np.ndarray:
        """The codes of the values `sql` read."""
        if self.bits is None:
            return read
        codes = self.lookup[read]
        if len(codes) and codes.min() < 0:
            raise ValueError(f"a row's {self.what} is not among the run's {self.what}s")
        return codes


class Hotels(list, HashCodes):
    """The hotels a run covers, sorted: a hotel's code is its position (read as `HashCodes`; when
    no bits of their hashes tell them apart, by an ENUM cast, which keeps the rows in the order
    they were read: a join would not)."""

    def __init__(self, names: list[str], hashes: list[int]):
        list.__init__(self, names)
        HashCodes.__init__(self, "hotel", hashes, np.arange(len(names), dtype=np.int32), self._enum)

    def sql(self, column: str = "hotel_id") -> str:
        return HashCodes.sql(self, column)

    def _enum(self, column: str) -> str:
        names = ", ".join("'" + h.replace("'", "''") + "'" for h in self) or "''"
        return f"enum_code({column}::ENUM({names}))::INTEGER"


def _hashes(conn, values: list) -> list[int]:
    return conn.execute("SELECT list_transform(?::VARCHAR[], lambda v: hash(v))", [values]).fetchall()[0][0] or []


def hotel_codes(conn: duckdb.DuckDBPyConnection, window: Window, tables: list[str]) -> Hotels:
    """The hotels a run covers, sorted: a hotel's code is its position here."""
    where, params = window.where()
    union = " UNION ".join(f"SELECT DISTINCT hotel_id FROM {t} WHERE {where}" for t in tables)
    names = sorted(r[0] for r in conn.execute(union, params * len(tables)).fetchall())
    return Hotels(names, _hashes(conn, names))


def _common(conn, table: str, where: str, params: list, hotels: Hotels, ts: str, amount: str,
            last4: str = "card_last4", brand: str = "card_brand") -> tuple[str, dict]:
    """The columns every side has, as SQL, and how each read column becomes its array
    (`_read_side`). NULLs become -1 (no card) or 0, so that the arrays are plain. The last 4
    digits are read from a masked number too ('XXXX XXXX XXXX 1234'), and are the last four of a
    longer number. Brands are read as hash bits (`HashCodes`), times as they are stored (made
    seconds here: DuckDB's own conversion costs several times as much); references a side reads
    (`ref`, `ref2`) as `ref_sql` hashes them."""
    seen = [r[0] for r in conn.execute(f"SELECT DISTINCT {brand} FROM {table} WHERE {where}", params).fetchall()]
    brands = HashCodes("card brand", _hashes(conn, seen), [brand_code(v) for v in seen],
                       lambda column: brand_sql(column, seen))
    sql = (f"{hotels.sql()} AS hotel, {ts} AS ts, {amount} AS amount, CAST({last4} AS VARCHAR) AS last4, "
           f"{brands.sql(brand)} AS brand, "
           f"coalesce(business_date - DATE '1970-01-01', 0)::INTEGER AS bdate")
    return sql, {"hotel": lambda read: np.asarray(hotels.codes(read.to_numpy()), dtype=np.int32),
                 "brand": lambda read: np.asarray(brands.codes(read.to_numpy()), dtype=np.int8),
                 "ts": _epoch_seconds, "last4": last4_digits, "ref": _ref_codes, "ref2": _ref_codes}


def last4_digits(read: pa.ChunkedArray) -> np.ndarray:
    """The last 4 digits of card numbers read as text (-1: none): a value's last four characters
    (trailing spaces aside; a value of four or fewer, whole), when they are digits. Read from
    Arrow's buffers: DuckDB's string functions make a string a row, three times the time for
    millions of masked numbers ('XXXX XXXX XXXX 1234', '497010******0208')."""
    out = np.empty(len(read), dtype=np.int16)
    at = 0
    for chunk in read.chunks:
        k = len(chunk)
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())
        width = 4 if pa.types.is_string(chunk.type) else 8
        _, offsets, data = chunk.buffers()
        part = out[at:at + k]
        if data is None:  # no characters at all
            part[:] = -1
        elif k:
            _text.last4(offsets.slice(width * chunk.offset, width * (k + 1)), width, data, part)
        if chunk.null_count:
            part[~chunk.is_valid().to_numpy(zero_copy_only=False)] = -1
        at += k
    return out


def last4_sql(column: str) -> str:
    """`last4_digits` in SQL, for a query that joins on it."""
    x = f"CAST({column} AS VARCHAR)"
    tail = f"(CASE WHEN strlen({x}) <= 4 THEN {x} ELSE right(rtrim({x}), 4) END)"
    return f"CASE WHEN regexp_full_match({tail}, ' *[0-9]+ *') THEN CAST(trim({tail}) AS SMALLINT) ELSE -1 END"


def _epoch_seconds(times: pa.ChunkedArray) -> np.ndarray:
    """Timestamps (any unit) as int64 seconds since the epoch; NULL -> 0."""
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[times.type.unit]
    ticks = times.cast(pa.int64())
    if ticks.null_count:
        ticks = ticks.fill_null(0)
    return np.floor_divide(ticks.to_numpy(), per_second)


# A posting on a card code: terminal or distance (MOTO keyed on the terminal); a posting with no
# channel but a card on it is treated as a terminal payment.
PMS_TPE_SCOPE = ("(channel IN ('terminal', 'distance') OR (channel IS NULL AND "
                 "(card_last4 IS NOT NULL OR card_brand IS NOT NULL)))")
PMS_PSP_SCOPE = "channel = 'psp'"


POSTING_REFS = {"ref": "coalesce(nullif(p.reference, ''), p.confirmation_no)", "ref2": "p.confirmation_no"}


def ref_sql(column: str) -> str:
    """A reference read as 64 bits of its hash (0: none, or blank): the reference stage filters
    and joins millions of them as numbers, in a fraction of the time strings take (two different
    references sharing the bits by chance: less than one run in a hundred thousand at ten million
    records a side, and they must be of one hotel too)."""
    return f"CASE WHEN ({column}) IS NULL OR ({column}) = '' THEN 0::UBIGINT ELSE hash({column}) END"


def _ref_codes(read: pa.ChunkedArray) -> np.ndarray:
    return read.to_numpy().view(np.int64)


def carried_refs(conn, window: Window, scope: str, refs: tuple[str, ...] = ("ref", "ref2")) -> tuple[str, ...]:
    """Which of the references (`POSTING_REFS`) some posting in `scope` carries: the others are not
    read (millions of empty strings for nothing)."""
    if not refs:
        return ()
    where, params = window.where(alias="p")
    counts = conn.execute(f"SELECT {', '.join(f'count({POSTING_REFS[r]})' for r in refs)} FROM pms_postings p "
                          f"WHERE {where} AND p.amount_cents IS NOT NULL AND {scope}", params).fetchall()[0]
    return tuple(r for r, n in zip(refs, counts, strict=True) if n)


def load_postings(conn, window: Window, scope: str, hotels: Hotels, refs: tuple[str, ...] | None = None,
                  late_ids: bool = False) -> Side:
    """PMS postings in `scope`, with the references `refs` (None: those `carried_refs` finds), `ref`
    (the posting's reference, else its confirmation number) and `ref2` (the confirmation number).
    `late_ids`: see `_read_side`."""
    where, params = window.where(alias="p")
    refs = carried_refs(conn, window, scope) if refs is None else refs
    # the brands of every posting, not only those in scope: as good for a lookup, half the cost
    common, decode = _common(conn, "pms_postings p", where, params, hotels, "p.posted_at",
                             "p.amount_cents::BIGINT")
    cols = f"{common}{''.join(f', {ref_sql(POSTING_REFS[r])} AS {r}' for r in refs)}"
    tail = f"FROM pms_postings p WHERE {where} AND p.amount_cents IS NOT NULL AND {scope}"
    return _read_side("pms_posting", conn, "p.posting_id", cols, tail, params, decode, refs, late_ids=late_ids)


def load_tickets(conn, window: Window, void_window_s: int, hotels: Hotels, refs: bool = True,
                 terminals: bool = True, late_ids: bool = False) -> tuple[Side, int]:
    """Terminal money: sales, completions, refunds, and cancellations that void nothing (a ticket
    of no stated type is money too: a sale, or a refund when negative).

    A cancellation and the sale it voids (same terminal, card and amount, shortly before) are
    left out together: no money moved. Returns the side and the number of voided pairs. The
    ticket references and terminals are read only when a stage will use them (`refs`,
    `terminals`): millions of strings otherwise read for nothing. `late_ids`: see `_read_side`
    (the ids are read at once when some tickets are voided)."""
    where, params = window.where(alias="t")
    signed = "CASE WHEN t.txn_type IN ('refund', 'cancel') THEN -abs(t.amount_cents) ELSE t.amount_cents END::BIGINT"
    gone = _voided(conn, where, params, void_window_s)
    extra = (("ref",) if refs else ()) + (("terminal",) if terminals else ())
    cols = (f", {ref_sql('t.remise_ref')} AS ref" if refs else "") + (", t.terminal_id AS terminal" if terminals else "")
    common, decode = _common(conn, "tpe_transactions t", where, params, hotels, "t.txn_at", signed)
    tail = (f"FROM tpe_transactions t WHERE {where} AND t.amount_cents IS NOT NULL "
            f"AND coalesce(t.txn_type, 'sale') IN ('sale', 'refund', 'completion', 'cancel')")
    side = _read_side("tpe_transaction", conn, "t.tpe_txn_id", f"{common}{cols}", tail, params, decode, extra,
                      leave_out=gone, late_ids=late_ids)
    return side, len(gone) // 2


def _voided(conn, where: str, params: list, void_window_s: int) -> pa.Array:
    """Ids of cancellations and of the sales they void (usually none: then no join is run)."""
    cancels = conn.execute(f"SELECT count(*) FROM tpe_transactions t WHERE {where} AND t.txn_type = 'cancel'",
                           params).fetchall()[0][0]
    if not cancels:
        return pa.array([], pa.string())
    rows = conn.execute(f"""
    WITH c AS (SELECT * FROM tpe_transactions t WHERE {where} AND txn_type = 'cancel'),
    pairs AS (
        SELECT c.tpe_txn_id AS cancel_id, s.tpe_txn_id AS sale_id,
               row_number() OVER (PARTITION BY c.tpe_txn_id
                                  ORDER BY epoch(c.txn_at) - epoch(s.txn_at), s.tpe_txn_id) AS k
        FROM c JOIN tpe_transactions s
          ON s.hotel_id = c.hotel_id AND s.terminal_id IS NOT DISTINCT FROM c.terminal_id
         AND s.card_last4 IS NOT DISTINCT FROM c.card_last4 AND s.amount_cents = abs(c.amount_cents)
         AND s.txn_type IN ('sale', 'completion')
         AND epoch(s.txn_at) BETWEEN epoch(c.txn_at) - {int(void_window_s)} AND epoch(c.txn_at))
    SELECT cancel_id FROM pairs WHERE k = 1 UNION SELECT sale_id FROM pairs WHERE k = 1""", params).fetchall()
    return pa.array(sorted(r[0] for r in rows), pa.string())


def load_psp(conn, window: Window, hotels: Hotels) -> Side:
    where, params = window.where(alias="s")
    signed = "CASE WHEN s.operation = 'refund' THEN -abs(s.amount_cents) ELSE s.amount_cents END::BIGINT"
    common, decode = _common(conn, "psp_transactions s", where, params, hotels, "s.event_at", signed)
    tail = (f"FROM psp_transactions s "
            f"WHERE {where} AND s.amount_cents IS NOT NULL AND ((s.operation IN ('sale', 'capture') "
            f"AND s.status = 'paid') OR (s.operation = 'refund' AND s.status IN ('refunded', 'paid')))")
    return _read_side("psp_transaction", conn, "s.psp_txn_id", f"{common}, {ref_sql('s.order_id')} AS ref", tail,
                      params, decode, ("ref",))


def load_remittances(conn, window: Window, hotels: Hotels) -> Side:
    where, params = window.where(alias="m")
    gross = "coalesce(m.gross_cents, m.net_cents + coalesce(m.fee_cents, 0))"
    signed = f"CASE WHEN m.line_type = 'refund' THEN -abs({gross}) ELSE {gross} END::BIGINT"
    ts = "coalesce(m.txn_at, m.business_date::TIMESTAMPTZ)"
    # Adyen's settlement report carries the terminal's ticket reference as Merchant Reference.
    common, decode = _common(conn, "remittances m", where, params, hotels, ts, signed)
    cols = f"{common}, {ref_sql('coalesce(m.remise_ref, m.merchant_reference)')} AS ref, m.terminal_id AS terminal"
    tail = f"FROM remittances m WHERE {where} AND m.line_type IN ('sale', 'refund') AND {gross} IS NOT NULL"
    return _read_side("remittance_line", conn, "m.remittance_line_id", cols, tail, params, decode,
                      ("ref", "terminal"))


def table_exists(conn, name: str) -> bool:
    return bool(conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0])
