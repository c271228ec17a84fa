"""Readers: one module per source format, each turning a file into canonical rows.

The contract every reader keeps:
- `read(path, kind, hotel, trx_codes) -> ReadResult` with `rows` in the canonical columns of
  `schemas` (lineage `source_file` set; `ingested_at` is set by the inbox loader),
- a row that cannot be read goes to `rejects` with its line number and reason, never silently lost:
  rows_in == len(rows) + len(rejects),
- a file that cannot be read at all raises `UnreadableFile` naming the file, line and problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REJECT_COLUMNS = ["source_file", "line_no", "reason", "raw"]


class UnreadableFile(Exception):
    def __init__(self, path: Path | str, problem: str, line: int | None = None):
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


@dataclass
class ReadResult:
    rows: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    rows_in: int = 0
    format: str = "generic"
    masked_pans: int = 0


def read_file(path: Path, kind: str, hotel, fmt: str = "auto", trx_codes: pd.DataFrame | None = None) -> ReadResult:
    """Read one source file of an inbox kind into canonical rows."""
    from lettrage.recon.readers import generic

    if fmt not in ("auto", "generic"):
        raise UnreadableFile(path, f"unknown format {fmt!r}")
    return generic.read(Path(path), kind, hotel, trx_codes)
