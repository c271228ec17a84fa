"""Payment links in Dagster: the requests the hotels' rules ask for, and the messages sent.

`link_requests` reads each hotel's latest reservation export from the warehouse, applies its
link rules (`<inbox>/<hotel>/link_rules.yaml`) and brings the operational store in line: new
requests, changed ones updated, cancelled ones withdrawn. `link_sends` sends what is due, each
message exactly once (paylinks/sending.py). The `due_link_sends` sensor (pipelines/links.py)
requests `link_sends` runs from the store alone; nothing here but `link_requests` opens the
warehouse.
"""

import datetime as dt

import dagster as dg
from sqlalchemy import func, select

from lettrage.config import load_settings
from lettrage.paylinks import requests, rules, sending
from lettrage.paylinks.messages import Composer
from lettrage.paylinks.outbox import open_outbox
from lettrage.paylinks.store import LinkRequest, LinkSend
from lettrage.paylinks.templates import TemplateLibrary
from lettrage.pipelines.partitions import run_hotels
from lettrage.recon.money import format_cents
from lettrage.resources.inbox import InboxResource
from lettrage.resources.links import OpsStoreResource, SmtpRelayResource, TwilioResource
from lettrage.resources.warehouse import WarehouseResource

GROUP = "links"
_LATEST_EXPORT = """
SELECT r.* FROM reservations r
JOIN (SELECT hotel_id, max(business_date) AS d FROM reservations GROUP BY hotel_id) m
  ON r.hotel_id = m.hotel_id AND r.business_date = m.d
WHERE r.hotel_id IN (SELECT unnest(?))
"""


def _table(header: list[str], rows: list[list]) -> str:
    if not rows:
        return "_none_"
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def requests_by_status(session, hotel_ids: list[str] | None) -> str:
    """Requests per status and channel, with their amount: what the front desk asks about."""
    q = (select(LinkRequest.status, LinkRequest.channel, LinkRequest.currency, func.count(),
                func.sum(LinkRequest.amount_cents))
         .group_by(LinkRequest.status, LinkRequest.channel, LinkRequest.currency)
         .order_by(LinkRequest.status, LinkRequest.channel))
    if hotel_ids:
        q = q.where(LinkRequest.hotel_id.in_(hotel_ids))
    rows = [[status, channel, n, format_cents(int(total or 0), currency)]
            for status, channel, currency, n, total in session.execute(q)]
    return _table(["status", "channel", "requests", "amount"], rows)


def sends_by_status(session, hotel_ids: list[str] | None) -> tuple[str, dict[str, int]]:
    q = (select(LinkSend.status, LinkSend.channel, LinkSend.kind, func.count())
         .join(LinkRequest).group_by(LinkSend.status, LinkSend.channel, LinkSend.kind)
         .order_by(LinkSend.status, LinkSend.channel, LinkSend.kind))
    if hotel_ids:
        q = q.where(LinkRequest.hotel_id.in_(hotel_ids))
    rows = session.execute(q).all()
    totals: dict[str, int] = {}
    for status, _channel, _kind, n in rows:
        totals[status] = totals.get(status, 0) + n
    return _table(["status", "channel", "message", "sends"], [list(r) for r in rows]), totals


def _preview(session, hotel_ids: list[str] | None) -> str:
    q = select(LinkRequest).order_by(LinkRequest.updated_at.desc(), LinkRequest.id.desc()).limit(10)
    if hotel_ids:
        q = q.where(LinkRequest.hotel_id.in_(hotel_ids))
    rows = [[r.id, r.hotel_id, r.confirmation_no, r.guest_name, r.kind, format_cents(r.amount_cents, r.currency),
             r.channel, r.status, f"{r.send_after:%Y-%m-%d %H:%M}" if r.send_after else "", r.problem or ""]
            for r in session.scalars(q)]
    return _table(["id", "hotel", "confirmation", "guest", "kind", "amount", "channel", "status", "send after (UTC)",
                   "problem"], rows)


@dg.asset(
    deps=["reservations"],
    group_name=GROUP,
    kinds={"python", "duckdb", "sqlalchemy"},
    pool="duckdb",
)
def link_requests(context: dg.AssetExecutionContext, warehouse: WarehouseResource, inbox_files: InboxResource,
                  ops_store: OpsStoreResource):
    """Payment requests from the hotels' link rules over their latest reservation export:
    prepayments of non-refundable stays, deposits due, no-show guarantees (pre-authorisation from
    D-18), installments, split bills, third parties paying. One request per reservation at most;
    a changed reservation updates its request, a cancelled one withdraws it. The operational store
    is the system of record; requests with a problem (a missing merge value) are held as drafts."""
    settings = load_settings()
    hotels = inbox_files.hotels(run_hotels(context))
    with warehouse.connect() as conn:
        frame = conn.execute(_LATEST_EXPORT, [list(hotels)]).df()
    sessions = ops_store.sessions()
    with sessions() as s:
        composer = Composer(TemplateLibrary.from_store(s), settings.public_base_url, settings.link_secret)
    book = rules.RulesBook(settings.link_rules_dir, hotels, settings.group_timezone)
    now = dt.datetime.now(dt.UTC)
    per_hotel, held, totals = [], [], {"created": 0, "updated": 0, "cancelled": 0, "unchanged": 0}
    for hotel_id in hotels:
        export = frame[frame["hotel_id"] == hotel_id]
        if not rules.rules_path(book.rules_dir, hotel_id).exists():
            per_hotel.append([hotel_id, len(export), "no link rules", "", "", "", "", ""])
            continue
        try:
            link_rules = book.get(hotel_id)
        except rules.RulesError as exc:
            context.log.error(str(exc))  # the check link_rules_readable fails with the same words
            per_hotel.append([hotel_id, len(export), f"rules unreadable: {exc.problem}", "", "", "", "", ""])
            continue
        result = requests.apply_rules(sessions, link_rules, composer, export, now)
        for key in totals:
            totals[key] += getattr(result, key)
        held += [[hotel_id, rid, why] for rid, why in result.held]
        skipped = ", ".join(f"{why}: {n}" for why, n in sorted(result.skipped.items(), key=lambda kv: -kv[1]))
        per_hotel.append([hotel_id, len(export), link_rules.mode, result.created, result.updated, result.cancelled,
                          len(result.held), skipped])
    with sessions() as s:
        by_status = requests_by_status(s, list(hotels))
        preview = _preview(s, list(hotels))
    return dg.MaterializeResult(metadata={
        "reservations_read": dg.MetadataValue.int(len(frame)),
        "requests_created": dg.MetadataValue.int(totals["created"]),
        "requests_updated": dg.MetadataValue.int(totals["updated"]),
        "requests_cancelled": dg.MetadataValue.int(totals["cancelled"]),
        "requests_held": dg.MetadataValue.int(len(held)),
        "by_hotel": dg.MetadataValue.md(_table(
            ["hotel", "reservations", "mode", "created", "updated", "cancelled", "held", "no request (why)"], per_hotel)),
        "by_status_and_channel": dg.MetadataValue.md(by_status),
        "held_requests": dg.MetadataValue.md(_table(["hotel", "request", "problem"], held[:50])),
        "preview": dg.MetadataValue.md(preview),
    })


@dg.asset(
    deps=[link_requests],
    group_name=GROUP,
    kinds={"python", "email", "twilio"},
)
def link_sends(context: dg.AssetExecutionContext, ops_store: OpsStoreResource, guest_mail: SmtpRelayResource,
               guest_sms: TwilioResource):
    """The messages to guests: link e-mails and SMS whose time has come, and reminders, each sent
    exactly once (recorded before it goes out; an interrupted attempt is looked up, never blindly
    repeated). Transient failures are retried later with backoff; refused addresses and invalid
    numbers are reported here. Requests nobody paid before their expiry become expired."""
    settings = guest_sms.apply(guest_mail.apply(load_settings()))
    sessions = ops_store.sessions()
    hotels = run_hotels(context)
    with open_outbox(settings, sessions) as outbox:
        report = sending.send_due(sessions, outbox, hotel_ids=hotels)
    for problem in report.problems:
        context.log.warning(problem)
    with sessions() as s:
        sends_table, send_totals = sends_by_status(s, hotels)
        by_status = requests_by_status(s, hotels)
    this_run = _table(["channel", "outcome", "messages"],
                      [[ch, outcome, n] for (ch, outcome), n in sorted(report.by_channel.items())])
    return dg.MaterializeResult(metadata={
        "sent": dg.MetadataValue.int(report.sent + report.found_sent),
        "retrying": dg.MetadataValue.int(report.retrying),
        "failed": dg.MetadataValue.int(report.failed),
        "unknown": dg.MetadataValue.int(report.unknown),
        "in_doubt": dg.MetadataValue.int(report.in_doubt),
        "not_sent_request_closed": dg.MetadataValue.int(report.skipped),
        "requests_expired": dg.MetadataValue.int(report.expired),
        "this_run_by_channel": dg.MetadataValue.md(this_run),
        "all_sends_by_status": dg.MetadataValue.md(sends_table),
        "sends_unknown_total": dg.MetadataValue.int(send_totals.get("unknown", 0)),
        "requests_by_status_and_channel": dg.MetadataValue.md(by_status),
        "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems[:50]) or "_none_"),
    })


@dg.asset_check(asset=link_sends, description="No request's link was sent twice on a channel, and no "
                                               "e-mail Message-ID or SMS went out twice.")
def no_request_sent_twice(ops_store: OpsStoreResource) -> dg.AssetCheckResult:
    with ops_store.sessions()() as s:
        twice = s.execute(
            select(LinkSend.request_id, LinkSend.channel, func.count())
            .where(LinkSend.kind == "link", LinkSend.status.in_(["sent", "unknown"]))
            .group_by(LinkSend.request_id, LinkSend.channel).having(func.count() > 1)).all()
        same_id = s.execute(
            select(func.coalesce(LinkSend.message_id, LinkSend.provider_id), func.count())
            .where(LinkSend.status == "sent", func.coalesce(LinkSend.message_id, LinkSend.provider_id).is_not(None))
            .group_by(func.coalesce(LinkSend.message_id, LinkSend.provider_id)).having(func.count() > 1)).all()
        checked = s.scalar(select(func.count()).select_from(LinkSend).where(LinkSend.status == "sent"))
    rows = [[rid, ch, n] for rid, ch, n in twice] + [["", ident, n] for ident, n in same_id]
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"sends_checked": dg.MetadataValue.int(checked or 0),
                  "sent_twice": dg.MetadataValue.int(len(rows)),
                  "details": dg.MetadataValue.md(_table(["request", "channel / message id", "times"], rows))},
    )


@dg.asset_check(asset=link_requests, description="Every hotel's link rules file can be read.")
def link_rules_readable(inbox_files: InboxResource) -> dg.AssetCheckResult:
    settings = load_settings()
    hotels = inbox_files.hotels()
    book = rules.RulesBook(settings.link_rules_dir, hotels, settings.group_timezone)
    rows = []
    for hotel_id in hotels:
        if rules.rules_path(book.rules_dir, hotel_id).exists():
            try:
                book.get(hotel_id)
            except rules.RulesError as exc:
                rows.append([hotel_id, str(exc)])
    return dg.AssetCheckResult(
        passed=not rows,
        metadata={"unreadable": dg.MetadataValue.int(len(rows)),
                  "problems": dg.MetadataValue.md(_table(["hotel", "problem"], rows))},
    )


LINK_ASSETS = [link_requests, link_sends]
LINK_CHECKS = [no_request_sent_twice, link_rules_readable]
