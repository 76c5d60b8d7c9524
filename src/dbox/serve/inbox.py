"""The SMS inbox: what people wrote back, kept whole, and what reading it does.

:func:`receive` is what ``POST /twilio/inbound`` does with a verified message: the one rule for
replies (:func:`dbox.sending.service.take_reply`: kept, linked, STOP honoured at once), then, for a
reply to an action's invitation, the answer read (:mod:`dbox.serve.answers`) becomes an RSVP
through the same code as ``dbox action rsvp``; an uncertain one stays unread for a person. The
contact is acknowledged only when the action has an acknowledgement (``dbox inbox ack``), sent
through the ledger like any message.

``dbox inbox`` lists (:func:`messages`), ``inbox read`` marks read, ``inbox reply`` sends through
the ledger (:func:`reply`): consent, suppression list, quiet hours, exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dbox.channels import get_channel
from dbox.channels.base import InboundMessage
from dbox.errors import DboxError, InputError
from dbox.i18n import _
from dbox.organizing import actions as org_actions
from dbox.organizing import people
from dbox.privacy import audit
from dbox.sending import service
from dbox.sending.audience import resolve
from dbox.sending.compose import Template
from dbox.serve.answers import read_answer
from dbox.store import inbox as si
from dbox.store.db import Store, utcnow

logger = logging.getLogger("dbox.serve")


@dataclass
class Received:
    taken: service.TakenReply
    answer: str | None = None            # the RSVP it became
    acknowledged: int | None = None      # the campaign that carried the acknowledgement


def receive(store: Store, sid: str, sender: str, body: str, recipient: str | None = None,
            channel_id: str = "sms") -> Received:
    channel = get_channel(channel_id)
    taken = service.take_reply(store, channel, InboundMessage(sid, sender, body, utcnow()), recipient=recipient)
    result = Received(taken)
    if not taken.new or taken.keyword or not (taken.action_id and taken.contact_id and taken.message_id):
        return result
    answer = read_answer(body)
    if answer is None:
        return result
    try:
        action = org_actions.get(store, taken.action_id)
        people.rsvp(store, action, taken.contact_id, answer, source="sms")
    except InputError:                   # the action is over or cancelled: a person reads it
        return result
    with store.transaction(immediate=True):
        si.set_outcome(store, taken.message_id, "rsvp", answer, read=True)
    result.answer = answer
    text = si.get_ack(store, action.id)[0 if answer == "yes" else 1]
    if text:
        try:
            result.acknowledged = reply(store, taken.contact_id, text, channel_id=channel_id)
        except DboxError as exc:         # the RSVP stands; the acknowledgement can be sent by hand
            logger.warning('{"event":"ack-not-sent","action":%d,"error":"%s"}', action.id, type(exc).__name__)
    return result


def messages(store: Store, *, contact_id: int | None = None, campaign_id: int | None = None,
             unread_only: bool = False, limit: int | None = None) -> list[si.InboxMessage]:
    return si.list_messages(store, contact_id=contact_id, campaign_id=campaign_id, unread_only=unread_only,
                            limit=limit)


def read(store: Store, contact_id: int) -> tuple[list[si.InboxMessage], int]:
    """A contact's messages (unread first), marked read; (messages, how many were unread)."""
    found = si.list_messages(store, contact_id=contact_id)
    with store.transaction(immediate=True):
        n = si.mark_read(store, [m.id for m in found if m.read_at is None])
    return found, n


def reply(store: Store, contact_id: int, text: str, *, channel_id: str = "sms", again: bool = False,
          log=service._noop_log) -> int:
    """Send ``text`` to one contact through the send pipeline (a one-person campaign): consent,
    suppression list and quiet hours as for any campaign (out of hours it waits for ``dbox
    run-due``), and the ledger's exactly-once: the same text to the same person is one campaign,
    run again it resumes instead of sending twice (``again``: send it once more, as a new one).
    Returns the campaign id."""
    text = (text or "").strip()
    if not text:
        raise InputError(_("-m: the reply is empty"))
    request = service.SendRequest(channel=channel_id, selection=resolve(store, f"id = {int(contact_id)}"),
                                  template=Template(text), new_campaign=again)
    plan = service.plan_send(store, request)
    if plan.existing is None and not plan.counts.get("planned"):
        reasons = ", ".join(f"{k} {v}" for k, v in plan.counts.items() if k != "planned" and v) or _("no such contact")
        raise InputError(_("contact {id} cannot be messaged by {channel}: {reasons}").format(
            id=contact_id, channel=channel_id, reasons=reasons))
    campaign_id, _report = service.start(store, plan, log=log)
    audit.record(store, "inbox reply", 1, {"campaign": campaign_id, "channel": channel_id})
    return campaign_id


def set_ack(store: Store, action_ref: str, yes_text: str | None, no_text: str | None) -> int:
    """The acknowledgement an action sends to answers read from replies (None, None: none)."""
    action = org_actions.find(store, action_ref)
    with store.transaction(immediate=True):
        si.set_ack(store, action.id, (yes_text or "").strip() or None, (no_text or "").strip() or None)
    return action.id
