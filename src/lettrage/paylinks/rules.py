"""Link rules: which reservations get a payment request, for how much, how and when. Per hotel,
as data: `<inbox>/<hotel_id>/link_rules.yaml` (documented example: `paylinks/examples/rules.yaml`).

`plan()` applies a hotel's rules to its reservation export and says, per reservation, the request
it should have (or why it gets none). It is pure: `requests.sync()` then brings the store in line.
Nothing here sends anything.

A reservation gets at most one request from the rules: the first rule that matches wins.
Cancelled, no-show and checked-out reservations get nothing; so do reservations already paid
(deposit paid >= total) and rules whose amount comes to zero or less.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from lettrage.paylinks import templates

RULES_FILE = "link_rules.yaml"
EXAMPLE = Path(__file__).parent / "examples" / "rules.yaml"
KINDS = ("sale", "preauth", "installments", "split")
CHANNELS = ("email", "sms", "both")
MODES = ("automatic", "step_by_step")
AMOUNT_BASES = ("total", "balance", "deposit", "percent")
SEND_BASES = ("now", "arrival", "cancellation_deadline")
NO_REQUEST_STATUSES = {"cancelled", "no_show", "checked_out"}
# What a condition may test: the reservations table's columns (DOMAIN.md; a test keeps this list
# equal to recon.schemas, which is too heavy to import here) and values derived from them.
RESERVATION_COLUMNS = (
    "hotel_id", "source_file", "ingested_at", "reservation_id", "confirmation_no", "status", "created_at",
    "business_date", "arrival_date", "arrival_time", "departure_date", "adults", "children", "guest_first_name",
    "guest_last_name", "email", "phone", "language", "room_type", "rate_code", "total_cents", "deposit_due_cents",
    "deposit_paid_cents", "currency", "guarantee_code", "payment_method", "cancellation_deadline", "non_refundable",
)
DERIVED = ("balance_cents", "deposit_outstanding_cents", "days_to_arrival", "guests")


class RulesError(ValueError):
    """A rules file that cannot be used: names the file, the line and the problem."""

    def __init__(self, path: Path | str, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


class _Mapping(dict):
    line: int | None = None


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping, so errors can point at it."""


def _construct_mapping(loader, node):
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class HotelProfile:
    """Who the messages come from and how they are signed."""

    hotel_id: str
    name: str
    sender: str  # From: an address in the hotel's own domain
    timezone: str = "Europe/Paris"
    sender_name: str = ""
    reply_to: str = ""
    notify: str = ""  # the hotel's own address for notices (issue 7)
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    signature: tuple[str, ...] = ()
    logo: Path = templates.LOGO
    attachments: tuple[Path, ...] = ()
    language: str = "en"  # the hotel's own language (its notices)

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict = field(default_factory=dict)
    kind: str = "sale"
    amount: str = "balance"  # total | balance | deposit | percent
    percent: Decimal | None = None
    parts: int | None = None  # installments / expected payers of a split
    every_days: int = 30  # between installments
    send: str = "now"  # now | arrival | cancellation_deadline
    days_before: int = 0
    send_time: str = "09:00"  # local time of the hotel on the sending day
    expires_after_days: int = 7
    expires_before: str | None = None  # arrival | cancellation_deadline: never valid beyond it
    channel: str | None = None
    service: str | None = None
    template: str = "link"
    reminders: tuple[int, ...] = ()
    attachments: tuple[Path, ...] = ()
    payer_label: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class LinkRules:
    hotel_id: str
    path: Path | None
    profile: HotelProfile
    mode: str = "automatic"
    channel: str = "email"
    service: str = "reservation"
    language: str = "en"
    rules: tuple[Rule, ...] = ()

    def rule(self, name: str | None) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    @property
    def initial_status(self) -> str:
        return "scheduled" if self.mode == "automatic" else "pending_approval"


@dataclass
class PlannedRequest:
    """What the store should hold for one reservation (see requests.sync)."""

    hotel_id: str
    reservation_id: str
    confirmation_no: str
    rule: str
    kind: str
    amount_cents: int
    currency: str
    installments: int | None
    channel: str
    language: str
    service: str
    template: str
    send_after: dt.datetime
    expires_at: dt.datetime
    reminder_days: list[int]
    status: str
    guest_first_name: str | None
    guest_last_name: str | None
    email: str | None
    phone: str | None
    arrival_date: dt.date | None
    arrival_time: str | None
    departure_date: dt.date | None
    adults: int | None
    children: int | None
    payment_method: str | None
    payer_label: str | None = None
    every_days: int = 30


@dataclass
class Plan:
    planned: list[PlannedRequest] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (reservation_id, why)
    cancelled: list[str] = field(default_factory=list)  # reservation ids cancelled in the PMS
    seen: set[str] = field(default_factory=set)  # every reservation id of the export


# ---------------------------------------------------------------------------------------------
# Reading a rules file


def rules_path(rules_dir: Path, hotel_id: str) -> Path:
    return Path(rules_dir) / hotel_id / RULES_FILE


def _emails(value, where: str, path: Path, line) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value or [])
    for item in items:
        if not isinstance(item, str) or "@" not in item:
            raise RulesError(path, line, f"{where}: {item!r} is not an e-mail address")
    return tuple(items)


def _files(value, base: Path, where: str, path: Path, line) -> tuple[Path, ...]:
    found = []
    for item in [value] if isinstance(value, str) else list(value or []):
        p = (base / item) if not Path(item).is_absolute() else Path(item)
        if not p.is_file():
            raise RulesError(path, line, f"{where}: file {item!r} not found (looked for {p})")
        found.append(p)
    return tuple(found)


def _int(value, where: str, path: Path, line, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RulesError(path, line, f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return value


def _one_of(value, allowed, where: str, path: Path, line) -> str:
    if value not in allowed:
        raise RulesError(path, line, f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _time(value, where: str, path: Path, line) -> str:
    try:
        dt.time.fromisoformat(str(value))
    except ValueError:
        raise RulesError(path, line, f"{where}: {value!r} is not a time like 09:00") from None
    return str(value)


_RULE_KEYS = {"name", "when", "kind", "amount", "parts", "every_days", "send", "expires", "channel",
              "service", "template", "reminders", "attachments", "payer_label"}


def _rule(raw, path: Path, index: int) -> Rule:
    line = getattr(raw, "line", None)
    if not isinstance(raw, dict):
        raise RulesError(path, line, f"rule {index + 1}: expected a mapping")
    name = str(raw.get("name") or f"rule{index + 1}")
    where = f"rule {name!r}"
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise RulesError(path, line, f"{where}: unknown setting(s) {', '.join(unknown)}")
    when = raw.get("when") or {}
    if not isinstance(when, dict):
        raise RulesError(path, line, f"{where}: 'when' must be a mapping of conditions")
    known = set(RESERVATION_COLUMNS) | set(DERIVED)
    for key, cond in when.items():
        if key not in known:
            raise RulesError(path, getattr(when, "line", line),
                             f"{where}: cannot test {key!r} (reservation columns: {', '.join(sorted(known))})")
        if isinstance(cond, dict) and (set(cond) - {"min", "max", "not"}):
            raise RulesError(path, getattr(cond, "line", line), f"{where}: condition on {key!r} takes min, max or not")
    kind = _one_of(raw.get("kind", "sale"), KINDS, f"{where}: kind", path, line)
    amount, percent = raw.get("amount", "balance"), None
    if isinstance(amount, str) and amount.endswith("%"):
        try:
            percent = Decimal(amount[:-1].strip())
        except ArithmeticError:
            raise RulesError(path, line, f"{where}: amount {amount!r} is not a percentage") from None
        if not 0 < percent <= 100:
            raise RulesError(path, line, f"{where}: amount {amount!r} must be between 0 and 100%")
        amount = "percent"
    elif amount not in AMOUNT_BASES[:-1]:
        raise RulesError(path, line, f"{where}: amount {amount!r} is total, balance, deposit or a percentage like '30%'")
    parts = raw.get("parts")
    if kind == "installments":
        parts = _int(parts, f"{where}: parts (installments need a number of parts)", path, line, 2)
    elif parts is not None:
        parts = _int(parts, f"{where}: parts", path, line, 1)
    send = raw.get("send", "now")
    days_before, send_time, basis = 0, "09:00", "now"
    if isinstance(send, dict):
        basis = _one_of(send.get("before", "arrival"), SEND_BASES[1:], f"{where}: send.before", path, line)
        days_before = _int(send.get("days", 0), f"{where}: send.days", path, line)
        send_time = _time(send.get("at", "09:00"), f"{where}: send.at", path, line)
    elif send != "now":
        raise RulesError(path, line, f"{where}: send is 'now' or {{days: 18, before: arrival}}")
    expires = raw.get("expires") or {}
    if not isinstance(expires, dict):
        raise RulesError(path, line, f"{where}: expires is {{after_days: 7, before: arrival}}")
    expires_before = expires.get("before")
    if expires_before is not None:
        _one_of(expires_before, SEND_BASES[1:], f"{where}: expires.before", path, line)
    channel = raw.get("channel")
    if channel is not None:
        _one_of(channel, CHANNELS, f"{where}: channel", path, line)
    service = raw.get("service")
    if service is not None:
        _one_of(service, templates.SERVICES, f"{where}: service", path, line)
    reminders = raw.get("reminders") or []
    return Rule(
        name=name, when=dict(when), kind=kind, amount=amount, percent=percent, parts=parts,
        every_days=_int(raw.get("every_days", 30), f"{where}: every_days", path, line, 1),
        send=basis, days_before=days_before, send_time=send_time,
        expires_after_days=_int(expires.get("after_days", 7), f"{where}: expires.after_days", path, line, 1),
        expires_before=expires_before, channel=channel, service=service,
        template=str(raw.get("template", "link")),
        reminders=tuple(_int(d, f"{where}: reminders", path, line, 1) for d in reminders),
        attachments=_files(raw.get("attachments"), path.parent, f"{where}: attachments", path, line),
        payer_label=raw.get("payer_label"), line=line,
    )


def parse_rules(text: str, path: Path, hotel_id: str, hotel_name: str | None = None,
                timezone: str = "Europe/Paris") -> LinkRules:
    """A rules file's content, checked: every problem names the file and the line."""
    try:
        raw = yaml.load(text, Loader=_LineLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RulesError(path, mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}") \
            from None
    if not isinstance(raw, dict):
        raise RulesError(path, None, "expected a mapping with 'hotel', 'defaults' and 'rules'")
    hotel = raw.get("hotel") or {}
    hline = getattr(hotel, "line", None)
    sender = hotel.get("sender")
    if not sender or "@" not in str(sender):
        raise RulesError(path, hline, "hotel.sender: the From address (in the hotel's own domain) is required")
    defaults = raw.get("defaults") or {}
    dline = getattr(defaults, "line", None)
    available = templates.languages()
    language = defaults.get("language", "en")
    if language not in available:
        raise RulesError(path, dline, f"defaults.language: {language!r} has no templates ({', '.join(available)})")
    logo = _files(hotel.get("logo"), path.parent, "hotel.logo", path, hline) if hotel.get("logo") else ()
    profile = HotelProfile(
        hotel_id=hotel_id,
        name=str(hotel.get("name") or hotel_name or hotel_id),
        sender=str(sender),
        timezone=timezone,
        sender_name=str(hotel.get("sender_name") or hotel.get("name") or hotel_name or ""),
        reply_to=str(hotel.get("reply_to") or ""),
        notify=str(hotel.get("notify") or ""),
        cc=_emails(hotel.get("cc"), "hotel.cc", path, hline),
        bcc=_emails(hotel.get("bcc"), "hotel.bcc", path, hline),
        signature=tuple(str(s) for s in (hotel.get("signature") or [hotel.get("name") or hotel_name or hotel_id])),
        logo=logo[0] if logo else templates.LOGO,
        attachments=_files(hotel.get("attachments"), path.parent, "hotel.attachments", path, hline),
        language=language,
    )
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        raise RulesError(path, getattr(rules, "line", None), "'rules' must be a list")
    parsed = tuple(_rule(r, path, i) for i, r in enumerate(rules))
    names = [r.name for r in parsed]
    if len(set(names)) != len(names):
        raise RulesError(path, None, f"two rules share a name: {sorted({n for n in names if names.count(n) > 1})}")
    return LinkRules(
        hotel_id=hotel_id, path=path, profile=profile,
        mode=_one_of(raw.get("mode", "automatic"), MODES, "mode", path, None),
        channel=_one_of(defaults.get("channel", "email"), CHANNELS, "defaults.channel", path, dline),
        service=_one_of(defaults.get("service", "reservation"), templates.SERVICES, "defaults.service", path, dline),
        language=language, rules=parsed,
    )


def load_rules(path: Path, hotel_id: str, hotel_name: str | None = None, timezone: str = "Europe/Paris") -> LinkRules:
    path = Path(path)
    if not path.is_file():
        raise RulesError(path, None, "no link rules for this hotel (copy paylinks/examples/rules.yaml there)")
    return parse_rules(path.read_text(encoding="utf-8"), path, hotel_id, hotel_name, timezone)


def install_example(path: Path, hotel_name: str, domain: str) -> Path:
    """Write the documented example for a hotel (the demo does this for its hotels)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("Hôtel Lutèce", hotel_name).replace("hotel-lutece.example", domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    for extra in EXAMPLE.parent.iterdir():
        if extra.suffix in (".pdf", ".png") and not (path.parent / extra.name).exists():
            (path.parent / extra.name).write_bytes(extra.read_bytes())
    return path


# ---------------------------------------------------------------------------------------------
# Applying rules to reservations


def _blank(value) -> bool:
    """None, NaN, pandas' NA and NaT (as a DataFrame from the warehouse has them)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and value != value


def _clean(value):
    return None if _blank(value) else value


def _cents(value) -> int:
    return 0 if _blank(value) else int(value)


def _as_date(value) -> dt.date | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value) -> dt.datetime | None:
    if _blank(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _matches(value, cond) -> bool:
    if isinstance(cond, dict):
        if _blank(value):
            return False
        if "min" in cond and value < cond["min"]:
            return False
        if "max" in cond and value > cond["max"]:
            return False
        if "not" in cond:
            excluded = cond["not"] if isinstance(cond["not"], list) else [cond["not"]]
            return not _matches(value, excluded)
        return True
    if isinstance(cond, list):
        return any(_matches(value, c) for c in cond)
    if _blank(value):
        return cond is None
    if isinstance(cond, str) and isinstance(value, str):
        return value.strip().lower() == cond.strip().lower()
    return bool(value == cond)


def _amount(rule: Rule, total: int, due: int, paid: int) -> int:
    if rule.amount == "total":
        return total
    if rule.amount == "deposit":
        return due - paid
    if rule.amount == "percent":
        share = (Decimal(total) * rule.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(share) - paid
    return total - paid  # balance


def _local(day: dt.date, at: str, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(at)).replace(tzinfo=tz).astimezone(dt.UTC)


def _send_after(rule: Rule, row: dict, tz: ZoneInfo, now: dt.datetime) -> dt.datetime:
    if rule.send == "now":
        return now
    if rule.send == "cancellation_deadline" and (deadline := _as_datetime(row.get("cancellation_deadline"))):
        day = deadline.astimezone(tz).date() - dt.timedelta(days=rule.days_before)
    else:  # arrival, or a reservation without a cancellation deadline
        day = _as_date(row["arrival_date"]) - dt.timedelta(days=rule.days_before)
    return max(_local(day, rule.send_time, tz), now) if day else now


def _expires_at(rule: Rule, row: dict, tz: ZoneInfo, send_after: dt.datetime) -> dt.datetime:
    expires = send_after + dt.timedelta(days=rule.expires_after_days)
    limit = None
    if rule.expires_before == "cancellation_deadline":
        limit = _as_datetime(row.get("cancellation_deadline"))
    if rule.expires_before == "arrival" or (rule.expires_before and limit is None):
        arrival = _as_date(row.get("arrival_date"))
        limit = _local(arrival, "00:00", tz) if arrival else None
    if limit is not None and limit > send_after:
        expires = min(expires, limit)
    return expires


def _channel(wanted: str, email: str | None, phone: str | None) -> str | None:
    """The channel a request can actually use with the contacts the reservation has."""
    has = {"email": bool(email), "sms": bool(phone)}
    if wanted == "both":
        return "both" if all(has.values()) else ("email" if has["email"] else ("sms" if has["sms"] else None))
    if has[wanted]:
        return wanted
    other = "sms" if wanted == "email" else "email"
    return other if has[other] else None


def plan(reservations, rules: LinkRules, now: dt.datetime | None = None) -> Plan:
    """The request each reservation of one hotel's export should have, by the hotel's rules.

    `reservations`: a DataFrame or records in the canonical `reservations` columns."""
    now = now or dt.datetime.now(dt.UTC)
    tz = rules.profile.tz
    today = now.astimezone(tz).date()
    records = reservations.to_dict("records") if hasattr(reservations, "to_dict") else list(reservations)
    result = Plan()
    for row in records:
        rid = str(row["reservation_id"])
        result.seen.add(rid)
        status = str(row.get("status") or "reserved")
        if status in NO_REQUEST_STATUSES:
            if status == "cancelled":
                result.cancelled.append(rid)
            result.skipped.append((rid, f"reservation {status.replace('_', ' ')}"))
            continue
        total, due, paid = _cents(row.get("total_cents")), _cents(row.get("deposit_due_cents")), \
            _cents(row.get("deposit_paid_cents"))
        if total > 0 and paid >= total:
            result.skipped.append((rid, "already paid"))
            continue
        arrival = _as_date(row.get("arrival_date"))
        derived = {
            "balance_cents": total - paid,
            "deposit_outstanding_cents": due - paid,
            "days_to_arrival": (arrival - today).days if arrival else None,
            "guests": _cents(row.get("adults")) + _cents(row.get("children")),
        }
        values = {**row, **derived}
        rule = next((r for r in rules.rules
                     if all(_matches(values.get(k), c) for k, c in r.when.items())), None)
        if rule is None:
            result.skipped.append((rid, "no rule applies"))
            continue
        amount = _amount(rule, total, due, paid)
        if amount <= 0:
            result.skipped.append((rid, f"rule {rule.name}: nothing to pay"))
            continue
        email, phone = _clean(row.get("email")), _clean(row.get("phone"))
        channel = _channel(rule.channel or rules.channel, email, phone)
        if channel is None:
            result.skipped.append((rid, f"rule {rule.name}: no e-mail address or mobile number"))
            continue
        service = rule.service or rules.service
        send_after = _send_after(rule, row, tz, now)
        result.planned.append(PlannedRequest(
            hotel_id=rules.hotel_id, reservation_id=rid, confirmation_no=str(row.get("confirmation_no") or rid),
            rule=rule.name, kind=rule.kind, amount_cents=amount, currency=str(row.get("currency") or "EUR"),
            installments=rule.parts, channel=channel,
            language=templates.normalise_language(row.get("language"), templates.languages(service), rules.language),
            service=service, template=rule.template, send_after=send_after,
            expires_at=_expires_at(rule, row, tz, send_after), reminder_days=list(rule.reminders),
            status=rules.initial_status,
            guest_first_name=_clean(row.get("guest_first_name")), guest_last_name=_clean(row.get("guest_last_name")),
            email=email, phone=phone, arrival_date=arrival, arrival_time=_clean(row.get("arrival_time")),
            departure_date=_as_date(row.get("departure_date")),
            adults=None if _blank(row.get("adults")) else int(row["adults"]),
            children=None if _blank(row.get("children")) else int(row["children"]),
            payment_method=_clean(row.get("payment_method")), payer_label=rule.payer_label,
            every_days=rule.every_days,
        ))
    return result


class RulesBook:
    """Every hotel's rules, read once per batch: `book.get("H1")` (RulesError when missing or bad)."""

    def __init__(self, rules_dir: Path, hotels: dict | None = None, default_timezone: str = "Europe/Paris"):
        self.rules_dir, self.hotels, self.default_timezone = Path(rules_dir), hotels or {}, default_timezone
        self._cache: dict[str, LinkRules | RulesError] = {}

    def get(self, hotel_id: str) -> LinkRules:
        if hotel_id not in self._cache:
            hotel = self.hotels.get(hotel_id)
            try:
                self._cache[hotel_id] = load_rules(
                    rules_path(self.rules_dir, hotel_id), hotel_id, getattr(hotel, "name", None),
                    getattr(hotel, "timezone", None) or self.default_timezone)
            except RulesError as exc:
                self._cache[hotel_id] = exc
        found = self._cache[hotel_id]
        if isinstance(found, RulesError):
            raise found
        return found
