"""`lettrage decide`: a person's decision on the matching, stored with who and when, replayed by
every later run, and applied at once to the records' business dates.

    lettrage decide pin --leg pms_tpe --left P1 [P2 ...] --right T1 [T2 ...] --by NAME [--comment TEXT]
    lettrage decide split MATCH_ID [--leg LEG] --by NAME [--comment TEXT]
    lettrage decide resolve EXCEPTION_ID --comment TEXT --by NAME
"""

from __future__ import annotations

LEGS = ["pms_tpe", "pms_psp", "tpe_remittance"]


def add_parser(sub) -> None:
    p = sub.add_parser("decide", help="pin a match, split one apart, or resolve an exception")
    what = p.add_subparsers(dest="decision", metavar="DECISION")
    what.required = True
    pin = what.add_parser("pin", help="match these records together (stage 'manual')")
    pin.add_argument("--leg", required=True, choices=LEGS)
    pin.add_argument("--left", nargs="+", required=True, help="left record ids (PMS postings; tickets for tpe_remittance)")
    pin.add_argument("--right", nargs="+", required=True, help="right record ids")
    split = what.add_parser("split", help="undo a match: its records are never matched together again")
    split.add_argument("match_id")
    split.add_argument("--leg", choices=LEGS)
    resolve = what.add_parser("resolve", help="close an exception with a comment")
    resolve.add_argument("exception_id")
    for q in (pin, split, resolve):
        q.add_argument("--by", required=True, help="who decides (kept with the decision)")
        q.add_argument("--comment", required=q is resolve, default="", help="why")
        q.set_defaults(func=run)


def run(args) -> int:
    import datetime as dt

    import duckdb

    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.recon import decisions
    from lettrage.recon.matching.store import rematch
    from lettrage.recon.warehouse import open_warehouse

    path = load_settings().warehouse_path
    if not path.exists():
        raise CommandError(f"no warehouse at {path}: run the daily reconciliation first")
    try:
        with open_warehouse(path) as conn:
            leg, left, right, exc_id = getattr(args, "leg", None), (), (), None
            if args.decision == "pin":
                left, right = tuple(args.left), tuple(args.right)
                ids = list(left + right)
            elif args.decision == "split":
                rows = conn.execute("SELECT leg::VARCHAR, side::VARCHAR, record_id FROM card_matches WHERE match_id = ?"
                                    + (" AND leg = ?" if leg else ""), [args.match_id] + ([leg] if leg else [])).fetchall()
                if not rows:
                    raise CommandError(f"no match {args.match_id!r} in the ledger")
                if len({r[0] for r in rows}) > 1:
                    raise CommandError(f"match {args.match_id} exists in several legs: give --leg")
                leg = rows[0][0]
                left = tuple(r[2] for r in rows if r[1] == "left")
                right = tuple(r[2] for r in rows if r[1] == "right")
                ids = list(left + right)
            else:
                rows = conn.execute("SELECT record_id FROM exceptions WHERE exception_id = ?", [args.exception_id]).fetchall()
                if not rows:
                    raise CommandError(f"no exception {args.exception_id!r}")
                exc_id, ids = args.exception_id, [rows[0][0]]
            days = conn.execute("""SELECT DISTINCT hotel_id, business_date FROM (
                SELECT hotel_id, business_date, posting_id AS id FROM pms_postings UNION ALL
                SELECT hotel_id, business_date, tpe_txn_id FROM tpe_transactions UNION ALL
                SELECT hotel_id, business_date, psp_txn_id FROM psp_transactions UNION ALL
                SELECT hotel_id, business_date, remittance_line_id FROM remittances)
                WHERE id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2""", [ids]).fetchall()
            if len(days) == 0:
                raise CommandError(f"none of {', '.join(ids)} is in the warehouse")
            decision_id = decisions.record(conn, args.decision, args.by, leg, left, right, exc_id, args.comment)
            hotels = sorted({h for h, _ in days})
            start, end = min(d for _, d in days), max(d for _, d in days) + dt.timedelta(days=1)
            out = rematch(conn, start, end, hotels)
    except duckdb.IOException as exc:
        raise CommandError(f"{path}: the warehouse is busy (a run is writing it); try again "
                           f"({str(exc).splitlines()[0]})") from exc
    print(f"decision {decision_id} ({args.decision}) recorded by {args.by}; {', '.join(hotels)} "
          f"{start}..{end - dt.timedelta(days=1)} re-matched: {out.card_matches.num_rows} ledger rows, "
          f"{out.exceptions.num_rows} exceptions")
    return 0
