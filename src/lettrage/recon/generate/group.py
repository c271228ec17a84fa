"""The hotel group: hotels, their PMS transaction codes, cashiers, terminals, rates and formats.

Every hotel is drawn from its own random stream (seed, hotel number), so a hotel is the same
whatever the size of the group. The first hotels are chosen so that a small group already covers
every PMS and acquirer format; the rest are drawn with realistic weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lettrage.recon.hotels import Hotel


@dataclass(frozen=True)
class Location:
    city: str
    timezone: str
    currency: str
    country: str
    language: str  # the staff's language: labels, cashier names
    acquirer: str  # "cb": French CB acquirer + AMEX direct; "adyen": Adyen for every brand
    base_rate: int  # a standard room's night, in currency units
    city_tax_cents: int  # per adult and night
    guests: tuple[tuple[str, float], ...]  # guest languages and weights


LOCATIONS = [
    Location("Paris", "Europe/Paris", "EUR", "FR", "fr", "cb", 189, 288,
             (("fr", .45), ("en", .25), ("de", .08), ("es", .07), ("it", .07), ("ja", .04), ("zh", .04))),
    Location("London", "Europe/London", "GBP", "GB", "en", "adyen", 169, 0,
             (("en", .60), ("fr", .12), ("de", .10), ("es", .08), ("it", .05), ("zh", .05))),
    Location("New York", "America/New_York", "USD", "US", "en", "adyen", 259, 0,
             (("en", .70), ("fr", .08), ("de", .06), ("es", .10), ("ja", .06))),
    Location("Nice", "Europe/Paris", "EUR", "FR", "fr", "cb", 149, 230,
             (("fr", .50), ("en", .20), ("it", .15), ("de", .10), ("nl", .05))),
    Location("Singapore", "Asia/Singapore", "SGD", "SG", "en", "adyen", 289, 0,
             (("en", .55), ("zh", .25), ("ja", .10), ("fr", .05), ("de", .05))),
    Location("Lyon", "Europe/Paris", "EUR", "FR", "fr", "cb", 129, 165,
             (("fr", .65), ("en", .15), ("de", .08), ("es", .06), ("it", .06))),
    Location("Bordeaux", "Europe/Paris", "EUR", "FR", "fr", "cb", 119, 165,
             (("fr", .65), ("en", .20), ("es", .08), ("nl", .07))),
    Location("Edinburgh", "Europe/London", "GBP", "GB", "en", "adyen", 139, 0,
             (("en", .70), ("fr", .10), ("de", .10), ("es", .10))),
    Location("Boston", "America/New_York", "USD", "US", "en", "adyen", 219, 0,
             (("en", .80), ("fr", .05), ("es", .10), ("zh", .05))),
    Location("Dubai", "Asia/Dubai", "AED", "AE", "en", "adyen", 690, 0,
             (("en", .50), ("fr", .10), ("de", .10), ("zh", .15), ("ja", .05), ("it", .10))),
    Location("Berlin", "Europe/Berlin", "EUR", "DE", "de", "adyen", 129, 0,
             (("de", .55), ("en", .25), ("fr", .08), ("nl", .07), ("it", .05))),
]
# Weights of the locations for hotels drawn at random (after the first, hand-picked ones).
LOCATION_WEIGHTS = np.array([.20, .10, .08, .08, .04, .10, .08, .06, .06, .05, .15])

# The first hotels, chosen so that four of them already cover the formats a finance team meets:
# (location, PMS format, night audit, terminal journal encoding, rooms)
SHOWCASE = [
    (0, "opera_csv", "03:00", "cp1252", 80),
    (1, "protel", "02:00", "utf-8", 70),
    (2, "onq", "23:30", "utf-8", 95),
    (3, "opera_trexport", "04:00", "cp1252", 55),
    (4, "starlight", "02:30", "utf-8", 75),
    (5, "generic", "01:00", "utf-8-sig", 45),
]
PMS_FORMATS = {"opera_csv": "opera", "opera_trexport": "opera", "protel": "protel", "onq": "onq",
               "starlight": "starlight", "generic": "generic"}
PMS_FORMAT_WEIGHTS = {"opera_csv": .40, "opera_trexport": .10, "protel": .20, "starlight": .10,
                      "onq": .10, "generic": .10}
AUDIT_TIMES = ["02:00", "03:00", "04:00", "01:00", "23:30", "02:30"]
AUDIT_WEIGHTS = np.array([.30, .30, .15, .10, .05, .10])

HOTEL_NAMES = ["Hôtel du Parc", "Grand Hôtel", "Hôtel des Arts", "Hôtel Bellevue", "Hôtel de la Gare",
               "Hôtel Saint-Georges", "Hôtel Lutetia", "Hôtel Beau Rivage", "Hôtel Victoria", "Hôtel Central"]
EN_HOTEL_NAMES = ["Park Hotel", "Grand Hotel", "Riverside Hotel", "Harbour Hotel", "Station Hotel",
                  "Kings Hotel", "Garden Hotel", "Bay Hotel", "Victoria Hotel", "Central Hotel"]

STAFF = {
    "fr": (["Adrian", "Akram", "Antoine", "Colette", "Aloïse", "Inès", "Hugo", "Léa", "Mathieu", "Camille",
            "Yanis", "Chloé", "Théo", "Manon", "Karim", "Élodie"],
           ["Hauke", "Tajari", "Bardu", "Berau", "Thomas", "Lefèvre", "Moreau", "Girard", "Roux", "Fournier",
            "Benali", "Mercier", "Faure", "Blanc", "Garnier", "Chevalier"]),
    "en": (["Oliver", "Amelia", "Jack", "Isla", "Harry", "Ava", "George", "Mia", "Noah", "Grace", "Ethan",
            "Chloe", "Liam", "Sophie", "Ryan", "Emily"],
           ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright",
            "Walker", "Clarke", "Green", "Hall", "Lewis", "Young"]),
    "de": (["Lukas", "Anna", "Jonas", "Lea", "Felix", "Mia", "Paul", "Lena", "Max", "Laura", "Tim", "Julia"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
            "Hoffmann", "Koch", "Richter"]),
}

# PMS transaction codes: (key, label fr, label en, group fr, group en, is_payment, brand, channel).
# The key names the code's role; each PMS numbers its codes its own way (below).
CODE_ROLES = [
    ("room", "Hébergement", "Room revenue", "Hébergement", "Rooms", False, None, None),
    ("breakfast", "Petit-déjeuner", "Breakfast", "Restauration", "Food & beverage", False, None, None),
    ("city_tax", "Taxe de séjour", "City tax", "Taxes", "Taxes", False, None, None),
    ("cash", "Espèces", "Cash", "Paiements espèces", "Cash payments", True, None, "cash"),
    ("amex", "American Express", "American Express", "Paiements cartes", "Card payments", True, "AMEX", "terminal"),
    ("visa", "Visa", "Visa", "Paiements cartes", "Card payments", True, "VISA", "terminal"),
    ("mastercard", "Mastercard", "Mastercard", "Paiements cartes", "Card payments", True, "MASTERCARD",
     "terminal"),
    ("cb", "CB_EMV", "Cartes Bancaires", "Paiements cartes", "Card payments", True, "CB", "terminal"),
    ("maestro", "Maestro", "Maestro", "Paiements cartes", "Card payments", True, "MAESTRO", "terminal"),
    ("jcb", "JCB", "JCB", "Paiements cartes", "Card payments", True, "JCB", "terminal"),
    ("diners", "Diners Club", "Diners Club", "Paiements cartes", "Card payments", True, "DINERS", "terminal"),
    ("unionpay", "UnionPay", "UnionPay", "Paiements cartes", "Card payments", True, "UNIONPAY", "terminal"),
    ("visa_vad", "Visa - VAD", "Visa - MOTO", "Vente à distance", "Mail/phone order", True, "VISA", "distance"),
    ("mastercard_vad", "Master Card - VAD", "Mastercard - MOTO", "Vente à distance", "Mail/phone order", True,
     "MASTERCARD", "distance"),
    ("cb_vad", "CB_VAD", "CB - MOTO", "Vente à distance", "Mail/phone order", True, "CB", "distance"),
    ("amex_vad", "American Express - VAD", "Amex - MOTO", "Vente à distance", "Mail/phone order", True, "AMEX",
     "distance"),
    ("psp", "Paiement en ligne Ogone", "Online payment (Ogone)", "Paiements en ligne", "Online payments", True,
     None, "psp"),
    ("deposit_transfer", "Transfert d'acompte", "Deposit transfer", "Transferts", "Transfers", True, None,
     "transfer"),
    ("bank_transfer", "Virement bancaire", "Bank transfer", "Transferts", "Transfers", True, None, "transfer"),
    ("city_ledger", "Débiteurs / compte client", "City ledger", "Débiteurs", "Accounts receivable", True, None,
     "other"),
]
_OPERA_NUMBERS = {"room": 1000, "breakfast": 2000, "city_tax": 3000, "cash": 9000, "amex": 9004, "jcb": 9005,
                  "diners": 9006, "unionpay": 9007, "maestro": 9008, "visa": 9012, "mastercard": 9013,
                  "cb": 9014, "visa_vad": 9022, "mastercard_vad": 9023, "cb_vad": 9024, "amex_vad": 9025,
                  "psp": 9040, "deposit_transfer": 9150, "bank_transfer": 9200, "city_ledger": 9300}
_ONQ_CODES = {"room": "RM", "breakfast": "BK", "city_tax": "TX", "cash": "CA", "amex": "AX", "jcb": "JC",
              "diners": "DC", "unionpay": "UP", "maestro": "MA", "visa": "VI", "mastercard": "MC", "cb": "CB",
              "visa_vad": "VM", "mastercard_vad": "MM", "cb_vad": "CM", "amex_vad": "AM", "psp": "OG",
              "deposit_transfer": "DT", "bank_transfer": "BT", "city_ledger": "DB"}


@dataclass(frozen=True)
class Terminal:
    number: str  # the 3-digit terminal number printed on tickets and in the remise reference
    label: str
    merchant_id: str


@dataclass(frozen=True)
class Cashier:
    cashier_id: str
    name: str
    shift: str  # morning, evening, night


@dataclass(frozen=True)
class RoomType:
    code: str
    label: str
    rate_cents: int  # the flexible rate of one night


@dataclass
class HotelProfile:
    """A hotel's settings (the `Hotel` row) plus what the generator needs to make its days."""

    hotel: Hotel
    index: int
    location: Location
    rooms: int
    pms_format: str
    tpe_encoding: str
    room_types: list[RoomType]
    cashiers: list[Cashier]
    terminals: list[Terminal]
    codes: pd.DataFrame  # the hotel's trx_codes table
    code_of: dict[str, str] = field(default_factory=dict)  # role -> trx_code
    adyen_account: str = ""
    amex_se: str = ""
    ogone_pspid: str = ""

    @property
    def hotel_id(self) -> str:
        return self.hotel.hotel_id

    @property
    def french(self) -> bool:
        return self.location.country == "FR"

    def formats(self, generic: bool) -> dict[str, str]:
        """The format of each source kind for this hotel."""
        if generic:
            return {k: "generic" for k in ("pms_postings", "tpe_journal", "remittances", "psp_journal",
                                            "reservations", "trx_codes")}
        return {
            "pms_postings": self.pms_format,
            "tpe_journal": "tpe_csv",
            "remittances": "cb_remittance" if self.location.acquirer == "cb" else "adyen_sdr",
            "psp_journal": "ogone_xml",
            "reservations": "opera_resv" if self.hotel.pms_system == "opera" else "generic",
            "trx_codes": "generic",
        }


def hotel_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """An independent random stream per hotel (and per purpose)."""
    return np.random.default_rng([seed, index, stream])


def _codes(hotel_id: str, pms_format: str, language: str, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    # Codes are per property: each OPERA hotel numbers its own, from its own base.
    opera_base = int(rng.choice([0, 0, 0, -1000, 100]))
    rows, code_of = [], {}
    for i, (role, fr, en, gfr, gen, is_payment, brand, channel) in enumerate(CODE_ROLES):
        if pms_format.startswith("opera"):
            code = str(_OPERA_NUMBERS[role] + (opera_base if _OPERA_NUMBERS[role] >= 9000 else 0))
        elif pms_format == "onq":
            code = _ONQ_CODES[role]
        elif pms_format == "protel":
            code = str(800 + i) if is_payment else str(100 + i)  # protel "TAA" item numbers
        elif pms_format == "starlight":
            code = f"K{i + 1:02d}" if is_payment else f"R{i + 1:02d}"
        else:
            code = role.upper()
        label, group = (fr, gfr) if language == "fr" else (en, gen)
        code_of[role] = code
        rows.append({"hotel_id": hotel_id, "trx_code": code, "label": label, "group_name": group,
                     "is_payment": is_payment, "card_brand": brand, "channel": channel})
    return pd.DataFrame(rows), code_of


def make_hotel(seed: int, index: int) -> HotelProfile:
    """The hotel number `index` (0-based) of the group drawn with `seed`."""
    rng = hotel_rng(seed, index, 0)
    rooms = int(np.clip(rng.lognormal(np.log(90), .5), 25, 400))
    if index < len(SHOWCASE):
        loc_i, pms_format, audit, encoding, rooms = SHOWCASE[index]
    else:
        loc_i = int(rng.choice(len(LOCATIONS), p=LOCATION_WEIGHTS / LOCATION_WEIGHTS.sum()))
        fmts = list(PMS_FORMAT_WEIGHTS)
        pms_format = str(rng.choice(fmts, p=np.array(list(PMS_FORMAT_WEIGHTS.values()))))
        audit = str(rng.choice(AUDIT_TIMES, p=AUDIT_WEIGHTS))
        encoding = "cp1252" if rng.random() < .3 else "utf-8"
    loc = LOCATIONS[loc_i]
    hotel_id = f"H{index + 1:03d}"
    names = HOTEL_NAMES if loc.language == "fr" else EN_HOTEL_NAMES
    name = f"{names[int(rng.integers(len(names)))]} {loc.city}"
    window = int(rng.choice([30, 30, 30, 20, 45, 60]))
    tolerance = int(rng.choice([500, 500, 200, 1000]))
    hotel = Hotel(hotel_id=hotel_id, name=name, timezone=loc.timezone, currency=loc.currency,
                  night_audit_time=audit, match_window_minutes=window, pms_system=PMS_FORMATS[pms_format],
                  amount_tolerance_cents=tolerance)
    factor = rng.uniform(.7, 1.6)
    base = int(round(loc.base_rate * factor / 5) * 5 - 1) * 100  # 139.00, 184.00: rates end in 4 or 9
    room_types = [RoomType("STD", "Standard", base), RoomType("SUP", "Superior", base + 4000),
                  RoomType("DLX", "Deluxe", base + 9000), RoomType("STE", "Suite", base * 2 + 10000)]
    first, last = STAFF.get(loc.language, STAFF["en"])
    ids = rng.choice(np.arange(100, 400), size=9, replace=False)
    cashiers = [Cashier(str(ids[i]), f"{first[int(rng.integers(len(first)))]} {last[int(rng.integers(len(last)))]}",
                        shift) for i, shift in enumerate(["morning"] * 4 + ["evening"] * 3 + ["night"] * 2)]
    n_terminals = 2 + int(rooms > 120) + int(rooms > 250)
    label = "TPE Hébergement" if loc.language == "fr" else "Front desk terminal"
    terminals = [Terminal(f"{i + 1:03d}", f"{label} ({i + 1:03d})", f"{int(rng.integers(1_000_000, 9_999_999))}")
                 for i in range(n_terminals)]
    codes, code_of = _codes(hotel_id, pms_format, loc.language, rng)
    city = "".join(ch for ch in loc.city if ch.isalnum())
    return HotelProfile(
        hotel=hotel, index=index, location=loc, rooms=rooms, pms_format=pms_format, tpe_encoding=encoding,
        room_types=room_types, cashiers=cashiers, terminals=terminals, codes=codes, code_of=code_of,
        adyen_account=f"Lettrage{city}{hotel_id}", amex_se=f"{int(rng.integers(10**9, 10**10 - 1))}",
        ogone_pspid=f"LETTRAGE{hotel_id}",
    )
