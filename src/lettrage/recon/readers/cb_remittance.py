"""CB acquirer "relevé de remises" (CSV): the bank's list of the card payments it credited.

Source: French acquirers' remittance statements and back-office "remises" exports (research/
hotel.md §3.1: télécollecte, numéro du fichier remis; Systempay/Lyra "Captures" export: capture
number, capture date, MID `numContrat`, TID `rang`, debit/credit/cancellation amounts, ISO 4217
numeric currency, date of payment). One line per transaction of a remise (and optionally the
remise's commission, and its total credited); columns by name, accents and case ignored:

| canonical | accepted names |
|---|---|
| remittance_id | N° de remise, Numéro de remise, Remise, N° capture, Capture No |
| remittance_date | Date de remise, Date remise, Date de télécollecte, Capture date |
| value_date | Date de valeur, Date de paiement, Date of payment |
| merchant_id | N° contrat, Numéro de contrat, Contrat, MID |
| terminal_id | N° TPE, Terminal, Rang, TID |
| txn_at | Date transaction, Date opération (+ Heure) (hotel time) |
| line_type | Type, Sens, Nature: Débit/Vente -> sale, Crédit/Remboursement -> refund, Impayé -> chargeback, Commission/Frais -> fee, Total/Virement -> payout, else adjustment |
| gross_cents | Montant brut, Montant, Brut; or Montant débit / Montant crédit columns (debit = sale from the cardholder, credit = refund) |
| fee_cents | Commission, Frais (written positive; stored negative: money kept by the acquirer) |
| net_cents | Montant net, Net (else gross + fee) |
| currency | Devise (alphabetic or ISO numeric `978`) |
| card_brand | Réseau, Type de carte, Carte, Marque |
| card_last4 | N° carte, Numéro de carte, PAN (masked) |
| auth_code | N° autorisation, Autorisation |
| remise_ref | Numéro du fichier remis, N° fichier remis, Référence |
| merchant_reference | Référence commerçant |

Decimal comma, dates `DD/MM/YYYY`, separator `;` (usual), UTF-8 or Windows-1252. Signs: sales
positive, refunds and chargebacks negative whatever the file's sign; a payout line (the remise's
credit to the bank) is negative, so that a remise's net lines and its payout sum to zero.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lettrage.recon.readers import ReadResult
from lettrage.recon.readers import conventions as cv
from lettrage.recon.readers.conventions import RowProblem
from lettrage.recon.readers.decoding import read_text
from lettrage.recon.readers.delimited import Columns, physical_lines, read_table, sniff_separator
from lettrage.recon.readers.mapped import currency
from lettrage.recon.readers.records import build

ALIASES = {
    "remittance_id": ["n_de_remise", "numero_de_remise", "numero_remise", "n_remise", "remise", "n_capture",
                      "capture_no", "remittance_id"],
    "remittance_date": ["date_de_remise", "date_remise", "date_de_telecollecte", "date_telecollecte",
                        "capture_date", "remittance_date"],
    "value_date": ["date_de_valeur", "date_valeur", "date_de_paiement", "date_of_payment", "value_date"],
    "merchant_id": ["n_contrat", "numero_de_contrat", "contrat", "mid", "merchant_id", "n_commercant"],
    "terminal_id": ["n_tpe", "terminal", "rang", "tid", "terminal_id", "n_terminal"],
    "txn_date": ["date_transaction", "date_de_transaction", "date_operation", "date_d_operation", "txn_at"],
    "time": ["heure", "heure_transaction"],
    "line_type": ["type", "sens", "nature", "type_operation", "line_type"],
    "gross": ["montant_brut", "brut", "montant", "gross_cents", "montant_transaction"],
    "debit": ["montant_debit", "debit"],
    "credit": ["montant_credit", "credit"],
    "fee": ["commission", "frais", "montant_commission", "fee_cents"],
    "net": ["montant_net", "net", "net_cents"],
    "currency": ["devise", "currency", "code_devise"],
    "card_brand": ["reseau", "type_de_carte", "type_carte", "carte", "marque", "card_brand"],
    "pan": ["n_carte", "numero_de_carte", "numero_carte", "pan", "card_number", "card_last4"],
    "auth_code": ["n_autorisation", "autorisation", "numero_autorisation", "auth_code"],
    "remise_ref": ["numero_du_fichier_remis", "n_fichier_remis", "n_du_fichier_remis", "fichier_remis",
                   "reference", "remise_ref"],
    "merchant_reference": ["reference_commercant", "merchant_reference"],
}
TYPES = {"debit": "sale", "vente": "sale", "achat": "sale", "paiement": "sale", "sale": "sale",
         "credit": "refund", "remboursement": "refund", "avoir": "refund", "refund": "refund",
         "impaye": "chargeback", "chargeback": "chargeback", "retour_impaye": "chargeback_reversal",
         "commission": "fee", "frais": "fee", "fee": "fee",
         "total": "payout", "total_remise": "payout", "virement": "payout", "payout": "payout", "credit_compte": "payout"}
DATES = ("remittance_date", "value_date", "txn_date")


def sniff(head: str, mapping=None) -> bool:
    lines = [ln for ln in physical_lines(head)[:3] if ln.strip()]
    if not lines:
        return False
    names = {cv.normalise_name(c) for c in lines[0].split(sniff_separator(lines[0]))}
    return bool(names & {"n_de_remise", "numero_de_remise", "numero_remise", "n_remise", "remise", "capture_no",
                         "n_capture"}) and \
        bool(names & {"date_de_remise", "date_remise", "date_de_telecollecte", "capture_date", "montant_brut",
                      "montant_net", "commission"})


def read(path: Path, kind: str, hotel, trx_codes=None, mapping=None) -> ReadResult:
    source = read_text(path)
    table = read_table(source.text, path)
    cols = Columns(table, ALIASES, path, required=["remittance_date"], one_of=[["gross", "debit", "credit", "net"]])
    dates = {f: cv.DateColumn([cols.get(r.fields, f) for r in table.records]) for f in DATES}
    minor = cols.column.get("gross") == "gross_cents"

    def convert(fields: dict) -> dict:
        get = lambda f: cv.text(cols.get(fields, f))  # noqa: E731
        raw_type = get("line_type")
        gross = cv.cents(get("gross"), "montant brut", minor_units=minor)
        debit, credit = cv.cents(get("debit"), "montant débit"), cv.cents(get("credit"), "montant crédit")
        if gross is None and (debit is not None or credit is not None):
            gross = (debit or 0) - (credit or 0)
        if raw_type:
            line_type = TYPES.get(cv.normalise_name(raw_type), "adjustment")
        else:
            line_type = "refund" if (gross or 0) < 0 else "sale"
        fee = cv.cents(get("fee"), "commission", minor_units=minor)
        net = cv.cents(get("net"), "montant net", minor_units=minor)
        if gross is None and net is None and fee is None:
            raise RowProblem("no amount (montant brut, net or commission)")
        if line_type in ("refund", "chargeback"):
            gross = -abs(gross) if gross is not None else None
            net = -abs(net) if net is not None else None
        elif line_type in ("sale", "chargeback_reversal"):
            gross = abs(gross) if gross is not None else None
        fee = -abs(fee) if fee is not None else None
        if line_type == "fee":
            fee = fee if fee is not None else (-abs(gross or net or 0))
            gross, net = None, fee
        if line_type == "payout":
            net = -abs(net if net is not None else gross or 0)
            gross, fee = None, None
        if net is None and gross is not None:
            net = gross + (fee or 0)
        remittance_date = dates["remittance_date"].parse(get("remittance_date"), "date de remise")
        if remittance_date is None:
            raise RowProblem("date de remise is missing")
        txn_day = dates["txn_date"].parse(get("txn_date"), "date transaction")
        txn_at = None
        if txn_day is not None:
            txn_at = cv.local(dt.datetime.combine(txn_day, cv.clock(get("time"), "heure") or dt.time(12)), hotel)
        return {
            "provider": "cb_acquirer",
            "remittance_id": get("remittance_id"),
            "payout_id": get("remittance_id") if line_type == "payout" else None,
            "merchant_id": get("merchant_id"),
            "terminal_id": get("terminal_id"),
            "line_type": line_type,
            "txn_at": txn_at,
            "business_date": txn_day if txn_day and not get("time") else None,
            "remittance_date": remittance_date,
            "value_date": dates["value_date"].parse(get("value_date"), "date de valeur"),
            "card_brand": cv.card_brand(get("card_brand")),
            "card_last4": cv.last4(get("pan")),
            "gross_cents": gross,
            "fee_cents": fee,
            "net_cents": net,
            "currency": currency(get("currency")),
            "auth_code": get("auth_code"),
            "remise_ref": get("remise_ref"),
            "merchant_reference": get("merchant_reference"),
        }

    return build(path, kind, hotel, table.records, convert, encoding=source.encoding)
