"""Ingenico/Ogone e-Commerce: SHA-IN/SHA-OUT signatures, status codes, the hosted-page form,
and DirectLink (maintenance and alias payments) over HTTP.

The signature rule (Ogone e-Commerce Basic guide §6.2 and §9.3, research/psp.md §1.3, §1.5):
parameter names upper-cased, empty values dropped, sorted by name, each `NAME=value` followed by
the passphrase, hashed with the account's algorithm, upper-case hex. SHA-IN covers what we send;
SHA-OUT covers only the parameters of Ogone's SHA-OUT list (everything else a notification
carries, such as PARAMPLUS keys, is not signed and must not be trusted).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALGORITHMS = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}

# Ogone's SHA-OUT list (marlon-be/marlon-ogone ShaOutParameterFilter, the guide's appendix).
SHA_OUT_PARAMETERS = frozenset("""
AAVADDRESS AAVCHECK AAVMAIL AAVNAME AAVPHONE AAVZIP ACCEPTANCE ALIAS AMOUNT BIC BIN BRAND CARDNO CCCTY CN
COLLECTOR_BIC COLLECTOR_IBAN COMPLUS CREATION_STATUS CREDITDEBIT CURRENCY CVCCHECK DCC_COMMPERCENTAGE
DCC_CONVAMOUNT DCC_CONVCCY DCC_EXCHRATE DCC_EXCHRATESOURCE DCC_EXCHRATETS DCC_INDICATOR DCC_MARGINPERCENTAGE
DCC_VALIDHOURS DEVICEID DIGESTCARDNO ECI ED EMAIL ENCCARDNO FXAMOUNT FXCURRENCY IP IPCTY MANDATEID MOBILEMODE
NBREMAILUSAGE NBRIPUSAGE NBRIPUSAGE_ALLTX NBRUSAGE NCERROR ORDERID PAYID PAYIDSUB PAYMENT_REFERENCE PM
SCO_CATEGORY SCORING SEQUENCETYPE SIGNDATE STATUS SUBBRAND SUBSCRIPTION_ID TICKET TRXDATE VC
""".split())


class SignatureError(ValueError):
    """A signature that cannot be computed or checked (unknown algorithm, conflicting names)."""


def _normalise_algorithm(algorithm: str) -> str:
    key = algorithm.lower().replace("-", "").replace("_", "")
    if key not in ALGORITHMS:
        raise SignatureError(f"unknown hash algorithm {algorithm!r}: use sha1, sha256 or sha512")
    return ALGORITHMS[key]


def _pairs(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Upper-cased names -> values as text, empty values and SHASIGN dropped."""
    items = params.items() if isinstance(params, Mapping) else params
    out: dict[str, str] = {}
    for name, value in items:
        upper = str(name).upper()
        if upper == "SHASIGN" or value is None:
            continue
        text = str(value)
        if not text.strip():
            continue
        if upper in out and out[upper] != text:
            # `orderID=1&ORDERID=2` would let a forger choose which one we read.
            raise SignatureError(f"parameter {upper} given twice with different values")
        out[upper] = text
    return out


def _compose(pairs: dict[str, str], passphrase: str, algorithm: str, encoding: str) -> str:
    if not passphrase:
        raise SignatureError("no passphrase configured")
    text = "".join(f"{name}={pairs[name]}{passphrase}" for name in sorted(pairs))
    return hashlib.new(_normalise_algorithm(algorithm), text.encode(encoding)).hexdigest().upper()


def sha_in(params: Mapping[str, Any] | Iterable[tuple[str, Any]], passphrase: str,
           algorithm: str = "sha1", encoding: str = "utf-8") -> str:
    """SHASIGN of a request we send (hosted page, DirectLink): every parameter sent is signed."""
    return _compose(_pairs(params), passphrase, algorithm, encoding)


def sha_out(params: Mapping[str, Any] | Iterable[tuple[str, Any]], passphrase: str,
            algorithm: str = "sha1", encoding: str = "utf-8") -> str:
    """SHASIGN of a feedback Ogone sends (redirect or notification): only SHA-OUT parameters count."""
    pairs = {k: v for k, v in _pairs(params).items() if k in SHA_OUT_PARAMETERS}
    return _compose(pairs, passphrase, algorithm, encoding)


def _verify(compose, params, passphrase: str, algorithm: str, encoding: str) -> bool:
    items = list(params.items() if isinstance(params, Mapping) else params)
    received = {str(v).strip().upper() for k, v in items if str(k).upper() == "SHASIGN"}
    if len(received) != 1:
        return False
    try:
        expected = compose(items, passphrase, algorithm, encoding)
    except (SignatureError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(expected.encode(), received.pop().encode())


def verify_sha_out(params: Mapping[str, Any] | Iterable[tuple[str, Any]], passphrase: str,
                   algorithm: str = "sha1", encoding: str = "utf-8") -> bool:
    """True when the feedback's SHASIGN matches (case-insensitive, constant-time). Missing,
    repeated or conflicting parameters never verify."""
    return _verify(sha_out, params, passphrase, algorithm, encoding)


def verify_sha_in(params: Mapping[str, Any] | Iterable[tuple[str, Any]], passphrase: str,
                  algorithm: str = "sha1", encoding: str = "utf-8") -> bool:
    """True when a request's SHASIGN matches (what Ogone, here the simulator, checks)."""
    return _verify(sha_in, params, passphrase, algorithm, encoding)


# --- amounts -------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


def parse_amount(text: str | int) -> int:
    """Feedback amount ('15', '15.1', '15.12'; never x100) -> cents, exactly, without floats."""
    m = _DECIMAL.match(str(text).strip())
    if not m:
        raise ValueError(f"not an Ogone amount: {text!r}")
    return int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0"))


def format_amount(cents: int) -> str:
    """Cents -> the feedback form Ogone uses: '15', '15.1', '15.12'."""
    whole, frac = divmod(int(cents), 100)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:02d}".rstrip("0")


# --- status codes (ADV §14; research/psp.md §1.6) ---------------------------------------------

@dataclass(frozen=True)
class OgoneStatus:
    code: int
    label: str
    status: str      # DOMAIN.md psp status: pending, authorised, paid, refused, cancelled, refunded, uncertain, error
    operation: str   # DOMAIN.md psp operation the code reports on


STATUS_CODES: dict[int, OgoneStatus] = {s.code: s for s in [
    OgoneStatus(0, "Invalid or incomplete", "error", "sale"),
    OgoneStatus(1, "Cancelled by customer", "cancelled", "sale"),
    OgoneStatus(2, "Authorisation refused", "refused", "authorisation"),
    OgoneStatus(4, "Order stored", "pending", "sale"),
    OgoneStatus(40, "Stored waiting external result", "pending", "sale"),
    OgoneStatus(41, "Waiting for client payment", "pending", "sale"),
    OgoneStatus(46, "Waiting authentication", "pending", "authorisation"),
    OgoneStatus(5, "Authorised", "authorised", "authorisation"),
    OgoneStatus(50, "Authorised waiting external result", "pending", "authorisation"),
    OgoneStatus(51, "Authorisation waiting", "pending", "authorisation"),
    OgoneStatus(52, "Authorisation not known", "uncertain", "authorisation"),
    OgoneStatus(55, "Standby", "pending", "authorisation"),
    OgoneStatus(56, "OK with scheduled payments", "authorised", "authorisation"),
    OgoneStatus(57, "Not OK with scheduled payments", "refused", "authorisation"),
    OgoneStatus(59, "Authorisation to be requested manually", "pending", "authorisation"),
    OgoneStatus(6, "Authorised and cancelled", "cancelled", "cancel"),
    OgoneStatus(61, "Authorisation deletion waiting", "pending", "cancel"),
    OgoneStatus(62, "Authorisation deletion uncertain", "uncertain", "cancel"),
    OgoneStatus(63, "Authorisation deletion refused", "refused", "cancel"),
    OgoneStatus(64, "Authorised and cancelled", "cancelled", "cancel"),
    OgoneStatus(7, "Payment deleted", "cancelled", "cancel"),
    OgoneStatus(71, "Payment deletion pending", "pending", "cancel"),
    OgoneStatus(72, "Payment deletion uncertain", "uncertain", "cancel"),
    OgoneStatus(73, "Payment deletion refused", "refused", "cancel"),
    OgoneStatus(74, "Payment deleted", "cancelled", "cancel"),
    OgoneStatus(75, "Deletion processed by merchant", "cancelled", "cancel"),
    OgoneStatus(8, "Refund", "refunded", "refund"),
    OgoneStatus(81, "Refund pending", "pending", "refund"),
    OgoneStatus(82, "Refund uncertain", "uncertain", "refund"),
    OgoneStatus(83, "Refund refused", "refused", "refund"),
    OgoneStatus(84, "Refund declined by the acquirer", "refused", "refund"),
    OgoneStatus(85, "Refund processed by merchant", "refunded", "refund"),
    OgoneStatus(9, "Payment requested", "paid", "sale"),
    OgoneStatus(91, "Payment processing", "pending", "sale"),
    OgoneStatus(92, "Payment uncertain", "uncertain", "sale"),
    OgoneStatus(93, "Payment refused", "refused", "sale"),
    OgoneStatus(94, "Refund declined by the acquirer", "refused", "refund"),
    OgoneStatus(95, "Payment processed by merchant", "paid", "sale"),
    OgoneStatus(99, "Being processed", "pending", "sale"),
]}


def status_of(code: str | int) -> OgoneStatus:
    """The meaning of a STATUS code; an unknown code is an error, never silently a success."""
    try:
        number = int(str(code).strip())
    except ValueError:
        return OgoneStatus(-1, f"unreadable status {code!r}", "error", "sale")
    return STATUS_CODES.get(number, OgoneStatus(number, f"unknown status {number}", "error", "sale"))


# --- the account and the hosted page ----------------------------------------------------------

LANGUAGES = {"fr": "fr_FR", "en": "en_US", "de": "de_DE", "nl": "nl_NL", "es": "es_ES", "it": "it_IT",
             "pt": "pt_PT", "pl": "pl_PL", "cs": "cs_CZ", "ru": "ru_RU", "ja": "ja_JP", "tr": "tr_TR"}


def ogone_language(language: str | None) -> str:
    """Guest language ('fr', 'fr-BE', 'en_GB') -> an Ogone LANGUAGE value; English when unknown."""
    lang = (language or "en").replace("-", "_")
    if "_" in lang and lang in LANGUAGES.values():
        return lang
    return LANGUAGES.get(lang.split("_")[0].lower(), "en_US")


@dataclass(frozen=True)
class OgoneAccount:
    """One merchant account: where it lives and how it signs. Secrets stay out of repr."""

    pspid: str
    base_url: str            # e.g. https://secure.ogone.com/ncol/prod, or the simulator's /ncol/test
    sha_in_passphrase: str = field(repr=False)
    sha_out_passphrase: str = field(repr=False)
    algorithm: str = "sha256"
    userid: str = ""         # DirectLink API user
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings) -> OgoneAccount:
        return cls(pspid=settings.ogone_pspid, base_url=settings.ogone_url,
                   sha_in_passphrase=settings.ogone_sha_in, sha_out_passphrase=settings.ogone_sha_out,
                   algorithm=settings.ogone_algorithm, userid=settings.ogone_userid,
                   password=settings.ogone_password)

    def url(self, page: str) -> str:
        return f"{self.base_url.rstrip('/')}/{page}"


@dataclass(frozen=True)
class HostedPage:
    action: str
    fields: dict[str, str]


def hosted_page(account: OgoneAccount, *, order_id: str, amount_cents: int, currency: str, language: str | None,
                accept_url: str, decline_url: str, exception_url: str, cancel_url: str,
                operation: str = "SAL", guest_name: str = "", email: str = "", description: str = "",
                alias: str = "", alias_usage: str = "", complus: str = "") -> HostedPage:
    """The auto-submitted form that sends a guest to the hosted page, signed with SHA-IN.

    `operation` SAL = sale, RES = authorisation (pre-authorisation, no-show guarantee). An alias
    asks Ogone to keep the card for later merchant-initiated charges (installments); `alias_usage`
    is the sentence the guest reads when consenting."""
    if operation not in ("SAL", "RES", "PAU"):
        raise ValueError(f"operation {operation!r}: hosted page takes SAL, RES or PAU")
    if int(amount_cents) <= 0:
        raise ValueError(f"amount must be positive, got {amount_cents} cents")
    fields = {
        "PSPID": account.pspid,
        "ORDERID": order_id,
        "AMOUNT": str(int(amount_cents)),
        "CURRENCY": currency,
        "LANGUAGE": ogone_language(language),
        "CN": guest_name,
        "EMAIL": email,
        "COM": description[:100],
        "COMPLUS": complus,
        "OPERATION": operation,
        "ACCEPTURL": accept_url,
        "DECLINEURL": decline_url,
        "EXCEPTIONURL": exception_url,
        "CANCELURL": cancel_url,
        "WIN3DS": "MAINW",
    }
    if alias:
        fields.update({"ALIAS": alias, "ALIASOPERATION": "BYMERCHANT", "ALIASUSAGE": alias_usage,
                       "COF_INITIATOR": "CIT", "COF_TRANSACTION": "FIRST", "COF_SCHEDULE": "SCHED"})
    fields = {k: v for k, v in fields.items() if v not in ("", None)}
    fields["SHASIGN"] = sha_in(fields, account.sha_in_passphrase, account.algorithm)
    return HostedPage(account.url("orderstandard_utf8.asp"), fields)


# --- feedback (redirect and server-to-server notification) ------------------------------------

@dataclass(frozen=True)
class Feedback:
    """A verified Ogone feedback, read into our terms."""

    order_id: str
    pay_id: str
    pay_id_sub: str
    status_code: str
    status: OgoneStatus
    amount_cents: int | None
    currency: str
    card_brand: str
    card_last4: str
    acceptance: str
    nc_error: str
    alias: str
    trx_date: str


def read_feedback(params: Mapping[str, Any]) -> Feedback:
    """Read feedback parameters (names in any case) after the signature was verified."""
    up = {str(k).upper(): str(v) for k, v in params.items()}
    amount = up.get("AMOUNT", "").strip()
    cardno = up.get("CARDNO", "")
    last4 = cardno[-4:] if len(cardno) >= 4 and cardno[-4:].isdigit() else ""
    return Feedback(
        order_id=up.get("ORDERID", ""), pay_id=up.get("PAYID", ""), pay_id_sub=up.get("PAYIDSUB", ""),
        status_code=up.get("STATUS", ""), status=status_of(up.get("STATUS", "")),
        amount_cents=parse_amount(amount) if amount else None, currency=up.get("CURRENCY", ""),
        card_brand=up.get("BRAND", ""), card_last4=last4, acceptance=up.get("ACCEPTANCE", ""),
        nc_error=up.get("NCERROR", ""), alias=up.get("ALIAS", ""), trx_date=up.get("TRXDATE", ""),
    )


# --- DirectLink ---------------------------------------------------------------------------

MAINTENANCE_OPERATIONS = {
    "SAL": "partial capture (the authorisation stays open)",
    "SAS": "capture, last or full (closes the authorisation)",
    "DEL": "cancel the authorisation, leave the order open",
    "DES": "cancel the authorisation and close the order (release)",
    "RFD": "partial refund (more refunds possible)",
    "RFS": "last or full refund (closes)",
    "REN": "renew an expired authorisation",
}


class DirectLinkError(Exception):
    """DirectLink could not be reached or answered something unreadable. `in_doubt`: the request
    may have reached the PSP (the answer was lost), so it must be looked up before trying again."""

    def __init__(self, message: str, in_doubt: bool = False):
        super().__init__(message)
        self.in_doubt = in_doubt


@dataclass(frozen=True)
class DirectLinkResult:
    ok: bool
    status: OgoneStatus
    pay_id: str
    pay_id_sub: str
    order_id: str
    nc_error: str
    nc_error_plus: str
    amount_cents: int | None
    raw: dict[str, str]


def read_ncresponse(xml_text: str) -> DirectLinkResult:
    """`<ncresponse orderID=".." PAYID=".." NCERROR="0" STATUS="91" AMOUNT="1" .../>` -> result."""
    try:
        root = ET.fromstring(xml_text.strip())
    except ET.ParseError as exc:
        raise DirectLinkError(f"DirectLink answered something that is not XML: {xml_text[:80]!r}") from exc
    if root.tag.lower() != "ncresponse":
        raise DirectLinkError(f"DirectLink answered <{root.tag}>, expected <ncresponse>")
    raw = {k: v for k, v in root.attrib.items()}
    up = {k.upper(): v for k, v in raw.items()}
    amount = up.get("AMOUNT", "").strip()
    nc_error = up.get("NCERROR", "").strip()
    return DirectLinkResult(
        ok=nc_error == "0", status=status_of(up.get("STATUS", "")), pay_id=up.get("PAYID", ""),
        pay_id_sub=up.get("PAYIDSUB", ""), order_id=up.get("ORDERID", ""), nc_error=nc_error,
        nc_error_plus=up.get("NCERRORPLUS", ""), amount_cents=parse_amount(amount) if amount else None, raw=raw,
    )


_clients: dict[float, Any] = {}


def _shared_client(timeout: float):
    """One HTTP client per process (building one loads the CA bundle: a third of a second)."""
    import httpx

    if timeout not in _clients:
        _clients[timeout] = httpx.Client(timeout=timeout)
    return _clients[timeout]


class DirectLink:
    """Server-to-server calls with the API user: maintenance (capture, release, refund) and
    merchant-initiated alias payments (installments)."""

    def __init__(self, account: OgoneAccount, http=None, timeout: float = 30.0):
        self.account = account
        self.http = http or _shared_client(timeout)

    def _post(self, page: str, params: dict[str, str]) -> DirectLinkResult:
        import httpx

        if not (self.account.userid and self.account.password):
            raise DirectLinkError("no DirectLink API user configured (LETTRAGE_OGONE_USERID / _PASSWORD)")
        fields = {"PSPID": self.account.pspid, "USERID": self.account.userid, "PSWD": self.account.password,
                  **{k: v for k, v in params.items() if v not in ("", None)}}
        fields["SHASIGN"] = sha_in(fields, self.account.sha_in_passphrase, self.account.algorithm)
        url = self.account.url(page)
        try:
            response = self.http.post(url, data=fields)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise DirectLinkError(f"DirectLink {url} unreachable: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise DirectLinkError(f"DirectLink {url}: no answer ({type(exc).__name__})", in_doubt=True) from exc
        if response.status_code >= 400:
            raise DirectLinkError(f"DirectLink {url} answered HTTP {response.status_code}", in_doubt=True)
        try:
            return read_ncresponse(response.text)
        except DirectLinkError as exc:
            raise DirectLinkError(str(exc), in_doubt=True) from None

    def maintenance(self, operation: str, *, pay_id: str = "", order_id: str = "",
                    amount_cents: int | None = None) -> DirectLinkResult:
        """SAS/SAL capture, DES/DEL release, RFD/RFS refund of one payment (by PAYID or ORDERID)."""
        if operation not in MAINTENANCE_OPERATIONS:
            raise ValueError(f"unknown maintenance operation {operation!r}: one of {', '.join(MAINTENANCE_OPERATIONS)}")
        if not (pay_id or order_id):
            raise ValueError("maintenance needs the PAYID or the ORDERID of the payment")
        return self._post("maintenancedirect.asp", {
            "PAYID": pay_id, "ORDERID": "" if pay_id else order_id, "OPERATION": operation,
            "AMOUNT": "" if amount_cents is None else str(int(amount_cents)),
        })

    def alias_payment(self, *, order_id: str, alias: str, amount_cents: int, currency: str,
                      operation: str = "SAL", description: str = "") -> DirectLinkResult:
        """A merchant-initiated charge on a stored card (installment n > 1): no guest present,
        no 3-D Secure, flagged recurring (ECI 9) and scheduled credential-on-file."""
        return self._post("orderdirect_utf8.asp", {
            "ORDERID": order_id, "AMOUNT": str(int(amount_cents)), "CURRENCY": currency, "ALIAS": alias,
            "OPERATION": operation, "ECI": "9", "COM": description[:100],
            "COF_INITIATOR": "MIT", "COF_TRANSACTION": "SUBSEQ", "COF_SCHEDULE": "SCHED",
        })

    def query(self, *, pay_id: str = "", order_id: str = "") -> DirectLinkResult:
        """The current status of a payment (Direct Query)."""
        return self._post("querydirect_utf8.asp", {"PAYID": pay_id, "ORDERID": "" if pay_id else order_id})
