"""The engine on benchmark data with ground truth: accuracy, the checks, determinism."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lettrage.recon.bench.generate import generate
from lettrage.recon.bench.score import score
from lettrage.recon.matching.checks import register_output, run_checks
from lettrage.recon.matching.engine import run_matching
from lettrage.recon.matching.run import connect, match_files, open_files


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    generate(folder, 20_000, "default", seed=5)
    return folder


def _files(folder):
    return dict(pms=folder / "pms_postings.parquet", tpe=folder / "tpe_transactions.parquet",
                hotels=folder / "hotels.csv")


def test_accuracy_against_truth(data, tmp_path):
    match_files(out=tmp_path, **_files(data))
    _assert_accurate(score(tmp_path, data / "truth_matches.parquet", data / "truth_anomalies.parquet",
                           {"pms_postings": data / "pms_postings.parquet",
                            "tpe_transactions": data / "tpe_transactions.parquet"}))


def test_ids_that_are_uuids_are_matched_as_well(tmp_path):
    """Ids of another shape (36-character UUIDs, read once the big joins are done) are each
    record's own in the outputs, and the matches are as good."""
    data = tmp_path / "in"
    generate(data, 20_000, "uuid_ids", seed=5)
    match_files(out=tmp_path / "out", **_files(data))
    _assert_accurate(score(tmp_path / "out", data / "truth_matches.parquet", data / "truth_anomalies.parquet",
                           {"pms_postings": data / "pms_postings.parquet",
                            "tpe_transactions": data / "tpe_transactions.parquet"}))
    matches = pq.read_table(tmp_path / "out" / "card_matches.parquet")
    assert set(pc.utf8_length(matches.column("record_id")).to_pylist()) == {36}

    # The same ids in capitals (held as text, not as 16 bytes): the very same outputs, ties too.
    upper = tmp_path / "upper"
    upper.mkdir()
    for name, column in (("pms_postings", "posting_id"), ("tpe_transactions", "tpe_txn_id")):
        table = pq.read_table(data / f"{name}.parquet")
        i = table.schema.get_field_index(column)
        pq.write_table(table.set_column(i, column, pc.utf8_upper(table.column(i))), upper / f"{name}.parquet")
    (upper / "hotels.csv").write_bytes((data / "hotels.csv").read_bytes())
    match_files(out=tmp_path / "upper_out", **_files(upper))
    for name, ids in (("card_matches", ("match_id", "record_id")),
                      ("exceptions", ("record_id", "match_id", "exception_id")), ("daily_summary", ())):
        tables = [pq.read_table(tmp_path / out / f"{name}.parquet") for out in ("out", "upper_out")]
        for column in ids:  # (an exception's id holds its code, in capitals, and its record's id)
            i = tables[0].schema.get_field_index(column)
            tables = [t.set_column(i, t.field(i), pc.utf8_lower(t.column(i))) for t in tables]
        assert tables[0].equals(tables[1]), name


def test_confirmation_numbers_and_batch_references_that_never_meet_change_no_match(tmp_path):
    """Postings carrying their confirmation numbers and tickets their batch references (read and
    filtered by the reference stage: none is on the other side) give the very matches and
    exceptions of the same payments without them."""
    outs = []
    for scenario in ("default", "references"):
        data = tmp_path / scenario
        generate(data, 20_000, scenario, seed=5)
        outs.append(match_files(out=tmp_path / f"{scenario}_out", **_files(data)))
    assert pq.read_schema(tmp_path / "references" / "pms_postings.parquet").get_field_index("confirmation_no") >= 0
    assert outs[1]["matched_left_records_by_stage"] == outs[0]["matched_left_records_by_stage"]
    for name in ("card_matches", "exceptions", "daily_summary"):
        assert pq.read_table(tmp_path / "references_out" / f"{name}.parquet").equals(
            pq.read_table(tmp_path / "default_out" / f"{name}.parquet")), name


def _assert_accurate(s: dict) -> None:
    one = s["kinds"]["pms_tpe:one_to_one"]
    assert one["precision"] >= 0.998 and one["precision_value_equivalent"] >= 0.9999
    assert one["recall_in_window"] >= 0.998
    assert s["kinds"]["pms_tpe:split"]["precision"] >= 0.99 and s["kinds"]["pms_tpe:split"]["recall"] >= 0.98
    assert s["kinds"]["pms_tpe:amount_mismatch"]["precision"] >= 0.99
    for code in ("MISSING_IN_PMS", "MISSING_IN_TPE", "BRAND_MISMATCH", "LATE_POSTING", "AMOUNT_MISMATCH"):
        assert s["codes"][code]["precision"] >= 0.98, code
        assert s["codes"][code]["recall"] >= 0.94, code


def test_checks_hold_and_output_is_deterministic(data):
    results = []
    for threads, limit in ((1, None), (2, None), (2, "200MB")):
        conn = connect(threads, limit)
        open_files(conn, **_files(data))
        out = run_matching(conn)
        register_output(conn, out)
        checks = run_checks(conn)
        assert all(c["passed"] for c in checks.values()), checks
        assert checks["every_record_once"]["records_in_scope"] > 38_000
        results.append(out)
        conn.close()
    first = results[0]
    for other in results[1:]:
        assert other.card_matches.equals(first.card_matches)
        assert other.exceptions.equals(first.exceptions)
        assert other.daily_summary.equals(first.daily_summary)
    # transfers and cash never reach the ledger
    ids = first.card_matches.column("record_id")
    assert not pc.any(pc.starts_with(ids, "Q")).as_py()


def test_every_pair_shows_its_records_time_and_amount_gaps(data, tmp_path):
    """What the finance screen shows next to a match: the posting minus the ticket, in seconds and
    in cents, read off the records themselves (a tolerant match shows its difference)."""
    import duckdb

    match_files(out=tmp_path, **_files(data))
    rows = duckdb.sql(f"""
        WITH m AS (SELECT * FROM read_parquet('{tmp_path / "card_matches.parquet"}') WHERE leg = 'pms_tpe'),
        one AS (SELECT match_id FROM m GROUP BY match_id HAVING count(*) = 2),
        l AS (SELECT m.* FROM m JOIN one USING (match_id) WHERE side = 'left'),
        r AS (SELECT m.match_id, m.record_id FROM m JOIN one USING (match_id) WHERE side = 'right')
        SELECT l.stage, l.time_delta_s, l.amount_delta_cents,
               epoch(p.posted_at) - epoch(t.txn_at) AS dt,
               p.amount_cents - CASE WHEN t.txn_type IN ('refund', 'cancel') THEN -abs(t.amount_cents)
                                     ELSE t.amount_cents END AS da
        FROM l JOIN r USING (match_id)
        JOIN read_parquet('{data / "pms_postings.parquet"}') p ON p.posting_id = l.record_id
        JOIN read_parquet('{data / "tpe_transactions.parquet"}') t ON t.tpe_txn_id = r.record_id""").fetchall()
    assert len(rows) > 19_000
    assert all(dt_ == int(d) and da_ == a for _, dt_, da_, d, a in rows)
    assert sum(1 for stage, _, da_, _, _ in rows if stage == "tolerant" and da_ != 0) > 20


@pytest.mark.parametrize("scenario", ["default", "clock_skew"])
def test_joining_hotels_a_group_at_a_time_changes_nothing(tmp_path, monkeypatch, scenario):
    """Millions of records are joined a group of hotels at a time (memory); the result is the
    result of one join (the same rows: a group's matches are written as soon as they are made, so
    the rows come in another order), PMS clocks found hours off included."""
    from lettrage.recon.matching import legs

    generate(tmp_path, 120_000, scenario, seed=9)  # four hotels
    groups = []
    split = legs.Leg.hotel_groups
    monkeypatch.setattr(legs.Leg, "hotel_groups", lambda *a: groups.append(len(split(*a))) or split(*a))
    outputs = []
    for part in (None, 60_000):
        if part:
            monkeypatch.setattr(legs, "JOIN_PART", part)
        conn = connect()
        open_files(conn, **_files(tmp_path))
        outputs.append(run_matching(conn))
        conn.close()
    assert max(groups) >= 3  # the exact join of the second run, in parts
    whole, parts = outputs
    if scenario == "clock_skew":
        rules = pc.unique(whole.card_matches.column("rule").cast(pa.string())).to_pylist()
        assert "card_amount_window_pms_clock" in rules
    assert _rows(parts.card_matches, "record_id", "side").equals(_rows(whole.card_matches, "record_id", "side"))
    assert _rows(parts.exceptions, "exception_id", "business_date").equals(
        _rows(whole.exceptions, "exception_id", "business_date"))
    assert parts.daily_summary.equals(whole.daily_summary)


def _rows(table: pa.Table, *keys: str) -> pa.Table:
    """A table's rows in the order of `keys` (dictionary columns as plain strings)."""
    plain = pa.table({name: col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
                      for name, col in zip(table.column_names, table.columns, strict=True)})
    return plain.sort_by([(k, "ascending") for k in keys])


@pytest.mark.parametrize("breaks", ["pms_clock", "_record_uncontested", "one_to_one", "split_stage"])
def test_a_run_that_breaks_says_why_and_leaves_no_one_waiting(data, tmp_path, monkeypatch, breaks):
    """Wherever the engine breaks (before the ids are read, with matches handed to the writer
    that waits for them, after), the error is the one raised, and no thread is left waiting."""
    import threading
    import time

    from lettrage.recon.matching import select, stages

    works = getattr(stages, breaks)

    def broken(*args, **kwargs):
        if breaks == "_record_uncontested":  # the first matches go to the writer, which waits for the ids
            works(*args, **kwargs)
            time.sleep(1)
        raise RuntimeError(f"{breaks} broke")

    monkeypatch.setattr(stages, breaks, broken)
    if breaks == "one_to_one":
        monkeypatch.setattr(select, breaks, broken)
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError, match=f"{breaks} broke"):
        match_files(out=tmp_path, **_files(data))
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=30)
        assert not thread.is_alive(), f"{thread.name} is still waiting"
