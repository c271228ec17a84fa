"""American Express EPTRN: the fixed-width "Transaction/Invoice Level Reconciliation" file.

Source: American Express data file specifications for EPTRN, as implemented in public parsers
(`lumoslabs/paxmex:config/eptrn.yml`, `Finance::AMEX::Transaction::EPTRN` on CPAN); research/
hotel.md §3.5. One record per line; positions below are 1-based, inclusive.

- `DFHDR` data file header: date MMDDYYYY at 6-13, time 14-17, file id 18-23, file name 24-43.
- `DFTRL` data file trailer: record count at 84-90. A file with its header but not its trailer is
  truncated and refused whole (it will be delivered again complete); a file of detail records
  alone (no header, no trailer) is read as it is.
- Detail records carry the record type at 44-45, after payee number 1-10, SE number 11-20, SE unit
  21-30, payment year 31-34 and payment number 35-42 (the payment = our payout):

| type | record | read as |
|---|---|---|
| `00` | payment summary: PAYMENT_DATE 46-52, PAYMENT_AMOUNT 53-63 | `payout` line: net = -amount (the money paid to the bank) |
| `10` | SOC, summary of charges (a batch): SE_BUSINESS_DATE 46-52, AMEX_PROCESS_DATE 53-59, SOC_INVOICE_NUMBER 60-65, SOC_AMOUNT 66-76, DISCOUNT_AMOUNT 77-85, SERVICE_FEE_AMOUNT 86-92, NET_SOC_AMOUNT 100-110 | `fee` line (-discount -service fee) when the file has the SOC's ROCs; else one `sale` line for the whole SOC (gross, fee, net) |
| `11` | ROC, record of charge (one card payment): SOC_INVOICE_NUMBER 60-65, ROC_AMOUNT 79-91, CM_NUMBER (card) 92-106, CM_REF_NO 107-117, SE_REF 118-126, ROC_NUMBER 137-146, TRAN_DATE 147-153 | `sale` (or `refund` when negative): gross = net = ROC amount (the SOC line carries the fee) |
| `20` | chargeback: SOC_AMOUNT 66-76, CHARGEBACK_AMOUNT 77-85, DISCOUNT 86-94, SERVICE_FEE 95-101, NET 109-117, REASON 144-423 | `chargeback` |
| `30` | adjustment: ADJUSTMENT_NUMBER 53-58, AMOUNT 59-67, DISCOUNT 68-76, SERVICE_FEE 77-83, NET 91-99, CARDMEMBER_NUMBER 126-142, REASON 143-422 | `adjustment` |
| `50` | other fees: ASSET_BILLING 53-61, TAKE_ONE_COMMISSION 127-135, OTHER_FEE 216-224, TAX 305-313 | `fee` (-their sum) |

Dates are Julian `YYYYDDD`. Amounts are zoned decimals in cents whose last character carries the
sign (`{` `A`-`I` = +0..9, `}` `J`-`R` = -0..9; a plain digit is positive): `0000500355D` = 50,035.54.
Amex gives no time of day; a line's business date is its transaction date (ROC), else the SE
business date (SOC, chargeback), else the payment date. Card numbers (15 digits) are masked before
the last 4 are kept. Provider `amex`, brand `AMEX`, currency the hotel's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lettrage.recon.masking import mask, mask_text
from lettrage.recon.readers import ReadResult, UnreadableFile
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import physical_lines
from lettrage.recon.readers.records import Record, build

COMMON = {"payee": (1, 10), "se": (11, 20), "se_unit": (21, 30), "payment_year": (31, 34),
          "payment_number": (35, 42), "record_type": (43, 43), "detail_type": (44, 45)}
LAYOUTS = {
    "00": {"payment_date": (46, 52), "payment_amount": (53, 63), "debit_balance": (64, 72)},
    "10": {"se_business_date": (46, 52), "process_date": (53, 59), "soc_invoice": (60, 65), "soc_amount": (66, 76),
           "discount": (77, 85), "service_fee": (86, 92), "net": (100, 110)},
    "11": {"se_business_date": (46, 52), "process_date": (53, 59), "soc_invoice": (60, 65), "soc_amount": (66, 78),
           "roc_amount": (79, 91), "card": (92, 106), "cm_ref": (107, 117), "se_ref": (118, 126),
           "roc_number": (137, 146), "tran_date": (147, 153)},
    "20": {"se_business_date": (46, 52), "process_date": (53, 59), "soc_invoice": (60, 65), "soc_amount": (66, 76),
           "chargeback_amount": (77, 85), "discount": (86, 94), "service_fee": (95, 101), "net": (109, 117),
           "reason": (144, 423)},
    "30": {"process_date": (46, 52), "adjustment_number": (53, 58), "adjustment_amount": (59, 67),
           "discount": (68, 76), "service_fee": (77, 83), "net": (91, 99), "card": (126, 142), "reason": (143, 422)},
    "50": {"process_date": (46, 52), "asset_billing": (53, 61), "take_one": (127, 135), "other_fee": (216, 224),
           "tax": (305, 313)},
}
# The fields a record cannot be read without (a shorter line is truncated).
NEEDED = {"00": "payment_amount", "10": "net", "11": "roc_amount", "20": "net", "30": "net", "50": "asset_billing"}
OVERPUNCH = {"{": ("0", 1), "}": ("0", -1), **{c: (str(i + 1), 1) for i, c in enumerate("ABCDEFGHI")},
             **{c: (str(i + 1), -1) for i, c in enumerate("JKLMNOPQR")}}


def sniff(head: str, mapping=None) -> bool:
    lines = [ln for ln in physical_lines(head)[:5] if ln.strip()]
    return bool(lines) and (lines[0].startswith("DFHDR") or
                            (len(lines[0]) >= 52 and lines[0][43:45] in LAYOUTS and lines[0][:10].strip().isdigit()))


def zoned(text: str | None, what: str) -> int | None:
    """Zoned decimal with an overpunched sign, in cents."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    last, sign = raw[-1], 1
    if last in OVERPUNCH:
        digit, sign = OVERPUNCH[last]
        raw = raw[:-1] + digit
    if not raw.isdigit():
        raise RowProblem(f"{what} {text.strip()!r} is not an Amex amount")
    return sign * int(raw)


def julian(text: str | None, what: str) -> dt.date | None:
    if text is None or not text.strip() or set(text.strip()) == {"0"}:
        return None
    raw = text.strip()
    try:
        year, day = int(raw[:4]), int(raw[4:])
        if len(raw) != 7 or not 1 <= day <= (366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365):
            raise ValueError
        return dt.date(year, 1, 1) + dt.timedelta(days=day - 1)
    except ValueError:
        raise RowProblem(f"{what} {raw!r} is not a Julian date YYYYDDD") from None


def _slice(line: str, span: tuple[int, int]) -> str:
    return line[span[0] - 1: span[1]]


def records(text: str, path) -> tuple[list[Record], int | None, bool]:
    recs, trailer_count, header = [], None, False
    lines = physical_lines(text)
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("DFHDR"):
            header = True
            continue
        if line.startswith("DFTRL"):
            count = _slice(line, (84, 90)).strip()
            trailer_count = int(count) if count.isdigit() else -1
            continue
        detail = _slice(line, COMMON["detail_type"])
        layout = LAYOUTS.get(detail)
        if layout is None:
            recs.append(Record(line_no, line, {"__problem__": f"unknown record type {detail!r} at positions 44-45"}))
            continue
        needed_end = layout[NEEDED[detail]][1]
        fields = {name: _slice(line, span) for name, span in {**COMMON, **layout}.items()}
        rec = Record(line_no, _masked_line(line, layout), fields, raw_masked=True)
        if len(line) < needed_end:  # a numeric field is zero-padded: a shorter line was cut
            rec.fields = {"__problem__": f"record {detail} is {len(line)} characters long, shorter than its "
                                         f"{NEEDED[detail]} field (ends at {needed_end}): truncated"}
        recs.append(rec)
    return recs, trailer_count, header


def _masked_line(line: str, layout: dict) -> str:
    """The raw line with card numbers masked field by field (fields touch each other)."""
    out = line
    spans = sorted([*COMMON.values(), *layout.values()])
    for span in spans:
        part = _slice(out, span)
        masked, n = mask_text(part)
        if n:
            out = out[: span[0] - 1] + masked + out[span[1]:]
    # Fillers between fields are not read, but the raw line is shown: mask them whole.
    covered = set()
    for start, end in spans:
        covered.update(range(start - 1, end))
    gaps, start = [], None
    for i in range(len(out) + 1):
        if i < len(out) and i not in covered:
            start = i if start is None else start
        elif start is not None:
            gaps.append((start, i))
            start = None
    for a, b in gaps:
        out = out[:a] + mask(out[a:b]) + out[b:]
    return out


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    source = read_text(path)
    recs, trailer_count, header = records(source.text, path)
    if header and trailer_count is None:
        raise UnreadableFile(path, f"no DFTRL trailer: the file is truncated ({len(recs)} records before the end)",
                             line=len(physical_lines(source.text)))
    if not recs:
        raise UnreadableFile(path, "no detail records between DFHDR and DFTRL")
    with_rocs = {(r.fields.get("se"), r.fields.get("soc_invoice")) for r in recs
                 if r.fields.get("detail_type") == "11"}
    currency = hotel.currency

    def convert(f: dict) -> dict:
        detail = f["detail_type"]
        payout = f"{f['payment_year'].strip()}{f['payment_number'].strip()}"
        row = {"provider": "amex", "payout_id": payout or None, "merchant_id": cv.text(f["se"]),
               "card_brand": "AMEX", "currency": currency, "remittance_id": cv.text(f.get("soc_invoice")),
               "txn_at": None}
        fee = _fee(f)
        if detail == "00":
            amount = zoned(f["payment_amount"], "PAYMENT_AMOUNT")
            day = julian(f["payment_date"], "PAYMENT_DATE")
            row.update(line_type="payout", remittance_id=payout, merchant_id=cv.text(f["payee"]), gross_cents=None, fee_cents=None,
                       net_cents=-(amount or 0), remittance_date=day, value_date=day, business_date=day)
        elif detail == "10":
            day = julian(f["se_business_date"], "SE_BUSINESS_DATE")
            processed = julian(f["process_date"], "AMEX_PROCESS_DATE")
            if (f["se"], f["soc_invoice"]) in with_rocs:
                row.update(line_type="fee", gross_cents=None, fee_cents=fee, net_cents=fee)
            else:
                row.update(line_type="sale", gross_cents=zoned(f["soc_amount"], "SOC_AMOUNT"), fee_cents=fee,
                           net_cents=zoned(f["net"], "NET_SOC_AMOUNT"))
            row.update(remittance_date=processed or day, business_date=day)
        elif detail == "11":
            amount = zoned(f["roc_amount"], "ROC_AMOUNT")
            if amount is None:
                raise RowProblem("ROC_AMOUNT is empty")
            tran = julian(f["tran_date"], "TRAN_DATE")
            day = julian(f["se_business_date"], "SE_BUSINESS_DATE")
            roc = cv.text(f["roc_number"])
            row.update(line_type="refund" if amount < 0 else "sale", gross_cents=amount, fee_cents=0,
                       net_cents=amount, card_last4=cv.last4(f["card"]),
                       remittance_date=julian(f["process_date"], "AMEX_PROCESS_DATE") or day,
                       business_date=tran or day, merchant_reference=cv.text(f["se_ref"]),
                       remise_ref=roc, remittance_line_id=f"amex:{f['se'].strip()}:{f['soc_invoice'].strip()}:{roc}"
                       if roc else None)
        elif detail == "20":
            day = julian(f["se_business_date"], "SE_BUSINESS_DATE")
            row.update(line_type="chargeback", gross_cents=zoned(f["chargeback_amount"], "CHARGEBACK_AMOUNT"),
                       fee_cents=fee, net_cents=zoned(f["net"], "NET_CHARGEBACK_AMOUNT"),
                       remittance_date=julian(f["process_date"], "AMEX_PROCESS_DATE") or day, business_date=day)
        elif detail == "30":
            day = julian(f["process_date"], "AMEX_PROCESS_DATE")
            row.update(line_type="adjustment", gross_cents=zoned(f["adjustment_amount"], "ADJUSTMENT_AMOUNT"),
                       fee_cents=fee, net_cents=zoned(f["net"], "NET_ADJUSTMENT_AMOUNT"),
                       card_last4=cv.last4(f["card"]), remittance_date=day, business_date=day,
                       remittance_id=cv.text(f["adjustment_number"]))
        else:  # "50"
            day = julian(f["process_date"], "AMEX_PROCESS_DATE")
            row.update(line_type="fee", gross_cents=None, fee_cents=fee, net_cents=fee, remittance_date=day,
                       business_date=day)
        if row.get("remittance_date") is None:
            raise RowProblem("the record carries no date")
        return row

    result = build(path, kind, hotel, recs, convert, encoding=source.encoding)
    if trailer_count not in (-1, len(recs), len(recs) + 1, len(recs) + 2):  # counts vary: with or without header/trailer
        raise UnreadableFile(path, f"the DFTRL trailer counts {trailer_count} records but the file holds "
                                   f"{len(recs)} detail records (+ header and trailer): incomplete file")
    return result


def _fee(f: dict) -> int | None:
    parts = [zoned(f.get(name), name.upper()) for name in ("discount", "service_fee", "asset_billing", "take_one",
                                                            "other_fee", "tax") if name in f]
    parts = [p for p in parts if p is not None]
    return -sum(parts) if parts else None
