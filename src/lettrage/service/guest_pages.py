"""The pages a guest sees (link errors, the way to the PSP, results, the split bill), in the
guest's language: French or English, English when unknown."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lettrage.recon.money import format_cents

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["money"] = lambda cents, currency="EUR": format_cents(cents, currency or "EUR")

WORDING = {
    "en": {
        "invalid_title": "This payment link is not valid",
        "invalid_text": "Please check that you opened the whole link from your message, or contact the hotel.",
        "expired_title": "This payment link has expired",
        "expired_text": "Please contact the hotel: they will send you a new one.",
        "closed_title": "This payment link is no longer valid",
        "closed_text": "The hotel withdrew this request, or it was cancelled. Nothing was charged.",
        "to_psp": "You are being taken to the secure payment page of our bank…",
        "continue": "Continue to the payment page",
        "paid_title": "Thank you, your payment is confirmed",
        "paid_text": "We have received {amount}. A confirmation is on its way to you.",
        "authorised_title": "Thank you, your card guarantees your booking",
        "authorised_text": "{amount} is held on your card as a guarantee; it is only charged as agreed with "
                           "the hotel.",
        "refused_title": "Your payment was refused",
        "refused_text": "Your bank did not accept the payment. Nothing was charged. You can try again, with "
                        "another card if needed.",
        "try_again": "Try again",
        "cancelled_title": "Your payment was cancelled",
        "cancelled_text": "You left the payment page before paying. Nothing was charged. Please contact the "
                          "hotel if you still want to pay.",
        "pending_title": "Your payment is being checked",
        "pending_text": "Your bank has not confirmed the payment yet. Please do not pay again: we will let you "
                        "know as soon as it is confirmed.",
        "unknown_title": "We are checking your payment",
        "unknown_text": "You will receive a message as soon as your payment is confirmed.",
        "split_title": "Share the bill",
        "split_total": "Total",
        "split_paid": "Already paid",
        "split_payers": "payer(s)",
        "split_left": "Left to pay",
        "split_name": "Your name",
        "split_amount": "Amount you pay",
        "split_pay": "Pay my share",
        "split_done": "The whole bill is paid. Thank you!",
        "split_in_progress": "Another payer is paying the rest right now.",
        "reservation": "Reservation",
    },
    "fr": {
        "invalid_title": "Ce lien de paiement n’est pas valide",
        "invalid_text": "Vérifiez que vous avez ouvert le lien complet reçu dans votre message, ou contactez "
                        "l’hôtel.",
        "expired_title": "Ce lien de paiement a expiré",
        "expired_text": "Contactez l’hôtel : il vous en enverra un nouveau.",
        "closed_title": "Ce lien de paiement n’est plus valable",
        "closed_text": "L’hôtel a retiré cette demande, ou elle a été annulée. Rien n’a été débité.",
        "to_psp": "Vous êtes redirigé vers la page de paiement sécurisée de notre banque…",
        "continue": "Continuer vers la page de paiement",
        "paid_title": "Merci, votre paiement est confirmé",
        "paid_text": "Nous avons bien reçu {amount}. Une confirmation vous est envoyée.",
        "authorised_title": "Merci, votre carte garantit votre réservation",
        "authorised_text": "{amount} est réservé sur votre carte en garantie ; il n’est débité que dans les "
                           "conditions convenues avec l’hôtel.",
        "refused_title": "Votre paiement a été refusé",
        "refused_text": "Votre banque n’a pas accepté le paiement. Rien n’a été débité. Vous pouvez réessayer, "
                        "avec une autre carte si besoin.",
        "try_again": "Réessayer",
        "cancelled_title": "Votre paiement a été annulé",
        "cancelled_text": "Vous avez quitté la page de paiement avant de payer. Rien n’a été débité. Contactez "
                          "l’hôtel si vous souhaitez toujours payer.",
        "pending_title": "Votre paiement est en cours de vérification",
        "pending_text": "Votre banque n’a pas encore confirmé le paiement. Ne payez pas une seconde fois : nous "
                        "vous préviendrons dès qu’il sera confirmé.",
        "unknown_title": "Nous vérifions votre paiement",
        "unknown_text": "Vous recevrez un message dès que votre paiement sera confirmé.",
        "split_title": "Partager la note",
        "split_total": "Total",
        "split_paid": "Déjà payé",
        "split_payers": "payeur(s)",
        "split_left": "Reste à payer",
        "split_name": "Votre nom",
        "split_amount": "Montant que vous payez",
        "split_pay": "Payer ma part",
        "split_done": "La note est entièrement payée. Merci !",
        "split_in_progress": "Un autre payeur règle le reste en ce moment.",
        "reservation": "Réservation",
    },
}


def language_of(request: Request | None, preferred: str | None = None) -> str:
    """The request's language when known, else the browser's first supported one, else English."""
    for candidate in [preferred or ""] + ([] if request is None else
                                          request.headers.get("accept-language", "").split(",")):
        code = candidate.strip().split(";")[0].split("-")[0].split("_")[0].lower()
        if code in WORDING:
            return code
    return "en"


def render(request: Request, name: str, language: str, status_code: int = 200, **values) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"t": WORDING[language], "lang": language, **values},
                                      status_code=status_code)


def message_page(request: Request, key: str, language: str | None = None, status_code: int = 200,
                 **values) -> HTMLResponse:
    """A one-message page: `key`_title and `key`_text of the wording."""
    lang = language_of(request, language)
    return render(request, "guest/message.html", lang, status_code, key=key, **values)
