"""`lettrage read`: hotels' source files, in their own formats, read into a canonical table.

    lettrage read --kind pms_postings --format auto --hotel-config hotel.yaml opera_20260105.csv --out pms.parquet

Prints, per file, the format recognised and the rows read, rejected (with line and reason) and
card numbers masked; writes the canonical rows of every readable file to OUT (parquet). A file
that cannot be read at all is named with its line and problem on stderr, and the exit code is 1.
The same file given twice is read once. `--hotel-config` is the YAML of `readers.hotel_config`
(hotel settings, code table, column mappings); without it the hotel is `HOTEL`, in the group's
time zone, in euros.
"""

from __future__ import annotations

import sys
from pathlib import Path

SHOWN_REJECTS = 20


def add_parser(sub) -> None:
    p = sub.add_parser("read", help="read source files (PMS, terminal, remittance, PSP exports) into a canonical table")
    p.add_argument("--kind", required=True, help="what the files hold: pms_postings, tpe_journal, remittances, "
                                                 "psp_journal, reservations or trx_codes")
    p.add_argument("--format", default="auto", help="the files' format (opera_csv, opera_trexport, opera_resv, "
                   "protel, starlight, onq, generic, tpe_csv, cb_remittance, adyen_sdr, amex_eptrn, ogone_xml); "
                   "auto recognises each file by its content (default)")
    p.add_argument("--hotel-config", type=Path, metavar="FILE", help="hotel settings, code table and column mappings (YAML)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files to read")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.parquet", help="where to write the canonical rows")
    p.set_defaults(func=run)


def run(args) -> int:
    import datetime as dt
    import hashlib

    import pandas as pd

    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.recon import schemas
    from lettrage.recon.hotels import Hotel
    from lettrage.recon.masking import mask
    from lettrage.recon.readers import FORMATS, UnreadableFile, formats_for, read_file
    from lettrage.recon.readers.hotel_config import HotelConfig, load_hotel_config

    if args.kind not in schemas.SOURCE_KINDS:
        raise CommandError(f"unknown kind {args.kind!r} (known: {', '.join(schemas.SOURCE_KINDS)})")
    if args.format != "auto" and args.format not in formats_for(args.kind):
        known = ", ".join(formats_for(args.kind))
        raise CommandError(f"format {args.format!r} does not hold {args.kind} (formats for {args.kind}: {known})"
                           if args.format in FORMATS else f"unknown format {args.format!r} (known: {', '.join(FORMATS)})")
    config = HotelConfig(None, None, {})
    if args.hotel_config:
        try:
            config = load_hotel_config(args.hotel_config)
        except (ValueError, UnreadableFile) as exc:
            raise CommandError(str(exc)) from None
    hotel = config.hotel or Hotel("HOTEL", "Hotel", load_settings().group_timezone)
    table = schemas.SOURCE_KINDS[args.kind]
    frames, errors, seen = [], [], {}
    for path in args.files:
        if not path.is_file():
            errors.append(f"{mask(str(path))}: no such file")
            continue
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha in seen:
            print(f"{mask(str(path))}: same content as {mask(str(seen[sha]))}, not read twice")
            continue
        seen[sha] = path
        try:
            result = read_file(path, args.kind, hotel, fmt=args.format, trx_codes=config.trx_codes,
                               mappings=config.mappings)
        except UnreadableFile as exc:
            errors.append(str(exc))
            continue
        masked = f", {result.masked_pans} card number(s) masked" if result.masked_pans else ""
        print(f"{mask(str(path))}: {result.format} ({result.encoding}), {result.rows_in} rows: "
              f"{len(result.rows)} read, {len(result.rejects)} rejected{masked}")
        for _, r in result.rejects.head(SHOWN_REJECTS).iterrows():
            print(f"  line {r['line_no']}: {r['reason']}")
        if len(result.rejects) > SHOWN_REJECTS:
            print(f"  ... and {len(result.rejects) - SHOWN_REJECTS} more rejected rows")
        frames.append(result.rows)
    if frames:
        rows = pd.concat(frames, ignore_index=True)
        repeated = rows.duplicated(list(schemas.TABLES[table][1]), keep="last")
        for source, n in rows[repeated].groupby("source_file").size().items():
            print(f"{source}: {n} row(s) also in a file given later: the later rows are kept")
        rows = rows[~repeated]
        if table != "trx_codes":
            rows["ingested_at"] = pd.Timestamp(dt.datetime.now(dt.UTC))
        rows = schemas.model(table).validate(rows[schemas.columns(table)])
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            rows.to_parquet(args.out, index=False)
        except OSError as exc:
            raise CommandError(f"{args.out}: cannot be written ({exc.strerror})") from None
        print(f"wrote {len(rows)} {table} rows to {args.out}")
    for message in errors:
        print(f"lettrage read: {message}", file=sys.stderr)
    return 1 if errors else 0
