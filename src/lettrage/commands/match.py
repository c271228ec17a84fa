"""`lettrage match`: run the matching engine on canonical files and write its three tables.

    lettrage match --pms P.parquet --tpe T.parquet [--remittances R.parquet] [--psp S.parquet]
                   [--hotels H.csv] --out DIR [--threads N] [--memory-limit SIZE]

Writes DIR/card_matches.parquet, DIR/exceptions.parquet and DIR/daily_summary.parquet, then prints
one line of JSON: rows read, matches per stage, exceptions per code, the écart, seconds, peak memory.
"""

from __future__ import annotations

import re
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("match", help="match canonical PMS, terminal, PSP and remittance files; write the ledger")
    p.add_argument("--pms", required=True, type=Path,
                   help="pms_postings, DOMAIN.md columns: parquet, CSV (.csv.gz too), or a folder of parts")
    p.add_argument("--tpe", required=True, type=Path, help="tpe_transactions")
    p.add_argument("--remittances", type=Path, help="remittances (acquirer lines)")
    p.add_argument("--psp", type=Path, help="psp_transactions")
    p.add_argument("--hotels", type=Path, help="hotels.csv: per-hotel match window and tolerance")
    p.add_argument("--out", required=True, type=Path, help="folder for the three output files")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    p.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 1GB")
    p.set_defaults(func=run)


MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def run(args) -> int:
    import json

    from lettrage.cli import CommandError
    from lettrage.recon.matching.files import BadFile
    from lettrage.recon.matching.run import match_files

    if args.threads is not None and args.threads < 1:
        raise CommandError("--threads must be at least 1")
    if args.memory_limit is not None and not MEMORY.match(args.memory_limit):
        raise CommandError(f"--memory-limit {args.memory_limit!r}: give a size such as 1GB or 750MB")
    try:
        summary = match_files(pms=args.pms, tpe=args.tpe, remittances=args.remittances, psp=args.psp,
                              hotels=args.hotels, out=args.out, threads=args.threads,
                              memory_limit=args.memory_limit)
    except BadFile as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"{exc.filename or args.out}: {exc.strerror or exc}") from exc
    print(json.dumps(summary, separators=(",", ":"), default=str))
    return 0
