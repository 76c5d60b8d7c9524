"""What electoral geography holds on one person, for ``dbox privacy export`` (GDPR art. 15),
declared through the ``register_personal_data`` hook: the contact's bureau de vote and the roll
lines matched to it, each with its roll's source and purge date (docs/electoral.md).

Erasure needs nothing from here: ``contact_bureaux`` has a ``contact_id`` column, which
``dbox privacy forget`` empties; a matched voter's ``contact_id`` is set to NULL by its foreign key
(the voter stays on the roll, which is the mairie's list, until the roll is purged).
"""

from __future__ import annotations

from dbox.hookspecs import hookimpl
from dbox.privacy.holdings import Holding
from dbox.store.electoral import TABLES, export_contact


def text_lines(data: dict) -> list[tuple[str, list[str]]]:
    """(French section title, lines) for the letter-ready export."""
    lines = []
    b = data.get("bureau")
    if b:
        how = "inscription sur la liste électorale" if b["how"] == "roll" else "adresse"
        lines.append(f"bureau {b['bureau']}" + (f" ({b['label']})" if b["label"] else "") + f", d'après : {how}")
    for r in data.get("roll") or []:
        name = " ".join(x for x in (r["usage_name"] or r["birth_name"], r["first_names"]) if x)
        lines.append(f"bureau {r['bureau']}, n° d'ordre {r['order_number']} : {name}, né(e) le {r['birth_date']} — "
                     f"liste électorale {r['roll_file']} ({r['roll_source']}), obtenue pour {r['election']}, "
                     f"importée le {r['roll_imported_at']}, effacée le {r['roll_purged_after']}")
    return [("Liste électorale et bureau de vote", lines)] if lines else []


@hookimpl
def register_personal_data(register):
    register(Holding("electoral", TABLES, export_contact, text_lines))
