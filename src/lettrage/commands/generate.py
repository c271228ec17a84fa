"""`lettrage generate`: a synthetic hotel group's source files, with its ground truth."""

from __future__ import annotations

import datetime as dt
import resource
import time
from pathlib import Path

FORMATS = ("native", "generic")


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _date(text: str) -> dt.date:
    import argparse

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="write a synthetic hotel group's source files and its ground truth")
    p.add_argument("--hotels", type=_positive, default=4, help="number of hotels (default 4)")
    p.add_argument("--days", type=_positive, default=7, help="number of business dates (default 7)")
    p.add_argument("--seed", type=int, default=7, help="random seed: same seed, same bytes (default 7)")
    p.add_argument("--start", type=_date, default=None,
                   help="first business date, YYYY-MM-DD (default: today minus days minus 1)")
    p.add_argument("--format", dest="formats", choices=FORMATS, default="native",
                   help="each hotel's own export formats (native, default) or the generic canonical CSV")
    p.add_argument("--out", type=Path, required=True, help="output folder (an inbox layout)")
    p.add_argument("--jobs", type=_positive, default=1, help="hotels drawn in parallel processes (default 1)")
    p.add_argument("--force", action="store_true", help="write into a folder that already holds files")
    p.set_defaults(func=run)


def run(args) -> int:
    from lettrage.cli import CommandError
    from lettrage.recon.generate import generate_group

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise CommandError(f"{out} is not empty (use --force to write into it anyway)")
    start = args.start or dt.date.today() - dt.timedelta(days=args.days + 1)
    began = time.perf_counter()
    stats = generate_group(out, hotels=args.hotels, days=args.days, seed=args.seed, start=start,
                           formats=args.formats, progress=_progress, jobs=args.jobs)
    seconds = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"Generated {args.hotels} hotels x {args.days} days from {start} ({args.formats} formats) into {out}")
    print(f"  files: {stats['files']:,}   bytes: {stats['bytes']:,}")
    for kind, n in stats["rows"].items():
        print(f"  rows {kind:<16} {n:>12,}")
    print(f"  anomalies injected: {sum(stats['anomalies'].values()):,} "
          f"({', '.join(f'{k} {v}' for k, v in stats['anomalies'].items())})")
    print(f"  ground truth: {out / '_truth'}")
    print(f"  wall time: {seconds:.1f} s   peak RSS: {peak_mib:,.0f} MiB"
          + (f" (largest of {args.jobs} workers: {workers:,.0f} MiB)" if args.jobs > 1 else ""))
    return 0


def _progress(done: int, total: int) -> None:
    if total >= 20 and (done % max(total // 10, 1) == 0 or done == total):
        print(f"  ... {done}/{total} hotels", flush=True)
