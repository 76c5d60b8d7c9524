"""What organizing holds on one person, for ``dbox privacy export`` (GDPR art. 15), declared to
the privacy area through the ``register_personal_data`` hook.

Erasure needs nothing from here: every organizing table about a person has a ``contact_id``
column, which ``dbox privacy forget`` empties (and a volunteer's name on the interactions they
recorded about others goes with them: ``volunteer_id`` is set to NULL by the foreign key).
"""

from __future__ import annotations

from dbox.hookspecs import hookimpl
from dbox.privacy.holdings import Holding
from dbox.store import organizing as so
from dbox.store.db import Store
from dbox.organizing.timeline import summary

# The tables this export presents (the privacy export leaves them out of its "other records").
TABLES = ("action_people", "action_assignments", "interactions")


def export_contact(store: Store, contact_id: int) -> dict:
    """Actions answered or attended, assignments as a volunteer, interactions, support level."""
    return {
        "actions": so.timeline_actions(store, contact_id),
        "volunteering": so.timeline_as_volunteer(store, contact_id),
        "interactions": [{k: v for k, v in i.items() if k not in ("volunteer",)}
                         for i in so.timeline_interactions(store, contact_id)],
        "summary": summary(store, contact_id),
    }


def text_lines(data: dict) -> list[tuple[str, list[str]]]:
    """(French section title, lines) for the letter-ready export."""
    answers = {"yes": "oui", "no": "non", "maybe": "peut-être"}
    actions = []
    for a in data["actions"]:
        parts = [f"{a['starts_at'][:10]} « {a['title']} » ({a['type']})"]
        if a["rsvp"]:
            parts.append(f"réponse : {answers.get(a['rsvp'], a['rsvp'])}")
        if a["attended"] is not None:
            parts.append("présent·e" if a["attended"] else "absent·e")
        actions.append(" — ".join(parts))
    volunteering = [f"{v['starts_at'][:10]} « {v['title']} » : {v['contacts_made']} porte(s) ou appel(s)"
                    for v in data["volunteering"]]
    interactions = []
    for i in data["interactions"]:
        line = f"{i['at']} {i['type']}" + (f" ({i['outcome']})" if i["outcome"] else "")
        if i["support"]:
            line += f", soutien {i['support']}/5"
        if i["note"]:
            line += f" — {i['note']}"
        interactions.append(line)
    return [("Actions militantes", actions), ("Bénévolat", volunteering), ("Échanges et interactions", interactions)]


@hookimpl
def register_personal_data(register):
    register(Holding("organizing", TABLES, export_contact, text_lines))
