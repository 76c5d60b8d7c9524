"""What sign-up forms and volunteers' links hold on a person, for ``dbox privacy export`` (GDPR
art. 15), declared through the ``register_personal_data`` hook. Erasure needs nothing more: both
tables have a ``contact_id`` column (and cascade with the contact). Tokens are never exported:
only their hashes are kept."""

from __future__ import annotations

from dbox.hookspecs import hookimpl
from dbox.privacy.holdings import Holding
from dbox.store import forms as sf
from dbox.store.db import Store

TABLES = ("email_confirmations", "volunteer_links")


def export_contact(store: Store, contact_id: int) -> dict:
    return {"email_confirmations": sf.contact_confirmations(store, contact_id),
            "volunteer_links": sf.contact_links(store, contact_id)}


def text_lines(data: dict) -> list[tuple[str, list[str]]]:
    confirmations = [f"{c['created_at'][:10]} {c['email']} (formulaire {c['form'] or '?'}) : "
                     + (f"confirmée le {c['confirmed_at'][:10]}" if c["confirmed_at"] else "non confirmée")
                     for c in data["email_confirmations"]]
    links = [f"action {l['action']} : lien créé le {l['created_at'][:10]}, valable jusqu'au {l['expires_at'][:10]}"
             + (f", révoqué le {l['revoked_at'][:10]}" if l["revoked_at"] else "")
             for l in data["volunteer_links"]]
    return [("Confirmations d'adresse e-mail (formulaires)", confirmations), ("Liens de bénévole", links)]


@hookimpl
def register_personal_data(register):
    register(Holding("forms", TABLES, export_contact, text_lines))
