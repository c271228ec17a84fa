"""What every writer needs: local times as text, and one hotel's rows split into one file per day."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd


def local_iso(utc: pd.Series, timezone: str, offset: bool = False) -> np.ndarray:
    """'2026-03-10T08:14:22' (local wall clock), with '+01:00' when `offset`; None for NaT."""
    valid = utc.notna().to_numpy()
    out = np.full(len(utc), None, dtype=object)
    if not valid.any():
        return out
    instants = utc[valid]
    local = instants.dt.tz_convert(timezone).dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    text = np.datetime_as_string(local, unit="s").astype(object)
    if offset:
        seconds = (local - instants.dt.tz_localize(None).to_numpy().astype("datetime64[s]")).astype(np.int64)
        values, where = np.unique(seconds, return_inverse=True)
        labels = np.array([f"{'+' if s >= 0 else '-'}{abs(s) // 3600:02d}:{abs(s) % 3600 // 60:02d}"
                           for s in values], dtype=object)
        text = text + labels[where]
    out[valid] = text
    return out


def reformat(iso: np.ndarray, pattern: str) -> np.ndarray:
    """Rewrite ISO local times ('YYYY-MM-DDTHH:MM:SS') with a pattern of {Y} {y} {m} {d} {H} {M} {S}."""
    return np.array([None if s is None else pattern.format(Y=s[:4], y=s[2:4], m=s[5:7], d=s[8:10], H=s[11:13],
                                                           M=s[14:16], S=s[17:19]) for s in iso], dtype=object)


def iso_dates(dates) -> np.ndarray:
    return np.array([d.isoformat() if isinstance(d, dt.date) else None for d in dates], dtype=object)


def days_of(dates) -> dict:
    """Row positions per day, days in order."""
    out: dict = {}
    for i, d in enumerate(dates):
        out.setdefault(d, []).append(i)
    return dict(sorted(out.items()))


def write_by_day(directory: Path, pattern: str, columns: dict[str, np.ndarray] | pd.DataFrame, dates,
                 encoding: str = "utf-8", delimiter: str = ",", header: bool = True,
                 quoting: int = csv.QUOTE_MINIMAL, quotechar: str = '"', lineterminator: str = "\n",
                 preamble=None) -> list[Path]:
    """One delimited file per day (`{date}` in the pattern becomes YYYY-MM-DD), or one file when
    `dates` is None. `preamble(day)` may return lines written before the header."""
    if isinstance(columns, pd.DataFrame):
        columns = {c: columns[c].to_numpy() for c in columns.columns}
    names = list(columns)
    arrays = [np.asarray(v, dtype=object) for v in columns.values()]
    n = len(arrays[0]) if arrays else 0
    groups = {None: list(range(n))} if dates is None else days_of(dates)
    written = []
    for day, positions in groups.items():
        path = directory / pattern.format(date=day.isoformat() if day is not None else "",
                                          ymd=day.strftime("%Y%m%d") if day is not None else "")
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, quoting=quoting, quotechar=quotechar,
                                lineterminator=lineterminator)
            if preamble is not None:
                for line in preamble(day):
                    fh.write(line + lineterminator)
            if header:
                writer.writerow(names)
            idx = np.asarray(positions, dtype=np.int64)
            writer.writerows(zip(*(a[idx] for a in arrays), strict=True))
        written.append(path)
    return written


def money(cents, decimal_comma: bool = False, thousands: str = "", sign: int = 1, absolute: bool = False) -> np.ndarray:
    """Cents as the decimal text a source writes ('1.329,69', '-4.19'); None stays None."""
    series = pd.Series(cents)
    if series.dtype == object:
        series = series.astype("Int64")
    missing = series.isna().to_numpy()
    numbers = series.fillna(0).to_numpy(dtype=np.int64) * sign
    point = "," if decimal_comma else "."
    out = np.empty(len(numbers), dtype=object)
    for i, value in enumerate(numbers.tolist()):
        whole, frac = divmod(abs(value), 100)
        text = f"{whole:,}".replace(",", thousands) if thousands else str(whole)
        out[i] = f"{'-' if value < 0 and not absolute else ''}{text}{point}{frac:02d}"
    out[missing] = None
    return out


def text_or_none(values) -> np.ndarray:
    """Values as text, None for missing ones (Int64 columns without a '.0')."""
    series = pd.Series(values)
    return np.where(series.notna().to_numpy(), series.astype(str).to_numpy(dtype=object), None)


def masked_pan(last4, width: int = 16, fill: str = "X") -> np.ndarray:
    """'XXXXXXXXXXXX2008' from last 4 digits (never a full card number); None stays None."""
    series = pd.Series(last4)
    return np.where(series.notna().to_numpy(), (fill * (width - 4) + series.astype(str)).to_numpy(dtype=object),
                    None)
