"""The finance marts: the dbt project (dbt_project/) as Dagster assets.

Its sources name the ingest and matching assets, so the lineage is one graph. The models are
partitioned by business date like everything upstream; a run (or a backfill, in one run) passes
its window and hotels to `dbt build` as vars, and the incremental marts replace exactly that
window. dbt tests are asset checks; a failing error-severity test stops the marts downstream.
"""

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets

from lettrage.config import load_settings
from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.resources.finance import FinanceDbtResource
from lettrage.resources.warehouse import WarehouseResource

GROUP = "marts"
_settings = load_settings()

finance_dbt_project = DbtProject(
    project_dir=_settings.dbt_project_dir,
    profiles_dir=_settings.dbt_project_dir,
    target=_settings.dbt_target,
)

PARTIAL_PARSE = "partial_parse.msgpack"
# What `dbt parse` reads: a manifest older than any of these is stale.
_PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for name in _PROJECT_SOURCES:
        path = Path(project.project_dir) / name
        files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def prepare_manifest(project: DbtProject) -> Path:
    """The project's manifest, parsed on the spot on a fresh clone or after a model changed
    (`dbt parse` into dbt_project/target, git-ignored). A lock keeps concurrent loaders (code
    server, daemon, tests) from parsing together, and the files are swapped in whole, so a run
    reading them meanwhile never sees half of one."""
    if not manifest_is_stale(project):
        return project.manifest_path
    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale(project):
            with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as tmp:
                if (target / PARTIAL_PARSE).exists():
                    shutil.copyfile(target / PARTIAL_PARSE, Path(tmp) / PARTIAL_PARSE)
                FinanceDbtResource(project_dir=project, dbt_executable=_settings.dbt_executable).cli(
                    ["parse", "--quiet"], target_path=Path(tmp)).wait()
                for name in (PARTIAL_PARSE, "manifest.json"):  # the manifest last: it marks the parse done
                    os.replace(Path(tmp) / name, target / name)
    return project.manifest_path


class FinanceDbtTranslator(DagsterDbtTranslator):
    """Keys by dbt schema (["marts", "daily_summary"], ["staging", "stg_pms_postings"]), so the
    marts never collide with the Python assets of the same name (the matching engine's
    `daily_summary`); sources keep the keys their `meta.dagster.asset_key` gives."""

    def get_asset_key(self, dbt_resource_props) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or GROUP
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props) -> str:
        return GROUP


def dbt_vars(start, end, hotels: list[str] | None, warehouse_path: str) -> dict:
    """The vars of one `dbt build`: the business-date window [min_date, max_date), the hotels
    (empty = all) and the warehouse file (the profile's DuckDB path)."""
    return {"min_date": start.isoformat(), "max_date": end.isoformat(), "hotels": hotels or [],
            "warehouse": os.fspath(warehouse_path)}


def _with_figures(context, events: list, dbt: FinanceDbtResource, warehouse: WarehouseResource,
                  start, end, hotels) -> list:
    """Add the finance figures of each mart to its materialisation (read once dbt has exited:
    dbt-duckdb held the file while it ran). Figures are a courtesy: the data is built without."""
    if (dbt.target or "duckdb") != "duckdb" or not any(isinstance(e, dg.Output) for e in events):
        return events
    from lettrage.recon.reports.figures import mart_figures

    wrap = {"int": dg.MetadataValue.int, "text": dg.MetadataValue.text, "md": dg.MetadataValue.md}
    out = []
    try:
        with warehouse.connect(read_only=True) as conn:
            for event in events:
                if isinstance(event, dg.Output):
                    schema, name = context.asset_key_for_output(event.output_name).path[-2:]
                    figures = mart_figures(conn, schema, name, start, end, hotels)
                    event = event.with_metadata(
                        {**event.metadata, **{k: wrap[kind](v) for k, (kind, v) in figures.items()}})
                out.append(event)
    except Exception as exc:  # noqa: BLE001 - reported, and the materialisations still recorded
        context.log.warning(f"finance figures not added to the marts' materialisations: {exc}")
        return events
    return out


class MartsConfig(dg.Config):
    """`full_refresh` rebuilds the marts from every business date (after a change of their
    columns, which an incremental run refuses)."""

    full_refresh: bool = False


@dbt_assets(
    manifest=prepare_manifest(finance_dbt_project),
    project=finance_dbt_project,
    name="finance_marts",
    partitions_def=business_date,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=FinanceDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool="duckdb",
)
def finance_marts(context: dg.AssetExecutionContext, dbt: FinanceDbtResource, warehouse: WarehouseResource,
                  config: MartsConfig):
    """Build the finance marts of the run's business dates (and hotels) with `dbt build`."""
    start, end = run_window(context)
    hotels = run_hotels(context)
    args = ["build", "--vars", json.dumps(dbt_vars(start, end, hotels, warehouse.path))]
    invocation = dbt.cli([*args, "--full-refresh"] if config.full_refresh else args, context=context,
                         raise_on_error=False, target_path=dbt.run_target_path(context.run_id))
    events = list(invocation.stream())
    yield from _with_figures(context, events, dbt, warehouse, start, end, hotels)
    if not invocation.is_successful():
        raise dg.Failure(f"dbt build failed for business dates {start} to {end}: {invocation.get_error()}")
