"""Volunteers assigned to an action, each with a territory: streets, communes, or none (a share of
what the territories leave, see dbox.organizing.sheets). Assigning the same volunteer again
replaces their territory."""

from __future__ import annotations

from dbox.errors import InputError
from dbox.organizing.actions import Action
from dbox.store import forms as sf
from dbox.store import organizing as so
from dbox.store.db import Store, utcnow
from dbox.organizing.sheets import parse_territory
from dbox.privacy import audit
from dbox.i18n import _


def assign(store: Store, action: Action, contact_id: int, *, streets: str | None = None,
           communes: str | None = None) -> list[dict]:
    """Assign (or re-assign) a volunteer; returns their territory."""
    if action.cancelled:
        raise InputError(_("action {id} was cancelled on {cancelled_at}").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))
    territory = parse_territory(store, streets, communes)
    if territory and action.sheet == "list":
        raise InputError(_("action {id} prints an attendance list: a territory means nothing there").format(
                             id=action.id),
                         hint=_("territories are for walk and call lists (--sheet walk or call)"))
    with store.transaction(immediate=True):
        so.upsert_assignment(store, action.id, contact_id, territory, utcnow())

        audit.record(store, "action assign", 1, {"action": action.id, "territory": len(territory)})
    return territory


def unassign(store: Store, action: Action, contact_id: int) -> None:
    """Take the volunteer off the action; their private link (``/v/...``) stops working at once."""
    with store.transaction(immediate=True):
        if not so.remove_assignment(store, action.id, contact_id):
            raise InputError(_("contact {contact_id} is not assigned to action {id}").format(
                                 contact_id=contact_id, id=action.id))
        sf.revoke_links(store, action.id, contact_id, utcnow())
        audit.record(store, "action unassign", 1, {"action": action.id})
