"""The warehouse as a Dagster resource: a DuckDB file opened per use, closed after."""

from __future__ import annotations

from contextlib import contextmanager

import dagster as dg

from lettrage.recon.warehouse import open_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse. Opened read-write only inside a run step, never by sensors."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False):
        with open_warehouse(self.path, read_only=read_only) as conn:
            yield conn
