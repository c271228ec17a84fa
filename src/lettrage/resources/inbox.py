"""Where the hotels' files arrive."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from lettrage.recon.hotels import Hotel
from lettrage.recon.inbox import hotels_of


class InboxResource(dg.ConfigurableResource):
    """The inbox folder (`<hotel_id>/<kind>/<file>`, with hotels.csv at its root) and its quarantine."""

    path: str
    quarantine_path: str

    @property
    def root(self) -> Path:
        return Path(self.path)

    def hotels(self, only: list[str] | None = None) -> dict[str, Hotel]:
        hotels = hotels_of(self.root)
        if only:
            unknown = sorted(set(only) - set(hotels))
            if unknown:
                raise dg.Failure(f"unknown hotel(s) {', '.join(unknown)} (not in {self.root / 'hotels.csv'})")
            hotels = {h: hotels[h] for h in only}
        return hotels
