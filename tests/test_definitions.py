"""The code location loads, and every asset describes itself to a finance person."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]


def test_code_location_validates_from_workspace(tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    out = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, env={"DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Validation successful for code location lettrage.definitions" in out.stderr + out.stdout


def test_every_asset_has_a_docstring_a_group_and_kinds():
    from lettrage.definitions import defs

    specs = list(defs.resolve_all_asset_specs())
    assert specs
    for spec in specs:
        name = spec.key.to_user_string()
        assert spec.description and len(spec.description) > 20, f"{name} has no description"
        assert spec.group_name and spec.group_name != "default", f"{name} has no group"
        assert spec.kinds, f"{name} has no kinds"


def test_daily_reconciliation_covers_the_ingest_assets_in_one_partitioned_job():
    from lettrage.definitions import defs

    job = defs.resolve_job_def("daily_reconciliation")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert {"hotels", "trx_codes", "pms_postings", "tpe_transactions", "remittances", "psp_transactions",
            "reservations"} <= keys
    assert isinstance(job.partitions_def, dg.DailyPartitionsDefinition)
