"""`lettrage bench match`: generate data with ground truth, run the engine on it (as `lettrage
match` does: files in, files out), then the pandas merge_asof baseline in the same process, and
print the figures: seconds per stage, input rows per second, peak memory, precision and recall
per match kind and per exception code, the result hash, the ratio to the baseline.

    lettrage bench match --events N [--scenario NAME] [--seed S] [--threads N] [--memory-limit SIZE]
"""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    from lettrage.recon.bench.scenarios import SCENARIOS

    p = sub.add_parser("bench", help="benchmarks: `bench match` measures the matching engine")
    what = p.add_subparsers(dest="bench", metavar="WHAT")
    what.required = True
    m = what.add_parser("match", help="generate N payments with ground truth, match them, score and time")
    m.add_argument("--events", type=int, required=True, help="payments to generate (PMS and terminal rows each)")
    m.add_argument("--scenario", default="default", choices=sorted(SCENARIOS), help="data scenario (recon.md §5)")
    m.add_argument("--seed", type=int, default=42)
    m.add_argument("--threads", type=int, default=None)
    m.add_argument("--memory-limit", default=None, help="DuckDB memory limit for the engine, e.g. 1GB")
    m.add_argument("--keep", type=Path, default=None,
                   help="keep the generated data and outputs in this folder (a later run with the same events, "
                        "scenario and seed, and the same generator, reuses the data)")
    m.add_argument("--no-baseline", action="store_true", help="skip the pandas baseline")
    m.set_defaults(func=run)


def _generate(folder: str, events: int, scenario: str, seed: int) -> None:
    from lettrage.recon.bench.generate import generate

    generate(Path(folder), events, scenario, seed)


def generator_version() -> str:
    """The generator as it is now (its code and the rules its truth counts duplicates by), hashed:
    data kept by another version is made again, as its truth may say otherwise."""
    import hashlib

    from lettrage.recon.bench import generate, scenarios

    digest = hashlib.sha256(repr(generate.RULES).encode())
    for module in (generate, scenarios):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def run(args) -> int:
    import json
    import multiprocessing
    import resource
    import shutil
    import tempfile
    import threading
    import time

    import duckdb
    import psutil

    from lettrage.cli import CommandError
    from lettrage.commands.match import MEMORY
    from lettrage.recon.bench import baseline, score
    from lettrage.recon.matching.run import match_files

    if args.events < 100:
        raise CommandError("--events must be at least 100")
    if args.memory_limit is not None and not MEMORY.match(args.memory_limit):
        raise CommandError(f"--memory-limit {args.memory_limit!r}: give a size such as 1GB")
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lettrage-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        made = folder / "generated.json"
        wanted = {"events": args.events, "scenario": args.scenario, "seed": args.seed,
                  "generator": generator_version()}
        reused = made.exists() and json.loads(made.read_text(encoding="utf-8")) == wanted
        if not reused:  # generated in a child process: its memory is not counted as the engine's
            made.unlink(missing_ok=True)
            child = multiprocessing.get_context("spawn").Process(
                target=_generate, args=(str(folder), args.events, args.scenario, args.seed))
            child.start()
            child.join()
            if child.exitcode:
                raise CommandError(f"generating the data failed (exit {child.exitcode})")
            made.write_text(json.dumps(wanted), encoding="utf-8")
        gen_s = None if reused else time.perf_counter() - t
        files = {k: folder / f"{k}.parquet" for k in ("pms_postings", "tpe_transactions", "psp_transactions",
                                                      "remittances")}
        opt = {k: (v if v.exists() else None) for k, v in files.items()}
        out_dir = folder / "out"
        summary = match_files(pms=files["pms_postings"], tpe=files["tpe_transactions"], out=out_dir,
                              remittances=opt["remittances"], psp=opt["psp_transactions"],
                              hotels=folder / "hotels.csv", threads=args.threads, memory_limit=args.memory_limit)
        engine_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows_in = sum(summary["rows_read"].get(k, 0) for k in files)
        base = None
        if not args.no_baseline:
            proc = psutil.Process()
            start_rss = proc.memory_info().rss
            peak = [start_rss]
            done = threading.Event()

            def sample():
                while not done.wait(0.02):
                    peak[0] = max(peak[0], proc.memory_info().rss)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            base = baseline.run(files["pms_postings"], files["tpe_transactions"])
            done.set()
            sampler.join()
            base["peak_rss_mb"] = round(peak[0] / 2**20, 1)
            base["precision"] = baseline.precision(base.pop("frame"), folder / "truth_matches.parquet")
        scores = score.score(out_dir, folder / "truth_matches.parquet", folder / "truth_anomalies.parquet",
                             {"pms_postings": files["pms_postings"], "tpe_transactions": files["tpe_transactions"]})
        with duckdb.connect() as conn:
            n, h = conn.execute(f"""SELECT count(*), bit_xor(hash(leg::VARCHAR, match_id, side::VARCHAR, record_id,
                stage::VARCHAR, rule::VARCHAR, amount_delta_cents, flags)) FROM read_parquet('{out_dir / 'card_matches.parquet'}')""").fetchall()[0]
            xn, xh = conn.execute(f"""SELECT count(*), bit_xor(hash(exception_id, code, amount_cents))
                FROM read_parquet('{out_dir / 'exceptions.parquet'}')""").fetchall()[0]
        _print(args, summary, rows_in, engine_rss, base, scores, gen_s, f"{n}:{h:016x}/{xn}:{xh:016x}")
        print(json.dumps({"events": args.events, "scenario": args.scenario, "rows_in": rows_in,
                          "seconds": summary["seconds"], "rows_per_s": round(rows_in / summary["seconds"]),
                          "peak_rss_mb": round(engine_rss, 1), "baseline": base,
                          "result_hash": f"{n}:{h:016x}/{xn}:{xh:016x}"}, default=str))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _print(args, summary, rows_in, rss, base, scores, gen_s, digest) -> None:
    secs = summary["seconds"]
    print(f"lettrage bench match: {args.events:,} events, scenario {args.scenario}, seed {args.seed}, "
          f"threads {args.threads or 'all'}, memory limit {args.memory_limit or 'none'} "
          f"({f'data generated in {gen_s:.1f} s' if gen_s is not None else f'data of an earlier run in {args.keep}'})")
    print(f"input rows {rows_in:,}: {secs:.2f} s load to outputs written = {rows_in / secs:,.0f} rows/s, "
          f"peak memory {rss:,.0f} MB")
    cpu = summary.get("stage_cpu_seconds", {})
    print("stage seconds (wall / cpu of all threads): " + ", ".join(
        f"{k} {v:.2f}/{cpu.get(k, 0):.2f}" for k, v in summary["stage_seconds"].items()))
    if base:
        print(f"baseline pandas merge_asof (exact 1:1 only): {base['seconds']:.2f} s, {base['pairs']:,} pairs, "
              f"precision {base['precision']}, peak memory {base['peak_rss_mb']:,.0f} MB; "
              f"engine is {base['seconds'] / secs:.2f}x faster")
    print(f"{'match kind':<28}{'predicted':>10}{'truth':>10}{'precision':>11}{'value-eq P':>11}{'recall':>9}{'in window':>10}")
    for k, v in scores["kinds"].items():
        print(f"{k:<28}{v['predicted']:>10}{v['truth']:>10}{_f(v['precision']):>11}{_f(v['precision_value_equivalent']):>11}"
              f"{_f(v['recall']):>9}{_f(v['recall_in_window']):>10}")
    print(f"{'exception code':<28}{'predicted':>10}{'truth':>10}{'precision':>11}{'value-eq P':>11}{'recall':>9}"
          f"{'value-eq R':>11}")
    for k, v in scores["codes"].items():
        print(f"{k:<28}{v['predicted']:>10}{v['truth']:>10}{_f(v['precision']):>11}"
              f"{_f(v.get('precision_value_equivalent')):>11}{_f(v['recall']):>9}{_f(v.get('recall_value_equivalent')):>11}")
    print(f"result hash {digest}")


def _f(x) -> str:
    return "-" if x is None else f"{x:.4f}"
