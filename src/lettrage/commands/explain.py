"""`lettrage explain RECORD_ID`: why a record matched what it matched, or why it matched nothing
(its candidates and why each lost). Reads the warehouse read-only."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="why a posting, ticket, PSP payment or remittance line matched (or not)")
    p.add_argument("record_id", help="posting_id, tpe_txn_id, psp_txn_id or remittance_line_id")
    p.set_defaults(func=run)


def run(args) -> int:
    import duckdb

    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.recon.explain import UnknownRecord, explain
    from lettrage.recon.warehouse import connect

    path = load_settings().warehouse_path
    if not path.exists():
        raise CommandError(f"no warehouse at {path}: run the daily reconciliation first")
    try:
        conn = connect(path, read_only=True)
    except duckdb.IOException as exc:
        raise CommandError(f"{path}: cannot open the warehouse ({str(exc).splitlines()[0]})") from exc
    try:
        print("\n".join(explain(conn, args.record_id)))
    except UnknownRecord as exc:
        raise CommandError(str(exc)) from exc
    finally:
        conn.close()
    return 0
