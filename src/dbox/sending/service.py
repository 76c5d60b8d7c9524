"""What the sending commands do, as plain functions the CLI and the tests call.

``plan_send`` checks everything and counts (nothing written); ``start`` creates the campaign,
freezes its audience and sends or schedules it; ``resume``, ``run_due``, ``reconcile``,
``sync_statuses`` and ``sync_optouts`` do the rest.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dbox.channels import get_channel
from dbox.errors import DboxError, InputError, LockedError, NotConfiguredError, ProviderError, StoreError
from dbox.sending.compose import Composer, Rendered, Template
from dbox.sending.engine import RunOptions, RunReport, apply_effect, run_campaign, utc_now
from dbox.sending.locks import campaign_lock, run_due_lock
from dbox.masking import mask
from dbox.sending.window import SendWindow, from_iso, iso, parse_when
from dbox.store import inbox, ledger
from dbox.i18n import N_, _
from dbox.privacy.notice import send_warning
from dbox.output import emit
from dbox.privacy.audit import record
from dbox.config import section
from dbox.sending.rate import parse_rate
from dbox.electoral.calendar import ElectoralSilence
from dbox.text import fold
from dbox.normalize import ValueRejected, normalize_phone
from dbox.privacy.retention import record_exchange
from dbox.store.db import utcnow
from dbox.store.suppressions import Hasher
from dbox.sending.bounces import sync_if_configured
from dbox.sending.sms_parts import non_gsm_characters

# Why a contact is left out; shown with _() (dbox.i18n), stored by key.
REASONS = {
    "no-address": N_("no address for this channel"),
    "invalid-address": N_("address marked invalid"),
    "no-consent": N_("no consent recorded"),
    "consent-refused": N_("consent refused (a 'non' in an imported file)"),
    "consent-withdrawn": N_("consent withdrawn"),
    "opted-out": N_("opted out / suppressed"),
    "bounced": N_("bounced (address refused by its server)"),
    "duplicate-address": N_("address shared with another recipient"),
}


def _noop_log(*_args, **_kwargs) -> None:
    pass


@dataclass
class Selection:
    """The audience as the segments library compiles it (a WHERE over alias ``c``)."""

    where: str
    params: list
    expression: str = ""
    segment: str | None = None


@dataclass
class SendRequest:
    channel: str
    selection: Selection
    template: Template
    at: str | None = None
    now: bool = False
    rate: str | None = None
    workers: int | None = None
    limit: int | None = None
    dry_run: bool = False
    new_campaign: bool = False
    retry_in_doubt: bool = False


@dataclass
class Plan:
    request: SendRequest
    channel: Any
    settings: dict
    composer: Composer
    window: SendWindow | None
    fingerprint: str
    counts: dict[str, int] = field(default_factory=dict)   # planned + reasons (new campaign)
    segments: int = 0
    encodings: dict[str, int] = field(default_factory=dict)
    ucs2_chars: dict[str, int] = field(default_factory=dict)   # character forcing UCS-2 -> messages
    gsm_segments: int = 0                                      # the segments with --gsm
    missing: list[str] = field(default_factory=list)           # --dry-run: settings not configured yet
    sample: Rendered | None = None
    sample_to: str | None = None
    existing: Any = None                                    # a campaign this command resumes
    due_at: datetime | None = None                          # scheduled (quiet hours or --at)
    due_reason: str | None = None
    notice: str | None = None                               # information owed (GDPR art. 14), to print

    @property
    def planned(self) -> int:
        return self.counts.get("planned", 0)

    @property
    def excluded(self) -> dict[str, int]:
        return {k: v for k, v in self.counts.items() if k != "planned"}

    @property
    def cost(self) -> float | None:
        return self.price(self.segments)

    def price(self, segments: int) -> float | None:
        price = self.composer.rules.price_per_segment
        return None if price is None or self.composer.rules.kind != "text" else round(segments * float(price), 2)


def fingerprint(channel: str, selection: Selection, template: Template) -> str:
    """Same channel, same audience as typed, same message: the same campaign (a rerun resumes it)."""
    data = json.dumps([channel, selection.segment, selection.expression, selection.where if not
                       (selection.segment or selection.expression) else "", template.as_dict()],
                      ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def make_composer(store, channel, settings, template: Template, campaign_uid: str = "preview") -> Composer:
    return Composer(template, channel.compose_rules(settings), custom_fields=ledger.custom_field_names(store),
                    campaign_uid=campaign_uid, unsubscribe_key=ledger.unsubscribe_secret(store),
                    from_address=settings.get("from_address"), max_length=channel.max_length)


def channel_window(channel, settings) -> SendWindow | None:
    return SendWindow.from_settings(settings, channel.quiet_hours)


def plan_send(store, request: SendRequest, *, clock: Callable[[], datetime] = utc_now,
              dry_run_rows: Callable[[int, str, Rendered], None] | None = None) -> Plan:
    """Check the channel, the template and the audience; count; write nothing."""
    channel = get_channel(request.channel)
    settings = channel.settings()
    if request.dry_run:      # a preview needs no credentials nor settings: say what is missing instead
        missing = channel.missing(settings)
    else:
        channel.check(settings)
        missing = []
    composer = make_composer(store, channel, settings, request.template)
    window = channel_window(channel, settings)
    plan = Plan(request, channel, settings, composer, window,
                fingerprint(request.channel, request.selection, request.template))
    plan.missing = missing
    if not request.new_campaign:
        existing = ledger.find_by_fingerprint(store, plan.fingerprint)
        if existing is not None:
            plan.existing = existing
            plan.counts = {"planned": ledger.count_state(store, existing.id, "planned")}
            if existing.status == "done" and not request.retry_in_doubt:
                if request.dry_run:
                    return plan
                raise DboxError(
                    _("campaign {id} already sent this message to this audience ({created_at}); nothing left to send").format(
                        id=existing.id, created_at=existing.created_at),
                    hint=_("to send it again as a new campaign, add --new-campaign"))
            _schedule(plan, clock)
            if existing.status in ("scheduled", "waiting") and existing.due_at and not request.now:
                due = from_iso(existing.due_at)
                if due > clock():
                    plan.due_at, plan.due_reason = due, "already scheduled"
            return plan
    reach = channel.reach
    sel = request.selection
    plan.counts = ledger.audience_counts(store, reach, sel.where, sel.params)
    plan.counts.setdefault("planned", 0)
    fields = sorted(composer.fields_needed)
    for row in ledger.iter_audience(store, reach, sel.where, sel.params, fields, composer.custom_needed):
        contact_id, address, *values = row
        custom_json = values.pop()
        rendered = composer.render(contact_id, address, dict(zip(fields, values)), custom_json)
        if plan.sample is None:
            plan.sample, plan.sample_to = rendered, address
        if rendered.segments:
            plan.segments += rendered.segments
            plan.encodings[rendered.encoding] = plan.encodings.get(rendered.encoding, 0) + 1
            if rendered.encoding == "UCS-2":
                plan.gsm_segments += rendered.gsm_segments or rendered.segments
                for ch in non_gsm_characters(rendered.body):
                    plan.ucs2_chars[ch] = plan.ucs2_chars.get(ch, 0) + 1
            else:
                plan.gsm_segments += rendered.segments
        if dry_run_rows is not None:
            dry_run_rows(contact_id, address, rendered)
    plan.notice = notice_warning(store, request)
    _schedule(plan, clock)
    return plan


def notice_warning(store, request: SendRequest) -> str | None:
    """The send's one check of the information owed to third-party contacts (GDPR art. 14,
    docs/privacy.md): a warning to show before confirming, or None. The plain-text part is what
    must carry the mention (dbox.privacy.notice.check_send)."""
    sel = request.selection
    return send_warning(store, sel.where, sel.params, request.channel, request.template.body)


def write_dry_run(store, request: SendRequest, output) -> tuple[Plan, int]:
    """A dry run that writes every message it would send to the CSV ``output`` (mode 0600: it
    holds addresses), recorded in the audit log. Returns (the plan, messages written)."""
    rows: list = []
    plan = plan_send(store, request, dry_run_rows=lambda contact_id, address, rendered: rows.append(
        (contact_id, address, rendered.segments or "", rendered.subject or "", rendered.body)))
    emit(iter(rows), ["contact_id", "to", "segments", "subject", "body"], fmt="csv", output=output)
    audit(store, "send --dry-run --output", len(rows), {"channel": request.channel, "file": output.name})
    return plan, len(rows)


def audit(store, command: str, count: int, detail: dict) -> None:
    """The privacy area's audit log: who sent (or wrote out) how many messages. Sending writes its
    rows here only: one per run (``run``), one per campaign scheduled for later (``start``)."""
    record(store, command, count, detail)


def run(store, campaign, channel, settings, composer, window, options: RunOptions, log) -> RunReport:
    """The engine's run of a campaign, recorded in the audit log with its counts."""
    report = run_campaign(store, campaign, channel, settings, composer, window, options, log)
    audit(store, "send", report.accepted + report.failed + report.in_doubt,
          {"campaign": campaign.id, "channel": campaign.channel, "accepted": report.accepted,
           "failed": report.failed, "in_doubt": report.in_doubt, "skipped": report.skipped})
    return report


def _schedule(plan: Plan, clock) -> None:
    request, window = plan.request, plan.window
    now = clock()
    if request.at:
        when = parse_when(request.at, window.tz_name if window else None)
        if when > now:
            plan.due_at, plan.due_reason = when, "--at"
    if window is not None and not request.now:
        start = plan.due_at or now
        opening = window.next_open(start)
        if opening > start:
            plan.due_at, plan.due_reason = opening, "quiet hours"


def run_options(channel, settings, rate: str | None, workers: int | None, limit: int | None,
                stored: dict | None = None, clock=utc_now, progress=None, sleep=None) -> RunOptions:
    stored = stored or {}
    rate_text = rate or stored.get("rate") or settings.get("rate") or channel.default_rate
    workers = workers or stored.get("workers") or int(settings.get("workers") or channel.default_workers)
    if workers < 1 or workers > 32:
        raise InputError(_("--workers {workers}: use 1 to 32").format(workers=workers))
    if limit is not None and limit < 1:
        raise InputError(_("--limit {limit}: use a number above zero").format(limit=limit))
    options = RunOptions(rate=parse_rate(rate_text), workers=workers, limit=limit, clock=clock, progress=progress,
                         sleep=sleep)
    tuning = section("sending")           # [sending] soft_attempts, soft_retry_minutes, soft_days
    for name in ("soft_attempts", "soft_retry_minutes", "soft_days"):
        if name in tuning:
            try:
                value = float(tuning[name])
            except (TypeError, ValueError):
                raise InputError(_("config [sending] {name} = {tuning!r}: use a number").format(
                                     name=name, tuning=tuning[name])) from None
            if value <= 0:
                raise InputError(_("config [sending] {name} = {tuning!r}: use a number above zero").format(
                                     name=name, tuning=tuning[name]))
            setattr(options, name, int(value) if name == "soft_attempts" else value)
    return options


def start(store, plan: Plan, *, log=_noop_log, clock=utc_now, progress=None,
          sleep=None) -> tuple[int, RunReport | None]:
    """Create the campaign and freeze its audience (confirmed by the caller), then send it now or
    leave it scheduled. Returns (campaign id, the run's report or None when scheduled)."""
    if plan.existing is not None:
        if plan.due_at is not None:
            return plan.existing.id, None      # scheduled: run-due sends it when due
        return plan.existing.id, resume(store, plan.existing.id, rate=plan.request.rate,
                                        workers=plan.request.workers, limit=plan.request.limit,
                                        now=plan.request.now, retry_in_doubt=plan.request.retry_in_doubt,
                                        log=log, clock=clock, progress=progress, sleep=sleep)
    request, channel = plan.request, plan.channel
    options = run_options(channel, plan.settings, request.rate, request.workers, request.limit, clock=clock,
                          progress=progress, sleep=sleep)
    sel = request.selection
    holder: dict[str, Any] = {}

    def take_lock(campaign_id: int) -> None:
        holder["lock"] = campaign_lock(store, campaign_id).acquire()

    status = "scheduled" if plan.due_at else "running"
    try:
        campaign_id, counts = ledger.create_campaign(
            store, uid=_secrets.token_hex(8), channel=channel.id, reach=channel.reach, fingerprint=plan.fingerprint,
            expression=sel.expression, segment=sel.segment, where=sel.where, params=list(sel.params),
            template=request.template.as_dict(), status=status, due_at=iso(plan.due_at) if plan.due_at else None,
            ignore_window=request.now, settings={"rate": request.rate, "workers": request.workers},
            created_by=_user(), on_id=take_lock)
        log(campaign_id, "created", f"channel={channel.id} planned={counts.get('planned', 0)} "
                                    f"excluded={sum(v for k, v in counts.items() if k != 'planned')}")
        if plan.due_at:
            log(campaign_id, "scheduled", f"due={iso(plan.due_at)} ({plan.due_reason})")
            # nothing sent yet: the run that sends it writes the "send" row with its counts
            audit(store, "send", 0, {"campaign": campaign_id, "channel": channel.id, "audience": plan.planned,
                                     "scheduled": True})
            return campaign_id, None
        campaign = ledger.get_campaign(store, campaign_id)
        composer = make_composer(store, channel, plan.settings, request.template, campaign.uid)
        report = run(store, campaign, channel, plan.settings, composer, plan.window, options, log)
        return campaign_id, report
    finally:
        if "lock" in holder:
            holder["lock"].release()


def resume(store, campaign_id: int, *, rate=None, workers=None, limit=None, now: bool = False,
           retry_in_doubt: bool = False, log=_noop_log, clock=utc_now, progress=None,
           lock_held: bool = False, sleep=None) -> RunReport:
    """Send what is left of a campaign (its in-doubt messages only with ``retry_in_doubt``)."""
    campaign = ledger.get_campaign(store, campaign_id)
    if campaign.control == "paused":
        raise InputError(_("campaign {campaign_id} is paused").format(campaign_id=campaign_id), hint=_("first: dbox campaigns resume {campaign_id}").format(
                                                                       campaign_id=campaign_id))
    if campaign.control == "cancelled":
        raise InputError(_("campaign {campaign_id} was cancelled; nothing is sent").format(campaign_id=campaign_id))
    if (not now and campaign.status in ("scheduled", "waiting") and campaign.due_at
            and campaign.due_at > iso(clock())):     # --resume waits for its time; --now does not
        return RunReport(campaign_id, status="scheduled", due_at=from_iso(campaign.due_at),
                         left=ledger.count_state(store, campaign_id, "planned"))
    channel = get_channel(campaign.channel)
    settings = channel.settings()
    channel.check(settings)
    lock = None if lock_held else campaign_lock(store, campaign_id).acquire()
    try:
        settings = channel.campaign_settings(store, campaign, settings)   # may refuse: nothing claimed yet
        if retry_in_doubt:
            ledger.mark_stale_claims(store, campaign_id)
            if channel.supports_lookup and ledger.in_doubt_rows(store, campaign_id):
                reconcile(store, campaign_id, log=log, lock_held=True)
            n = ledger.requeue_in_doubt(store, campaign_id)
            if n:
                log(campaign_id, "retry-in-doubt", f"{n} message(s) planned again")
        if now:
            campaign.ignore_window = True
        composer = make_composer(store, channel, settings, Template.from_dict(campaign.template), campaign.uid)
        options = run_options(channel, settings, rate, workers, limit, campaign.settings, clock, progress, sleep)
        return run(store, campaign, channel, settings, composer, channel_window(channel, settings),
                            options, log)
    finally:
        if lock is not None:
            lock.release()


def run_due(store, *, log=_noop_log, clock=utc_now, sleep=None,
            bounces: bool = True) -> list[tuple[int | None, RunReport | str | DboxError | Any]]:
    """Send every campaign that is due; a campaign another process is sending, or paused, is
    skipped. Holds the run-due lock for the whole run (a second run-due raises LockedError at
    once). A campaign that cannot start (missing credentials: ``NotConfiguredError``) is reported
    with its error and the others go on; one that falls due during an electoral silence is held
    ("held: ...", not a failure); a store fault stops everything (``StoreError``). Then, with
    ``bounces``, the IMAP bounce mailbox is read when one is configured: its entry has campaign id
    None (a ``BounceSummary``, or the error that stopped it)."""
    results: list[tuple[int, RunReport | str | DboxError]] = []
    with run_due_lock(store):
        due = ledger.due_campaigns(store, iso(clock()))
        log(None, "run-due", f"{len(due)} campaign(s) to look at")
        for campaign_id in due:
            lock = campaign_lock(store, campaign_id)
            try:
                lock.acquire()
            except LockedError:
                log(campaign_id, "skipped", "being sent by another dbox process")
                results.append((campaign_id, "busy"))
                continue
            try:
                campaign = ledger.get_campaign(store, campaign_id)
                if campaign.control is not None:
                    continue
                if campaign.status in ("scheduled", "waiting") and campaign.due_at and campaign.due_at > iso(clock()):
                    continue
                report = resume(store, campaign_id, log=log, clock=clock, lock_held=True, sleep=sleep)
                # every campaign (posts included) ran through the engine; its channel says the outcome
                results.append((campaign_id, get_channel(campaign.channel).run_result(store, campaign_id, report)))
            except StoreError:
                raise
            except ElectoralSilence as exc:   # held until the polls close: this run did its work
                results.append((campaign_id, f"held: {exc}"))
            except DboxError as exc:
                log(campaign_id, "error", str(exc))
                results.append((campaign_id, exc))
            finally:
                lock.release()
        if bounces:
            try:       # the bounce mailbox, when one is configured (docs/sending.md)
                summary = sync_if_configured(store, log=log)
            except StoreError:
                raise
            except DboxError as exc:
                log(None, "error", f"bounces sync: {exc}")
                results.append((None, exc))
            else:
                if summary is not None:
                    results.append((None, summary))
    return results


def run_due_failure(results) -> DboxError | None:
    """The error ``dbox run-due`` exits with, or None when every run did its work (failed
    recipients included). Missing settings (5) win over a provider that stopped a run (6)."""
    not_configured = [(cid, r) for cid, r in results if isinstance(r, NotConfiguredError)]
    if not_configured:
        cids = ", ".join(str(cid) for cid, _r in not_configured if cid is not None)
        first = not_configured[0][1]
        if not cids:
            return NotConfiguredError(_("bounces not read: {first}").format(first=first), hint=first.hint)
        return NotConfiguredError(_("campaign(s) {cids} not sent: {first}").format(cids=cids, first=first), hint=first.hint)
    stopped = [cid for cid, r in results
               if isinstance(r, DboxError) or (isinstance(r, str) and r.startswith("error"))
               or (isinstance(r, RunReport) and provider_failure(cid, r))]
    if None in stopped:
        bounce_error = next(r for cid, r in results if cid is None and isinstance(r, DboxError))
        if stopped == [None]:
            return bounce_error
        stopped.remove(None)
    if stopped:
        return ProviderError(_("campaign(s) {items} stopped on provider errors").format(
                                 items=', '.join(map(str, stopped))),
                             hint=_("see: dbox campaigns show ID"))
    return None


CONTROLS = {"pause": "paused", "resume": None, "cancel": "cancelled"}


def is_broadcast(store, campaign) -> bool:
    """Whether a campaign is a broadcast (a post: it messages no contact). The channel's registry
    flag (``Channel.broadcast``) says so when its plugin is loaded; otherwise the ledger does (its
    one message has no contact). Never the channel's name: a new broadcast area plugs in through
    the registry (docs/architecture.md)."""
    try:
        return bool(get_channel(campaign.channel).broadcast)
    except InputError:                      # plugin not loaded (uninstalled, disabled)
        return ledger.broadcast_account(store, campaign.id) is not None


def control(store, campaign_id: int, action: str, *, posts: bool | None = None) -> tuple[Any, int]:
    """``pause``, ``resume`` or ``cancel`` a campaign (``posts``: True for a post only, False for
    a message campaign only). Pausing leaves it to no one: run-due skips it, ``send --resume``
    refuses. Cancelling turns its planned messages into cancelled (claimed and in-doubt ones stay
    as they are) and cannot be undone. Journalled and in the audit log. Returns (campaign, n
    cancelled). Holds the campaign's lock: a campaign being sent now is ``LockedError``."""
    campaign = ledger.get_campaign(store, campaign_id)
    is_post = is_broadcast(store, campaign)
    if posts is True and not is_post:
        raise InputError(_("campaign {campaign_id} is not a post ({channel})").format(
                             campaign_id=campaign_id, channel=campaign.channel),
                         hint=_("use: dbox campaigns {action} {campaign_id}").format(
                                  action=action, campaign_id=campaign_id))
    if posts is False and is_post:
        raise InputError(_("campaign {campaign_id} is a post").format(campaign_id=campaign_id), hint=_("use: dbox posts {action} {campaign_id}").format(
                                                                       action=action, campaign_id=campaign_id))
    if campaign.control == "cancelled":
        raise InputError(_("campaign {campaign_id} was cancelled; nothing to {action}").format(
                             campaign_id=campaign_id, action=action))
    if campaign.status == "done" and action != "resume":
        raise InputError(_("campaign {campaign_id} is done; nothing to {action}").format(
                             campaign_id=campaign_id, action=action))
    wanted = CONTROLS[action]
    if action == "resume" and campaign.control is None:
        raise InputError(_("campaign {campaign_id} is not paused").format(campaign_id=campaign_id), hint=_("to send what is left now: dbox send --resume {campaign_id}").format(
                                                                           campaign_id=campaign_id))
    with campaign_lock(store, campaign_id):
        n = ledger.set_control(store, campaign_id, wanted, f"by {_user()}")
    audit(store, f"campaigns {action}", n, {"campaign": campaign_id, "channel": campaign.channel})
    return ledger.get_campaign(store, campaign_id), n


def reconcile(store, campaign_id: int, *, log=_noop_log, lock_held: bool = False) -> dict[str, int]:
    """Look in-doubt messages up at the provider: found ones become accepted; the others stay
    in-doubt (marked 'not found'), for the user to resend with --retry-in-doubt."""
    campaign = ledger.get_campaign(store, campaign_id)
    channel = get_channel(campaign.channel)
    lock = None if lock_held else campaign_lock(store, campaign_id)
    if lock is not None:
        lock.acquire()
    try:
        stale = ledger.mark_stale_claims(store, campaign_id)
        if stale:
            log(campaign_id, "in-doubt", f"{stale} claimed message(s) of an ended process")
        rows = ledger.in_doubt_rows(store, campaign_id)
        result = {"in_doubt": len(rows), "found": 0, "not_found": 0, "unsupported": 0}
        if not rows:
            return result
        if not channel.supports_lookup:
            result["unsupported"] = len(rows)
            return result
        settings = channel.settings()
        channel.check(settings)
        composer = make_composer(store, channel, settings, Template.from_dict(campaign.template), campaign.uid)
        fields = sorted(composer.fields_needed)
        for recipient_id, contact_id, address, claimed_at in rows:
            body = None
            try:
                values, custom = ledger.contact_values(store, contact_id, fields, composer.custom_needed)
                body = composer.render(contact_id, address, dict(zip(fields, values)), custom).body
            except (InputError, TypeError):
                pass
            found = channel.lookup(settings, address, claimed_at or campaign.created_at, body)
            if found is not None:
                ledger.resolve_in_doubt(store, recipient_id, provider_id=found.provider_id,
                                        provider_status=found.status, state=found.state or "accepted")
                result["found"] += 1
            else:
                ledger.resolve_in_doubt(store, recipient_id, provider_id=None, provider_status=None,
                                        note="not found at the provider: safe to resend with --retry-in-doubt")
                result["not_found"] += 1
        log(campaign_id, "reconciled", f"found={result['found']} not_found={result['not_found']}")
        ledger.add_event(store, campaign_id, "reconciled", f"found={result['found']} not_found={result['not_found']}")
        return result
    finally:
        if lock is not None:
            lock.release()


def sync_statuses(store, campaign_id: int, *, log=_noop_log) -> dict[str, int]:
    """Fetch delivery statuses for the accepted messages of a campaign."""
    campaign = ledger.get_campaign(store, campaign_id)
    channel = get_channel(campaign.channel)
    result = {"checked": 0, "delivered": 0, "undelivered": 0, "failed": 0, "pending": 0}
    if not channel.supports_status:
        return result
    settings = channel.settings()
    channel.check(settings)
    batch: list[str] = []
    since = ledger.first_claim_at(store, campaign_id)

    def flush() -> None:
        updates = []
        for d in channel.delivery_statuses(settings, batch, since):
            result["checked"] += 1
            if d.state:
                result[d.state] += 1
                updates.append((d.provider_id, d.state, d.status, d.code))
            else:
                result["pending"] += 1
        ledger.update_delivery(store, updates)
        batch.clear()

    for _rid, provider_id, _status, _at in list(ledger.iter_accepted(store, campaign_id)):
        batch.append(provider_id)
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()
    log(campaign_id, "synced", " ".join(f"{k}={v}" for k, v in result.items()))
    return result


OPTOUT_KEYWORDS = {"stop", "arret", "arreter", "stopall", "unsubscribe", "desabonner", "desinscrire",
                   "desinscription", "cancel", "end", "quit"}


def optout_keyword(body: str) -> str | None:
    """The opt-out keyword a reply starts with (STOP, ARRET, STOP SMS, Arrêt, ...), else None."""
    words = fold(body or "").split()
    return words[0] if words and words[0] in OPTOUT_KEYWORDS else None


@dataclass
class TakenReply:
    """What :func:`take_reply` did with one inbound message."""

    new: bool                          # False: this provider id was taken before (a replay, a retry)
    keyword: str | None = None         # the opt-out keyword it starts with
    withdrawn: int = 0                 # contacts whose consent it withdrew
    message_id: int | None = None      # its row in the inbox
    contact_id: int | None = None
    campaign_id: int | None = None     # the campaign it answers
    action_id: int | None = None       # the action that campaign invited to
    number: str = ""


def take_reply(store, channel, reply, *, recipient: str | None = None, log=_noop_log) -> TakenReply:
    """One inbound reply, however it came (``dbox serve``'s webhook or ``dbox optouts sync``): the
    one rule for replies. Idempotent on the provider's id. A reply starting with an opt-out keyword
    (STOP, ARRET, STOP SMS, ...: :func:`optout_keyword`) withdraws the channel's consent of every
    contact holding the number and suppresses the number for the channel, at once. Every reply is
    kept whole in the inbox, linked to its contact and to the campaign (and action) it answers;
    a reply from a contact counts as an exchange coming from the person (retention)."""
    if ledger.replies_seen(store, [reply.provider_id]):
        return TakenReply(False)
    try:
        number = normalize_phone(reply.sender).e164
    except ValueRejected:
        number = reply.sender
    keyword = optout_keyword(reply.body)
    received_at = reply.received_at or utcnow()
    taken = TakenReply(True, keyword, number=number)
    if keyword:    # first: a crash before the reply is recorded leaves it to be taken again, never lost
        taken.withdrawn = ledger.record_optout(
            store, channel.reach, number, source="stop-reply",
            detail=f"reply {keyword.upper()} received {received_at}", reason="stop-reply")
        log(None, "opt-out", f"channel={channel.id} from={mask(number)} keyword={keyword}")
    with store.transaction(immediate=True):
        if not ledger.record_reply(store, reply.provider_id, channel.id, Hasher(store)(number), received_at, keyword):
            return TakenReply(False)
        link = inbox.answered(store, number, channel.id, received_at)
        if link:
            taken.campaign_id, taken.contact_id, taken.action_id = link
        else:
            holders = inbox.contacts_with_mobile(store, number)
            taken.contact_id = holders[0] if len(holders) == 1 else None
        taken.message_id = inbox.add_message(
            store, provider_id=reply.provider_id, channel=channel.id, sender=number, recipient=recipient,
            body=reply.body, received_at=received_at, contact_id=taken.contact_id, campaign_id=taken.campaign_id,
            action_id=taken.action_id, kind="optout" if keyword else "message")
        if keyword and taken.message_id:
            inbox.set_outcome(store, taken.message_id, "optout", read=True)
        if taken.contact_id and not keyword:
            record_exchange(store, taken.contact_id, "reply", f"SMS reply received {received_at}", received_at)
    return taken


def take_status(store, provider_id: str, status: str, code: str | None) -> str:
    """A delivery status pushed by the provider (Twilio's StatusCallback): the ledger row holding
    ``provider_id`` moves to delivered / undelivered / failed as ``dbox campaigns sync`` would move
    it, and an error code acts on the address as at send time (21211: invalid, 21610: opted out).
    Idempotent on (message, status). Returns what happened: ``unknown`` (no such message),
    ``repeat``, ``pending`` (not final yet) or the new state."""
    row = inbox.recipient_of(store, provider_id)
    if row is None:
        return "unknown"
    campaign_id, channel_id, address, _state = row
    channel = get_channel(channel_id)
    delivery, effect = channel.pushed_status(provider_id, status, code)
    with store.transaction(immediate=True):
        if not inbox.record_status(store, provider_id, status, delivery.code):
            return "repeat"
    if effect and address:
        apply_effect(store, channel.reach, address, effect, delivery.code, campaign_id)
    if not delivery.state:
        return "pending"
    ledger.update_delivery(store, [(delivery.provider_id, delivery.state, delivery.status, delivery.code)])
    return delivery.state


def sync_optouts(store, channel_id: str = "sms", *, log=_noop_log) -> dict[str, int]:
    """Read inbound replies (for stores without ``dbox serve``), each taken by :func:`take_reply`."""
    channel = get_channel(channel_id)
    if not channel.supports_inbound:
        raise InputError(_("channel {channel_id} cannot read replies").format(channel_id=channel_id))
    settings = channel.settings()
    channel.check(settings)
    key = f"optouts.{channel_id}.synced_until"
    since = ledger.get_meta(store, key)
    started = iso(utc_now())
    result = {"replies": 0, "optouts": 0, "contacts": 0, "already": 0}
    for reply in channel.inbound(settings, since):
        taken = take_reply(store, channel, reply, recipient=settings.get("reply_number"), log=log)
        if not taken.new:
            result["already"] += 1
            continue
        result["replies"] += 1
        if taken.keyword:
            result["optouts"] += 1
            result["contacts"] += taken.withdrawn
    ledger.set_meta(store, key, started)
    audit(store, "optouts sync", result["contacts"], {"channel": channel_id, "replies": result["replies"],
                                                       "optouts": result["optouts"]})
    return result


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "?"


def provider_failure(campaign_id: int, report: RunReport) -> ProviderError | None:
    """The error a stopped run should exit with (6), or None."""
    if report.status != "stopped" or report.stop_reason not in ("provider", "fatal", "error"):
        return None
    hint = f"resume with: dbox send --resume {campaign_id}"
    if report.stop_reason == "fatal":
        hint = "check the channel's credentials (dbox channels setup), then " + hint
    return ProviderError(_("campaign {campaign_id} stopped: {error}; {left} message(s) left").format(
                             campaign_id=campaign_id, error=report.error, left=report.left), hint=hint)
