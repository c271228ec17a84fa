"""Data-quality checks on the ingest assets, shown in the Dagster UI beside each asset.

- `<table>_schema` (blocking): the rows stored for the run's dates and hotels validate against
  the table's pandera model (types, allowed values, unique ids). A failure stops the run before
  matching: bad data never reaches the ledger.
- `<table>_expectations` (warning): the Great Expectations suite finance reads (`recon.quality`):
  plausible amounts, card payments with a last 4 and a brand, business dates within the file's
  period, one currency per hotel.
Both read the warehouse inside the run that wrote it.
"""

import dagster as dg
import pandas as pd
import pandera.errors

from lettrage.config import load_settings
from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.recon import quality, schemas
from lettrage.resources.warehouse import WarehouseResource

CHECKED = ["pms_postings", "tpe_transactions", "remittances", "psp_transactions", "reservations"]
KIND_OF = {table: kind for kind, table in schemas.SOURCE_KINDS.items()}


def window_rows(conn, table: str, context) -> pd.DataFrame:
    start, end = run_window(context)
    hotels = run_hotels(context)
    sql = f"SELECT * FROM {table} WHERE business_date >= ? AND business_date < ?"
    params: list = [start, end]
    if hotels:
        sql += " AND hotel_id IN (SELECT unnest(?))"
        params.append(hotels)
    return conn.execute(sql, params).df()


def _schema_check(table: str):
    @dg.asset_check(asset=table, name=f"{table}_schema", blocking=True, partitions_def=business_date, pool="duckdb",
                    description=f"The stored {table} rows of these dates follow the canonical schema "
                                f"(types, allowed values, unique ids). Blocking: matching waits for it.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            rows = window_rows(conn, table, context)
        try:
            schemas.model(table).validate(rows, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            shown = cases[["column", "check", "failure_case"]].head(20).astype(str)
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata={
                "rows": dg.MetadataValue.int(len(rows)),
                "failures": dg.MetadataValue.int(len(cases)),
                "failure_cases": dg.MetadataValue.md(shown.to_markdown(index=False)),
            })
        return dg.AssetCheckResult(passed=True, metadata={"rows": dg.MetadataValue.int(len(rows))})

    return _check


def _expectations_check(table: str):
    @dg.asset_check(asset=table, name=f"{table}_expectations", partitions_def=business_date, pool="duckdb",
                    description="Finance rules as Great Expectations: amounts within plausible bounds, card "
                                "payments with a last 4 and a brand, business dates within the file's period, "
                                "one currency per hotel.")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            rows = window_rows(conn, table, context)
            hotels = conn.execute("SELECT hotel_id, currency FROM hotels").df()
            files = conn.execute("SELECT path, period_start, period_end FROM inbox_files WHERE kind = ?",
                                 [KIND_OF[table]]).df()
        result = quality.check(table, rows, hotels, files, load_settings().plausible_amount_cents)
        failing = sum(o.unexpected for o in result.outcomes)
        return dg.AssetCheckResult(passed=result.success, severity=dg.AssetCheckSeverity.WARN, metadata={
            "rows": dg.MetadataValue.int(len(rows)),
            "rules_failed": dg.MetadataValue.int(sum(not o.success for o in result.outcomes)),
            "rows_failing": dg.MetadataValue.int(failing),
            "rules": dg.MetadataValue.md(result.markdown()),
        })

    return _check


SCHEMA_CHECKS = [_schema_check(t) for t in CHECKED]
EXPECTATION_CHECKS = [_expectations_check(t) for t in quality.TABLES]
INGEST_CHECKS = [*SCHEMA_CHECKS, *EXPECTATION_CHECKS]
