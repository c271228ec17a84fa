"""`lettrage demo`: a demo hotel group, its week reconciled in one run, and the result."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
import uuid

from lettrage.config import PROJECT_ROOT, Settings, load_settings

DEMO_HOTELS = 6  # the first six hotels cover every source format
DEMO_DAYS = 7
DEMO_SEED = 7


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="generate a demo group if none, reconcile its week, print the summary")
    p.add_argument("--hotels", type=int, default=DEMO_HOTELS, help="hotels in a new demo group (default 6)")
    p.add_argument("--days", type=int, default=DEMO_DAYS, help="business dates in a new demo group (default 7)")
    p.set_defaults(func=run)


def prepare_instance(settings: Settings) -> None:
    """DAGSTER_HOME under var/ with our instance settings (one DuckDB writer at a time)."""
    import os

    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    target = settings.dagster_home / "dagster.yaml"
    source = PROJECT_ROOT / "deploy" / "dagster.yaml"
    if source.exists() and (not target.exists() or target.read_bytes() != source.read_bytes()):
        shutil.copyfile(source, target)


def inbox_dates(settings: Settings) -> tuple[dt.date, dt.date]:
    """First and last business date delivered in the inbox (from the PMS files' names)."""
    from lettrage.recon.inbox import scan

    dates = sorted(d for f in scan(settings.inbox_dir, ["pms_postings"]) if (d := f.file_date))
    if not dates:
        from lettrage.cli import CommandError

        raise CommandError(f"no PMS files with a date in their name under {settings.inbox_dir}")
    return dates[0], dates[-1]


def run_with_progress(job, instance, tags: dict, total_assets: int) -> str:
    """Run a job in this process while printing each asset as it materialises."""
    import dagster as dg

    run_id = str(uuid.uuid4())
    outcome: dict = {}

    def target():
        try:
            # The event log keeps every detail for the UI; the terminal shows progress and warnings only.
            outcome["result"] = job.execute_in_process(
                instance=instance, tags=tags, run_id=run_id, raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        except Exception as exc:  # noqa: BLE001 - shown to the user below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    started = time.monotonic()
    thread.start()
    seen: set[str] = set()
    while thread.is_alive() or len(seen) < total_assets:
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records \
            if instance.get_run_by_id(run_id) else []
        for rec in records:
            key = rec.event_log_entry.asset_materialization.asset_key.to_user_string()
            if key not in seen:
                seen.add(key)
                print(f"  [{len(seen):>2}/{total_assets}] {key:<32} materialised  ({time.monotonic() - started:5.1f} s)",
                      flush=True)
        if not thread.is_alive():
            break
        time.sleep(0.3)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if not result.success:
        from lettrage.cli import CommandError

        raise CommandError(f"the run {run_id} failed; see `make ui` for the failing step", code=1)
    return run_id


def run(args) -> int:
    import dagster as dg

    settings = load_settings()
    prepare_instance(settings)
    if not (settings.inbox_dir / "hotels.csv").exists():
        from lettrage.recon.generate import generate_group

        start = dt.date.today() - dt.timedelta(days=args.days + 1)
        print(f"Generating a demo group: {args.hotels} hotels, {args.days} days from {start} into {settings.inbox_dir}")
        generate_group(settings.inbox_dir, hotels=args.hotels, days=args.days, seed=DEMO_SEED, start=start)
    first, last = inbox_dates(settings)
    install_link_rules(settings)
    from lettrage.definitions import defs

    job = defs.resolve_job_def("daily_reconciliation")
    total = len(job.asset_layer.executable_asset_keys) if hasattr(job.asset_layer, "executable_asset_keys") \
        else len(list(job.asset_layer.selected_asset_keys))
    print(f"Reconciling business dates {first} to {last} in one run ({total} assets):")
    with dg.DagsterInstance.get() as instance:
        run_id = run_with_progress(job, instance, {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }, total)
        links_job = defs.resolve_job_def("payment_links")
        print("\nPayment links: applying the hotels' rules to the reservation export and sending what is due:")
        links_run = run_with_progress(links_job, instance, {}, len(list(links_job.asset_layer.selected_asset_keys)))
    from lettrage.recon.summary import print_summary

    print_summary(settings.warehouse_path, first, last)
    print_link_journey(settings)
    from lettrage.recon.reports import GROUP_PAGE

    print(f"\nRuns {run_id} (reconciliation) and {links_run} (payment links) are in the Dagster instance at "
          f"{settings.dagster_home}.")
    print("Look further:")
    print("  make ui     the Dagster UI on http://127.0.0.1:3000: the lineage, this run, materialisations, checks")
    print(f"  reports     {settings.reports_dir / GROUP_PAGE} (écart per hotel over time), and per hotel and "
          f"business date (HTML and XLSX) under {settings.reports_dir}/<hotel>/")
    print(f"  e-mails     {settings.mail_dir} (what the guests received), SMS in {settings.sms_dir}")
    print("  make serve  the payment service and the front-desk dashboard (create a user with `lettrage users add`)")
    return 0


def install_link_rules(settings: Settings) -> None:
    """Each demo hotel gets the documented example link rules, unless it has its own."""
    import re

    from lettrage.paylinks import rules
    from lettrage.recon.inbox import hotels_of

    for hotel in hotels_of(settings.inbox_dir).values():
        target = rules.rules_path(settings.link_rules_dir or settings.inbox_dir, hotel.hotel_id)
        if not target.exists():
            domain = re.sub(r"[^a-z0-9]+", "-", hotel.name.lower()).strip("-") + ".example"
            rules.install_example(target, hotel.name, domain)


def print_link_journey(settings: Settings) -> None:
    """Simulated guests open their links and pay (or not) through the PSP simulator."""
    from lettrage.service.journey import run_demo_journey

    print("\nGuests paying their links through the PSP simulator (3-D Secure, refusals, a split bill):")
    summary = run_demo_journey(settings)
    for line in summary.lines():
        print(f"  {line}")
