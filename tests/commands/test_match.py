"""`lettrage match` on canonical files: three parquet files and one line of JSON."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from lettrage.cli import main
from lettrage.recon.bench.generate import generate


def test_match_writes_outputs_and_one_json_line(tmp_path, capsys):
    generate(tmp_path / "in", 5_000, "psp_no_last4", seed=2)
    d = tmp_path / "in"
    code = main(["match", "--pms", str(d / "pms_postings.parquet"), "--tpe", str(d / "tpe_transactions.parquet"),
                 "--psp", str(d / "psp_transactions.parquet"), "--hotels", str(d / "hotels.csv"),
                 "--out", str(tmp_path / "out"), "--threads", "1", "--memory-limit", "500MB"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["rows_read"]["psp_transactions"] > 0
    assert summary["matched_left_records_by_stage"]["pms_psp:reference"] > 0
    cm = pq.read_table(tmp_path / "out" / "card_matches.parquet")
    assert {"match_id", "leg", "side", "record_id", "stage", "rule", "flags"} <= set(cm.column_names)
    s = pq.read_table(tmp_path / "out" / "daily_summary.parquet").to_pandas()
    assert int(s["ecart_cents"].sum()) == summary["ecart_cents"] == summary["pms_cents"] - summary["taken_cents"]


def test_match_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "p.parquet"
    bad.write_text("not parquet")
    code = main(["match", "--pms", str(bad), "--tpe", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(bad) in err[0]
    assert main(["match", "--pms", str(bad), "--tpe", str(bad), "--out", "o", "--memory-limit", "lots"]) == 2
