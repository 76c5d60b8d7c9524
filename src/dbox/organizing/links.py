"""Volunteers' private links (``/v/TOKEN``) and what their page shows and records.

- ``dbox action assign`` gives each volunteer a link to their own walk or call list for the action.
  Only the token's SHA-256 is kept; assigning again gives a new link and ends the old one; the link
  expires two days after the action ends (``--link-days`` to choose); ``dbox action unassign``
  revokes it at once.
- The page lists the volunteer's sheet (:func:`dbox.organizing.sheets.plan`, the same sharing of
  doors and calls as the printed sheets, in walking or name order). A volunteer sees only their own
  list: a result for anyone else is refused.
- A door or a call is recorded through the checks and the writing of ``dbox action
  import-results`` (:func:`dbox.organizing.results.check_line`, :func:`~dbox.organizing.results.write_lines`),
  as one line of a sheet, from the action's day on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dbox.errors import InputError
from dbox.i18n import N_
from dbox.organizing import actions as act
from dbox.organizing.actions import Action
from dbox.organizing.results import Line, ResultsReport, check_line, write_lines
from dbox.organizing.sheets import plan
from dbox.privacy import audit
from dbox.store import forms as sf
from dbox.store import organizing as so
from dbox.store.db import Store, utcnow
from dbox.i18n import _

DAYS_AFTER = 2            # a link works until this many days after the action ends
NOT_ON_LIST = N_("this person is not on your list")


class LinkRefused(InputError):
    """A link that does not open a page: unknown, expired or revoked (``reason``)."""

    def __init__(self, reason: str):
        super().__init__(f"volunteer link {reason}")
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(store: Store, action: Action, contact_id: int, *, days: int | None = None,
          now: datetime | None = None) -> tuple[str, str]:
    """A new link for this volunteer (their older links end): (token, expires_at ISO UTC)."""
    if action.cancelled:
        raise InputError(_("action {id} was cancelled on {day}").format(id=action.id, day=action.cancelled_at[:10]))
    if days is not None and not 0 < days <= 90:
        raise InputError(_("--link-days {days}: between 1 and 90").format(days=days))
    now = now or act.clock()
    if days is None:
        end = act.from_iso(action.ends_at) if action.ends_at else act.from_iso(action.starts_at) + timedelta(hours=3)
        expires = max(end + timedelta(days=DAYS_AFTER), now + timedelta(days=1))
    else:
        expires = now + timedelta(days=days)
    token = secrets.token_urlsafe(24)
    with store.transaction(immediate=True):
        if not any(v["contact_id"] == contact_id for v in so.assignments(store, action.id)):
            raise InputError(_("contact {contact_id} is not assigned to action {id}").format(
                                 contact_id=contact_id, id=action.id),
                             hint=f"dbox action assign {action.id} {contact_id}")
        sf.revoke_links(store, action.id, contact_id, _iso(now))
        sf.insert_link(store, _hash(token), action.id, contact_id, _iso(now), _iso(expires))
        audit.record(store, "action link", 1, {"action": action.id})
    return token, _iso(expires)


def revoke(store: Store, action: Action, contact_id: int) -> int:
    """End every link of this volunteer for this action; returns how many were live."""
    with store.transaction(immediate=True):
        count = sf.revoke_links(store, action.id, contact_id, utcnow())
        if count:
            audit.record(store, "action link revoke", 1, {"action": action.id})
    return count


@dataclass
class Visit:
    """Who opened a link, for which action."""

    action: Action
    volunteer_id: int
    expires_at: str


def open_link(store: Store, token: str, now: datetime | None = None) -> Visit:
    """The action and volunteer a link names; LinkRefused when it is unknown, revoked, expired, or
    the volunteer is no longer assigned."""
    if not token or len(token) > 100:
        raise LinkRefused("unknown")
    row = sf.link_by_hash(store, _hash(token))
    if row is None:
        raise LinkRefused("unknown")
    if row["revoked_at"] or not row["assigned"]:
        raise LinkRefused("revoked")
    if row["expires_at"] <= _iso(now or act.clock()):
        raise LinkRefused("expired")
    return Visit(act.get(store, row["action_id"]), row["contact_id"], row["expires_at"])


# -- the page --------------------------------------------------------------------------------------------

@dataclass
class Stop:
    """One door or call on a volunteer's list."""

    contact_id: int
    name: str
    street: str = ""
    house: str = ""
    address: str = ""
    commune: str = ""
    phone: str | None = None
    known_support: int | None = None
    result: dict | None = None          # what was recorded already: outcome, support


@dataclass
class VolunteerList:
    kind: str                            # walk | call | list
    stops: list[Stop] = field(default_factory=list)
    problem: str | None = None           # why there is no list (no target yet, ...)


def volunteer_list(store: Store, visit: Visit) -> VolunteerList:
    """The volunteer's own doors or calls, in the order of their printed sheet."""
    action = visit.action
    try:
        sheet_plan = plan(store, action, volunteer_id=visit.volunteer_id)
    except InputError as exc:
        return VolunteerList(action.sheet, problem=str(exc))
    result = VolunteerList(sheet_plan.kind)
    if not sheet_plan.sheets:
        return result
    sheet = sheet_plan.sheets[0]
    if sheet_plan.kind == "walk":
        entries = [e for _, _, group in sheet.streets() for e in group]
    else:
        entries = list(sheet.entries)
    done = sf.sheet_results(store, action.id, action.result_type, [e.contact["id"] for e in entries])
    for e in entries:
        c = e.contact
        result.stops.append(Stop(c["id"], e.name, e.address.street, e.address.house, c.get("address") or "",
                                 e.commune, e.phone, c.get("support"), done.get(c["id"])))
    return result


def on_list(store: Store, visit: Visit, contact_id: int) -> bool:
    return any(s.contact_id == contact_id for s in volunteer_list(store, visit).stops)


def record(store: Store, visit: Visit, contact_id: int, values: dict[str, str],
           now: datetime | None = None) -> tuple[dict[str, str], ResultsReport | None]:
    """Record one door or call from the volunteer's page: (problems by field, report). The values
    are a sheet's columns (outcome, support, wants_call, email, phone, consent, note); the consent
    wording is the action's, the one the page shows to read to the person."""
    action = visit.action
    if action.cancelled:
        return {"": f"action {action.id} was cancelled"}, None
    if not act.started(action, now):
        return {"": f"results are recorded from the day of the action ({action.when_text()})"}, None
    if not on_list(store, visit, contact_id):
        return {"": NOT_ON_LIST}, None
    problems: dict[str, str] = {}
    cells = {k: str(v or "").strip() for k, v in values.items()}

    def fail(name: str | None, message: str) -> None:
        problems.setdefault(name or "", message)

    line = check_line(store, action, Line(1, contact_id, volunteer_id=visit.volunteer_id), lambda n: cells.get(n, ""),
                      fail, has=lambda n: n in cells, default_wording=action.consent_wording)
    if line is None or problems:
        return problems or {"": N_("nothing could be recorded")}, None
    if not line.has_result:
        return {"outcome": N_("say how it went (answered, not home, ...)")}, None
    report = ResultsReport(None, action.id)
    write_lines(store, action, [line], report, name=f"volunteer page of contact {visit.volunteer_id}",
                digest=hashlib.sha256(secrets.token_bytes(16)).hexdigest())
    return {}, report
