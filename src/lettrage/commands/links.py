"""`lettrage links`: payment-link requests from the command line.

    lettrage links list [--hotel H] [--status S]       the requests and where they stand
    lettrage links preview REQUEST_ID [--html|--eml F]  a message as the guest would get it (nothing sent)
    lettrage links approve REQUEST_ID... | --hotel H --all   step-by-step mode: let them go out
    lettrage links send-due [--hotel H]                 send what is due now, each message once
    lettrage links resolve SEND_ID --sent|--not-sent    settle a send whose outcome is unknown
"""

from __future__ import annotations

import getpass
import os


def _user() -> str:
    try:
        return os.environ.get("LETTRAGE_USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def add_parser(sub) -> None:
    p = sub.add_parser("links", help="payment-link requests: list, preview, approve, send what is due")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    ls = actions.add_parser("list", help="the requests, their status and their messages")
    ls.add_argument("--hotel", help="one hotel only")
    ls.add_argument("--status", help="one status only (e.g. pending_approval, sent, failed)")
    ls.add_argument("--limit", type=int, default=50, help="at most this many, newest first (default 50)")
    pv = actions.add_parser("preview", help="render a request's message without sending it")
    pv.add_argument("request_id", type=int, metavar="REQUEST_ID")
    pv.add_argument("--message", default=None, help="template: link (default), reminder, response_paid, ...")
    pv.add_argument("--channel", choices=("email", "sms"), help="default: the request's channel(s)")
    pv.add_argument("--html", action="store_true", help="print the HTML body too")
    pv.add_argument("--eml", metavar="FILE", help="write the whole e-mail (MIME) to FILE")
    ap = actions.add_parser("approve", help="approve requests waiting in step-by-step mode")
    ap.add_argument("request_ids", type=int, nargs="*", metavar="REQUEST_ID")
    ap.add_argument("--hotel", help="with --all: every request of this hotel waiting for approval")
    ap.add_argument("--all", action="store_true", help="every request waiting for approval (of --hotel)")
    ap.add_argument("--user", default=None, help="who approves (default: $LETTRAGE_USER or the login name)")
    sd = actions.add_parser("send-due", help="send the messages that are due now (what the sensor's runs do)")
    sd.add_argument("--hotel", action="append", help="only this hotel (repeatable)")
    rs = actions.add_parser("resolve", help="settle a send left unknown by an interrupted attempt")
    rs.add_argument("send_id", type=int, metavar="SEND_ID")
    how = rs.add_mutually_exclusive_group(required=True)
    how.add_argument("--sent", action="store_true", help="the guest did receive it: mark it sent")
    how.add_argument("--not-sent", action="store_true", help="it never arrived: send it at the next run")
    rs.add_argument("--user", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from lettrage.config import load_settings
    from lettrage.paylinks import store

    if args.action == "approve" and args.all == bool(args.request_ids):
        from lettrage.cli import CommandError

        raise CommandError("name the requests to approve, or use --all (with --hotel for one hotel)")
    settings = load_settings()
    sessions = store.session_factory(settings.ops_store_url)
    return {"list": _list, "preview": _preview, "approve": _approve, "send-due": _send_due,
            "resolve": _resolve}[args.action](args, settings, sessions)


def _list(args, settings, sessions) -> int:
    from sqlalchemy import select
    from tabulate import tabulate

    from lettrage.paylinks.store import LinkRequest, LinkSend
    from lettrage.recon.money import format_cents

    with sessions() as s:
        q = select(LinkRequest).order_by(LinkRequest.id.desc()).limit(args.limit)
        if args.hotel:
            q = q.where(LinkRequest.hotel_id == args.hotel)
        if args.status:
            q = q.where(LinkRequest.status == args.status)
        found = s.scalars(q).all()
        rows = []
        for r in found:
            sends = ", ".join(f"{x.kind} {x.channel} {x.status}" for x in r.sends) or "-"
            rows.append([r.id, r.hotel_id, r.confirmation_no, r.guest_name, r.kind,
                         format_cents(r.amount_cents, r.currency), r.channel, r.status,
                         f"{r.send_after:%Y-%m-%d %H:%M}" if r.send_after else "", sends, r.problem or ""])
        unknown = s.scalars(select(LinkSend).where(LinkSend.status == "unknown")).all()
    if not rows:
        print("No link requests" + (" matching" if args.hotel or args.status else "") + ".")
    else:
        print(tabulate(rows, headers=["id", "hotel", "confirmation", "guest", "kind", "amount", "channel", "status",
                                      "send after (UTC)", "messages", "problem"], tablefmt="simple"))
    for x in unknown:
        print(f"! send {x.id} (request {x.request_id}, {x.channel} to {x.recipient}) is unknown: {x.error}")
    return 0


def _preview(args, settings, sessions) -> int:
    import datetime as dt
    import email
    import email.policy

    from lettrage.cli import CommandError
    from lettrage.paylinks.notify.smtp import wire_bytes
    from lettrage.paylinks.outbox import open_outbox
    from lettrage.paylinks.rules import RulesError
    from lettrage.paylinks.sending import channels
    from lettrage.paylinks.store import LinkRequest
    from lettrage.paylinks.templates import TemplateError

    with sessions() as s:
        request = s.get(LinkRequest, args.request_id)
        if request is None:
            raise CommandError(f"no link request {args.request_id}")
        _ = request.sends  # loaded while the session is open
    name = args.message or request.template
    wanted = [args.channel] if args.channel else channels(request.channel)
    with open_outbox(settings, sessions, email=False, sms=False) as outbox:
        try:
            link_rules = outbox.rules.get(request.hotel_id)
            profile = link_rules.profile
            print(f"Request {request.id}: {request.kind} {request.amount_cents / 100:.2f} {request.currency} "
                  f"for {request.guest_name or '?'} ({request.hotel_id}, {request.confirmation_no}), "
                  f"{request.status}, template {request.service}/{request.language}/{name}\n")
            if "email" in wanted:
                rule = link_rules.rule(request.rule)
                attachments = [*profile.attachments, *(rule.attachments if rule else ())]
                built = outbox.composer.email(request, profile, name,
                                              message_id=f"<preview.{request.id}@{profile.domain}>",
                                              date=dt.datetime.now(dt.UTC), attachments=attachments)
                raw = wire_bytes(built)  # Bcc still in: the SMTP sender takes it out when it sends
                msg = email.message_from_bytes(raw, policy=email.policy.default)  # as a mailbox reads it
                for header in ("From", "To", "Cc", "Bcc", "Reply-To", "Subject"):
                    if msg[header]:
                        print(f"{header}: {msg[header]}")
                for part in msg.walk():
                    if part.get_filename():
                        how = "inline" if part.get("Content-ID") else "attached"
                        print(f"{how.capitalize()}: {part.get_filename()} ({part.get_content_type()})")
                print()
                print(msg.get_body(("plain",)).get_content())
                if args.html:
                    print(msg.get_body(("html",)).get_content())
                if args.eml:
                    from pathlib import Path

                    Path(args.eml).write_bytes(raw)
                    print(f"(the whole e-mail is in {args.eml})")
            if "sms" in wanted:
                print(f"SMS to {request.phone or '(no mobile number)'}:")
                print(outbox.composer.sms(request, profile, name))
        except (TemplateError, RulesError, ValueError) as exc:
            raise CommandError(str(exc)) from None
    return 0


def _approve(args, settings, sessions) -> int:
    from sqlalchemy import select

    from lettrage.cli import CommandError
    from lettrage.paylinks import requests, store
    from lettrage.paylinks.status import StatusError
    from lettrage.paylinks.store import LinkRequest

    with store.transaction(sessions) as s:
        ids = args.request_ids
        if args.all:
            q = select(LinkRequest.id).where(LinkRequest.status == "pending_approval")
            if args.hotel:
                q = q.where(LinkRequest.hotel_id == args.hotel)
            ids = list(s.scalars(q))
        try:
            approved = requests.approve(s, ids, args.user or _user())
        except (LookupError, StatusError) as exc:
            raise CommandError(str(exc)) from None
    print(f"Approved {len(approved)} request(s): they go out at the next sending run "
          "(`lettrage links send-due`, or the due_link_sends sensor).")
    return 0


def _send_due(args, settings, sessions) -> int:
    from lettrage.paylinks import sending
    from lettrage.paylinks.outbox import open_outbox

    with open_outbox(settings, sessions) as outbox:
        report = sending.send_due(sessions, outbox, hotel_ids=args.hotel)
    channels = ", ".join(f"{ch} {n}" for (ch, outcome), n in sorted(report.by_channel.items()) if outcome == "sent")
    print(f"Sent {report.sent + report.found_sent}" + (f" ({channels})" if channels else "")
          + f"; to retry later {report.retrying}; failed {report.failed}; unknown {report.unknown}; "
            f"in doubt {report.in_doubt}; expired requests {report.expired}.")
    if report.found_sent:
        print(f"{report.found_sent} interrupted attempt(s) had been delivered: not sent again.")
    for why in report.problems + [f"request {rid} held: {p}" for rid, p in report.held]:
        print(f"! {why}")
    if not settings.smtp_host:
        print(f"(no SMTP relay configured: e-mails are in {settings.mail_dir})")
    return 0


def _resolve(args, settings, sessions) -> int:
    from lettrage.cli import CommandError
    from lettrage.paylinks import sending
    from lettrage.paylinks.status import StatusError

    try:
        send = sending.resolve_by_hand(sessions, args.send_id, bool(args.sent), args.user or _user())
    except (LookupError, StatusError) as exc:
        raise CommandError(str(exc)) from None
    print(f"Send {send.id} is now {send.status}" + ("" if args.sent else ": it goes out at the next sending run")
          + ".")
    return 0
