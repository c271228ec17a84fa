"""Benchmark: 10,000 payment-link requests, from the PMS reservation export to the messages
handed to a local SMTP server (`lettrage mail-sink`, a separate process).

    .venv/bin/python benchmarks/links_bench.py [--requests 10000] [--keep DIR]

Stages timed: read the export (the reservations reader), apply the link rules and write the
requests to the operational store (SQLite, WAL), then send: record each message, render it
(Jinja2, MIME with inline logo and PDF attachment), hand it over by SMTP, mark it sent.
Prints the time of each stage, messages per second and the peak memory of this process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ["reservation_id", "confirmation_no", "status", "arrival_date", "arrival_time", "departure_date", "adults",
           "children", "guest_first_name", "guest_last_name", "email", "phone", "language", "room_type", "rate_code",
           "total_cents", "deposit_due_cents", "deposit_paid_cents", "currency", "guarantee_code", "payment_method",
           "non_refundable"]
FIRST = ["Émilie", "Jean", "Chloé", "Lucas", "Anna", "John", "Mary", "Paolo", "Inès", "Hugo"]
LAST = ["Durand", "Martin", "Bernard", "Petit", "Smith", "Rossi", "Müller", "Dubois", "Moreau", "Laurent"]


def write_export(path: Path, n: int, today: dt.date) -> None:
    """A reservation export in which every row matches the non-refundable prepayment rule."""
    rnd = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for i in range(n):
            arrival = today + dt.timedelta(days=rnd.randint(5, 120))
            out.writerow([f"R{i:06d}", f"{40_000_000 + i}", "reserved", arrival.isoformat(), f"{rnd.randint(12, 22)}:00",
                          (arrival + dt.timedelta(days=rnd.randint(1, 5))).isoformat(), rnd.randint(1, 3),
                          rnd.randint(0, 2), rnd.choice(FIRST), rnd.choice(LAST), f"guest{i}@example.org",
                          f"+336{rnd.randint(10_000_000, 99_999_999)}", rnd.choice(["FR", "EN", "fr-FR", "en"]), "DBL",
                          "NRF", rnd.randint(9_000, 250_000), 0, 0, "EUR", "", "VI", "true"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="links-bench-"))
    var = work / "var"
    shutil.rmtree(var, ignore_errors=True)
    port = free_port()
    os.environ.update({"LETTRAGE_VAR_DIR": str(var), "LETTRAGE_SMTP_HOST": "127.0.0.1",
                       "LETTRAGE_SMTP_PORT": str(port), "LETTRAGE_LINK_SECRET": "bench-secret",
                       "LETTRAGE_PUBLIC_BASE_URL": "https://pay.hotel-lutece.example"})
    for name in ("TWILIO_ACCOUNT_SID", "LETTRAGE_OPS_STORE_URL", "LETTRAGE_INBOX_DIR", "LETTRAGE_LINK_RULES_DIR"):
        os.environ.pop(name, None)
    sink = subprocess.Popen([sys.executable, "-m", "lettrage", "mail-sink", "--port", str(port),
                             "--dir", str(work / "mail")], stdout=subprocess.PIPE, text=True)
    try:
        sink.stdout.readline()  # "Listening on ..." once it accepts connections
        return run(args.requests, var, work)
    finally:
        sink.terminate()
        sink.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(n: int, var: Path, work: Path) -> int:
    import psutil

    from lettrage.config import load_settings
    from lettrage.paylinks import requests, rules, sending, store
    from lettrage.paylinks.messages import Composer
    from lettrage.paylinks.outbox import open_outbox
    from lettrage.paylinks.templates import TemplateLibrary
    from lettrage.recon.hotels import Hotel, write_hotels
    from lettrage.recon.readers import read_file

    settings = load_settings()
    hotel = Hotel("H1", "Hôtel Lutèce", "Europe/Paris")
    write_hotels([hotel], settings.inbox_dir / "hotels.csv")
    rules.install_example(rules.rules_path(settings.inbox_dir, "H1"), hotel.name, "hotel-lutece.example")
    export = settings.inbox_dir / "H1" / "reservations" / "reservations_export.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    write_export(export, n, dt.date.today())
    print(f"{n} reservations in {export} ({export.stat().st_size / 1e6:.1f} MB); SMTP sink in a separate process")

    figures = {}  # stage -> (wall seconds, CPU seconds of this process)
    clock = lambda: (time.perf_counter(), time.process_time())  # noqa: E731
    start = t = clock()

    def lap(stage, since):
        now = clock()
        figures[stage] = (now[0] - since[0], now[1] - since[1])
        return now

    rows = read_file(export, "reservations", hotel).rows
    t = lap("read the export", t)
    sessions = store.session_factory(settings.ops_store_url)
    link_rules = rules.RulesBook(settings.link_rules_dir, {"H1": hotel}).get("H1")
    composer = Composer(TemplateLibrary(), settings.public_base_url, settings.link_secret)
    result = requests.apply_rules(sessions, link_rules, composer, rows)
    t = lap("rules -> requests in the store", t)
    with open_outbox(settings, sessions) as outbox:
        report = sending.send_due(sessions, outbox)
    lap("record, render, hand over, mark sent", t)
    lap("total", start)
    total = figures["total"][0]

    print(f"  {'stage':<40} {'wall':>8} {'CPU':>8}   (CPU: this process only; the machine's load shows in wall)")
    for stage, (wall, cpu) in figures.items():
        print(f"  {stage:<40} {wall:7.1f}s {cpu:7.1f}s")
    received = len(list((work / "mail").glob("*.eml")))
    print(f"requests created {result.created}, held {len(result.held)}; messages sent {report.sent}, "
          f"failed {report.failed}; files in the sink {received}")
    print(f"throughput {report.sent / figures['record, render, hand over, mark sent'][0]:.0f} messages/s sending, "
          f"{n / total:.0f} requests/s end to end; peak memory {psutil.Process().memory_info().rss / 2**20:.0f} MiB "
          f"(RSS at the end)")
    return 0 if report.sent == n == received else 1


if __name__ == "__main__":
    sys.exit(main())
