"""A contact's timeline: everything that happened between the campaign and one person, newest first.

Sources: the contact's arrival (each import), consent given or withdrawn, messages of the send
ledger (invitations named after their action), answers to invitations and actions attended,
interactions (doors, calls, meetings, messages, notes, donations, membership), their work as a
volunteer, and the exchanges other areas record (dbox.privacy.retention.record_exchange).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from dbox.i18n import N_, _
from dbox.organizing.interactions import EXCHANGE_PREFIX, OUTCOME_LABELS, TYPE_LABELS, label
from dbox.store import organizing as so
from dbox.store.db import Store

# Summaries are prose in the user's language (docs/i18n.md); ``kind`` and ``detail`` keep the codes.
_STATES = {"planned": N_("planned"), "claimed": N_("being sent"), "accepted": N_("sent"), "delivered": N_("delivered"),
           "undelivered": N_("not delivered"), "failed": N_("failed"), "skipped": N_("not sent"),
           "in-doubt": N_("in doubt")}
_RSVP = {"yes": N_("yes"), "no": N_("no"), "maybe": N_("maybe")}


@dataclass
class Event:
    at: str
    kind: str            # import | consent | message | rsvp | attended | interaction | volunteer | exchange
    summary: str
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def timeline(store: Store, contact_id: int, *, limit: int | None = None) -> list[Event]:
    """The contact's events, newest first (``limit``: the most recent ones)."""
    events: list[Event] = []
    created = so.contact_created(store, contact_id)
    sources = so.timeline_sources(store, contact_id)
    for filename, row, at in sources:
        events.append(Event(at, "import", _("imported from {file}, row {row}").format(file=filename, row=row), {"file": filename, "row": row}))
    if created and not sources:
        events.append(Event(created, "import", _("added to the store"), {}))
    for channel, action, at, source, detail in so.timeline_consents(store, contact_id):
        text = (_("gave {channel} consent ({source})") if action == "grant"
                else _("withdrew {channel} consent ({source})")).format(channel=channel, source=source)
        events.append(Event(at, "consent", text + (f": {detail}" if detail else ""),
                            {"channel": channel, "action": action, "source": source, "detail": detail}))
    for m in so.timeline_messages(store, contact_id):
        template = json.loads(m["template"]) if m["template"] else {}
        what = _("invitation to « {title} »").format(title=m["action_title"]) if m["action_title"] else \
            (f"« {template['subject']} »" if template.get("subject") else _("message"))
        state = _(_STATES[m["state"]]) if m["state"] in _STATES else m["state"]
        summary = f"{m['channel']} {what}: {state}" + (f" ({m['reason']})" if m["reason"] else "")
        events.append(Event(m["at"], "message", summary, {"campaign_id": m["campaign_id"], "channel": m["channel"],
                                                            "state": m["state"], "action_id": m["action_id"]}))
    for a in so.timeline_actions(store, contact_id):
        cancelled = _(" (cancelled)") if a["status"] == "cancelled" else ""
        if a["rsvp"]:
            answer = _("answered {answer} to « {title} »").format(answer=_(_RSVP[a["rsvp"]]), title=a["title"])
            events.append(Event(a["rsvp_at"], "rsvp", answer + cancelled,
                                {"action_id": a["action_id"], "rsvp": a["rsvp"]}))
        if a["attended"] is not None:
            text = _("came to « {title} » ({type})") if a["attended"] else _("did not come to « {title} » ({type})")
            events.append(Event(a["starts_at"], "attended", text.format(title=a["title"], type=a["type"]),
                                {"action_id": a["action_id"], "attended": bool(a["attended"])}))
    for i in so.timeline_interactions(store, contact_id):
        events.append(Event(i["at"], "interaction", _interaction_summary(i),
                            {k: i[k] for k in ("id", "type", "outcome", "support", "wants_call", "gained", "note",
                                               "action_id", "volunteer_id", "source") if i[k] not in (None, 0, "")}))
    for v in so.timeline_as_volunteer(store, contact_id):
        events.append(Event(v["starts_at"], "volunteer",
                            _("volunteer at « {title} »: {made} door(s)/call(s), {gained} contact(s) gained").format(
                                title=v["title"], made=v["contacts_made"], gained=v["contacts_gained"]),
                            {"action_id": v["action_id"]}))
    for at, kind, detail in so.timeline_exchanges(store, contact_id, EXCHANGE_PREFIX):
        events.append(Event(at, "exchange", f"{kind}" + (f": {detail}" if detail else ""), {"kind": kind}))
    events.sort(key=lambda e: (e.at or "", _ORDER.get(e.kind, 9)), reverse=True)
    return events[:limit] if limit else events


_ORDER = {"import": 0, "consent": 1, "message": 2, "rsvp": 3, "attended": 4, "interaction": 5, "volunteer": 6,
          "exchange": 7}


def _interaction_summary(i: dict) -> str:
    parts = [label(TYPE_LABELS, i["type"])]
    if i["outcome"]:
        parts.append(label(OUTCOME_LABELS, i["outcome"]))
    text = " ".join(parts)
    if i["action_title"]:
        text += " " + _("at « {title} »").format(title=i["action_title"])
    extra = []
    if i["support"]:
        extra.append(_("support {level}/5").format(level=i["support"]))
    if i["wants_call"]:
        extra.append(_("wants a call"))
    if i["gained"]:
        extra.append(_("gave {what}").format(what=i["gained"].replace(",", ", ")))
    if i["amount_cents"] is not None:
        extra.append(f"{i['amount_cents'] / 100:.2f} €".replace(".", ","))
    if i["volunteer"]:
        extra.append(_("by {volunteer}").format(volunteer=i["volunteer"]))
    if extra:
        text += " — " + ", ".join(extra)
    if i["note"]:
        text += f" — « {i['note']} »"
    return text


def summary(store: Store, contact_id: int) -> dict:
    """Support level, last interaction, actions attended: the organizing side of a contact."""
    support = so.latest_support(store, contact_id)
    attended = [a for a in so.timeline_actions(store, contact_id) if a["attended"]]
    return {"support": support[0] if support else None, "support_at": support[1] if support else None,
            "last_interaction": so.last_interaction(store, contact_id), "attended": len(attended)}
