"""One reconciled week of the sample group, built once for the dbt tests (a dbt build costs seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dbt import sample


@dataclass
class Week:
    root: Path
    warehouse: Path
    reports: Path
    tables: dict
    result: object


@pytest.fixture(scope="session")
def week(tmp_path_factory) -> Week:
    root = tmp_path_factory.mktemp("week")
    warehouse = root / "warehouse.duckdb"
    tables = sample.write(warehouse)
    result = sample.reconcile(warehouse, root / "reports", sample.FIRST_DAY, sample.LAST_DAY)
    assert result.success, sample.failures(result)
    return Week(root, warehouse, root / "reports", tables, result)
