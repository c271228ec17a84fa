"""`lettrage bench match`: figures a person can read, and the same result whatever the threads or
memory limit (the data generated once, then reused)."""

from __future__ import annotations

import json

from lettrage.cli import main


def _bench(capsys, *extra):
    assert main(["bench", "match", "--events", "3000", "--seed", "4", *extra]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    return lines, json.loads(lines[-1])


def test_bench_prints_figures_and_is_deterministic(tmp_path, capsys):
    keep = str(tmp_path / "bench")
    lines, first = _bench(capsys, "--keep", keep)
    text = "\n".join(lines)
    assert "data generated in" in lines[0]
    for needle in ("rows/s", "peak memory", "stage seconds", "pms_tpe.exact", "baseline pandas merge_asof",
                   "x faster", "pms_tpe:one_to_one", "DUPLICATE_PMS", "MISSING_IN_TPE", "result hash"):
        assert needle in text, needle
    assert first["rows_in"] > 5000 and first["rows_per_s"] > 0 and first["baseline"]["pairs"] > 0
    lines, again = _bench(capsys, "--keep", keep, "--threads", "1", "--memory-limit", "300MB", "--no-baseline")
    assert "data of an earlier run" in lines[0]
    assert again["result_hash"] == first["result_hash"]


def test_data_kept_by_another_version_of_the_generator_is_made_again(tmp_path, capsys):
    """Kept data whose truth an older generator wrote would be scored against that truth: the
    figures of a run after an upgrade would be those of the old generator's labels."""
    keep = tmp_path / "bench"
    _bench(capsys, "--keep", str(keep), "--no-baseline")
    made = json.loads((keep / "generated.json").read_text())
    (keep / "generated.json").write_text(json.dumps({**made, "generator": "an older one"}))
    lines, _ = _bench(capsys, "--keep", str(keep), "--no-baseline")
    assert "data generated in" in lines[0]
    assert json.loads((keep / "generated.json").read_text()) == made
