"""Money as integer cents, and how a finance person reads it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


def format_cents(cents: int | None, currency: str = "EUR") -> str:
    """12345 -> '123.45 €'; negative amounts keep their sign."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{frac:02d} {SYMBOLS.get(currency, currency)}".replace(",", "\u202f")


def parse_amount(text: str, decimal_comma: bool | None = None) -> int:
    """'1 329,69' / '1,329.69' / '-4.19' -> cents, exactly (no float ever).

    With decimal_comma None the separator is guessed: the last of ',' or '.' followed by 1-2
    digits is the decimal mark."""
    s = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
    negative = s.startswith("-") or (s.startswith("(") and s.endswith(")")) or s.endswith("-")
    s = s.strip("()-+")
    if decimal_comma is None:
        last = max(s.rfind(","), s.rfind("."))
        decimal_comma = last >= 0 and s[last] == "," and len(s) - last - 1 in (1, 2)
        if last >= 0 and s[last] == "." and len(s) - last - 1 == 3 and s.count(".") == 1 and "," not in s:
            decimal_comma = False
    s = s.replace(".", "").replace(",", ".") if decimal_comma else s.replace(",", "")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return -int(cents) if negative else int(cents)
