"""Sending each message exactly once.

1. Record: a `link_sends` row per message, with a unique idempotency key (`link:<request>:<channel>`,
   `reminder:<request>:<n>:<channel>`, `response:<request>:<status>:<channel>`, ...) and, for e-mail,
   its Message-ID, committed BEFORE anything goes out. A second record for the same key is refused
   by the database, so a message is never recorded, hence never sent, twice.
2. Claim: the attempt is written down (who, until when, attempt number), committed.
3. Hand over to the SMTP server or Twilio.
4. Mark it sent (or failed, or to retry), committed.

A crash between 1 and 2 leaves a recorded send with no attempt: the next run simply sends it.
A crash between 2 and 4 leaves an attempt whose holder is gone: the message may or may not have
left. The next run looks it up before anything else: Twilio lists the messages to that number
(the body, which carries the guest's own link, is the marker); the local mail sink keeps each
message under its Message-ID. Found: marked sent, not sent again. Not found: sent now. When it
cannot be known (a real SMTP relay keeps no queryable record) the send becomes `unknown`, is
reported, and waits for a person (`lettrage links resolve`): never a blind second message.

Transient failures are retried with exponential backoff up to `max_attempts`; permanent ones
(refused address, invalid number) end the send and are reported; the request becomes `failed`
when none of its channels got through. A request that was cancelled, paid or expired before its
turn is not sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lettrage.paylinks import status as st
from lettrage.paylinks.messages import Composer
from lettrage.paylinks.notify import DeliveryError
from lettrage.paylinks.notify.sms import body_marker
from lettrage.paylinks.requests import expire_overdue, move
from lettrage.paylinks.rules import RulesBook, RulesError
from lettrage.paylinks.store import LinkRequest, LinkSend, transaction
from lettrage.paylinks.templates import TemplateError

FAULT_ENV = "LETTRAGE_FAULT"  # tests: "after_record" or "after_handover" ends the process there
SEND_KINDS = ("link", "reminder", "response", "hotel_notice")
REMINDABLE = {"sent", "opened", "refused"}
# A link message still goes out once another channel's did (the request is then "sent" already).
LINK_SENDABLE = {"scheduled", "sent", "opened", "pending", "refused"}
_CHUNK = 500


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        os._exit(75)  # a crash, as a kill would leave it: no cleanup, no commit


def channels(channel: str) -> list[str]:
    return ["email", "sms"] if channel == "both" else [channel]


@dataclass
class SendPolicy:
    backoff_seconds: float = 60.0  # first retry after this, doubling each time
    max_attempts: int = 5
    lease_seconds: float = 600.0  # an attempt older than this, holder alive or not, is in doubt
    status_callback_url: str | None = None  # Twilio posts delivery statuses there


@dataclass
class Outbox:
    """Everything a batch of sends needs: templates, the hotels' rules, the two channels."""

    composer: Composer
    rules: RulesBook
    email: object | None  # notify.smtp.SmtpSender (send, lookup)
    sms: object | None  # notify.sms.TwilioSender or SmsFiles (send, lookup)
    policy: SendPolicy = field(default_factory=SendPolicy)
    fallback_notify: str = ""  # where hotel notices go when a hotel names no address


@dataclass
class Report:
    recorded: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    in_doubt: int = 0
    found_sent: int = 0  # interrupted attempts found delivered (not sent again)
    resent: int = 0  # interrupted attempts found not delivered (sent again)
    skipped: int = 0  # request cancelled, paid or expired before its turn
    expired: int = 0
    held: list[tuple[int, str]] = field(default_factory=list)  # (request, why it was not recorded)
    problems: list[str] = field(default_factory=list)
    by_channel: Counter = field(default_factory=Counter)  # (channel, outcome) -> count

    def merge(self, other: Report) -> Report:
        for name in ("recorded", "sent", "retrying", "failed", "unknown", "in_doubt", "found_sent", "resent",
                     "skipped", "expired"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.held += other.held
        self.problems += other.problems
        self.by_channel += other.by_channel
        return self


def _message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _recipient(request: LinkRequest, kind: str, channel: str, notify: str) -> str | None:
    if kind == "hotel_notice":
        return notify or None
    return request.email if channel == "email" else request.phone


def _new_send(request: LinkRequest, kind: str, channel: str, template: str, key: str, domain: str,
              recipient: str | None, now: dt.datetime, merge_values: dict | None = None) -> LinkSend:
    return LinkSend(request_id=request.id, channel=channel, kind=kind, template=template, idempotency_key=key,
                    status="recorded", recipient=recipient, recorded_at=now, updated_at=now, attempts=0,
                    in_doubt=False, merge_values=merge_values,
                    message_id=_message_id(key, domain) if channel == "email" else None)


def record_send(session: Session, request: LinkRequest, outbox: Outbox, *, kind: str, channel: str,
                template: str, key: str | None = None, merge_values: dict | None = None,
                now: dt.datetime | None = None) -> LinkSend | None:
    """Record one message to send (in the caller's transaction). None if that key was already
    recorded: the message exists, it will not be sent twice. E.g. a response to a notification:
        record_send(s, req, outbox, kind="response", channel="email", template="response_paid",
                    key=f"response:{req.id}:paid:email")"""
    if kind not in SEND_KINDS:
        raise ValueError(f"send kind {kind!r}: one of {', '.join(SEND_KINDS)}")
    now = now or dt.datetime.now(dt.UTC)
    profile = outbox.rules.get(request.hotel_id).profile
    key = key or f"{kind}:{request.id}:{channel}"
    send = _new_send(request, kind, channel, template, key, profile.domain,
                     _recipient(request, kind, channel, profile.notify or outbox.fallback_notify), now, merge_values)
    try:
        with session.begin_nested():
            session.add(send)
    except IntegrityError:
        return None
    return send


def _due_requests(session: Session, now: dt.datetime, hotel_ids: list[str] | None, limit: int | None):
    not_expired = or_(LinkRequest.expires_at.is_(None), LinkRequest.expires_at > now)
    q = select(LinkRequest).where(LinkRequest.status == "scheduled", LinkRequest.problem.is_(None),
                                  LinkRequest.send_after <= now, not_expired)
    r = select(LinkRequest).where(LinkRequest.status.in_(sorted(REMINDABLE)), LinkRequest.reminder_days.is_not(None),
                                  LinkRequest.sent_at.is_not(None), not_expired)
    if hotel_ids:
        q, r = q.where(LinkRequest.hotel_id.in_(hotel_ids)), r.where(LinkRequest.hotel_id.in_(hotel_ids))
    return (session.scalars(q.order_by(LinkRequest.send_after, LinkRequest.id).limit(limit)).all(),
            session.scalars(r.order_by(LinkRequest.id)).all())


def record_due(sessions: sessionmaker[Session], outbox: Outbox, now: dt.datetime | None = None,
               hotel_ids: list[str] | None = None, limit: int | None = None) -> Report:
    """Record the link messages whose time has come, and the reminders due."""
    now = now or dt.datetime.now(dt.UTC)
    report = Report()
    with transaction(sessions) as s:
        due, remindable = _due_requests(s, now, hotel_ids, limit)
        wanted: list[tuple[LinkRequest, str, str, str, str]] = []  # request, kind, channel, template, key
        for req in due:
            wanted += [(req, "link", ch, req.template, f"link:{req.id}:{ch}") for ch in channels(req.channel)]
        for req in remindable:
            for n, days in enumerate(req.reminder_days or [], start=1):
                if req.sent_at + dt.timedelta(days=days) <= now:
                    wanted += [(req, "reminder", ch, "reminder", f"reminder:{req.id}:{n}:{ch}")
                               for ch in channels(req.channel)]
        keys = [w[4] for w in wanted]
        known = set()
        for i in range(0, len(keys), _CHUNK):
            known.update(s.scalars(select(LinkSend.idempotency_key)
                                   .where(LinkSend.idempotency_key.in_(keys[i:i + _CHUNK]))))
        for req, kind, channel, template, key in wanted:
            if key in known:
                continue
            try:
                profile = outbox.rules.get(req.hotel_id).profile
            except RulesError as exc:
                req.problem = str(exc)
                report.held.append((req.id, str(exc)))
                continue
            s.add(_new_send(req, kind, channel, template, key, profile.domain,
                            _recipient(req, kind, channel, ""), now))
            report.recorded += 1
    if report.recorded:
        _fault("after_record")
    return report


def _settle(session: Session, request: LinkRequest, now: dt.datetime) -> None:
    """A scheduled request is sent once one of its link messages went out, failed once all failed."""
    if request.status != "scheduled":
        return
    links = [x for x in request.sends if x.kind == "link"]
    sent = [x for x in links if x.status == "sent"]
    if sent:
        move(request, "sent", now)
        request.sent_at = min(x.sent_at or now for x in sent)
    elif links and all(x.status == "failed" for x in links):
        move(request, "failed", now)
        request.problem = "; ".join(x.error or "failed" for x in links)


def _still_wanted(send: LinkSend, request: LinkRequest) -> str | None:
    if send.kind == "link" and request.status not in LINK_SENDABLE:
        return f"not sent: the request is {request.status}"
    if send.kind == "reminder" and request.status not in REMINDABLE:
        return f"not sent: the request is {request.status}"
    if send.kind in ("link", "reminder") and request.expires_at and request.expires_at <= dt.datetime.now(dt.UTC):
        return "not sent: the link has expired"
    if not send.recipient:
        return f"not sent: no {'e-mail address' if send.channel == 'email' else 'mobile number'}"
    return None


def _complete(outbox: Outbox, send: LinkSend, request: LinkRequest) -> None:
    """Fill what a send recorded elsewhere may lack: its Message-ID, its recipient."""
    profile = outbox.rules.get(request.hotel_id).profile
    if send.channel == "email" and not send.message_id:
        send.message_id = _message_id(send.idempotency_key, profile.domain)
    if not send.recipient:
        send.recipient = _recipient(request, send.kind, send.channel, profile.notify or outbox.fallback_notify)
    if not send.template:
        send.template = send.kind


def _template_name(outbox: Outbox, send: LinkSend, request: LinkRequest, language: str) -> str:
    """The send's template, or its kind's general one ("hotel_notice_paid" -> "hotel_notice")."""
    try:
        outbox.composer.library.locate(request.hotel_id, request.service, language, send.template)
        return send.template
    except TemplateError:
        return send.kind


def _compose(outbox: Outbox, send: LinkSend, request: LinkRequest):
    """The e-mail (EmailMessage) or SMS text of a recorded send, the same at every attempt."""
    link_rules = outbox.rules.get(request.hotel_id)
    profile = link_rules.profile
    notice = send.kind == "hotel_notice"
    language = profile.language if notice else None
    name = _template_name(outbox, send, request, language or request.language)
    if send.channel == "sms":
        return outbox.composer.sms(request, profile, name, send.merge_values, language)
    attachments: list[Path] = []
    if send.kind in ("link", "reminder"):
        rule = link_rules.rule(request.rule)
        attachments = list(dict.fromkeys([*profile.attachments, *(rule.attachments if rule else ())]))
    return outbox.composer.email(request, profile, name, message_id=send.message_id, date=send.recorded_at,
                                 to=send.recipient if notice else None, attachments=attachments,
                                 extra=send.merge_values, language=language, copies=not notice)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_gone(claimed_by: str | None) -> bool:
    """The process that claimed an attempt has ended (it crashed: nobody will finish it)."""
    import psutil

    try:
        host, pid, _ = (claimed_by or "").split(":")
        return host == socket.gethostname() and not psutil.pid_exists(int(pid))
    except ValueError:
        return True


def _apply_failure(session: Session, send: LinkSend, exc: DeliveryError, policy: SendPolicy, now: dt.datetime,
                   report: Report) -> None:
    send.claimed_by, send.lease_until, send.error = None, None, str(exc)
    if exc.outcome == "in_doubt":
        send.in_doubt = True
        report.in_doubt += 1
        report.by_channel[(send.channel, "in doubt")] += 1
        return
    if exc.outcome == "transient" and send.attempts < policy.max_attempts:
        delay = min(policy.backoff_seconds * 2 ** (send.attempts - 1), 6 * 3600)
        send.next_attempt_at = (send.last_attempt_at or now) + dt.timedelta(seconds=delay)
        report.retrying += 1
        report.by_channel[(send.channel, "retrying")] += 1
        return
    if exc.outcome == "transient":
        send.error = f"gave up after {send.attempts} attempts: {exc}"
    send.status = "failed"
    report.failed += 1
    report.by_channel[(send.channel, "failed")] += 1
    report.problems.append(f"send {send.id} (request {send.request_id}, {send.channel} to {send.recipient}): "
                           f"{send.error}")
    _settle(session, send.request, now)


def _mark_sent(session: Session, send: LinkSend, provider_id: str | None, note: str | None, now: dt.datetime) -> None:
    send.status, send.sent_at = "sent", send.sent_at or now
    send.claimed_by, send.lease_until, send.in_doubt, send.next_attempt_at = None, None, False, None
    send.provider_id = provider_id or send.provider_id
    send.error = note or None
    _settle(session, send.request, now)


def _record_sent(sessions: sessionmaker[Session], send_id: int, request_id: int, kind: str,
                 provider_id: str | None, note: str | None) -> None:
    """The common case of _mark_sent in two UPDATEs (a batch of 10,000 feels the ORM's loads).
    scheduled -> sent is a move the state machine allows; the version moves like the ORM's."""
    now = dt.datetime.now(dt.UTC)
    with transaction(sessions) as s:
        s.execute(update(LinkSend).where(LinkSend.id == send_id).values(
            status="sent", sent_at=now, updated_at=now, claimed_by=None, lease_until=None, in_doubt=False,
            next_attempt_at=None, provider_id=provider_id, error=note or None))
        if kind == "link":
            s.execute(update(LinkRequest).where(LinkRequest.id == request_id, LinkRequest.status == "scheduled")
                      .values(status="sent", sent_at=now, status_changed_at=now, updated_at=now,
                              version=LinkRequest.version + 1))


def _sender(outbox: Outbox, channel: str):
    sender = outbox.email if channel == "email" else outbox.sms
    if sender is None:
        raise DeliveryError("transient", f"no {channel} sender configured")
    return sender


def _deliver_one(sessions: sessionmaker[Session], outbox: Outbox, send_id: int, holder: str, report: Report) -> None:
    now = dt.datetime.now(dt.UTC)
    with transaction(sessions) as s:
        send = s.get(LinkSend, send_id)
        if send is None or send.status != "recorded" or send.lease_until is not None or send.in_doubt:
            return  # another process has it, or it is settled
        request = send.request
        try:
            _complete(outbox, send, request)
        except RulesError as exc:
            send.error = f"waiting: {exc}"  # the hotel's settings, not the message, need fixing
            send.next_attempt_at = now + dt.timedelta(seconds=outbox.policy.backoff_seconds)
            report.problems.append(f"send {send.id} (request {request.id}): {send.error}")
            return
        why_not = _still_wanted(send, request)
        if why_not:
            send.status, send.error = "failed", why_not
            report.skipped += 1
            _settle(s, request, now)
            return
        try:
            payload = _compose(outbox, send, request)
        except (TemplateError, RulesError, ValueError, OSError) as exc:
            send.status, send.error = "failed", f"cannot build the message: {exc}"
            request.problem = send.error
            report.failed += 1
            report.by_channel[(send.channel, "failed")] += 1
            report.problems.append(f"send {send.id} (request {request.id}): {send.error}")
            _settle(s, request, now)
            return
        if send.channel == "sms":
            send.marker = body_marker(send.recipient, payload)
        send.claimed_by, send.lease_until = holder, now + dt.timedelta(seconds=outbox.policy.lease_seconds)
        send.attempts += 1
        send.last_attempt_at = now
        channel, recipient, kind, request_id = send.channel, send.recipient, send.kind, request.id
    try:
        sender = _sender(outbox, channel)
        if channel == "email":
            provider_id, note = None, sender.send(payload)
        else:
            provider_id, note = sender.send(recipient, payload, outbox.policy.status_callback_url), None
    except Exception as exc:  # noqa: BLE001 - whatever broke, the attempt's outcome must be on record
        if not isinstance(exc, DeliveryError):
            exc = DeliveryError("in_doubt", f"unexpected error while handing over: {exc!r}")
        with transaction(sessions) as s:
            _apply_failure(s, s.get(LinkSend, send_id), exc, outbox.policy, dt.datetime.now(dt.UTC), report)
        return
    _fault("after_handover")
    _record_sent(sessions, send_id, request_id, kind, provider_id, note)
    report.sent += 1
    report.by_channel[(channel, "sent")] += 1


def _lookup(outbox: Outbox, send: LinkSend):
    sender = outbox.email if send.channel == "email" else outbox.sms
    if sender is None:
        return None
    if send.channel == "email":
        return sender.lookup(send.message_id)
    return sender.lookup(send.recipient, send.marker) if send.marker else False


def resolve_interrupted(sessions: sessionmaker[Session], outbox: Outbox, now: dt.datetime | None = None) -> Report:
    """Attempts that ended without a word (a crash, a broken connection): find out whether the
    message went out, before anything is sent again."""
    now = now or dt.datetime.now(dt.UTC)
    report = Report()
    with sessions() as s:
        candidates = s.scalars(select(LinkSend).where(
            LinkSend.status == "recorded", or_(LinkSend.in_doubt.is_(True), LinkSend.lease_until.is_not(None)))).all()
    for send in candidates:
        if not send.in_doubt and send.lease_until > now and not _holder_gone(send.claimed_by):
            continue  # an attempt in progress elsewhere
        found = _lookup(outbox, send)
        with transaction(sessions) as s:
            current = s.get(LinkSend, send.id)
            if (current.status, current.claimed_by, current.in_doubt) != ("recorded", send.claimed_by, send.in_doubt):
                continue  # somebody resolved it meanwhile
            if found:
                _mark_sent(s, current, found if isinstance(found, str) else None,
                           "found delivered after an interrupted attempt", now)
                report.found_sent += 1
                report.by_channel[(current.channel, "sent")] += 1
            elif found is False:
                current.claimed_by, current.lease_until, current.in_doubt = None, None, False
                current.next_attempt_at = None
                current.error = "an interrupted attempt never reached the provider: sent again"
                report.resent += 1
            elif current.channel == "email":
                current.status = "unknown"
                current.claimed_by, current.lease_until = None, None
                current.error = ("may have been sent: the attempt was interrupted and the SMTP server keeps no "
                                 "record to ask; check the mailbox or the relay's log, then "
                                 f"`lettrage links resolve {current.id} --sent` or `--not-sent`")
                report.unknown += 1
                report.by_channel[(current.channel, "unknown")] += 1
                report.problems.append(f"send {current.id} (request {current.request_id}): {current.error}")
            else:
                current.in_doubt, current.claimed_by, current.lease_until = True, None, None
                report.in_doubt += 1  # the provider cannot be asked right now: ask again next run
    return report


def deliver(sessions: sessionmaker[Session], outbox: Outbox, now: dt.datetime | None = None,
            hotel_ids: list[str] | None = None, send_ids: list[int] | None = None, limit: int | None = None) -> Report:
    """Resolve interrupted attempts, then hand every recorded send whose time has come over."""
    now = now or dt.datetime.now(dt.UTC)
    report = resolve_interrupted(sessions, outbox, now)
    with sessions() as s:
        q = (select(LinkSend.id).join(LinkRequest)
             .where(LinkSend.status == "recorded", LinkSend.in_doubt.is_(False), LinkSend.lease_until.is_(None),
                    or_(LinkSend.next_attempt_at.is_(None), LinkSend.next_attempt_at <= now)))
        if hotel_ids:
            q = q.where(LinkRequest.hotel_id.in_(hotel_ids))
        if send_ids is not None:
            q = q.where(LinkSend.id.in_(send_ids))
        ids = s.scalars(q.order_by(LinkSend.id).limit(limit)).all()
    holder = _holder()
    for send_id in ids:
        _deliver_one(sessions, outbox, send_id, holder, report)
    return report


def deliver_request(settings, sessions: sessionmaker[Session], request_id: int) -> Report:
    """Hand over now what is recorded for one request (the service, right after a notification
    recorded a response); whatever fails here is retried by the next sending run."""
    from lettrage.paylinks.outbox import open_outbox

    with sessions() as s:
        ids = s.scalars(select(LinkSend.id).where(LinkSend.request_id == request_id,
                                                  LinkSend.status == "recorded")).all()
        channels_used = set(s.scalars(select(LinkSend.channel).where(LinkSend.id.in_(ids))))
    if not ids:
        return Report()
    with open_outbox(settings, sessions, email="email" in channels_used, sms="sms" in channels_used) as outbox:
        return deliver(sessions, outbox, send_ids=list(ids))


def send_due(sessions: sessionmaker[Session], outbox: Outbox, now: dt.datetime | None = None,
             hotel_ids: list[str] | None = None, limit: int | None = None) -> Report:
    """What the sensor's run and `lettrage links send-due` do: expire what nobody paid in time,
    record what is due, then deliver."""
    now = now or dt.datetime.now(dt.UTC)
    with transaction(sessions) as s:
        expired = expire_overdue(s, now)
    report = record_due(sessions, outbox, now, hotel_ids, limit)
    report.expired = expired
    return report.merge(deliver(sessions, outbox, now, hotel_ids))


def resolve_by_hand(sessions: sessionmaker[Session], send_id: int, delivered: bool, username: str) -> LinkSend:
    """A person checked an `unknown` send: it was delivered (--sent), or not (--not-sent: send it)."""
    from lettrage.paylinks.requests import audit

    now = dt.datetime.now(dt.UTC)
    with transaction(sessions) as s:
        send = s.get(LinkSend, send_id)
        if send is None:
            raise LookupError(f"no send {send_id}")
        if send.status != "unknown":
            raise st.StatusError(f"send {send_id} is {send.status}: only an unknown send is resolved by hand")
        if delivered:
            _mark_sent(s, send, None, f"confirmed delivered by {username}", now)
        else:
            send.status, send.in_doubt, send.next_attempt_at = "recorded", False, None
            send.error = f"confirmed not delivered by {username}: to be sent again"
        audit(s, username, "send resolved", f"link_send:{send_id}", "delivered" if delivered else "not delivered", now)
        return send


def due_work(sessions: sessionmaker[Session], now: dt.datetime | None = None) -> dict:
    """What is waiting to be sent (the sensor's question; reads the store only)."""
    now = now or dt.datetime.now(dt.UTC)
    with sessions() as s:
        due, remindable = _due_requests(s, now, None, None)
        recorded = set(s.scalars(select(LinkSend.request_id).where(LinkSend.kind == "link")))
        reminder_keys = {f"reminder:{r.id}:{n}:{ch}" for r in remindable
                         for n, d in enumerate(r.reminder_days or [], start=1) if r.sent_at + dt.timedelta(days=d) <= now
                         for ch in channels(r.channel)}
        known = set(s.scalars(select(LinkSend.idempotency_key).where(LinkSend.kind == "reminder")))
        retries = s.scalars(select(LinkSend.id).where(
            LinkSend.status == "recorded",
            or_(LinkSend.in_doubt.is_(True),
                LinkSend.lease_until.is_(None) & or_(LinkSend.next_attempt_at.is_(None),
                                                     LinkSend.next_attempt_at <= now),
                LinkSend.lease_until <= now))).all()
        expirable = s.scalars(select(LinkRequest.id).where(
            LinkRequest.status.in_(sorted(st.OPEN - {"pending"})), LinkRequest.expires_at <= now)).all()
    return {"requests": [r.id for r in due if r.id not in recorded], "reminders": len(reminder_keys - known),
            "sends": list(retries), "expired": list(expirable)}
