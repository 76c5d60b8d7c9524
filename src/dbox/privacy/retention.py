"""Retention: which contacts are due for deletion, and purging them.

Rules live in the ``[privacy.retention]`` table of the config file (docs/privacy.md)::

    [privacy.retention]
    single_message_months = 2        # third-party prospects written to at most once
    inactive_years = 3               # no exchange coming from the person for that long
    election_date = "2027-06-20"     # an election's prospect list goes after the vote
    election_tags = ["prospects législatives 2027"]
    keep_tags = ["adhérent"]         # never purged by these rules (members, elected officials)
    opposition_years = 3             # unset: opposition hashes are kept indefinitely; never below 3

    [privacy]
    third_party_tags = ["parrainage"]        # contacts with these tags came from a third party
    third_party_import_kinds = ["followers"] # and so did the contacts of these kinds of import

Contacts who consented to ongoing contact (a granted consent on any channel) are never due.
A purge erases like ``privacy forget`` but keeps only the oppositions the person made (a hash per
withdrawn channel), not a blanket suppression: a purged prospect may lawfully come back later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from dbox.errors import InputError
from dbox.privacy import audit
from dbox.store import inbox
from dbox.store import privacy as sp
from dbox.store import suppressions
from dbox.store.db import Store, utcnow
from dbox.config import load_config
from dbox.i18n import _

DEFAULTS = {
    "single_message_months": 2,
    "inactive_years": 3,
    "election_date": None,
    "election_tags": [],
    "keep_tags": [],
    "opposition_years": None,
}
MIN_OPPOSITION_YEARS = 3
DEFAULT_THIRD_PARTY_KINDS = ("followers",)
_PAGE = 1000


@dataclass
class Rules:
    single_message_months: int = 2
    inactive_years: int = 3
    election_date: date | None = None
    election_tags: tuple[str, ...] = ()
    keep_tags: tuple[str, ...] = ()
    opposition_years: int | None = None
    third_party_tags: tuple[str, ...] = ()
    third_party_import_kinds: tuple[str, ...] = DEFAULT_THIRD_PARTY_KINDS


def _int(config: dict, key: str, where: str, minimum: int = 1) -> int | None:
    value = config.get(key, DEFAULTS.get(key))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(_("config [{where}] {key}: expected a whole number >= {minimum}, got {value!r}").format(
                             where=where, key=key, minimum=minimum, value=value))
    return value


def _strings(config: dict, key: str, where: str) -> tuple[str, ...]:
    value = config.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(_("config [{where}] {key}: expected a list of names, got {value!r}").format(
                             where=where, key=key, value=value))
    return tuple(v.strip() for v in value)


def parse_date(value, what: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(_("{what}: expected a date like 2027-06-20, got {value!r}").format(what=what, value=value)) from None


def load_rules(config: dict | None = None) -> Rules:
    """The rules from the config file (or ``config``, the whole parsed file), checked."""
    if config is None:
        config = load_config()
    privacy = config.get("privacy", {}) if isinstance(config.get("privacy", {}), dict) else {}
    retention = privacy.get("retention", {}) if isinstance(privacy.get("retention", {}), dict) else {}
    where = "privacy.retention"
    opposition = _int(retention, "opposition_years", where, minimum=1)
    if opposition is not None and opposition < MIN_OPPOSITION_YEARS:
        raise InputError(_("config [{where}] opposition_years = {opposition}: oppositions must be kept at least {MIN_OPPOSITION_YEARS} years").format(
                             where=where, opposition=opposition, MIN_OPPOSITION_YEARS=MIN_OPPOSITION_YEARS))
    election = retention.get("election_date")
    kinds = {"third_party_import_kinds": privacy.get("third_party_import_kinds", list(DEFAULT_THIRD_PARTY_KINDS))}
    return Rules(
        single_message_months=_int(retention, "single_message_months", where),
        inactive_years=_int(retention, "inactive_years", where),
        election_date=parse_date(election, f"config [{where}] election_date") if election else None,
        election_tags=_strings(retention, "election_tags", where),
        keep_tags=_strings(retention, "keep_tags", where),
        opposition_years=opposition,
        third_party_tags=_strings(privacy, "third_party_tags", "privacy"),
        third_party_import_kinds=_strings(kinds, "third_party_import_kinds", "privacy"),
    )


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _years_before(day: date, years: int) -> date:
    return _months_before(day, 12 * years)


def _stamp(day: date) -> str:
    return day.strftime("%Y-%m-%dT00:00:00Z")


@dataclass
class Rule:
    name: str
    description: str
    cutoff: str | None
    where: str
    params: list
    count: int = 0


@dataclass
class RetentionPlan:
    as_of: date
    rules: list[Rule] = field(default_factory=list)
    oppositions_due: int = 0
    opposition_cutoff: str | None = None
    inbox_due: int = 0                   # SMS received from numbers no contact holds (dbox serve)
    inbox_cutoff: str | None = None

    @property
    def total(self) -> int:
        return sum(r.count for r in self.rules)


def plan(store: Store, rules: Rules, as_of: date | None = None) -> RetentionPlan:
    """Count what each rule makes due on ``as_of`` (today by default). A contact due under two rules
    is counted under the first only."""
    as_of = as_of or datetime.now(timezone.utc).date()
    result = RetentionPlan(as_of)
    keep, keep_params = sp.tagged_clause(rules.keep_tags)
    base = f"NOT {sp.has_granted_sql()} AND NOT {keep}"
    base_params = list(keep_params)
    taken: list[tuple[str, list]] = []

    def add(name: str, description: str, cutoff: str | None, where: str, params: list) -> None:
        exclusion = "".join(f" AND NOT ({w})" for w, _unused in taken)
        exclusion_params = [p for _unused, ps in taken for p in ps]
        full = f"{base} AND ({where}){exclusion}"
        full_params = [*base_params, *params, *exclusion_params]
        rule = Rule(name, description, cutoff, full, full_params)
        rule.count = sp.count_where(store, full, full_params)
        result.rules.append(rule)
        taken.append((where, params))

    # 1. Third-party prospects, written to at most once, past the short period.
    third, third_params = sp.third_party_clause(rules.third_party_import_kinds, rules.third_party_tags)
    cutoff = _stamp(_months_before(as_of, rules.single_message_months))
    sent = sp.messages_sent_clause(store)
    last_msg = sp.last_message_clause(store)
    where = f"{third} AND NOT {sp.person_spoke_sql()} AND c.created_at < ?"
    params = [*third_params, cutoff]
    if sent:
        where += f" AND {sent[0]} <= 1"
        params += sent[1]
    if last_msg:
        where += f" AND coalesce({last_msg[0]}, '') < ?"
        params += [*last_msg[1], cutoff]
    add("third-party", _("prospects from a third party, written to at most once, nothing from them for "
                         "{months} months").format(months=rules.single_message_months), cutoff, where, params)

    # 2. An election's prospect list, after the vote.
    if rules.election_date and rules.election_tags:
        tagged, tag_params = sp.tagged_clause(rules.election_tags)
        if as_of > rules.election_date:
            add("election", _("prospects of the election of {day} (tags: {tags})").format(
                day=rules.election_date.isoformat(), tags=", ".join(rules.election_tags)), rules.election_date.isoformat(),
                tagged, tag_params)
        else:
            result.rules.append(Rule("election", _("prospects of the election of {day}: due after the vote").format(
                day=rules.election_date.isoformat()), rules.election_date.isoformat(), "FALSE", []))

    # 3. No exchange coming from the person for years.
    cutoff = _stamp(_years_before(as_of, rules.inactive_years))
    add("inactive", _("no exchange coming from the person for {years} years").format(years=rules.inactive_years), cutoff,
        f"{sp.last_exchange_sql(store)} < ?", [cutoff])

    # 4. SMS from numbers no contact holds: kept as long as a third-party prospect.
    result.inbox_cutoff = _stamp(_months_before(as_of, rules.single_message_months))
    result.inbox_due = inbox.count_unmatched_before(store, result.inbox_cutoff)

    if rules.opposition_years:
        result.opposition_cutoff = _stamp(_years_before(as_of, rules.opposition_years))
        result.oppositions_due = sp.count_suppressions_before(store, result.opposition_cutoff)
    return result


def iter_due(store: Store, plan_: RetentionPlan):
    """(rule name, contact id, last exchange) of every contact due, streamed."""
    for rule in plan_.rules:
        if rule.count:
            for contact_id, last in sp.iter_due(store, rule.where, rule.params):
                yield rule.name, contact_id, last


@dataclass
class PurgeReport:
    contacts: Counter = field(default_factory=Counter)     # rule -> contacts erased
    removed: Counter = field(default_factory=Counter)      # table -> rows
    oppositions_kept: int = 0
    oppositions_purged: int = 0
    inbox_purged: int = 0


def purge(store: Store, plan_: RetentionPlan) -> PurgeReport:
    """Erase every contact the plan makes due, in one transaction; keep their oppositions hashed."""
    report = PurgeReport()
    hasher = suppressions.Hasher(store)
    now = utcnow()
    sp.set_secure_delete(store, True)
    try:
        with store.transaction(immediate=True):
            for rule in plan_.rules:
                if not rule.count:
                    continue
                after = 0
                while ids := sp.due_id_page(store, rule.where, rule.params, after, _PAGE):
                    after = ids[-1]
                    rows = [(hasher(value), "email" if kind == "email" else "phone", "opposition", channel, now)
                            for _unused, channel, kind, value in sp.withdrawn_points(store, ids)
                            if _reaches(channel, kind)]
                    report.oppositions_kept += sp.add_suppression_hashes(store, rows)
                    for table, n in sp.erase_contacts(store, ids).items():
                        report.removed[table] += n
                    report.contacts[rule.name] += len(ids)
            if plan_.inbox_cutoff and plan_.inbox_due:
                report.inbox_purged = inbox.delete_unmatched_before(store, plan_.inbox_cutoff)
            if plan_.opposition_cutoff and plan_.oppositions_due:
                report.oppositions_purged = sp.delete_suppressions_before(store, plan_.opposition_cutoff)
            audit.record(store, "privacy retention purge", sum(report.contacts.values()),
                         {"as_of": plan_.as_of.isoformat(), "by_rule": dict(report.contacts),
                          "oppositions_kept": report.oppositions_kept,
                          "oppositions_purged": report.oppositions_purged,
                          "inbox_unknown_senders": report.inbox_purged})
        sp.scrub_freed_pages(store)
    finally:
        sp.set_secure_delete(store, False)
    return report


def _reaches(channel: str, kind: str) -> bool:
    """Whether an address of ``kind`` is how ``channel`` reaches a person."""
    return {"sms": kind == "mobile", "email": kind == "email", "phone": kind in ("mobile", "fixed")}.get(channel, False)


def record_exchange(store: Store, contact_id: int, kind: str, detail: str | None = None, at: str | None = None) -> None:
    """Note a contact coming from the person (a reply, a meeting, a call): retention counts from it.

    For other areas (organizing, social) to call; ``kind`` is a short word such as 'reply'."""
    if not kind or not kind.strip():
        raise ValueError("an exchange needs a kind")
    if not sp.existing_contact_ids(store, [contact_id]):
        raise InputError(_("no contact with id {contact_id}").format(contact_id=contact_id))
    sp.add_exchanges(store, [(contact_id, at or utcnow(), kind.strip(), detail)])
