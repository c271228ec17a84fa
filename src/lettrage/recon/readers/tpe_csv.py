"""Card-terminal (TPE) journal, CSV: one line per ticket, as terminal software exports its journal.

Source: the French CB ticket and journal (research/hotel.md §3.1; cartes-bancaires.com "ticket
client"; the seed's "TPE Hébergement (002)" screen). The "numéro du fichier remis" printed on
each ticket is terminal number (3 digits) + transaction number (6) + télécollecte number (2) +
a letter (`C` chip, `S` magnetic stripe, `@` authorisation requested): it links the ticket to
the acquirer's remittance. Columns by name (French or English, accents and case ignored):

| canonical | accepted names |
|---|---|
| terminal_id | N° TPE, N° terminal, Terminal, TID |
| terminal_label | Libellé TPE, Libellé terminal, Nom TPE |
| merchant_id | N° contrat, Contrat, N° commerçant, MID |
| txn_at | Date (+ Heure), Date transaction, Date et heure (`DD/MM/YYYY HH:MM:SS`, hotel time) |
| transaction number | N° transaction, N° ticket, Transaction, STAN |
| txn_type | Type, Opération, Nature: Débit/Vente -> sale, Crédit/Remboursement -> refund, Annulation -> cancel, Pré-autorisation -> preauth, Complément -> completion |
| amount_cents | Montant, Amount (decimal comma or point; refunds and cancellations negative whatever the file's sign) |
| currency | Devise, Currency (alphabetic `EUR` or numeric `978`) |
| card_brand | Carte, Type carte, Application, Réseau, Marque, Brand (CB, VISA, MASTERCARD...) |
| card_last4 | N° carte, Numéro de carte, PAN (masked, last 4 kept) |
| entry_mode | Mode, Mode de lecture: C/puce -> chip, S/piste -> swipe, sans contact -> contactless, M/saisie -> manual; else the letter of the remise ref |
| auth_code | N° autorisation, Autorisation, Code autorisation |
| remise_ref | Numéro du fichier remis, N° fichier remis, Fichier remis; else built from terminal + transaction + N° télécollecte |
| dcc_amount_cents, dcc_currency, tip_cents | Montant DCC, Devise DCC, Pourboire |

`tpe_txn_id` = terminal + local date + transaction number (else the remise ref, else a hash).
Separator `;` (usual), `,` or TAB; UTF-8 or Windows-1252.
"""

from __future__ import annotations

from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import Columns, physical_lines, read_table, sniff_separator
from lettrage.recon.readers.mapped import currency
from lettrage.recon.readers.records import build

ALIASES = {
    "terminal_id": ["n_tpe", "n_terminal", "numero_tpe", "numero_de_terminal", "numero_terminal", "terminal",
                    "tpe", "tid", "terminal_id"],
    "terminal_label": ["libelle_tpe", "libelle_terminal", "nom_tpe", "terminal_label"],
    "merchant_id": ["n_contrat", "contrat", "numero_de_contrat", "n_commercant", "mid", "merchant_id"],
    "datetime": ["date_et_heure", "date_heure", "horodatage", "txn_at", "datetime"],
    "date": ["date", "date_transaction", "date_de_transaction", "date_operation"],
    "time": ["heure", "time", "heure_transaction"],
    "txn_no": ["n_transaction", "numero_de_transaction", "numero_transaction", "n_ticket", "transaction", "stan",
               "txn_no"],
    "txn_type": ["type", "type_transaction", "type_de_transaction", "operation", "nature", "txn_type"],
    "amount": ["montant", "montant_eur", "amount", "montant_ttc", "amount_cents"],
    "currency": ["devise", "currency", "code_devise"],
    "card_brand": ["carte", "type_carte", "type_de_carte", "application", "reseau", "marque", "brand", "card_brand",
                   "scheme"],
    "pan": ["n_carte", "numero_de_carte", "numero_carte", "pan", "carte_masquee", "numero_pan", "card_number",
            "card_last4"],
    "entry_mode": ["mode", "mode_de_lecture", "mode_de_saisie", "lecture", "entry_mode"],
    "auth_code": ["n_autorisation", "autorisation", "code_autorisation", "numero_autorisation", "auth_code"],
    "remise_ref": ["numero_du_fichier_remis", "n_fichier_remis", "fichier_remis", "n_du_fichier_remis",
                   "numero_fichier_remis", "remise_ref"],
    "telecollecte": ["n_telecollecte", "telecollecte", "numero_de_telecollecte"],
    "dcc_amount": ["montant_dcc", "dcc_amount"],
    "dcc_currency": ["devise_dcc", "dcc_currency"],
    "tip": ["pourboire", "tip"],
}
TYPES = {"debit": "sale", "vente": "sale", "achat": "sale", "paiement": "sale", "sale": "sale", "payment": "sale",
         "credit": "refund", "remboursement": "refund", "avoir": "refund", "refund": "refund",
         "annulation": "cancel", "cancel": "cancel", "void": "cancel",
         "pre_autorisation": "preauth", "preautorisation": "preauth", "pre_aut": "preauth", "preauth": "preauth",
         "pre_authorisation": "preauth", "preauthorization": "preauth",
         "complement": "completion", "completion": "completion", "cloture_pre_autorisation": "completion"}
MODES = {"c": "chip", "puce": "chip", "contact": "chip", "emv": "chip", "chip": "chip", "icc": "chip",
         "s": "swipe", "piste": "swipe", "swipe": "swipe", "magstripe": "swipe",
         "sans_contact": "contactless", "sc": "contactless", "cl": "contactless", "nfc": "contactless",
         "contactless": "contactless", "m": "manual", "manuel": "manual", "saisie": "manual",
         "saisie_manuelle": "manual", "manual": "manual", "keyed": "manual"}


def sniff(head: str, mapping=None) -> bool:
    lines = [ln for ln in physical_lines(head)[:3] if ln.strip()]
    if not lines:
        return False
    names = {cv.normalise_name(c) for c in lines[0].split(sniff_separator(lines[0]))}
    terminal = names & {"n_tpe", "n_terminal", "numero_tpe", "numero_de_terminal", "terminal", "tpe", "tid"}
    ticket = names & {"numero_du_fichier_remis", "n_fichier_remis", "fichier_remis", "n_autorisation",
                      "n_transaction", "autorisation", "n_du_fichier_remis"}
    return bool(terminal and ticket)


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    source = read_text(path)
    table = read_table(source.text, path)
    cols = Columns(table, ALIASES, path, required=["terminal_id", "amount"], one_of=[["datetime", "date"]])
    when = "datetime" if cols.has("datetime") else "date"
    dates = cv.DateColumn([cols.get(r.fields, when) for r in table.records])
    minor = cols.column.get("amount") == "amount_cents"

    def convert(fields: dict) -> dict:
        get = lambda f: cv.text(cols.get(fields, f))  # noqa: E731
        txn_at = cv.timestamp(get(when), hotel, dates, "date")
        if txn_at is None:
            raise RowProblem("transaction date is missing")
        clock = get("time")
        if clock and when == "date" and cv.split_datetime(get("date"))[1] is None:
            import datetime as dt

            local_day = dates.parse(get("date"), "date")
            txn_at = cv.local(dt.datetime.combine(local_day, cv.clock(clock, "heure")), hotel)
        amount = cv.cents(get("amount"), "amount", minor_units=minor)
        if amount is None:
            raise RowProblem("amount is missing")
        raw_type = get("txn_type")
        txn_type = TYPES.get(cv.normalise_name(raw_type)) if raw_type else ("refund" if amount < 0 else "sale")
        if txn_type is None:
            raise RowProblem(f"transaction type {raw_type!r} is not one lettrage knows (débit, crédit, "
                             f"annulation, pré-autorisation, complément)")
        if txn_type in ("refund", "cancel"):
            amount = -abs(amount)
        terminal, txn_no = get("terminal_id"), get("txn_no")
        remise_ref = get("remise_ref")
        mode = get("entry_mode")
        entry_mode = MODES.get(cv.normalise_name(mode)) if mode else None
        if entry_mode is None and remise_ref and remise_ref[-1:].upper() in ("C", "S"):
            entry_mode = MODES[remise_ref[-1].lower()]
        if remise_ref is None and terminal and txn_no and get("telecollecte") and \
                (terminal + txn_no + get("telecollecte")).isdigit():
            letter = {"chip": "C", "swipe": "S"}.get(entry_mode or "", "")
            remise_ref = f"{terminal.zfill(3)[-3:]}{txn_no.zfill(6)[-6:]}{get('telecollecte').zfill(2)[-2:]}{letter}"
        local_day = txn_at.astimezone(hotel.tz).date()
        return {
            "tpe_txn_id": f"{terminal}:{local_day:%Y%m%d}:{txn_no}" if txn_no else remise_ref,
            "terminal_id": terminal,
            "terminal_label": get("terminal_label"),
            "merchant_id": get("merchant_id"),
            "txn_at": txn_at,
            "txn_type": txn_type,
            "amount_cents": amount,
            "currency": currency(get("currency")),
            "card_brand": cv.card_brand(get("card_brand")),
            "card_last4": cv.last4(get("pan")),
            "entry_mode": entry_mode,
            "auth_code": get("auth_code"),
            "remise_ref": remise_ref,
            "dcc_amount_cents": cv.cents(get("dcc_amount"), "DCC amount"),
            "dcc_currency": currency(get("dcc_currency")),
            "tip_cents": cv.cents(get("tip"), "tip"),
        }

    return build(path, kind, hotel, table.records, convert, encoding=source.encoding)
