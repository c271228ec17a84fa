"""Dagster resources, bound from the settings in one place."""

from __future__ import annotations

from lettrage.config import Settings, load_settings


def build_resources(settings: Settings | None = None) -> dict:
    """Every resource the code location needs, from the settings (environment, defaults under var/)."""
    from lettrage.resources.finance import finance_resources
    from lettrage.resources.inbox import InboxResource
    from lettrage.resources.links import link_resources
    from lettrage.resources.warehouse import WarehouseResource

    s = settings or load_settings()
    return {
        "warehouse": WarehouseResource(path=str(s.warehouse_path)),
        "inbox_files": InboxResource(path=str(s.inbox_dir), quarantine_path=str(s.quarantine_dir)),
        **finance_resources(s),
        **link_resources(s),
    }
