"""Where lettrage keeps things and how it reaches the outside world, resolved in one place.

Every path and every setting comes from the environment (with embedded defaults under `var/`),
so a test or a deployment changes them by setting variables, never by editing code.
Secrets are read here and never printed: `Settings.__repr__` hides them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

SECRET_FIELDS = {"smtp_password", "twilio_auth_token", "link_secret", "ogone_sha_in", "ogone_sha_out",
                 "worldline_api_secret", "worldline_webhook_secret", "session_secret",
                 "ogone_password", "api_token"}


def _project_root() -> Path:
    # The checkout when installed editable (src layout), else the current directory.
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "src" / "lettrage").exists():
            return parent
    return Path.cwd()


PROJECT_ROOT = _project_root()


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    inbox_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    ops_store_url: str
    dagster_home: Path
    reports_dir: Path
    mail_dir: Path
    sms_dir: Path
    dbt_project_dir: Path
    group_timezone: str = "Europe/Paris"
    first_business_date: str = "2026-01-01"
    daily_run_time: str = "06:00"
    plausible_amount_cents: int = 5_000_000  # a card payment above this (50 000,00) is flagged by the checks
    dbt_target: str = "duckdb"  # duckdb | postgres (dbt_project/profiles.yml)
    dbt_executable: str = "dbt"
    dagster_ui_url: str = "http://127.0.0.1:3000"  # linked from failure e-mails
    public_base_url: str = "http://127.0.0.1:8000"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_tls: str = "none"  # none | starttls | ssl
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    finance_email: str = "finance@lettrage.local"
    notice_from: str = "lettrage@lettrage.local"  # sender of notices to finance (failed runs)
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_from: str = ""
    twilio_base_url: str = ""  # set in tests to a local server speaking Twilio's API
    link_rules_dir: Path | None = None  # <dir>/<hotel_id>/link_rules.yaml; the inbox by default
    link_retry_seconds: float = 60.0  # first retry of a failed send, doubling each time
    link_max_attempts: int = 5
    link_secret: str = field(default="", repr=False)
    session_secret: str = field(default="", repr=False)
    session_minutes: int = 480  # a dashboard login lasts one shift
    ogone_pspid: str = "LETTRAGEDEMO"
    ogone_sha_in: str = field(default="", repr=False)
    ogone_sha_out: str = field(default="", repr=False)
    ogone_algorithm: str = "sha256"
    ogone_url: str = "http://127.0.0.1:8010/ncol/test"  # the `ncol/<env>` base; the simulator by default
    ogone_userid: str = ""  # DirectLink API user (capture, release, refund, installments)
    ogone_password: str = field(default="", repr=False)
    psp_provider: str = "ogone"  # ogone | worldline: which hosted page a link opens
    psp_simulator_port: int = 8010
    split_hold_minutes: int = 30  # a payer on the PSP page keeps their share of a split bill this long
    api_token: str = field(default="", repr=False)  # bearer token of the payments API (capture, refund)
    worldline_api_key: str = ""
    worldline_api_secret: str = field(default="", repr=False)
    worldline_webhook_secret: str = field(default="", repr=False)
    worldline_webhook_key_id: str = ""
    worldline_merchant_id: str = ""
    worldline_api_endpoint: str = "https://payment.preprod.direct.worldline-solutions.com"

    def __repr__(self) -> str:  # never print a secret
        shown = ", ".join(
            f"{f.name}={'***' if f.name in SECRET_FIELDS and getattr(self, f.name) else getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"Settings({shown})"


def _sibling_dbt() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_settings() -> Settings:
    """Read the settings from the environment (LETTRAGE_* variables), with defaults under ./var."""
    var_dir = Path(_env("LETTRAGE_VAR_DIR", str(PROJECT_ROOT / "var"))).resolve()
    inbox = Path(_env("LETTRAGE_INBOX_DIR", str(var_dir / "inbox")))
    return Settings(
        var_dir=var_dir,
        inbox_dir=inbox,
        quarantine_dir=Path(_env("LETTRAGE_QUARANTINE_DIR", str(inbox.parent / "quarantine"))),
        warehouse_path=Path(_env("LETTRAGE_WAREHOUSE", str(var_dir / "warehouse.duckdb"))),
        ops_store_url=_env("LETTRAGE_OPS_STORE_URL", f"sqlite:///{var_dir / 'ops.sqlite'}"),
        dagster_home=Path(_env("DAGSTER_HOME", str(var_dir / "dagster_home"))),
        reports_dir=Path(_env("LETTRAGE_REPORTS_DIR", str(var_dir / "reports"))),
        mail_dir=Path(_env("LETTRAGE_MAIL_DIR", str(var_dir / "mail"))),
        sms_dir=Path(_env("LETTRAGE_SMS_DIR", str(var_dir / "sms"))),
        dbt_project_dir=Path(_env("LETTRAGE_DBT_PROJECT_DIR", str(PROJECT_ROOT / "dbt_project"))),
        group_timezone=_env("LETTRAGE_GROUP_TIMEZONE", "Europe/Paris"),
        first_business_date=_env("LETTRAGE_FIRST_BUSINESS_DATE", "2026-01-01"),
        daily_run_time=_env("LETTRAGE_DAILY_RUN_TIME", "06:00"),
        plausible_amount_cents=int(_env("LETTRAGE_PLAUSIBLE_AMOUNT_CENTS", "5000000")),
        dbt_target=_env("LETTRAGE_DBT_TARGET", "duckdb"),
        # the dbt installed next to this Python (the venv), whatever the PATH
        dbt_executable=_env("LETTRAGE_DBT_EXECUTABLE", _sibling_dbt()),
        dagster_ui_url=_env("LETTRAGE_DAGSTER_UI_URL", "http://127.0.0.1:3000"),
        public_base_url=_env("LETTRAGE_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        smtp_host=_env("LETTRAGE_SMTP_HOST", ""),
        smtp_port=int(_env("LETTRAGE_SMTP_PORT", "25")),
        smtp_tls=_env("LETTRAGE_SMTP_TLS", "none"),
        smtp_user=_env("LETTRAGE_SMTP_USER", ""),
        smtp_password=_env("LETTRAGE_SMTP_PASSWORD", ""),
        finance_email=_env("LETTRAGE_FINANCE_EMAIL", "finance@lettrage.local"),
        notice_from=_env("LETTRAGE_NOTICE_FROM", "lettrage@lettrage.local"),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN", ""),
        twilio_from=_env("TWILIO_FROM", ""),
        twilio_base_url=_env("LETTRAGE_TWILIO_BASE_URL", ""),
        link_rules_dir=Path(_env("LETTRAGE_LINK_RULES_DIR", str(inbox))),
        link_retry_seconds=float(_env("LETTRAGE_LINK_RETRY_SECONDS", "60")),
        link_max_attempts=int(_env("LETTRAGE_LINK_MAX_ATTEMPTS", "5")),
        # Demo-only defaults: production sets these; the demo must run on a bare machine.
        link_secret=_env("LETTRAGE_LINK_SECRET", "demo-link-secret-change-me"),
        session_secret=_env("LETTRAGE_SESSION_SECRET", "demo-session-secret-change-me"),
        session_minutes=int(_env("LETTRAGE_SESSION_MINUTES", "480")),
        ogone_pspid=_env("LETTRAGE_OGONE_PSPID", "LETTRAGEDEMO"),
        ogone_sha_in=_env("LETTRAGE_OGONE_SHA_IN", "demo-sha-in-passphrase"),
        ogone_sha_out=_env("LETTRAGE_OGONE_SHA_OUT", "demo-sha-out-passphrase"),
        ogone_algorithm=_env("LETTRAGE_OGONE_ALGORITHM", "sha256"),
        ogone_url=_env("LETTRAGE_OGONE_URL", "http://127.0.0.1:8010/ncol/test"),
        ogone_userid=_env("LETTRAGE_OGONE_USERID", "LETTRAGEAPI"),
        ogone_password=_env("LETTRAGE_OGONE_PASSWORD", "demo-api-password"),
        psp_provider=_env("LETTRAGE_PSP_PROVIDER", "ogone"),
        psp_simulator_port=int(_env("LETTRAGE_PSP_SIMULATOR_PORT", "8010")),
        split_hold_minutes=int(_env("LETTRAGE_SPLIT_HOLD_MINUTES", "30")),
        api_token=_env("LETTRAGE_API_TOKEN", ""),
        worldline_api_key=_env("LETTRAGE_WORLDLINE_API_KEY", ""),
        worldline_api_secret=_env("LETTRAGE_WORLDLINE_API_SECRET", ""),
        worldline_webhook_secret=_env("LETTRAGE_WORLDLINE_WEBHOOK_SECRET", ""),
        worldline_webhook_key_id=_env("LETTRAGE_WORLDLINE_WEBHOOK_KEY_ID", ""),
        worldline_merchant_id=_env("LETTRAGE_WORLDLINE_MERCHANT_ID", ""),
        worldline_api_endpoint=_env("LETTRAGE_WORLDLINE_API_ENDPOINT",
                                    "https://payment.preprod.direct.worldline-solutions.com"),
    )
