"""American Express EPTRN, the fixed-width reconciliation file, one per payment, as
`recon/readers/amex_eptrn.py` reads it: header DFHDR, the payment summary (00), each summary of
charges (10) followed by its records of charge (11), trailer DFTRL with the record count.
Amounts are zoned decimals in cents with the sign overpunched in the last digit; dates Julian
YYYYDDD; card numbers masked (research/hotel.md §3.5)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from lettrage.recon.generate.formats.files import days_of
from lettrage.recon.generate.group import HotelProfile

RECORD_LENGTH = 450
POSITIVE = "{ABCDEFGHI"
NEGATIVE = "}JKLMNOPQR"


def zoned(cents: int, width: int) -> str:
    digits = f"{abs(int(cents)):0{width}d}"
    sign = NEGATIVE if cents < 0 else POSITIVE
    return digits[:-1] + sign[int(digits[-1])]


def julian(day: dt.date) -> str:
    return f"{day.year}{day.timetuple().tm_yday:03d}"


class Line:
    """A fixed-width record built field by field at 1-based positions."""

    def __init__(self):
        self.chars = [" "] * RECORD_LENGTH

    def put(self, start: int, end: int, value: str, right: bool = False) -> Line:
        width = end - start + 1
        text = value.rjust(width) if right else value.ljust(width)
        self.chars[start - 1:end] = list(text[:width])
        return self

    def text(self) -> str:
        return "".join(self.chars)


def _common(se: str, payout_id: str, detail: str) -> Line:
    return (Line().put(1, 10, se).put(11, 20, se).put(31, 34, payout_id[:4]).put(35, 42, payout_id[4:])
            .put(43, 43, "1").put(44, 45, detail))


def write(directory: Path, profile: HotelProfile, kind: str, rows: pd.DataFrame, date_column) -> list[Path]:
    written = []
    se = profile.amex_se
    for day, positions in days_of(rows[date_column].to_numpy()).items():
        part = rows.iloc[positions]
        lines = [Line().put(1, 5, "DFHDR").put(6, 13, day.strftime("%m%d%Y")).put(14, 17, "0600")
                 .put(18, 23, f"{day.timetuple().tm_yday:06d}").put(24, 43, "EPTRN").text()]
        for _, r in part.iterrows():
            payout_id = r["payout_id"]
            if r["line_type"] == "payout":
                lines.append(_common(se, payout_id, "00").put(46, 52, julian(r["remittance_date"]))
                             .put(53, 63, zoned(-int(r["net_cents"]), 11)).put(64, 72, zoned(0, 9)).text())
            elif r["line_type"] == "fee":
                discount = -int(r["fee_cents"])
                lines.append(_common(se, payout_id, "10").put(46, 52, julian(r["business_date"]))
                             .put(53, 59, julian(r["remittance_date"])).put(60, 65, r["remittance_id"])
                             .put(66, 76, zoned(int(r["soc_amount"]), 11)).put(77, 85, zoned(discount, 9))
                             .put(86, 92, zoned(0, 7)).put(100, 110, zoned(int(r["soc_amount"]) - discount, 11))
                             .text())
            else:
                lines.append(_common(se, payout_id, "11").put(46, 52, julian(r["business_date"]))
                             .put(53, 59, julian(r["remittance_date"])).put(60, 65, r["remittance_id"])
                             .put(66, 78, zoned(0, 13)).put(79, 91, zoned(int(r["gross_cents"]), 13))
                             .put(92, 106, "X" * 11 + r["card_last4"]).put(107, 117, "")
                             .put(118, 126, r["merchant_reference"]).put(137, 146, r["remise_ref"]).put(147, 153, julian(r["business_date"]))
                             .text())
        lines.append(Line().put(1, 5, "DFTRL").put(84, 90, f"{len(lines) + 1:07d}").text())
        path = directory / f"EPTRN_{day:%Y%m%d}.dat"
        path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
        written.append(path)
    return written
