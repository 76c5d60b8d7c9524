"""The public pages' shared frame: mobile-first, accessible HTML that works without JavaScript
(labels tied to their fields, errors announced and linked from a summary, large touch targets,
visible focus), one small inline style sheet (no external request), and the page's language.

Strings are English message ids translated for the page's language (``fr`` by default: the
campaigns are French) with :func:`text`."""

from __future__ import annotations

from html import escape

FR = {
    "Sign up": "Je m'inscris",
    "Send": "Envoyer",
    "First name": "Prénom",
    "Last name": "Nom",
    "E-mail": "E-mail",
    "Mobile phone": "Téléphone portable",
    "Postal code": "Code postal",
    "Town": "Commune",
    "Street address": "Adresse",
    "required": "obligatoire",
    "Leave this field empty": "Laissez ce champ vide",
    "Please fill this in.": "Merci de remplir ce champ.",
    "This is too long.": "C'est trop long.",
    "This is not a valid e-mail address.": "Cette adresse e-mail n'est pas valide.",
    "This is not a valid phone number.": "Ce numéro de téléphone n'est pas valide.",
    "This is not a valid postal code.": "Ce code postal n'est pas valide.",
    "This value is not valid.": "Cette valeur n'est pas valide.",
    "Text messages need a mobile number.": "Les SMS demandent un numéro de portable.",
    "Please give your e-mail or your mobile.": "Merci d'indiquer votre e-mail ou votre portable.",
    "Please fill this in to receive these messages.": "Merci de remplir ce champ pour recevoir ces messages.",
    "There is a problem": "Il y a un problème",
    "Thank you!": "Merci !",
    "Your sign-up is recorded.": "Votre inscription est enregistrée.",
    "If you asked for e-mails, we sent you a message: open its link to confirm your address.":
        "Si vous avez demandé à recevoir des e-mails, nous vous avons écrit : ouvrez le lien du message "
        "pour confirmer votre adresse.",
    "This page has expired. Please check your answers and send the form again.":
        "Cette page a expiré. Vérifiez vos réponses et envoyez de nouveau le formulaire.",
    "Too many attempts. Please try again later.": "Trop d'essais. Merci de réessayer plus tard.",
    "Page not found": "Page introuvable",
    "This page does not exist or is no longer open.": "Cette page n'existe pas ou n'est plus ouverte.",
    "Confirm my e-mail address": "Je confirme mon adresse e-mail",
    "Confirm your e-mail address": "Confirmez votre adresse e-mail",
    "Your address is confirmed. Thank you!": "Votre adresse est confirmée. Merci !",
    "This address was already confirmed.": "Cette adresse était déjà confirmée.",
    "This link has expired: sign up again to get a new one.":
        "Ce lien a expiré : inscrivez-vous de nouveau pour en recevoir un autre.",
    "This link is not valid.": "Ce lien n'est pas valide.",
    "This address asked not to receive e-mails: nothing was changed. Contact the team if you changed your mind.":
        "Cette adresse a demandé à ne plus recevoir d'e-mails : rien n'a été changé. Écrivez à l'équipe si vous "
        "avez changé d'avis.",
    "When": "Quand",
    "Where": "Où",
    "What": "Quoi",
    "Places left": "Places restantes",
    "Will you come?": "Serez-vous là ?",
    "Yes": "Oui",
    "No": "Non",
    "Maybe": "Peut-être",
    "Your answer is recorded. Thank you!": "Votre réponse est enregistrée. Merci !",
    "Please choose an answer.": "Merci de choisir une réponse.",
    "This action was cancelled.": "Cette action est annulée.",
    "Answers are closed.": "Les réponses sont closes.",
    "Your list": "Votre liste",
    "Nobody is on your list yet.": "Personne n'est encore sur votre liste.",
    "Record": "Enregistrer",
    "How did it go?": "Comment ça s'est passé ?",
    "Support (1 opposed – 5 strong supporter)": "Soutien (1 opposé·e – 5 très favorable)",
    "Not asked": "Non demandé",
    "Wants a call back": "Veut être rappelé·e",
    "New phone": "Nouveau téléphone",
    "New e-mail": "Nouvel e-mail",
    "Read this to the person before ticking:": "Lisez ceci à la personne avant de cocher :",
    "Agrees to text messages": "Accepte les SMS",
    "Agrees to e-mails": "Accepte les e-mails",
    "Agrees to phone calls": "Accepte les appels",
    "Note": "Note",
    "Recorded": "Enregistré",
    "Recorded.": "Enregistré.",
    "answered": "a répondu",
    "not home": "absent·e",
    "refused": "refus",
    "moved": "a déménagé",
    "no answer": "pas de réponse",
    "voicemail": "répondeur",
    "wrong number": "faux numéro",
    "door opened": "porte ouverte",
    "Your link has expired. Ask the team for a new one.": "Votre lien a expiré. Demandez-en un nouveau à l'équipe.",
    "This link no longer works. Ask the team.": "Ce lien ne fonctionne plus. Demandez à l'équipe.",
    "Back to the list": "Retour à la liste",
    "Private page: do not share this link.": "Page privée : ne partagez pas ce lien.",
}

STYLE = """
*{box-sizing:border-box}html{font-size:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#1b1b1b;
background:#f6f7f9}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem;color:#1d3557}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
p{margin:.5rem 0}
form{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;padding:1rem}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],input[type=tel],select,textarea{width:100%;font-size:1rem;padding:.7rem;
border:2px solid #667085;border-radius:.375rem;background:#fff;color:#1b1b1b}
input:focus,select:focus,textarea:focus,button:focus,a:focus,summary:focus{outline:3px solid #ffbf47;outline-offset:2px}
.check{display:flex;gap:.6rem;align-items:flex-start;margin:.5rem 0}
.check input{width:1.5rem;height:1.5rem;flex:none;margin:.1rem 0 0}
.check label{font-weight:400;margin:0}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend{font-weight:600;margin-bottom:.25rem}
button{font-size:1.05rem;font-weight:600;padding:.8rem 1.4rem;border:0;border-radius:.375rem;background:#1d3557;
color:#fff;min-height:3rem;width:100%}
.error{color:#b42318;font-weight:600;margin:.25rem 0}
.summary{border:3px solid #b42318;background:#fff;padding:.75rem 1rem;margin:0 0 1rem;border-radius:.375rem}
.notice{border-left:6px solid #2a9d8f;background:#fff;padding:.75rem 1rem;margin:0 0 1rem}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.req{font-weight:400;color:#475467}
dl{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
dt{font-weight:600}dd{margin:0 0 .5rem}
ol.stops{list-style:none;padding:0;margin:0}
ol.stops>li{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;margin:0 0 .75rem}
summary{padding:.8rem 1rem;cursor:pointer;min-height:3rem}
.stop form{border:0;border-top:1px solid #d0d5dd;border-radius:0}
.done{color:#2a7a3b;font-weight:600}
.wording{background:#f2f4f7;padding:.5rem .75rem;border-radius:.375rem;font-style:italic}
.radios{display:flex;flex-wrap:wrap;gap:.25rem .9rem}
.radios .check{margin:.25rem 0}
@media (min-width:48rem){main{padding:2rem}button{width:auto}}
"""


def text(lang: str, msgid: str) -> str:
    if lang == "fr":
        return FR.get(msgid, msgid)
    return msgid


def page(title: str, body: str, lang: str = "fr", *, robots: str = "noindex") -> str:
    """A whole HTML document."""
    return (f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta name="robots" content="{robots}"><meta name="referrer" content="no-referrer">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # No script at all; frames allowed (the embeddable snippet), forms post to this server only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'",
}


def respond(html_text: str, status: int = 200, *, frame: bool = True):
    from starlette.responses import HTMLResponse

    headers = dict(SECURITY_HEADERS)
    if not frame:
        headers["X-Frame-Options"] = "DENY"
        headers["Content-Security-Policy"] += "; frame-ancestors 'none'"
    return HTMLResponse(html_text, status_code=status, headers=headers)


def not_found(lang: str = "fr"):
    t = lambda m: text(lang, m)  # noqa: E731
    return respond(page(t("Page not found"), f"<h1>{t('Page not found')}</h1>"
                                             f"<p>{t('This page does not exist or is no longer open.')}</p>", lang),
                   404)


def error_summary(lang: str, errors: dict[str, str], ids: dict[str, str]) -> str:
    """The list of problems at the top of a form, each a link to its field."""
    if not errors:
        return ""
    items = "".join(f'<li><a href="#{escape(ids.get(name, name))}">{escape(text(lang, message))}</a></li>'
                    if name in ids else f"<li>{escape(text(lang, message))}</li>"
                    for name, message in errors.items())
    return (f'<div class="summary" role="alert" tabindex="-1" id="problems"><h2>{text(lang, "There is a problem")}'
            f"</h2><ul>{items}</ul></div>")


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value, quote=True)}">'


def honeypot(lang: str) -> str:
    from dbox.serve.guard import HONEYPOT_FIELD

    return (f'<div class="hp" aria-hidden="true"><label for="hp-{HONEYPOT_FIELD}">'
            f'{text(lang, "Leave this field empty")}</label>'
            f'<input type="text" id="hp-{HONEYPOT_FIELD}" name="{HONEYPOT_FIELD}" tabindex="-1" autocomplete="off">'
            f"</div>")
