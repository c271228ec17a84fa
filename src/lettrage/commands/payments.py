"""`lettrage payments capture|release|refund|charge-due`: money already held or taken, from the
command line (the same actions as the dashboard and the payments API)."""

from __future__ import annotations

import argparse


def _amount(text: str) -> int:
    from lettrage.recon.money import parse_amount

    try:
        cents = parse_amount(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r} (e.g. 120.00)") from None
    if cents <= 0:
        raise argparse.ArgumentTypeError(f"the amount must be more than zero, got {text}")
    return cents


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (YYYY-MM-DD)") from None


def add_parser(sub) -> None:
    p = sub.add_parser("payments", help="capture, release or refund a payment; charge due installments")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    cap = actions.add_parser("capture", help="capture a pre-authorisation (no-show), all of it or an amount")
    cap.add_argument("request_id", type=int, help="the link request id")
    cap.add_argument("--amount", type=_amount, help="amount to capture, e.g. 120.00 (default: all of it; "
                                                   "the rest is released)")
    rel = actions.add_parser("release", help="release a pre-authorisation (the guest came)")
    rel.add_argument("request_id", type=int, help="the link request id")
    ref = actions.add_parser("refund", help="refund a payment, all of it or an amount")
    ref.add_argument("request_id", type=int, help="the link request id")
    ref.add_argument("--amount", type=_amount, help="amount to refund (default: what is left)")
    due = actions.add_parser("charge-due", help="charge the installments due (merchant-initiated, stored card)")
    due.add_argument("--date", type=_date, default=None, help="charge what is due by this date (default today)")
    p.set_defaults(func=run)


def run(args) -> int:
    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.paylinks import payments, store
    from lettrage.recon.money import format_cents

    settings = load_settings()
    sessions = store.session_factory(settings.ops_store_url)
    try:
        if args.action == "charge-due":
            outcomes = payments.charge_due_installments(sessions, settings, args.date)
            for o in outcomes:
                print(f"request {o.request_id}: installment {o.part_status} ({o.detail})")
            print(f"{len(outcomes)} installment(s) charged")
            return 0
        if args.action == "release":
            outcome = payments.release(sessions, settings, args.request_id)
        else:
            outcome = getattr(payments, args.action)(sessions, settings, args.request_id, args.amount)
    except payments.PaymentError as exc:
        raise CommandError(str(exc), code=1) from None
    how = format_cents(args.amount) if getattr(args, "amount", None) else "in full"
    print(f"request {args.request_id}: {args.action} {how if args.action != 'release' else ''}".rstrip()
          + f" -> request {outcome.request_status}, payment {outcome.part_status}")
    return 0
