"""Consent as a history: grant and withdraw, for one contact or a whole segment.

Rules (docs/privacy.md):

- Every change is an event (channel, grant|withdraw, when, source, wording or campaign); the
  current state is derived from the latest event (``consents`` is kept in step by
  ``record_consent_events``).
- A grant says how it was obtained: ``source`` (form, by hand, ...) and the ``wording`` the person
  agreed to. Without them there is no proof of consent, so dbox refuses.
- A withdrawal is final until the person gives consent again. Lifting one needs ``renewed=True``
  on a single contact — the person asked — and never happens in bulk or through an import.
- Withdrawing is always possible, even for a channel never granted (an opposition).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dbox.errors import InputError
from dbox.privacy import audit
from dbox.store import privacy as sp
from dbox.store.contacts_write import record_consent_events
from dbox.store.db import Store, utcnow
from dbox.store import suppressions
from dbox.i18n import _

CHANNELS = ("sms", "email", "phone", "post", "social")
# Where a consent change came from. 'import' is written by dbox import only.
SOURCES = ("manual", "form", "stop-reply", "unsubscribe", "email-reply", "letter", "phone-call", "meeting",
           "website", "campaign")
_PAGE = 2000
# The kinds of address through which each channel reaches a person (post and social: none here).
REACHED_BY = {"sms": ("mobile",), "email": ("email",), "phone": ("mobile", "fixed")}


def opposition_hashes(store: Store, contact_ids, channels, reason: str, at: str) -> list[tuple]:
    """Suppression rows (hash, kind, reason, channel, at) for the addresses through which
    ``channels`` reach these contacts: an opposition then outlives the contact row itself (an
    erasure by retention, a restore from an older backup, an import under another name)."""
    hasher = suppressions.Hasher(store)
    rows = []
    for contact_id in contact_ids:
        points = sp.contact_points(store, contact_id)
        for channel in channels:
            for kind, value in points:
                if kind in REACHED_BY.get(channel, ()):
                    rows.append((hasher(value), "email" if kind == "email" else "phone", reason, channel, at))
    return rows


@dataclass
class ConsentChange:
    """What a grant or withdrawal did, per channel."""

    action: str
    counts: Counter = field(default_factory=Counter)   # changed | unchanged | kept_withdrawn
    contacts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.counts["changed"]


def parse_channels(values) -> tuple[str, ...]:
    """'sms,email' or ['sms', 'email'] -> ('sms', 'email'); an unknown channel is an InputError."""
    if isinstance(values, str):
        values = [values]
    channels: list[str] = []
    for value in values or ():
        for part in str(value).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part not in CHANNELS:
                raise InputError(_("--channel: unknown channel {part!r} (channels: {items})").format(
                                     part=part, items=', '.join(CHANNELS)))
            if part not in channels:
                channels.append(part)
    if not channels:
        raise InputError(_("no channel given"), hint=_("add --channel with one of {items}").format(
                                                      items=', '.join(CHANNELS)))
    return tuple(channels)


def check_source(source: str) -> str:
    source = (source or "").strip().lower()
    if source not in SOURCES:
        raise InputError(_("--source: unknown source {source!r} (sources: {items})").format(
                             source=source, items=', '.join(SOURCES)))
    return source


def state(store: Store, contact_id: int) -> dict:
    """Current state per channel (every channel, 'none' when nothing was ever recorded) and history."""
    current = {}
    for channel in CHANNELS:
        row = sp.current_consent(store, contact_id, channel)
        current[channel] = ({"status": row[0], "at": row[1], "source": row[2]} if row
                            else {"status": "none", "at": None, "source": None})
    history = [{"channel": ch, "action": a, "at": at, "source": src, "detail": d, "wording": w}
               for ch, a, at, src, d, w in sp.consent_history(store, contact_id, with_wording=True)]
    # A consent with no wording recorded (an import without --consent-wording) proves little:
    # flagged, so that someone finds the wording or asks the person again.
    for channel, now in current.items():
        if now["status"] == "granted":
            grants = [e for e in history if e["channel"] == channel and e["action"] == "grant"]
            now["without_wording"] = not (grants and grants[-1]["wording"])
    return {"contact_id": contact_id, "current": current, "history": history}


def grant(store: Store, contact_id: int, channels, *, source: str, wording: str,
          renewed: bool = False, at: str | None = None) -> ConsentChange:
    """Record that one contact gave consent on ``channels``; see the module's rules."""
    channels = parse_channels(channels)
    source = check_source(source)
    wording = _need_wording(wording)
    at = at or utcnow()
    change = ConsentChange("grant", contacts=1)
    events, lifted = [], []
    for channel in channels:
        current = sp.current_consent(store, contact_id, channel)
        if current and current[0] == "granted":
            change.counts["unchanged"] += 1
            continue
        opted_out = _opted_out(store, contact_id, channel, at)
        if current and current[0] == "withdrawn" and not renewed:
            raise InputError(
                _("contact {contact_id} withdrew {channel} consent on {current} ({current2}); only the person can lift it").format(
                    contact_id=contact_id, channel=channel, current=current[1], current2=current[2]),
                hint=_("if they asked to be contacted again, add --renewed and their wording"))
        if opted_out and not renewed:
            raise InputError(_("an address of contact {contact_id} opted out of {channel} (unsubscribe or STOP); only the person can lift it").format(
                                 contact_id=contact_id, channel=channel),
                             hint=_("if they asked to be contacted again, add --renewed and their wording"))
        if current and current[0] == "withdrawn" or opted_out:
            lifted.append(channel)
        events.append((contact_id, channel, "grant", at, source,
                       wording + (" (renewed after a withdrawal)" if channel in lifted else "")))
        change.counts["changed"] += 1
    with store.transaction(immediate=True):
        if events:
            record_consent_events(store, events)
        if lifted:
            sp.delete_channel_suppressions(store, [h for h, *_unused in opposition_hashes(store, [contact_id], lifted, "", at)],
                                           lifted)
        audit.record(store, "consent grant", 1 if events else 0,
                     {"contact_id": contact_id, "channels": list(channels), "source": source,
                      "renewed": bool(renewed and events)})
    return change


def _opted_out(store: Store, contact_id: int, channel: str, at: str):
    return sp.suppressed_hashes(
        store, [h for h, *_unused in opposition_hashes(store, [contact_id], [channel], "", at)], channel)


def blocked(store: Store, contact_id: int, channel: str) -> str | None:
    """Why a grant on ``channel`` would be refused without ``renewed``: 'withdrawn' (the contact
    withdrew or refused it), 'opted-out' (an address of theirs opted out: unsubscribe, STOP), or
    None. A sign-up form asks this before mailing a confirmation link: nobody who opted out of
    e-mail gets one."""
    current = sp.current_consent(store, contact_id, channel)
    if current and current[0] == "withdrawn":
        return "withdrawn"
    return "opted-out" if _opted_out(store, contact_id, channel, utcnow()) else None


def withdraw(store: Store, contact_id: int, channels, *, source: str = "manual", detail: str | None = None,
             at: str | None = None) -> ConsentChange:
    """Record that one contact withdrew consent (or opposed) on ``channels``."""
    channels = parse_channels(channels)
    source = check_source(source)
    at = at or utcnow()
    change = ConsentChange("withdraw", contacts=1)
    events = []
    for channel in channels:
        current = sp.current_consent(store, contact_id, channel)
        if current and current[0] == "withdrawn":
            change.counts["unchanged"] += 1
            continue
        events.append((contact_id, channel, "withdraw", at, source, (detail or "").strip() or None))
        change.counts["changed"] += 1
    with store.transaction(immediate=True):
        if events:
            record_consent_events(store, events)
        sp.add_suppression_hashes(store, opposition_hashes(store, [contact_id], channels, "opposition", at))
        audit.record(store, "consent withdraw", 1 if events else 0,
                     {"contact_id": contact_id, "channels": list(channels), "source": source})
    return change


def plan_bulk(store: Store, where: str, params, channels, action: str) -> Counter:
    """How a bulk change would go: counts of (channel, current status) among the matching contacts."""
    channels = parse_channels(channels)
    counts: Counter = Counter()
    for channel in channels:
        after = 0
        while page := sp.consent_page(store, where, params, channel, after, _PAGE):
            for _unused, status in page:
                counts[(channel, status or "none")] += 1
            after = page[-1][0]
    return counts


def bulk(store: Store, where: str, params, channels, action: str, *, source: str, wording: str | None = None,
         description: str = "", at: str | None = None) -> ConsentChange:
    """Grant or withdraw for every contact matching ``where``, in one transaction, a page at a time.

    A bulk grant never lifts a withdrawal: those contacts are counted as ``kept_withdrawn``.
    """
    if action not in ("grant", "withdraw"):
        raise ValueError(action)
    channels = parse_channels(channels)
    source = check_source(source)
    if action == "grant":
        wording = _need_wording(wording)
    detail = (wording or "").strip() or None
    at = at or utcnow()
    change = ConsentChange(action)
    touched: set[int] = set()
    with store.transaction(immediate=True):
        for channel in channels:
            after = 0
            while page := sp.consent_page(store, where, params, channel, after, _PAGE):
                after = page[-1][0]
                events = []
                for contact_id, status in page:
                    if action == "grant" and status == "granted" or action == "withdraw" and status == "withdrawn":
                        change.counts["unchanged"] += 1
                    elif action == "grant" and status == "withdrawn":
                        change.counts["kept_withdrawn"] += 1
                    else:
                        events.append((contact_id, channel, action, at, source, detail))
                        touched.add(contact_id)
                change.counts["changed"] += len(events)
                if events:
                    record_consent_events(store, events)
                    if action == "withdraw":
                        sp.add_suppression_hashes(store, opposition_hashes(
                            store, [e[0] for e in events], [channel], "opposition", at))
        change.contacts = len(touched)
        audit.record(store, f"consent {action}", len(touched),
                     {"segment": description, "channels": list(channels), "source": source,
                      "changed": change.counts["changed"], "kept_withdrawn": change.counts["kept_withdrawn"]})
    return change


def _need_wording(wording: str | None) -> str:
    wording = (wording or "").strip()
    if not wording:
        raise InputError(_("a consent needs the wording the person agreed to (or the form or campaign)"),
                         hint=_('add --wording "J\'accepte de recevoir des SMS de ... (formulaire du 12/10)"'))
    return wording
