"""A synthetic hotel group: the source files a group's finance team receives, and the truth.

`generate_group(out_dir, hotels, days, seed, start, formats)` writes the inbox layout
`out_dir/hotels.csv`, `out_dir/<hotel_id>/<kind>/<file named with its date>` and
`out_dir/_truth/` (see `truth.py`). It streams hotel by hotel: one hotel's records (built with
numpy, vectorised over its days) are written and dropped before the next one is drawn, so
memory stays flat whatever the size of the group. Same seed, same bytes.

Modules: `group` (hotels, codes, cashiers, terminals), `guests` (names, phones, cards),
`bookings` (the reservation book and its exports), `activity` (the days' payments), `anomalies`,
`settlement` (acquirer remittances), `canonical` (ids and canonical rows), `truth`, `formats/`.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lettrage.recon import schemas
from lettrage.recon.generate import activity, anomalies, bookings, canonical, settlement
from lettrage.recon.generate.formats import write_hotel
from lettrage.recon.generate.group import HotelProfile, hotel_rng, make_hotel
from lettrage.recon.generate.truth import TruthWriter
from lettrage.recon.hotels import HOTELS_FILE, write_hotels
from lettrage.recon.masking import mask

FORMATS = ("native", "generic")


@dataclass
class HotelRecords:
    """One hotel's canonical rows per inbox kind (plus internal columns), and its truth."""

    profile: HotelProfile
    tables: dict[str, pd.DataFrame]
    matches: pd.DataFrame
    anomalies: pd.DataFrame


def build_hotel(profile: HotelProfile, seed: int, start: dt.date, days: int, hotels: int,
                formats: str = "native") -> HotelRecords:
    """Draw one hotel's window: reservations, payments, anomalies, remittances, truth."""
    rng = hotel_rng(seed, profile.index, 1)
    book = bookings.simulate(profile, rng, start, days)
    act = activity.simulate(profile, book, rng, start, days)
    frames = anomalies.inject(act, act.frames(), anomalies.forced_codes(profile.index, hotels))
    tables = {
        "pms_postings": canonical.postings(profile, frames["pms"], rng),
        "tpe_transactions": canonical.tickets(profile, frames["tpe"], rng, start),
        "psp_transactions": canonical.psp_payments(profile, frames["psp"]),
    }
    lines = settlement.remit(profile, tables["tpe_transactions"], act.truth, rng)
    tables["remittances"] = canonical.hash_ids(profile, lines)
    if formats == "generic":  # an id written in a file is read through the card-number mask, like any field
        tables["remittances"]["remittance_line_id"] = tables["remittances"]["remittance_line_id"].map(mask)
    # Only the window's business dates are delivered (the remittances of its last days come later).
    first, end = start, start + dt.timedelta(days=days)
    for name in ("pms_postings", "tpe_transactions", "psp_transactions"):
        t = tables[name]
        tables[name] = t[t["business_date"].map(lambda d: first <= d < end)]
    matches, found = act.truth.resolve(profile.hotel_id, canonical.key_info(tables))
    by_kind = {
        "pms_postings": tables["pms_postings"],
        "tpe_journal": tables["tpe_transactions"],
        "remittances": tables["remittances"],
        "psp_journal": tables["psp_transactions"],
        "reservations": bookings.exports(profile, book, start, days),
        "trx_codes": profile.codes,
    }
    return HotelRecords(profile, by_kind, matches, found)


def canonical_rows(records: HotelRecords) -> dict[str, pd.DataFrame]:
    """The rows a reader should produce from this hotel's files, per canonical table."""
    out = {}
    for kind, rows in records.tables.items():
        table = schemas.SOURCE_KINDS[kind]
        out[table] = canonical.only_canonical(table, rows).reset_index(drop=True)
    return out


@dataclass
class Written:
    """What one hotel's files came to (what a worker process hands back)."""

    matches: pd.DataFrame
    anomalies: pd.DataFrame
    files: int
    bytes: int
    rows: dict[str, int]


def write_one(out_dir: Path, seed: int, index: int, start: dt.date, days: int, hotels: int,
              formats: str) -> Written:
    """Draw and write hotel number `index`; only its truth and its figures are kept."""
    records = build_hotel(make_hotel(seed, index), seed, start, days, hotels, formats)
    written = write_hotel(out_dir, records.profile, records.tables, generic_only=formats == "generic")
    return Written(records.matches, records.anomalies, len(written), sum(p.stat().st_size for p in written),
                   {schemas.SOURCE_KINDS[k]: len(v) for k, v in records.tables.items()})


def _write_one(job: tuple) -> Written:
    return write_one(*job)


def generate_group(out_dir: Path, hotels: int, days: int, seed: int, start: dt.date, formats: str = "native",
                   progress: Callable[[int, int], None] | None = None, jobs: int = 1) -> dict:
    """Write a synthetic group of `hotels` hotels over `days` business dates from `start`.

    `jobs` > 1 draws hotels in that many processes (each hotel has its own random stream and its
    own files, and the truth is appended in hotel order: the bytes are the same).
    Returns figures: files, bytes, rows per canonical table, anomalies per code, seconds and the
    peak resident memory (MiB) of this process and of the largest worker."""
    if formats not in FORMATS:
        raise ValueError(f"formats must be one of {', '.join(FORMATS)}, not {formats!r}")
    if hotels < 1 or days < 1 or jobs < 1:
        raise ValueError("hotels, days and jobs must be at least 1")
    began = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_hotels([make_hotel(seed, i).hotel for i in range(hotels)], out_dir / HOTELS_FILE)
    truth = TruthWriter(out_dir)
    rows: Counter = Counter()
    found: Counter = Counter()
    files, size = 1 + len(truth.files), 0
    work = [(out_dir, seed, i, start, days, hotels, formats) for i in range(hotels)]
    pool = None
    if jobs > 1:
        import multiprocessing

        # spawn, not fork: the caller may hold threads (a Dagster run, a web server)
        pool = multiprocessing.get_context("spawn").Pool(jobs, maxtasksperchild=50)
    try:
        done = pool.imap(_write_one, work) if pool else map(_write_one, work)
        for i, one in enumerate(done):
            truth.append(one.matches, one.anomalies)
            files, size = files + one.files, size + one.bytes
            rows.update(one.rows)
            found.update(one.anomalies["code"].tolist())
            if progress:
                progress(i + 1, hotels)
    finally:
        if pool:
            pool.close()
            pool.join()
    size += sum(p.stat().st_size for p in truth.files) + (out_dir / HOTELS_FILE).stat().st_size
    return {
        "hotels": hotels, "days": days, "files": files, "bytes": size, "rows": dict(rows),
        "anomalies": {code: found[code] for code in schemas.EXCEPTION_CODES if found[code]},
        "seconds": round(time.perf_counter() - began, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }
