"""Running the engine on files: a private DuckDB, the files as views, the outputs as parquet."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lettrage.recon.matching import files
from lettrage.recon.matching.engine import MatchOutput, run_matching
from lettrage.recon.matching.stages import Rules

OUTPUTS = ("card_matches", "exceptions", "daily_summary")
# card_matches is one row per matched record (millions): written plain, which is several times
# faster than compressing it; the small tables are compressed.
LOW_CARDINALITY = ["hotel_id", "business_date", "leg", "side", "stage", "rule"]


def connect(threads: int | None = None, memory_limit: str | None = None,
            temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    if threads:
        conn.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        conn.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        conn.execute(f"SET temp_directory = '{temp_dir}'")
    return conn


def open_files(conn, pms, tpe, remittances=None, psp=None, hotels=None) -> dict[str, int]:
    rows = {}
    for table, path in (("pms_postings", pms), ("tpe_transactions", tpe), ("remittances", remittances),
                        ("psp_transactions", psp)):
        if path is not None:
            rows[table] = files.register(conn, table, Path(path), files.REQUIRED[table])
    if hotels is not None:
        rows["hotels"] = files.register_hotels(conn, Path(hotels))
    return rows


def write_outputs(out: MatchOutput, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.parquet" for name in OUTPUTS}
    writer = None
    try:  # batch by batch: the ledger is never whole in memory
        for batch in out.card_match_batches():
            if writer is None:
                writer = pq.ParquetWriter(paths["card_matches"], batch.schema, compression="none",
                                          use_dictionary=LOW_CARDINALITY,
                                          write_statistics=["hotel_id", "business_date", "leg", "stage"])
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(out.card_matches, paths["card_matches"])
    pq.write_table(out.exceptions, paths["exceptions"], compression="zstd")
    pq.write_table(out.daily_summary, paths["daily_summary"], compression="zstd")
    return paths


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
    began = time.perf_counter()
    out = Path(out)
    conn = connect(threads, memory_limit, out / ".duckdb_tmp" if memory_limit else None)
    try:
        rows = open_files(conn, pms, tpe, remittances, psp, hotels)
        result = run_matching(conn, rules=rules)
    finally:
        conn.close()
    t = time.perf_counter()
    paths = write_outputs(result, out)
    result.stats["seconds"]["write"] = round(time.perf_counter() - t, 4)
    summary = {
        "rows_read": rows,
        **summarize(result),
        "outputs": {k: str(v) for k, v in paths.items()},
        "seconds": round(time.perf_counter() - began, 3),
        "stage_seconds": result.stats["seconds"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return summary
