"""`lettrage backfill --from D1 --to D2 [--hotel H]`: re-run a disputed period in one run.

After a late or corrected file, or a chargeback, the daily reconciliation of every business date
of the period runs again (ingest, matching, marts, reports) as ONE run in the Dagster instance at
DAGSTER_HOME, like a backfill launched from the UI. Untouched days come out bit for bit the same;
manual decisions live in the matching engine's tables and are replayed.
"""

from __future__ import annotations

import argparse
import datetime as dt


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_parser(sub) -> None:
    p = sub.add_parser("backfill", help="re-run the reconciliation of a range of business dates, in one run")
    p.add_argument("--from", dest="first", required=True, type=_date, metavar="YYYY-MM-DD",
                   help="first business date")
    p.add_argument("--to", dest="last", required=True, type=_date, metavar="YYYY-MM-DD",
                   help="last business date (included)")
    p.add_argument("--hotel", action="append", default=[], metavar="HOTEL_ID",
                   help="only this hotel (repeat for several; default: every hotel)")
    p.set_defaults(func=run)


def check_period(first: dt.date, last: dt.date, settings) -> None:
    """The period must be closed business dates the pipeline knows."""
    from lettrage.cli import CommandError
    from lettrage.pipelines.partitions import business_date

    if first > last:
        raise CommandError(f"--from {first} is after --to {last}")
    keys = business_date.get_partition_keys()
    if not keys or first.isoformat() < keys[0]:
        raise CommandError(f"{first} is before the first business date {settings.first_business_date} "
                           f"(LETTRAGE_FIRST_BUSINESS_DATE)")
    if last.isoformat() > keys[-1]:
        raise CommandError(f"{last} is not a closed business date yet (the last one is {keys[-1]})")


def check_hotels(hotels: list[str], settings) -> None:
    from lettrage.cli import CommandError
    from lettrage.recon.inbox import hotels_of

    try:
        known = hotels_of(settings.inbox_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    unknown = sorted(set(hotels) - set(known))
    if unknown:
        raise CommandError(f"unknown hotel {', '.join(unknown)} (hotels: {', '.join(sorted(known))})")


def run(args) -> int:
    import dagster as dg

    from lettrage.commands.demo import prepare_instance, run_with_progress
    from lettrage.config import load_settings
    from lettrage.pipelines.partitions import HOTELS_TAG

    settings = load_settings()
    check_period(args.first, args.last, settings)
    hotels = sorted(set(args.hotel))
    check_hotels(hotels, settings)
    prepare_instance(settings)
    from lettrage.definitions import defs
    from lettrage.resources import build_resources

    # Resources from the settings of now, not those of whenever the definitions were imported.
    defs = dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                          resources=build_resources(settings), executor=defs.executor)
    job = defs.resolve_job_def("daily_reconciliation")
    tags = {"dagster/asset_partition_range_start": args.first.isoformat(),
            "dagster/asset_partition_range_end": args.last.isoformat()}
    if hotels:
        tags[HOTELS_TAG] = ",".join(hotels)
    total = len(job.asset_layer.selected_asset_keys)
    days = (args.last - args.first).days + 1
    print(f"Re-running business dates {args.first} to {args.last} ({days} day(s), "
          f"hotels: {', '.join(hotels) or 'all'}) in one run ({total} assets):")
    with dg.DagsterInstance.get() as instance:
        run_id = run_with_progress(job, instance, tags, total)
    from lettrage.recon.reports import GROUP_PAGE
    from lettrage.recon.summary import print_summary

    print_summary(settings.warehouse_path, args.first, args.last)
    print(f"\nRun {run_id} is in the Dagster instance at {settings.dagster_home}.")
    print(f"Reports: {settings.reports_dir / GROUP_PAGE} (the group), and per hotel and day under "
          f"{settings.reports_dir}/<hotel>/")
    return 0
