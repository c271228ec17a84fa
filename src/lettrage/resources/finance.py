"""The resources of the finance views: dbt, the reports folder, and e-mail to finance."""

from __future__ import annotations

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from lettrage.config import Settings


class FinanceDbtResource(DbtCliResource):
    """dbt, run as its own process only. dagster-dbt would also load the dbt adapter in our
    process (for row counts and column metadata, which we do not fetch): that costs seconds per
    run and could open the DuckDB file while dbt-duckdb holds it."""

    # Where each run's dbt artifacts and logs go (run_results.json, dbt.log): under var/.
    artifacts_dir: str = ""

    def _initialize_dbt_core_adapter(self, args):
        return None

    @cached_property
    def _cli_version(self):
        # Our venv's dbt is the dbt-core we import: no `dbt --version` process (seconds) per run.
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            from packaging import version

            return version.parse(importlib.metadata.version("dbt-core"))
        return DbtCliResource._cli_version.func(self)

    def run_target_path(self, run_id: str) -> Path | None:
        return Path(self.artifacts_dir) / run_id if self.artifacts_dir else None


def finance_resources(s: Settings) -> dict:
    from lettrage.resources.reports import ReportsResource
    from lettrage.resources.smtp import SmtpResource

    return {
        "dbt": FinanceDbtResource(project_dir=str(s.dbt_project_dir), profiles_dir=str(s.dbt_project_dir),
                                  target=s.dbt_target, dbt_executable=s.dbt_executable,
                                  artifacts_dir=str(s.var_dir / "dbt")),
        "reports": ReportsResource(path=str(s.reports_dir)),
        "finance_mail": SmtpResource(
            host=s.smtp_host, port=s.smtp_port, tls=s.smtp_tls, user=s.smtp_user,
            # by name, so the UI's resource page never shows the secret
            password=dg.EnvVar("LETTRAGE_SMTP_PASSWORD") if s.smtp_password else "",
            sender=s.notice_from, mail_dir=str(s.mail_dir)),
    }
