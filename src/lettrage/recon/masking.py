"""Card numbers (PANs) never go further than the file they arrived in (PCI DSS).

Any run of 13 to 19 digits that passes the Luhn check is a card number, wherever it appears:
in a card column, inside free text ("paid with 4970 1012 3456 2008"), with spaces or dashes
between digit groups, glued to letters ("REF4970101234562008"). It is masked by replacing
every digit but the last four with `*`, keeping the length and the separators, so that the
last 4 still reads and a fixed-width record keeps its layout.

Readers mask every field of every record before parsing it, so nothing downstream (warehouse,
rejects, logs, error messages, Dagster metadata) ever sees a full number; `mask_text` is also
applied to every message that quotes input. Each masked number is counted.

Leading zeros are not counted as digits of the number: a zero-padded amount such as
`0000000000012345` is not a card number (no card number starts with 0), while a card number
written after zeros still is. A 14-digit `YYYYMMDDhhmmss` timestamp is not a card number.
"""

from __future__ import annotations

import datetime as dt
import re

MASK = "*"
# Digit groups joined by single spaces or dashes: "4970 1012 3456 2008", "4970-1012-3456-2008".
_GROUPS = re.compile(r"\d+(?:[ \-]\d+)*")
# Cheap test first: a card number needs at least 13 digits in one sequence of groups.
_CANDIDATE = re.compile(r"\d(?:[ \-]?\d){12}")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_timestamp(digits: str) -> bool:
    if len(digits) != 14 or digits[:2] not in ("19", "20"):
        return False
    try:
        dt.datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def is_card_number(digits: str) -> bool:
    significant = digits.lstrip("0")
    return 13 <= len(significant) <= 19 and luhn_ok(significant) and not _is_timestamp(digits)


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace every digit of each span but its last four."""
    chars = list(text)
    for start, end in spans:
        positions = [i for i in range(start, end) if chars[i].isdigit() or chars[i] == MASK]
        for i in positions[:-4]:
            chars[i] = MASK
    return "".join(chars)


def find_card_numbers(text: str) -> list[tuple[int, int]]:
    """(start, end) of each card number in `text`.

    Inside a sequence of digit groups, every contiguous sub-sequence of whole groups is tried,
    so a number is found even when other digits stand next to it ("room 101 4970 1012 ...")."""
    spans: list[tuple[int, int]] = []
    for m in _GROUPS.finditer(text):
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", m.group())]
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0]:groups[j][1]]
                if len(digits.lstrip("0")) > 19:
                    break
                if is_card_number(digits):
                    spans.append((groups[i][0], groups[j][1]))
        if not spans or spans[-1][1] <= m.start():
            # A long run of digits (fixed-width fields glued together) may hide a number inside.
            run = m.group()
            if len(run) > 19 and run.isdigit():
                spans += _inside_long_run(run, m.start())
    return spans


def _inside_long_run(run: str, offset: int) -> list[tuple[int, int]]:
    # Only numbers starting with a card industry digit (2-6) are looked for inside a longer run:
    # anything else would mask half of every zero-padded numeric record.
    found = []
    for length in (16, 15, 19, 14, 13, 17, 18):
        for i in range(0, len(run) - length + 1):
            chunk = run[i:i + length]
            if chunk[0] in "23456" and luhn_ok(chunk) and not _is_timestamp(chunk):
                found.append((offset + i, offset + i + length))
    return found


def mask_text(text: str, deep: bool = False) -> tuple[str, int]:
    """`text` with card numbers masked, and how many were masked.

    `deep` also looks inside runs of more than 19 digits (raw fixed-width lines, where fields
    touch each other); field values are masked without it."""
    if not text or not _CANDIDATE.search(text):
        return text, 0
    spans = find_card_numbers(text)
    if not deep:
        spans = [s for s in spans if not _long_run_span(text, s)]
    if not spans:
        return text, 0
    return _mask_spans(text, spans), _count(spans)


def _long_run_span(text: str, span: tuple[int, int]) -> bool:
    start, end = span
    return (start > 0 and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit())


def _count(spans: list[tuple[int, int]]) -> int:
    """Overlapping spans are one number."""
    n, last_end = 0, -1
    for start, end in sorted(spans):
        if start >= last_end:
            n += 1
        last_end = max(last_end, end)
    return n


def mask(text: str) -> str:
    """`text` with every card number masked (deep): for messages, raw lines and file names."""
    return mask_text(str(text), deep=True)[0]


def mask_frame(frame):
    """Mask the text columns of a pandas frame; returns the frame and the count of numbers masked."""
    import pandas as pd

    total = 0
    out = frame
    for col in frame.columns:
        if frame[col].dtype != object and not pd.api.types.is_string_dtype(frame[col]):
            continue
        values = frame[col]
        hits = values.map(lambda v: isinstance(v, str) and bool(_CANDIDATE.search(v)))
        if not hits.any():
            continue
        masked = values[hits].map(lambda v: mask_text(v))
        n = int(masked.map(lambda t: t[1]).sum())
        if n:
            if out is frame:
                out = frame.copy()
            out.loc[hits, col] = masked.map(lambda t: t[0])
            total += n
    return out, total
