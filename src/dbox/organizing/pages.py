"""Public event pages (``/e/ACTION``): an action is shown to the public only once published
(``dbox action publish``); its page says when, where and what, and takes answers that become the
same RSVPs as ``dbox action rsvp`` (dbox.organizing.people.rsvp)."""

from __future__ import annotations

from dbox.errors import InputError
from dbox.organizing import actions as act
from dbox.organizing.actions import Action
from dbox.privacy import audit
from dbox.store import forms as sf
from dbox.store.db import Store, utcnow
from dbox.i18n import _


def publish(store: Store, action: Action, published: bool = True) -> bool:
    """Show (or stop showing) the action's public page; returns whether anything changed."""
    if published and action.cancelled:
        raise InputError(_("action {id} was cancelled on {day}: it is not published").format(
            id=action.id, day=action.cancelled_at[:10]))
    with store.transaction(immediate=True):
        changed = sf.publish_action(store, action.id, utcnow()) if published else sf.unpublish_action(store, action.id)
        if changed:
            audit.record(store, "action publish" if published else "action unpublish", 0, {"action": action.id})
    return changed


def public_action(store: Store, ref: str) -> Action | None:
    """The published action a page address names (its id), or None (the page answers 404)."""
    if not ref.isdigit() or len(ref) > 9:
        return None
    action_id = int(ref)
    if not sf.is_published(store, action_id):
        return None
    return act.get(store, action_id)


def open_for_answers(action: Action) -> bool:
    return not action.cancelled and not act.is_past(action)


def places_left(store: Store, action: Action) -> int | None:
    if action.capacity is None:
        return None
    return max(0, action.capacity - sf.rsvp_counts(store, action.id)["yes"])
