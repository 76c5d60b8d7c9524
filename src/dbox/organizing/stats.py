"""``dbox action stats``: for one action, who was invited, who answered, who came, and per volunteer
the doors knocked or calls made and the contacts gained; over a period, every action's counts and
the most active volunteers."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbox.hookspecs import hookimpl
from dbox.organizing.actions import Action, iso, parse_local
from dbox.stats_sections import StatsQuery, StatsSection
from dbox.store import insights as insights_sql
from dbox.store import organizing as so
from dbox.store.db import Store
from dbox.errors import InputError
from dbox.i18n import _
from dbox.clock import configured_timezone, parse_day as read_day


@dataclass
class ActionStats:
    action: Action
    invited: int
    invitations: dict[str, dict[str, int]]      # channel -> ledger state -> people
    replied: int                                 # invited by message, then answered
    answers: dict[str, int]                      # yes / no / maybe / came / absent / no_show / came_unannounced
    results: dict[str, int]                      # doors or calls: contacts, reached, supporters, ...
    volunteers: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        a = self.action
        return {"action": {"id": a.id, "title": a.title, "type": a.type, "starts_at": a.starts_at,
                           "status": a.status, "capacity": a.capacity},
                "invited": self.invited, "invitations": self.invitations, "replied": self.replied,
                "answers": self.answers, "results": self.results, "volunteers": self.volunteers}


def action_stats(store: Store, action: Action) -> ActionStats:
    return ActionStats(action, so.invited_total(store, action.id), so.invitation_counts(store, action.id),
                       so.replied_after_invitation(store, action.id), so.people_counts(store, action.id),
                       so.action_results(store, action.id), so.volunteer_results(store, action.id))


def parse_day(text: str | None, option: str) -> str | None:
    """'2026-11-01' or '01/11/2026' (local midnight) -> ISO UTC."""
    if not text:
        return None
    return iso(parse_local(f"{read_day(text, option):%Y-%m-%d} 00:00", configured_timezone(), option))


def period(store: Store, since: str | None, until: str | None, top: int = 10) -> dict:
    """Every action of the period with its counts, and the most active volunteers."""
    since_iso, until_iso = parse_day(since, "--since"), parse_day(until, "--until")
    if since_iso and until_iso and until_iso <= since_iso:
        raise InputError(_("--until comes before --since"))
    if top < 1:
        raise InputError(_("--top {top}: use a number above zero").format(top=top))
    actions = so.list_actions(store, since=since_iso, until=until_iso, include_cancelled=False)
    for row in actions:
        row.update({f"results_{k}": v for k, v in so.action_results(store, row["id"]).items()
                    if k in ("contacts", "reached", "gained")})
    return {"since": since_iso, "until": until_iso, "actions": actions,
            "volunteers": so.active_volunteers(store, since_iso, until_iso, top)}


def actions_section(query: StatsQuery) -> dict:
    """The ``actions`` section of ``dbox stats`` and ``dbox report``: the actions of the period with
    their counts, and the volunteers active in it, in numbers only (the ranking by name is ``dbox
    action stats``). With a selection, only the actions and volunteers among the selected contacts."""
    rows = [dict(zip(insights_sql.ACTION_COLUMNS, r))
            for r in insights_sql.action_outcomes(query.store, query.where, query.params, query.since,
                                                  selection_given=query.selection_given)]
    volunteers = {"active": 0, "doors": 0, "calls": 0, "gained": 0}
    if not rows and not insights_sql.has_table(query.store, "actions"):
        return {"actions": rows, "volunteers": volunteers}
    active = so.active_volunteers(query.store, query.since, None, 1_000_000)
    if query.selection_given:
        keep = insights_sql.contacts_among(query.store, query.where, query.params,
                                           [v["volunteer_id"] for v in active])
        active = [v for v in active if v["volunteer_id"] in keep]
    volunteers = {"active": len(active), "doors": sum(v["doors"] for v in active),
                  "calls": sum(v["calls"] for v in active), "gained": sum(v["gained"] for v in active)}
    return {"actions": rows, "volunteers": volunteers}


@hookimpl
def register_stats_sections(register):
    register(StatsSection("actions", actions_section, position=60))
