"""Guests and their cards: names, e-mails, E.164 phones and languages; card brands as the terminal
and the PMS see them (a French CB card is co-badged Visa or Mastercard), last 4 digits only."""

from __future__ import annotations

import functools
import unicodedata

import numpy as np
import pandas as pd

NAMES = {
    "fr": (["Jean", "Marie", "Pierre", "Sophie", "Nicolas", "Isabelle", "Julien", "Nathalie", "François",
            "Céline", "Éric", "Aurélie", "Stéphane", "Hélène", "Loïc", "Anaïs", "Aloïse", "Gaëlle"],
           ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Simon", "Laurent", "Lefèbvre", "Michel", "Garcia", "Rousseau", "Mercier", "Bonnet"]),
    "en": (["James", "Emma", "William", "Olivia", "Thomas", "Charlotte", "Daniel", "Jessica", "Michael",
            "Sarah", "David", "Laura", "Andrew", "Rachel", "Peter", "Hannah"],
           ["Smith", "Johnson", "Brown", "Taylor", "Anderson", "Wilson", "Miller", "Davis", "Evans", "Thompson",
            "Roberts", "Walker", "Wright", "Robinson", "O'Brien", "Campbell"]),
    "de": (["Thomas", "Sabine", "Michael", "Katrin", "Stefan", "Andrea", "Jürgen", "Monika", "Uwe", "Petra"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Koch"]),
    "es": (["José", "María", "Javier", "Lucía", "Carlos", "Carmen", "Alejandro", "Elena", "Pablo", "Marta"],
           ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
            "Ruiz"]),
    "it": (["Marco", "Giulia", "Luca", "Francesca", "Andrea", "Chiara", "Matteo", "Sara", "Davide", "Elisa"],
           ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"]),
    "nl": (["Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Jesse", "Anna", "Thijs", "Lotte"],
           ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer",
            "de Boer"]),
    "ja": (["Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura", "Kenji", "Yuki"],
           ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi",
            "Kato"]),
    "zh": (["Wei", "Fang", "Jing", "Lei", "Min", "Hui", "Jun", "Yan", "Tao", "Li"],
           ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"]),
}
EMAIL_DOMAINS = {
    "fr": ["orange.fr", "free.fr", "gmail.com", "wanadoo.fr", "laposte.net", "sfr.fr"],
    "en": ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "hotmail.com"],
    "de": ["web.de", "gmx.de", "gmail.com", "t-online.de"],
    "es": ["gmail.com", "hotmail.es", "telefonica.net"],
    "it": ["libero.it", "gmail.com", "virgilio.it"],
    "nl": ["ziggo.nl", "gmail.com", "kpnmail.nl"],
    "ja": ["yahoo.co.jp", "gmail.com", "docomo.ne.jp"],
    "zh": ["qq.com", "163.com", "gmail.com"],
}
# E.164: country code, first digits of a mobile number, national number length.
PHONES = {"fr": [("33", "67", 9)], "en": [("44", "7", 10), ("1", "2345678", 10)], "de": [("49", "1", 11)],
          "es": [("34", "6", 9)], "it": [("39", "3", 10)], "nl": [("31", "6", 9)], "ja": [("81", "89", 10)],
          "zh": [("86", "1", 11)]}

# Card brands as the terminal prints them; CB cards carry a Visa or Mastercard network too.
BRANDS = ["CB_VISA", "CB_MASTERCARD", "VISA", "MASTERCARD", "AMEX", "JCB", "DINERS", "UNIONPAY", "MAESTRO"]
_FRENCH_CARDS = [.48, .32, .06, .04, .08, 0, .01, 0, .01]
_FOREIGN_CARDS = {
    "ja": [0, 0, .20, .12, .10, .55, .01, 0, .02],
    "zh": [0, 0, .20, .15, .05, .02, .01, .55, .02],
}
_DEFAULT_FOREIGN = [0, 0, .46, .32, .14, .01, .02, .01, .04]


def padded(values: np.ndarray, width: int) -> np.ndarray:
    """Whole numbers as zero-padded text ('0042'), as an object array."""
    values = np.asarray(values)
    if values.size == 0:
        return np.array([], dtype=object)
    return np.char.zfill(values.astype(str), width).astype(object)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def not_a_card(number: str) -> str:
    """A phone number of 13 digits or more that passes the Luhn check would be masked as a card
    number on the way in (PCI DSS): nudge its last digit, as no real subscriber list would care."""
    digits = number.lstrip("+")
    if len(digits) >= 13 and luhn_valid(digits):
        number = number[:-1] + str((int(number[-1]) + 1) % 10)
    return number


@functools.lru_cache(maxsize=1024)
def _mailbox(name: str) -> str:
    """ASCII letters of a name, lower case, for e-mail addresses."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if c.isascii() and c.isalnum()).lower()


def draw_languages(rng: np.random.Generator, weights: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    langs = np.array([w[0] for w in weights])
    p = np.array([w[1] for w in weights])
    return langs[rng.choice(len(langs), size=n, p=p / p.sum())]


def draw_guests(rng: np.random.Generator, languages: np.ndarray) -> pd.DataFrame:
    """First and last names, e-mail (sometimes missing) and mobile phone (sometimes missing)."""
    n = len(languages)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    email = np.full(n, None, dtype=object)
    phone = np.full(n, None, dtype=object)
    has_email = rng.random(n) < .92
    has_phone = rng.random(n) < .85
    suffix = rng.integers(1, 99, size=n)
    with_suffix = rng.random(n) < .4
    for lang in np.unique(languages):
        idx = np.flatnonzero(languages == lang)
        firsts, lasts = NAMES[lang]
        f = np.array(firsts, dtype=object)[rng.integers(len(firsts), size=len(idx))]
        la = np.array(lasts, dtype=object)[rng.integers(len(lasts), size=len(idx))]
        first[idx], last[idx] = f, la
        domains = np.array(EMAIL_DOMAINS[lang], dtype=object)
        local = np.array([_mailbox(x) for x in f], dtype=object) + "." + np.array([_mailbox(x) for x in la],
                                                                                     dtype=object)
        tail = np.where(with_suffix[idx], suffix[idx].astype(str), "").astype(object)
        email[idx] = np.where(has_email[idx], local + tail + "@" + domains[rng.integers(len(domains), size=len(idx))],
                              None)
        plans = PHONES[lang]
        plan = rng.integers(len(plans), size=len(idx))
        for k, (cc, starts, length) in enumerate(plans):
            sel = idx[plan == k]
            head = np.array(list(starts), dtype=object)[rng.integers(len(starts), size=len(sel))]
            digits = length - 1
            body = padded(rng.integers(0, 10 ** digits, size=len(sel)), digits)
            phone[sel] = np.where(has_phone[sel], [not_a_card("+" + cc + h + b) for h, b in zip(head, body,
                                                                                               strict=True)], None)
    return pd.DataFrame({"language": languages, "first_name": first, "last_name": last, "email": email,
                         "phone": phone})


def draw_cards(rng: np.random.Generator, languages: np.ndarray, french_terminal: bool) -> pd.DataFrame:
    """One card per payer: `brand` as the terminal shows it, `network` (Visa or Mastercard behind a
    CB card, else the brand itself) and the last 4 digits."""
    n = len(languages)
    kind = np.empty(n, dtype=object)
    for lang in np.unique(languages):
        idx = np.flatnonzero(languages == lang)
        p = np.array(_FRENCH_CARDS if lang == "fr" else _FOREIGN_CARDS.get(lang, _DEFAULT_FOREIGN))
        kind[idx] = np.array(BRANDS, dtype=object)[rng.choice(len(BRANDS), size=len(idx), p=p / p.sum())]
    network = np.array([k.removeprefix("CB_") for k in kind], dtype=object)
    cobadged = np.array([k.startswith("CB_") for k in kind], dtype=bool)
    # Outside France a CB card is read on its Visa/Mastercard network.
    brand = np.where(cobadged & french_terminal, "CB", network).astype(object)
    last4 = padded(rng.integers(0, 10_000, size=n), 4)
    return pd.DataFrame({"brand": brand, "network": network, "cobadged": cobadged, "last4": last4})
