"""Answers to invitations (RSVP) and attendance.

- ``rsvp`` records a person's answer (yes, no, maybe; a new answer replaces the old one).
- ``attend`` records who came (or, with ``came=False``, who did not), from the action's day on.
- Both count as an exchange with the person for the retention rules (dbox.privacy.retention).

Nothing is recorded for a cancelled action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dbox.errors import InputError
from dbox.organizing.actions import Action, started
from dbox.organizing.interactions import note_exchange
from dbox.store import organizing as so
from dbox.store.db import Store, utcnow
from dbox.text import fold
from dbox.privacy import audit
from dbox.i18n import _

ANSWERS = {"yes": "yes", "oui": "yes", "o": "yes", "y": "yes", "1": "yes", "ok": "yes",
           "no": "no", "non": "no", "n": "no", "0": "no",
           "maybe": "maybe", "peut etre": "maybe", "peutetre": "maybe", "pe": "maybe", "p": "maybe"}


def parse_answer(text: str) -> str:
    key = fold(text)
    if key in ANSWERS:
        return ANSWERS[key]
    if text.strip() == "?":
        return "maybe"
    raise InputError(_("answer {text!r}: say yes, no or maybe (oui, non, peut-être)").format(text=text))


def _check_open(action: Action) -> None:
    if action.cancelled:
        raise InputError(_("action {id} was cancelled on {cancelled_at}: nothing is recorded for it").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))


def rsvp(store: Store, action: Action, contact_id: int, answer: str, *, at: str | None = None,
         source: str = "manual") -> tuple[str | None, str]:
    """Record an answer; returns (previous answer, new answer)."""
    _check_open(action)
    answer = parse_answer(answer)
    at = at or utcnow()
    before = so.person_state(store, action.id, contact_id)
    previous = before[0] if before else None
    with store.transaction(immediate=True):
        so.set_rsvp(store, action.id, contact_id, answer, at, source)
        note_exchange(store, contact_id, "reply", f"answered {answer} to action {action.id} « {action.title} »", at)
        _audit(store, "action rsvp", 1, action.id)
    return previous, answer


@dataclass
class AttendReport:
    recorded: int = 0
    unchanged: int = 0
    changed: list[int] = field(default_factory=list)     # contacts whose attendance flipped


def attend(store: Store, action: Action, contact_ids: list[int], *, came: bool = True, source: str = "manual",
           now: datetime | None = None) -> AttendReport:
    """Record that these contacts came (or did not come) to the action."""
    _check_open(action)
    if not started(action, now):
        raise InputError(_("action {id} takes place {when_text}: attendance is recorded from that day on").format(
                             id=action.id, when_text=action.when_text()))
    if not contact_ids:
        raise InputError(_("no contact given"))
    seen, unique = set(), []
    for cid in contact_ids:
        if cid not in seen:
            seen.add(cid)
            unique.append(cid)
    at = utcnow()
    report = AttendReport()
    rows = []
    for cid in unique:
        before = so.person_state(store, action.id, cid)
        if before and before[2] == int(came):
            report.unchanged += 1
            continue
        if before and before[2] is not None:
            report.changed.append(cid)
        rows.append((action.id, cid, int(came), at, source))
    with store.transaction(immediate=True):
        report.recorded = so.set_attended(store, rows)
        if came:
            for _unused, cid, _unused, _unused, _unused in rows:
                note_exchange(store, cid, "action", f"came to action {action.id} « {action.title} »", action.starts_at)
        _audit(store, "action attend", report.recorded, action.id)
    return report


def _audit(store: Store, command: str, count: int, action_id: int) -> None:
    audit.record(store, command, count, {"action": action_id})
