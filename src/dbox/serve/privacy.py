"""What the inbox holds on a person, for ``dbox privacy export`` (``register_personal_data``).

Erasure and retention need nothing from here: ``inbox_messages`` has a ``contact_id`` column,
emptied by ``privacy forget`` and by a retention purge with the contact; messages from numbers no
contact holds are deleted by the purge after ``single_message_months``.
"""

from __future__ import annotations

from dbox.hookspecs import hookimpl
from dbox.privacy.holdings import Holding
from dbox.store import inbox as si
from dbox.store.db import Store

TABLES = ("inbox_messages",)


def export_contact(store: Store, contact_id: int) -> dict:
    return {"messages": si.export_contact(store, contact_id)}


def text_lines(data: dict) -> list[tuple[str, list[str]]]:
    return [("SMS reçus de vous", [f"{m['received_at']} : « {m['body']} »" for m in data["messages"]])]


@hookimpl
def register_personal_data(register):
    register(Holding("inbox", TABLES, export_contact, text_lines))
