"""Readers: one module per source format, each turning a delivered file into canonical rows.

The contract every reader keeps:
- `read(path, kind, hotel, trx_codes, mapping) -> ReadResult`, `rows` in the canonical columns
  of `schemas` (lineage `source_file` set; `ingested_at` is set by whoever stores them),
  validated row by row against the pandera model of the table,
- a row that cannot be read goes to `rejects` with its line number and reason, never silently
  lost: `rows_in == len(rows) + len(rejects)` for every file,
- a file that cannot be read at all raises `UnreadableFile` naming the file, the line and the
  problem (empty, binary, truncated, missing columns, not the format it claims to be),
- every field is masked for card numbers (`recon.masking`) before it is parsed, and counted.

Conventions shared by every format (DOMAIN.md): money in integer cents, signed from the hotel's
point of view (+ received, - given back: refunds, chargebacks, fees, and payouts, which leave the
acquirer's balance for the hotel's bank so that a remittance's net lines sum to zero with its
payout); local times get the hotel's time zone; business dates follow the hotel's night audit;
card brands are normalised (`conventions.card_brand`), last 4 digits taken from any mask.

`read_file(path, kind, hotel, fmt="auto")` picks the reader; `--format auto` recognises a file by
its content (`detect`). Format names are those of `FORMATS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lettrage.recon.masking import mask

if TYPE_CHECKING:
    import pandas as pd

REJECT_COLUMNS = ["source_file", "line_no", "reason", "raw"]

# format name -> (module, kinds it reads), in the order `detect` tries them (specific first).
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "opera_trexport": ("opera_trexport", ("pms_postings",)),
    "opera_csv": ("opera_csv", ("pms_postings",)),
    "onq": ("onq", ("pms_postings",)),
    "protel": ("protel", ("pms_postings",)),
    "starlight": ("starlight", ("pms_postings",)),
    "opera_resv": ("opera_resv", ("reservations",)),
    "tpe_csv": ("tpe_csv", ("tpe_journal",)),
    "adyen_sdr": ("adyen_sdr", ("remittances",)),
    "amex_eptrn": ("amex_eptrn", ("remittances",)),
    "cb_remittance": ("cb_remittance", ("remittances",)),
    "ogone_xml": ("ogone_xml", ("psp_journal",)),
    "generic": ("generic", ("pms_postings", "reservations", "tpe_journal", "remittances", "psp_journal",
                            "trx_codes")),
}
# The PMS a hotel declares (hotels.csv `pms_system`) -> its usual export format, when content
# alone does not tell (protel and Starlight exports are described by the hotel's column mapping).
PMS_FORMATS = {"opera": "opera_csv", "protel": "protel", "starlight": "starlight", "onq": "onq"}


class UnreadableFile(Exception):
    """A file that cannot be read at all. The message names the file, the line and the problem,
    with any card number in it masked."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None):
        self.path, self.problem, self.line = mask(str(path)), mask(problem), line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {self.problem}")


def _no_rejects():
    import pandas as pd

    return pd.DataFrame(columns=REJECT_COLUMNS)


@dataclass
class ReadResult:
    rows: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=_no_rejects)
    rows_in: int = 0
    format: str = "generic"
    masked_pans: int = 0
    encoding: str = ""


def module(fmt: str):
    return importlib.import_module(f"lettrage.recon.readers.{FORMATS[fmt][0]}")


def formats_for(kind: str) -> list[str]:
    return [name for name, (_, kinds) in FORMATS.items() if kind in kinds]


def detect(path: Path, kind: str, hotel=None, mappings: dict | None = None) -> str:
    """The format of a file, recognised from its first lines (and the hotel's declared PMS)."""
    from lettrage.recon.readers.decoding import head_text, read_text

    head = head_text(Path(path))
    if not head.strip():
        read_text(Path(path))  # raises what is wrong: empty, binary, unreadable
    candidates = formats_for(kind)
    if module("generic").canonical(head, kind):  # our own CSV, whatever other names it shares
        return "generic"
    for fmt in candidates:
        if module(fmt).sniff(head, (mappings or {}).get(fmt)):
            return fmt
    declared = PMS_FORMATS.get(getattr(hotel, "pms_system", ""), "")
    if kind == "pms_postings" and declared:
        return declared
    if not head.strip():
        raise UnreadableFile(path, "the file is empty")
    first = head.strip().splitlines()[0][:120]
    raise UnreadableFile(path, f"format not recognised for {kind} (tried {', '.join(candidates)}); "
                               f"first line: {first!r}", line=1)


def read_file(path: Path, kind: str, hotel, fmt: str = "auto", trx_codes: pd.DataFrame | None = None,
              mappings: dict | None = None, validate: bool = True) -> ReadResult:
    """Read one source file of an inbox kind into canonical rows.

    `mappings`: the hotel's column mappings per format (`hotel_config`), for the formats that
    are described by one (protel, starlight, generic). `validate=False` leaves the schema check
    to the caller (the inbox validates all files of a run at once: pandera's cost is per call):
    the rows then keep `_line_no` and `_raw` for the rejects."""
    path = Path(path)
    if fmt == "auto":
        fmt = detect(path, kind, hotel, mappings)
    if fmt not in FORMATS:
        raise UnreadableFile(path, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if kind not in FORMATS[fmt][1]:
        raise UnreadableFile(path, f"format {fmt} holds no {kind} (it holds {', '.join(FORMATS[fmt][1])})")
    try:
        result = module(fmt).read(path, kind, hotel, trx_codes=trx_codes, mapping=(mappings or {}).get(fmt))
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader bug must quarantine the file, not crash the day
        raise UnreadableFile(path, f"the {fmt} reader failed: {type(exc).__name__}: {exc}") from exc
    result.format = fmt
    if validate:
        from lettrage.recon.readers.records import finish

        result = finish(result, kind)
    return result
