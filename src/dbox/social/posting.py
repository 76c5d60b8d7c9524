"""``dbox post``: one text (and an image) to several networks, through the send engine.

A post is a campaign per network in the sending ledger (``dbox.store.ledger``): channel
``social:<network>`` (a *broadcast* channel, dbox.social.channel), the text and image in its
template, ``due_at`` for ``--at``, and one message: a ledger row with no contact, addressed to the
connected account. The send engine (dbox.sending.engine, through dbox.sending.service) sends it
like an SMS or an e-mail, so posts have the same guarantees and the same code:

- the same post (network, account, text, image, time) is one campaign, found again by its
  fingerprint: running ``dbox post`` twice publishes once;
- publishing holds the campaign's lock; the message is *claimed* (committed) before the network
  is called and its outcome (post id and URL) recorded after; a process that died in between
  leaves the claim behind, which the next run finds *in doubt*: never published again without
  the user checking (``--retry-in-doubt``);
- an answer that may mean the post exists (timeout, 5xx) is in doubt too; Mastodon gets the
  campaign uid as Idempotency-Key, so a retry there cannot duplicate;
- electoral silence, cancel, the audit log: as for every campaign.

This module plans and creates posts, and says what their one message became. A post whose message
ends in doubt or refused leaves its campaign ``stopped`` with the error (``posts list`` shows it),
where a message campaign would be ``done``: a post has nothing else to send.

Every check (length, image) runs for every network before anything is published.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dbox.errors import InputError, LockedError, NotConfiguredError
from dbox.social.formats import check_network
from dbox.social.length import Check, check_post
from dbox.store import ledger
from dbox.store import social as store_social
from dbox.store.db import Store, utcnow
from dbox.i18n import _
from dbox.sending.window import parse_when   # one parser, in the configured timezone (not the server's)
from dbox.sending.locks import campaign_lock, post_lock
from dbox.sending import service

CHANNEL_PREFIX = "social:"


def is_post_channel(channel: str) -> bool:
    return channel.startswith(CHANNEL_PREFIX)


@dataclass
class PostPlan:
    text: str
    image: Path | None
    networks: list[str]
    checks: list[Check]
    due_at: str | None                      # ISO UTC; None: now
    accounts: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@dataclass
class PostOutcome:
    network: str
    campaign_id: int
    state: str                              # published | scheduled | already-published | in-doubt | failed | busy
    post_id: str | None = None
    url: str | None = None
    detail: str | None = None


def parse_at(value: str | None, now: datetime | None = None) -> str | None:
    """``--at``: ISO date-time (local time when no zone is given) -> ISO UTC; None for now."""
    if not value:
        return None
    now = now or datetime.now(timezone.utc)
    moment = parse_when(value, now=now)
    if moment < now.replace(microsecond=0):
        raise InputError(_("--at {value}: that time has passed").format(value=value))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_post(store: Store, text: str, networks: list[str] | None = None, image: Path | None = None,
              at: str | None = None) -> PostPlan:
    """Check the post for each network (connected accounts only); nothing is written."""
    connected = {a["network"]: a for a in store_social.list_accounts(store)}
    if networks:
        wanted = []
        for name in networks:
            name = check_network(name)
            if name not in wanted:
                wanted.append(name)
    else:
        wanted = sorted(connected)
    if not wanted:
        raise NotConfiguredError(_("no social account connected"), hint=_("dbox connect x (or linkedin, facebook, mastodon)"))
    missing = [n for n in wanted if n not in connected]
    if missing:
        raise NotConfiguredError(_("not connected: {items}").format(items=', '.join(missing)), hint=_("dbox connect {missing}").format(
                                                                                  missing=missing[0]))
    limits = {}
    mastodon = connected.get("mastodon")
    if mastodon and mastodon["settings"].get("max_characters"):
        limits["mastodon"] = int(mastodon["settings"]["max_characters"])
    checks = check_post(text, wanted, image, limits)
    return PostPlan(text, image, wanted, checks, at, {n: connected[n] for n in wanted})


def _fingerprint(network: str, account: dict, text: str, digest: str | None, due_at: str | None) -> str:
    data = json.dumps(["post", network, account["account_id"], text, digest, due_at], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def image_digest(path: Path | None) -> str | None:
    """The image's SHA-256, checked again before publishing (the file could have changed)."""
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(_("{path}: cannot read the image: {strerror}").format(path=path, strerror=exc.strerror)) from None


def create_posts(store: Store, plan: PostPlan, created_by: str = "dbox") -> list[PostOutcome]:
    """One campaign per network (or the existing one, found by fingerprint). Refuses a plan that
    fails a check: nothing is written then."""
    if not plan.ok:
        problems = "; ".join(f"{c.network}: {', '.join(c.problems)}" for c in plan.checks if not c.ok)
        raise InputError(_("the post does not fit: {problems}").format(problems=problems), hint=_("shorten it, or leave a network out with --network"))
    # Finding a post by fingerprint and creating it must not interleave with another dbox post.
    with post_lock(store):
        return _create_posts(store, plan, created_by)


def _create_posts(store: Store, plan: PostPlan, created_by: str) -> list[PostOutcome]:
    digest = image_digest(plan.image)
    outcomes = []
    for network in plan.networks:
        account = plan.accounts[network]
        fingerprint = _fingerprint(network, account, plan.text, digest, plan.due_at)
        existing = ledger.find_by_fingerprint(store, fingerprint)
        if existing is not None:
            outcomes.append(_existing(store, network, existing))
            continue
        template = {"body": plan.text, "image": str(plan.image.resolve()) if plan.image else None,
                    "image_sha256": digest, "network": network, "account_id": account["account_id"]}
        campaign_id, _counts = ledger.create_campaign(
            store, uid=secrets.token_hex(8), channel=CHANNEL_PREFIX + network, reach=ledger.BROADCAST,
            fingerprint=fingerprint, expression="", segment=None, where="FALSE", params=[], template=template,
            status="scheduled", due_at=plan.due_at or utcnow(), ignore_window=True, settings={},
            created_by=created_by, broadcast=account["account_id"])
        outcomes.append(PostOutcome(network, campaign_id, "scheduled", detail=plan.due_at))
    return outcomes


def _message(store: Store, campaign_id: int) -> tuple:
    """(state, post id, URL, error, done_at) of the post's one ledger message."""
    row = ledger.broadcast_message(store, campaign_id)
    if row is None:     # cannot happen after migration 0011 (it gives older posts their message)
        raise InputError(_("campaign {campaign_id} has no message to publish").format(campaign_id=campaign_id))
    return row[1:]


def _existing(store: Store, network: str, campaign, *, just_ran: bool = False) -> PostOutcome:
    """What the post's message became, in ``dbox post``'s words."""
    state, post_id, url, error, done_at = _message(store, campaign.id)
    if state in ("accepted", "delivered"):
        if just_ran:
            return PostOutcome(network, campaign.id, "published", post_id, url)
        return PostOutcome(network, campaign.id, "already-published", post_id, url, f"published {done_at}")
    if state in ("in-doubt", "claimed"):     # claimed: by a process that ended (the next run says in doubt)
        return PostOutcome(network, campaign.id, "in-doubt", detail=error or campaign.last_error)
    if state == "failed":
        return PostOutcome(network, campaign.id, "failed", detail=error)
    if state == "skipped":
        return PostOutcome(network, campaign.id, "failed", detail="cancelled")
    return PostOutcome(network, campaign.id, "scheduled" if campaign.status != "stopped" else "failed",
                       detail=campaign.last_error or campaign.due_at)


def settle(store: Store, campaign_id: int) -> PostOutcome:
    """After the engine ran a post (the caller holds its lock): what its message became. A post in
    doubt or refused stops its campaign with the error, for the user to look at (``posts list``);
    nothing else is written."""
    campaign = ledger.get_campaign(store, campaign_id)
    outcome = _existing(store, campaign.channel[len(CHANNEL_PREFIX):], campaign, just_ran=True)
    if outcome.state in ("in-doubt", "failed") and campaign.status == "done":
        error = f"in-doubt: {outcome.detail}" if outcome.state == "in-doubt" else outcome.detail
        ledger.set_status(store, campaign_id, "stopped", error=error, detail=outcome.state)
    return outcome


def publish_campaign(store: Store, campaign_id: int, *, retry_in_doubt: bool = False,
                     lock_held: bool = False) -> PostOutcome:
    """Publish one post campaign now, at most once, through the send engine."""
    campaign = ledger.get_campaign(store, campaign_id)
    if not is_post_channel(campaign.channel):
        raise InputError(_("campaign {campaign_id} is not a social post ({channel})").format(
                             campaign_id=campaign_id, channel=campaign.channel))
    network = campaign.channel[len(CHANNEL_PREFIX):]
    lock = None if lock_held else campaign_lock(store, campaign_id)
    if lock is not None:
        try:
            lock.acquire()
        except LockedError:
            return PostOutcome(network, campaign_id, "busy", detail="being published by another dbox process")
    try:
        campaign = ledger.get_campaign(store, campaign_id)
        existing = _existing(store, network, campaign)
        state = _message(store, campaign_id)[0]
        if existing.state == "already-published":
            return existing
        if state == "in-doubt" and not retry_in_doubt:
            return PostOutcome(network, campaign_id, "in-doubt",
                               detail="it may be on the network already: check, then use --retry-in-doubt")
        if state == "failed":          # refused by the network: nothing was published, try again
            ledger.requeue_failed(store, campaign_id)
        report = service.resume(store, campaign_id, now=True, retry_in_doubt=retry_in_doubt, lock_held=True)
        if report.not_configured is not None:   # e.g. the secrets file refused: nothing claimed, exit 5
            raise report.not_configured
        outcome = settle(store, campaign_id)
        if outcome.state == "in-doubt" and state == "claimed" and not retry_in_doubt:
            outcome.detail = "it may be on the network already: check, then use --retry-in-doubt"
        return outcome
    finally:
        if lock is not None:
            lock.release()


def publish_due(store: Store, *, now: str | None = None,
                log: Callable[[str], None] | None = None) -> list[PostOutcome]:
    """Publish every post campaign that is due (what ``run-due`` does for posts)."""
    outcomes = []
    for campaign_id in ledger.due_campaigns(store, now or utcnow()):
        campaign = ledger.get_campaign(store, campaign_id)
        if not is_post_channel(campaign.channel):
            continue
        outcome = publish_campaign(store, campaign_id)
        if log:
            log(f"{outcome.network}: {outcome.state} {outcome.post_id or outcome.detail or ''}".strip())
        outcomes.append(outcome)
    return outcomes


def run_due_text(store: Store, campaign_id: int) -> str:
    """``dbox run-due``'s line for a post the engine just ran (run-due holds its lock): how it went
    ("error: ..." makes run-due exit non-zero)."""
    outcome = settle(store, campaign_id)
    where = outcome.url or outcome.post_id or ""
    if outcome.state in ("published", "already-published"):
        return f"post {outcome.state.replace('-', ' ')} on {outcome.network} {where}".rstrip()
    return f"error: post on {outcome.network} {outcome.state}: {outcome.detail or ''}".rstrip(": ")


def post_campaigns(store: Store) -> list[tuple]:
    """(campaign id, network, status, due_at, text, post id or error) for every post, newest first."""
    rows = []
    for campaign_id, channel, *_unused in ledger.list_campaigns(store):
        if not is_post_channel(channel):
            continue
        campaign = ledger.get_campaign(store, campaign_id)
        message = ledger.broadcast_message(store, campaign_id)
        post_id = message[2] if message is not None and message[1] in ("accepted", "delivered") else None
        rows.append((campaign_id, campaign.channel[len(CHANNEL_PREFIX):], campaign.status, campaign.due_at,
                     campaign.template.get("body", "")[:60], post_id or campaign.last_error))
    return rows
