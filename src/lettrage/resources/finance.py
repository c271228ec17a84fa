"""The resources of the finance views: dbt, the reports folder, and e-mail to finance."""

from __future__ import annotations

import dagster as dg

from lettrage.config import Settings


def finance_resources(s: Settings) -> dict:
    from dagster_dbt import DbtCliResource

    from lettrage.resources.reports import ReportsResource
    from lettrage.resources.smtp import SmtpResource

    return {
        "dbt": DbtCliResource(project_dir=str(s.dbt_project_dir), profiles_dir=str(s.dbt_project_dir),
                              target=s.dbt_target, dbt_executable=s.dbt_executable),
        "reports": ReportsResource(path=str(s.reports_dir)),
        "finance_mail": SmtpResource(
            host=s.smtp_host, port=s.smtp_port, tls=s.smtp_tls, user=s.smtp_user,
            # by name, so the UI's resource page never shows the secret
            password=dg.EnvVar("LETTRAGE_SMTP_PASSWORD") if s.smtp_password else "",
            sender=s.notice_from, mail_dir=str(s.mail_dir)),
    }
