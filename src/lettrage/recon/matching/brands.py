"""Card brands as matching sees them: families for the daily summary, compatibility for the
"Control Code PMS" check.

A CB (Cartes Bancaires) card is co-badged with Visa or Mastercard: the terminal may print CB
while the cashier posts it on the Visa code. So CB is compatible with VISA, MASTERCARD and
MAESTRO, and MAESTRO with MASTERCARD; VISA against MASTERCARD is a real mismatch. The daily
summary groups the co-badged brands into one family, as the finance screen does.
"""

from __future__ import annotations

import numpy as np

# Brand codes used inside the engine (0 = unknown).
BRANDS = ["", "VISA", "MASTERCARD", "CB", "AMEX", "JCB", "DINERS", "UNIONPAY", "MAESTRO", "OTHER"]
BRAND_CODE = {b: i for i, b in enumerate(BRANDS)}

# Summary families: the seed's CB / AMEX / JCB / other columns, named as the marts' card schemes.
FAMILIES = ["OTHER", "CB_VISA_MC", "AMEX", "JCB"]
_FAMILY_OF_BRAND = {"": 0, "VISA": 1, "MASTERCARD": 1, "CB": 1, "MAESTRO": 1, "AMEX": 2, "JCB": 3, "DINERS": 0,
                    "UNIONPAY": 0, "OTHER": 0}
FAMILY_OF = np.array([_FAMILY_OF_BRAND[b] for b in BRANDS], dtype=np.int8)

_COMPATIBLE = {("CB", "VISA"), ("CB", "MASTERCARD"), ("CB", "MAESTRO"), ("MASTERCARD", "MAESTRO")}
COMPATIBLE = np.zeros((len(BRANDS), len(BRANDS)), dtype=bool)
for _i, _a in enumerate(BRANDS):
    for _j, _b in enumerate(BRANDS):
        COMPATIBLE[_i, _j] = _a == "" or _b == "" or _a == _b or (_a, _b) in _COMPATIBLE or (_b, _a) in _COMPATIBLE

# per brand, the bits (1 << code) of the brands it cannot be: for a k-to-m match in one pass
CLASHES = np.array([sum(1 << j for j in range(len(BRANDS)) if not COMPATIBLE[i, j]) for i in range(len(BRANDS))],
                   dtype=np.int64)


def brand_code(raw: str | None) -> int:
    """The engine code of a brand as a file spells it ('Visa', 'MC', 'American Express' -> VISA,
    MASTERCARD, AMEX, named as the readers name brands); 0 (unknown) for NULL or a value naming
    no brand."""
    from lettrage.recon.readers.conventions import card_brand

    return 0 if raw is None else BRAND_CODE.get(card_brand(raw, strict=True) or "", 0)


def brand_sql(column: str, values) -> str:
    """SQL turning a brand column into its engine code (`brand_code`), for the raw `values` the
    column holds."""
    whens = []
    for raw in sorted(v for v in values if v is not None):
        if code := brand_code(raw):
            whens.append("WHEN '" + str(raw).replace("'", "''") + f"' THEN {code}")
    if not whens:
        return "0::TINYINT"
    return f"(CASE {column} {' '.join(whens)} ELSE 0 END)::TINYINT"


def compatible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: are these brand codes the same card scheme (co-badging and unknowns allowed)?"""
    return COMPATIBLE[a, b]

