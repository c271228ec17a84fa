"""A hotel's reading settings: its hotel row, its PMS codes and the column mappings of its exports.

protel and Starlight publish no export layout, and every hotel configures its own columns; a
"generic" CSV may name its columns as it likes. A **column mapping** (YAML) says where each
field is. The same file is passed to `lettrage read --hotel-config FILE`, and is read from
`inbox/<hotel_id>/hotel.yaml` by the pipeline (where the hotel row itself comes from hotels.csv):

    hotel:                      # the hotels.csv row (only with --hotel-config)
      hotel_id: H1
      name: Hôtel du Port
      timezone: Europe/Paris
      currency: EUR
      night_audit_time: "03:00"
      pms_system: protel
    trx_codes: trx_codes.csv    # the hotel's PMS code table (path relative to this file, or a list of rows)
    formats:
      protel:                   # one entry per format name (protel, starlight, generic)
        separator: ";"          # default: detected from the header line
        encoding: cp1252        # default: detected (UTF-8, UTF-16 with BOM, Windows-1252, Latin-1)
        header: true            # false: `columns` give 1-based positions instead of names
        skip_lines: 0           # title lines before the header
        decimal_comma: true     # default: detected per value
        date_format: "%d.%m.%Y" # default: detected over the whole column (day first unless day_first: false)
        day_first: true
        amount_unit: major      # major: 12,50 = 12.50; minor: 1250 = 12.50
        sign: as_is             # as_is: payments written positive; folio: payments written negative (credits)
        constants: {currency: EUR}
        columns:                # field -> column name (or position); fields are the canonical
          posting_id: Buchungsnummer      # columns of the kind's table (DOMAIN.md) plus:
          business_date: Datum            #   amount      the row's amount (pms/tpe/psp amount, gross
          time: Uhrzeit                   #               of a remittance, total of a reservation)
          trx_code: Zahlungsart           #   debit, credit  two columns folded into amount = credit - debit
          amount: Betrag                  #   date, time  date and clock time of the row's moment
          card_number: Kartennummer       #   card_number a masked card number: its last 4 are kept
          label: Bezeichnung              #   label       the code's label: its brand when the code table
                                          #               does not know the code
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

SIGNS = ("as_is", "folio")
UNITS = ("major", "minor")


@dataclass(frozen=True)
class FormatMapping:
    columns: dict[str, str | int] = field(default_factory=dict)
    separator: str | None = None
    encoding: str | None = None
    header: bool = True
    skip_lines: int = 0
    decimal_comma: bool | None = None
    date_format: str | None = None
    day_first: bool = True
    amount_unit: str = "major"
    sign: str = "as_is"
    constants: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict, where: str) -> FormatMapping:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{where}: unknown mapping setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        mapping = cls(**data)
        if mapping.sign not in SIGNS:
            raise ValueError(f"{where}: sign must be one of {', '.join(SIGNS)}, not {mapping.sign!r}")
        if mapping.amount_unit not in UNITS:
            raise ValueError(f"{where}: amount_unit must be one of {', '.join(UNITS)}, not {mapping.amount_unit!r}")
        if not isinstance(mapping.columns, dict):
            raise ValueError(f"{where}: columns must map each field to a column name or position")
        return mapping

    def merged(self, override: FormatMapping | None) -> FormatMapping:
        """This mapping (a format's default) with a hotel's settings on top."""
        if override is None:
            return self
        if override.columns:  # the hotel describes its own layout: nothing of the default's is assumed
            return FormatMapping(**{**vars(override), "constants": {**self.constants, **override.constants}})
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for f in fields(override):
            mine = getattr(override, f.name)
            if mine != f.default and not (f.name in ("columns", "constants") and not mine):
                values[f.name] = mine
        return FormatMapping(**values)


@dataclass
class HotelConfig:
    hotel: object | None
    trx_codes: pd.DataFrame | None
    mappings: dict[str, FormatMapping]


def load_hotel_config(path: Path) -> HotelConfig:
    """Read a hotel configuration file (YAML); errors name the file and the setting."""
    import yaml

    from lettrage.recon.hotels import Hotel

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with hotel, trx_codes and formats")
    hotel = None
    if data.get("hotel"):
        try:
            values = {k: v for k, v in data["hotel"].items() if k in Hotel.__dataclass_fields__}
            values = {k: (str(v) if k not in ("match_window_minutes", "amount_tolerance_cents") else int(v))
                      for k, v in values.items()}
            hotel = Hotel(**values)
            hotel.tz  # noqa: B018 - an unknown zone fails here, with the file named
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"{path}: bad hotel settings: {exc}") from exc
    mappings = {}
    for name, body in (data.get("formats") or {}).items():
        mappings[name] = FormatMapping.from_dict(body or {}, f"{path}: formats.{name}")
    return HotelConfig(hotel, _trx_codes(data.get("trx_codes"), path, hotel), mappings)


def _trx_codes(spec, path: Path, hotel) -> pd.DataFrame | None:
    if not spec:
        return None
    if isinstance(spec, str):
        from lettrage.recon.readers import read_file

        codes_path = (path.parent / spec) if not Path(spec).is_absolute() else Path(spec)
        if hotel is None:
            raise ValueError(f"{path}: trx_codes need the hotel section")
        return read_file(codes_path, "trx_codes", hotel, fmt="generic").rows
    if isinstance(spec, list):
        from lettrage.recon import schemas
        from lettrage.recon.readers.conventions import card_brand
        from lettrage.recon.readers.mapped import channel

        frame = pd.DataFrame(spec).reindex(columns=schemas.columns("trx_codes"))
        frame["hotel_id"] = getattr(hotel, "hotel_id", "")
        frame["trx_code"] = frame["trx_code"].astype(str)
        frame["card_brand"] = frame["card_brand"].map(lambda v: card_brand(v) if isinstance(v, str) else None)
        frame["channel"] = frame["channel"].map(lambda v: channel(v) if isinstance(v, str) else None)
        try:
            return schemas.model("trx_codes").validate(frame)
        except Exception as exc:  # noqa: BLE001 - pandera's message names the column
            raise ValueError(f"{path}: bad trx_codes rows: {str(exc).splitlines()[0]}") from exc
    raise ValueError(f"{path}: trx_codes must be a file name or a list of rows")


def hotel_mappings(hotel_dir: Path) -> dict[str, FormatMapping]:
    """The mappings of `inbox/<hotel_id>/hotel.yaml`, if the hotel has one."""
    for name in ("hotel.yaml", "hotel.yml"):
        if (Path(hotel_dir) / name).exists():
            return load_hotel_config(Path(hotel_dir) / name).mappings
    return {}
