"""Running the engine on files: a private DuckDB, the files as views, the outputs as parquet."""

from __future__ import annotations

import queue
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lettrage.recon.matching import files
from lettrage.recon.matching.engine import MatchOutput, run_matching
from lettrage.recon.matching.output import Ledger, empty_matches
from lettrage.recon.matching.stages import Rules

OUTPUTS = ("card_matches", "exceptions", "daily_summary")
# card_matches is one row per matched record (millions): written plain, which is several times
# faster than compressing it, with statistics on the business date only and large write batches
# (together about half the cost of the defaults); the small tables are compressed.
LOW_CARDINALITY = ["hotel_id", "leg", "side", "stage", "rule"]


def connect(threads: int | None = None, memory_limit: str | None = None,
            temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    # memory a query has freed goes back to the system within a second, not at the next query
    conn.execute("SET allocator_background_threads = true")
    if threads:
        conn.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        conn.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        conn.execute(f"SET temp_directory = '{temp_dir}'")
    return conn


def open_files(conn, pms, tpe, remittances=None, psp=None, hotels=None) -> dict[str, int]:
    rows = {}
    if hotels is not None:  # first: a file without business dates has them from its hotels' clocks
        rows["hotels"] = files.register_hotels(conn, Path(hotels))
    for table, path in (("pms_postings", pms), ("tpe_transactions", tpe), ("remittances", remittances),
                        ("psp_transactions", psp)):
        if path is not None:
            rows[table] = files.register(conn, table, Path(path), files.REQUIRED[table])
    return rows


def write_card_matches(batches, path: Path) -> None:
    """card_matches slice by slice, each slice made in a second thread while this one writes the
    previous (both mostly outside the GIL)."""
    writer = None
    try:
        for batch in _ahead(batches):
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema, compression="none", use_dictionary=LOW_CARDINALITY,
                                          write_statistics=["business_date"], write_batch_size=1 << 16)
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(empty_matches(), path)


def write_exceptions(exceptions: pa.Table, path: Path) -> None:
    # dictionaries only where values repeat: ids would fill a dictionary page and be written twice;
    # snappy, not zstd: the file is written last, while the run waits (0.2 s, not 0.35 s, for 490 k rows)
    repeated = ["hotel_id", "business_date", "code", "record_kind", "detail", "leg", "card_brand", "resolution",
                "opened_at"]
    pq.write_table(exceptions, path, compression="snappy", use_dictionary=repeated)


def write_summary(summary: pa.Table, path: Path) -> None:
    pq.write_table(summary, path, compression="zstd", use_dictionary=["hotel_id", "business_date", "card_brand"])


def _ahead(items, depth: int = 2):
    """Iterate `items` computed in a background thread, at most `depth` ahead of the consumer."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                if stop.is_set():
                    return
                box.put(item)
            box.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := box.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(0.01)


def summarize(out: MatchOutput) -> dict:
    exc = out.exceptions
    by_code = {}
    if exc.num_rows:
        counts = pc.value_counts(exc.column("code")).to_pylist()
        by_code = {c["values"]: c["counts"] for c in sorted(counts, key=lambda c: c["values"])}
    s = out.daily_summary
    return {
        "records_matched": out.stats["records_matched"],
        "matched_left_records_by_stage": out.stats["matched_left_records_by_stage"],
        "exceptions": exc.num_rows,
        "exceptions_by_code": by_code,
        "pms_cents": int(pc.sum(s.column("pms_cents")).as_py() or 0),
        "taken_cents": int((pc.sum(s.column("tpe_cents")).as_py() or 0) + (pc.sum(s.column("psp_cents")).as_py() or 0)),
        "ecart_cents": int(pc.sum(s.column("ecart_cents")).as_py() or 0),
    }


def match_files(pms, tpe, out, remittances=None, psp=None, hotels=None, threads=None, memory_limit=None,
                rules: Rules = Rules()) -> dict:
    """Match canonical files and write the three output files. card_matches is written by a
    thread of its own as the engine hands over finished batches of matches, while it goes on;
    the exceptions by another while the daily summary is made."""
    began = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.parquet" for name in OUTPUTS}
    ledger = Ledger()
    failed: list[BaseException] = []

    def write():
        try:
            write_card_matches(ledger.batches(), paths["card_matches"])
        except BaseException as exc:  # raised below, in the caller's thread
            failed.append(exc)

    writer = threading.Thread(target=write, name="card_matches writer", daemon=True)
    writer.start()
    conn = connect(threads, memory_limit, out / ".duckdb_tmp" if memory_limit else None)
    with ThreadPoolExecutor(1, thread_name_prefix="exceptions writer") as pool:
        written = []
        try:
            rows = open_files(conn, pms, tpe, remittances, psp, hotels)
            result = run_matching(conn, rules=rules, ledger=ledger, exceptions_made=lambda table: written.append(
                pool.submit(write_exceptions, table, paths["exceptions"])))
        except BaseException as exc:
            ledger.close(exc)
            raise
        finally:
            conn.close()
        t, c = time.perf_counter(), time.process_time()
        write_summary(result.daily_summary, paths["daily_summary"])
        written[0].result()
    writer.join()
    if failed:
        raise failed[0]
    result.stats["seconds"]["write"] = round(time.perf_counter() - t, 4)
    result.stats["cpu_seconds"]["write"] = round(time.process_time() - c, 4)
    summary = {
        "rows_read": rows,
        **summarize(result),
        "outputs": {k: str(v) for k, v in paths.items()},
        "seconds": round(time.perf_counter() - began, 3),
        "stage_seconds": result.stats["seconds"],
        "stage_cpu_seconds": result.stats["cpu_seconds"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return summary
