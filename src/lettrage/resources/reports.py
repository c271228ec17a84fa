"""Where the finance reports are written (HTML pages and XLSX workbooks)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class ReportsResource(dg.ConfigurableResource):
    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)
