"""How source files write dates, times, amounts and cards, read the same way by every reader.

- Dates: the format of a date column is inferred from all its values (`DateColumn`): a file
  where one date reads 13/01/2026 is day-first throughout; when every value is ambiguous the
  format's own habit decides (day-first for European exports, month-first for US ones).
  Oracle's `05-JAN-26`, ISO `2026-01-05`, compact `20260105`, `05.01.2026` are all understood.
  A date that exists in no format (31/02/2026) rejects its row, naming the value.
- Times: `10:31`, `10:31:00`, `10.31.00`, `10h31`, `103100`; ISO timestamps with an offset are
  taken as written, local times get the hotel's zone.
- Amounts: exact decimals, decimal comma or point, thousands separators, trailing minus,
  parentheses (`money.parse_amount`), to integer cents; never a float.
- Card brands: every spelling seen in PMS codes, terminal tickets and PSP reports (`CB_EMV`,
  `CB_VAD`, `Master Card - VAD`, `American Express`, Adyen's `mc_applepay`, OPI issuer ids `01`..)
  normalised to DOMAIN.md's list; anything else non-empty is `OTHER`.
- Last 4: the last four digits of any mask (`*****2008`, `XXXX XXXX XXXX 2008`, `4970********2008`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from lettrage.recon.money import parse_amount


class RowProblem(ValueError):
    """A row that cannot be read; the message is the reason a person reads in the rejects."""


def normalise_name(name: str) -> str:
    """'N° du fichier remis' -> 'n_du_fichier_remis'; 'Gross Debit (GC)' -> 'gross_debit_gc'."""
    text = unicodedata.normalize("NFKD", str(name).strip().strip('"').lstrip("\ufeff"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("°", "")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


# ---------------------------------------------------------------------------------------- amounts

def cents(text: str | None, what: str = "amount", decimal_comma: bool | None = None,
          minor_units: bool = False) -> int | None:
    """An amount as integer cents (None when empty)."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    try:
        if minor_units:
            negative = raw.startswith("-") or raw.endswith("-")
            value = int(raw.strip("+-").replace(" ", ""))
            return -value if negative else value
        return parse_amount(raw, decimal_comma)
    except ValueError as exc:
        raise RowProblem(f"{what} {raw!r} is not an amount") from exc


# ------------------------------------------------------------------------------------------ dates

DAY_FIRST = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d", "%d-%b-%y", "%d-%b-%Y",
             "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%Y/%m/%d", "%d%m%Y"]
MONTH_FIRST = ["%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y%m%d", "%d-%b-%y", "%d-%b-%Y", "%d/%m/%Y",
               "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%Y/%m/%d"]
SHOWN = {"%Y-%m-%d": "YYYY-MM-DD", "%d/%m/%Y": "DD/MM/YYYY", "%m/%d/%Y": "MM/DD/YYYY", "%d.%m.%Y": "DD.MM.YYYY",
         "%Y%m%d": "YYYYMMDD", "%d-%b-%y": "DD-MON-YY", "%d-%m-%Y": "DD-MM-YYYY", "%d/%m/%y": "DD/MM/YY",
         "%m/%d/%y": "MM/DD/YY", "%d-%b-%Y": "DD-MON-YYYY", "%Y/%m/%d": "YYYY/MM/DD", "%d.%m.%y": "DD.MM.YY",
         "%m-%d-%Y": "MM-DD-YYYY", "%d%m%Y": "DDMMYYYY"}

_DATETIME = re.compile(
    r"^\s*(?P<date>\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}-[A-Za-z]{3}-\d{2,4}|\d{8})"
    r"(?:[T ]+(?P<time>\d{1,2}[:.h]\d{2}(?:[:.]\d{2})?(?:[.,]\d+)?|\d{6})"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?\s*$")


def _strptime(text: str, fmt: str) -> dt.date:
    return dt.datetime.strptime(text, fmt).date()


def day_first(hotel) -> bool:
    """Whether ambiguous dates (all parts <= 12) read day first: yes, except for hotels in the Americas,
    whose systems write month first."""
    return not str(getattr(hotel, "timezone", "")).startswith("America/")


class DateColumn:
    """Dates of one column, read in the one format that fits the whole column."""

    def __init__(self, values, day_first: bool = True, fmt: str | None = None):
        self.fmt = fmt
        if fmt is None:
            samples = [d for v in values if v and (d := split_datetime(v)[0])]
            self.fmt = infer_date_format(samples, DAY_FIRST if day_first else MONTH_FIRST)

    def parse(self, text: str | None, what: str = "date") -> dt.date | None:
        if text is None or not str(text).strip():
            return None
        date_part = split_datetime(text)[0] or str(text).strip()
        try:
            return _strptime(date_part, self.fmt)
        except (ValueError, TypeError):
            pass
        raise RowProblem(f"{what} {str(text).strip()!r} is not a valid date "
                         f"(this file writes {SHOWN.get(self.fmt, self.fmt)})")


def infer_date_format(samples: list[str], candidates: list[str]) -> str:
    """The candidate that reads the most samples (first in order on ties)."""
    best, best_n = candidates[0], -1
    for fmt in candidates:
        n = 0
        for s in samples[:500]:
            try:
                _strptime(s, fmt)
                n += 1
            except ValueError:
                pass
        if n > best_n:
            best, best_n = fmt, n
        if samples and n == len(samples[:500]):
            return fmt
    return best


def split_datetime(text: str) -> tuple[str | None, str | None]:
    """'05/01/2026 10:31:00' -> ('05/01/2026', '10:31:00'); ('', None) for other text."""
    m = _DATETIME.match(str(text))
    if not m:
        return None, None
    time = m["time"]
    if time and m["tz"]:
        time += m["tz"]
    return m["date"], time


def clock(text: str | None, what: str = "time") -> dt.time | None:
    """'10:31', '10:31:00', '10.31.00', '10h31', '103100', '1031' -> time."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    m = re.match(r"^(\d{1,2})[:.h](\d{2})(?:[:.](\d{2}))?(?:[.,]\d+)?$", raw) or \
        re.match(r"^(\d{2})(\d{2})(\d{2})?$", raw)
    if m:
        try:
            return dt.time(int(m[1]), int(m[2]), int(m[3] or 0))
        except ValueError:
            pass
    raise RowProblem(f"{what} {raw!r} is not a valid time of day")


def timestamp(text: str | None, hotel, dates: DateColumn, what: str = "time") -> dt.datetime | None:
    """A date-and-time value as an aware UTC datetime (local times get the hotel's zone)."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    date_part, time_part = split_datetime(raw)
    if date_part is None:
        raise RowProblem(f"{what} {raw!r} is not a date and time")
    tz = None
    if time_part and (m := re.search(r"(Z|[+-]\d{2}:?\d{2})$", time_part)):
        tz, time_part = m[1], time_part[: m.start()]
    day = dates.parse(date_part, what)
    moment = dt.datetime.combine(day, clock(time_part, what) if time_part else dt.time())
    if tz:
        offset = dt.timedelta(0) if tz == "Z" else _offset(tz)
        return moment.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)
    return local(moment, hotel)


def _offset(tz: str) -> dt.timedelta:
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def local(moment: dt.datetime, hotel, zone: str | None = None) -> dt.datetime:
    """Hotel-local (or `zone`-local) wall time -> aware UTC. fold=0: an ambiguous autumn time reads
    as summer time and a spring-gap time moves forward, as a PMS clock does."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone) if zone else hotel.tz
    return moment.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)


def on_business_date(business_date: dt.date, time: dt.time | None, hotel) -> dt.datetime:
    """A clock time within a business date -> aware UTC.

    With a 03:00 audit, 00:40 on business date 5 January is 6 January 00:40 local time."""
    moment = dt.datetime.combine(business_date, time or dt.time(12, 0))
    for shift in (0, 1, -1):
        candidate = moment + dt.timedelta(days=shift)
        if hotel.business_date(candidate) == business_date:
            return local(candidate, hotel)
    return local(moment, hotel)


# ------------------------------------------------------------------------------------------ cards

_BRAND_EXACT = {
    "CB": "CB", "CARTEBANCAIRE": "CB", "CARTESBANCAIRES": "CB", "CARTEBLEUE": "CB", "CBSC": "CB",
    "VISA": "VISA", "VI": "VISA", "VA": "VISA", "VPAY": "VISA", "ELECTRON": "VISA",
    "MASTERCARD": "MASTERCARD", "MC": "MASTERCARD", "CA": "MASTERCARD", "MCI": "MASTERCARD",
    "ECMC": "MASTERCARD", "EUROCARD": "MASTERCARD", "MASTER": "MASTERCARD", "IK": "MASTERCARD",
    "AMEX": "AMEX", "AX": "AMEX", "AE": "AMEX", "AMERICANEXPRESS": "AMEX", "AMERICANEXP": "AMEX",
    "JCB": "JCB", "JC": "JCB", "JB": "JCB",
    "DINERS": "DINERS", "DC": "DINERS", "DI": "DINERS", "DINERSCLUB": "DINERS", "DINERSCLUBINTERNATIONAL": "DINERS",
    "UNIONPAY": "UNIONPAY", "CUP": "UNIONPAY", "UP": "UNIONPAY", "CU": "UNIONPAY", "CHINAUNIONPAY": "UNIONPAY",
    "UPI": "UNIONPAY",
    "MAESTRO": "MAESTRO", "MA": "MAESTRO", "MAESTROUK": "MAESTRO",
    # Oracle Payment Interface issuer ids
    "01": "VISA", "02": "MASTERCARD", "03": "AMEX", "04": "DINERS", "05": "JCB", "06": "UNIONPAY",
    "09": "UNIONPAY", "17": "VISA", "18": "VISA", "19": "MAESTRO", "20": "VISA", "24": "MASTERCARD",
}
_BRAND_PREFIX = [("CARTEBANCAIRE", "CB"), ("CARTESBANCAIRES", "CB"), ("AMERICANEXPRESS", "AMEX"),
                 ("MASTERCARD", "MASTERCARD"), ("MASTER", "MASTERCARD"), ("VISA", "VISA"), ("AMEX", "AMEX"),
                 ("MAESTRO", "MAESTRO"), ("DINERS", "DINERS"), ("UNIONPAY", "UNIONPAY"), ("JCB", "JCB"),
                 ("CUP", "UNIONPAY"), ("MC", "MASTERCARD"), ("CB", "CB")]
# What a PMS code label or a PSP method adds to a brand: the channel or the wallet, not the brand.
_CHANNEL_WORDS = re.compile(r"(EMV|VAD|MOTO|ECOM|CNP|CP|SC|SANSCONTACT|CONTACTLESS|NFC|DEBIT|CREDIT|APPLEPAY|"
                            r"GOOGLEPAY|PAYWITHGOOGLE|SAMSUNGPAY|COMMERCIAL|BUSINESS|CORPORATE|PREPAID|CARD|CARTE|"
                            r"GOLD|PLATINUM|CLASSIC|PREMIER)$")


def card_brand(text: str | None, strict: bool = False) -> str | None:
    """A brand as DOMAIN.md names it, or None when empty (or unknown, with `strict`)."""
    if text is None:
        return None
    key = re.sub(r"[^A-Z0-9]", "", unicodedata.normalize("NFKD", str(text)).upper())
    if not key:
        return None
    found = _brand_of(key)
    if found is None and not strict:
        return "OTHER"
    return found


def _brand_of(key: str) -> str | None:
    for _ in range(3):
        if key in _BRAND_EXACT:
            return _BRAND_EXACT[key]
        stripped = _CHANNEL_WORDS.sub("", key)
        if stripped == key:
            break
        key = stripped
    for prefix, brand in _BRAND_PREFIX:
        if key.startswith(prefix) and (len(prefix) > 3 or len(key) == len(prefix)):
            return brand
    return None


def brand_in_label(label: str | None) -> str | None:
    """The brand a PMS code label names ('9013 Mastercard', 'CB_VAD', 'Visa'), if it names one."""
    if not label:
        return None
    words = re.split(r"[\s/]+", str(label).strip())
    for i in range(len(words)):
        found = card_brand(" ".join(words[i:]), strict=True)
        if found:
            return found
    return None


_LAST4 = re.compile(r"(\d{4})[^0-9A-Za-z]*$")


def last4(text: str | None) -> str | None:
    """'*****2008', 'XXXX XXXX XXXX 2008', '4970********2008', '2008' -> '2008'."""
    if text is None:
        return None
    m = _LAST4.search(str(text).strip())
    return m[1] if m else None


_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})-?(\d{2})-?(\d{2})(?!\d)")


def date_in_name(name: str) -> dt.date | None:
    """The date a file's name carries ('opera_2026-01-05.csv', 'remises_20260107.csv'), if any."""
    for m in _DATE_IN_NAME.finditer(name):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue
    return None


def text(value: str | None) -> str | None:
    """A text field, None when blank."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None
