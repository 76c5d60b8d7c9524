"""``dbox post``: one text (and an image) to several networks, through the campaign ledger.

A post is a campaign per network in the sending ledger (``dbox.store.ledger``): channel
``social:<network>``, no recipient rows (the audience is the network's), the text and image in
its template, ``due_at`` for ``--at``. That gives posts the same guarantees as SMS and e-mail:

- the same post (network, account, text, image, time) is one campaign, found again by its
  fingerprint: running ``dbox post`` twice publishes once;
- publishing holds the campaign's lock (``dbox.sending.locks``) and commits ``running`` before
  the network is called, and ``done`` with the post id after; a process that died in between
  leaves ``running`` behind, which is treated as *in doubt*: never published again without the
  user checking (``--retry-in-doubt``);
- an answer that may mean the post exists (timeout, 5xx) is in doubt too; Mastodon gets the
  campaign uid as Idempotency-Key, so a retry there cannot duplicate.

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

from dbox.errors import DboxError, InputError, LockedError, NotConfiguredError
from dbox.social.clients import Published
from dbox.social.formats import check_network
from dbox.social.length import Check, check_post
from dbox.store import ledger
from dbox.store import social as store_social
from dbox.store.db import Store, utcnow
from dbox.i18n import _

CHANNEL_PREFIX = "social:"
# create_campaign freezes an audience of contacts; a post has none (where = "0"), so the reach
# below is never evaluated against anyone. It only satisfies the ledger's signature.
_NO_AUDIENCE = ledger.Reach("social", "email")


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
    from dbox.sending.window import parse_when   # one parser, in the configured timezone (not the server's)

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


def _fingerprint(network: str, account: dict, text: str, image_digest: str | None, due_at: str | None) -> str:
    data = json.dumps(["post", network, account["account_id"], text, image_digest, due_at], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _digest(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else None


def create_posts(store: Store, plan: PostPlan, created_by: str = "dbox") -> list[PostOutcome]:
    """One campaign per network (or the existing one, found by fingerprint). Refuses a plan that
    fails a check: nothing is written then."""
    if not plan.ok:
        problems = "; ".join(f"{c.network}: {', '.join(c.problems)}" for c in plan.checks if not c.ok)
        raise InputError(_("the post does not fit: {problems}").format(problems=problems), hint=_("shorten it, or leave a network out with --network"))
    from dbox.sending.locks import post_lock

    # Finding a post by fingerprint and creating it must not interleave with another dbox post.
    with post_lock(store):
        return _create_posts(store, plan, created_by)


def _create_posts(store: Store, plan: PostPlan, created_by: str) -> list[PostOutcome]:
    digest = _digest(plan.image)
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
            store, uid=secrets.token_hex(8), channel=CHANNEL_PREFIX + network, reach=_NO_AUDIENCE,
            fingerprint=fingerprint, expression="", segment=None, where="0", params=[], template=template,
            status="scheduled", due_at=plan.due_at or utcnow(), ignore_window=True, settings={},
            created_by=created_by)
        outcomes.append(PostOutcome(network, campaign_id, "scheduled", detail=plan.due_at))
    return outcomes


def _published_event(store: Store, campaign_id: int) -> tuple | None:
    for at, event, detail in reversed(ledger.campaign_events(store, campaign_id)):
        if event == "published":
            data = json.loads(detail)
            return data.get("post_id"), data.get("url"), at
    return None


def _existing(store: Store, network: str, campaign) -> PostOutcome:
    published = _published_event(store, campaign.id)
    if published:
        return PostOutcome(network, campaign.id, "already-published", published[0], published[1],
                           f"published {published[2]}")
    if campaign.status == "stopped" and (campaign.last_error or "").startswith("in-doubt"):
        return PostOutcome(network, campaign.id, "in-doubt", detail=campaign.last_error)
    return PostOutcome(network, campaign.id, "scheduled" if campaign.status != "stopped" else "failed",
                       detail=campaign.last_error or campaign.due_at)


def publish_campaign(store: Store, campaign_id: int, *, retry_in_doubt: bool = False, client_factory=None,
                     lock_held: bool = False) -> PostOutcome:
    """Publish one post campaign, at most once."""
    from dbox.sending.locks import campaign_lock

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
        if existing.state == "already-published":
            return existing
        from dbox.electoral.calendar import ElectoralSilence, check_send

        try:   # Code électoral L49: no post during an election's silence (docs/electoral.md)
            check_send(store, campaign.channel, campaign_id)
        except ElectoralSilence as exc:   # held: run-due publishes it once the polls have closed
            ledger.set_status(store, campaign_id, "waiting", due_at=exc.until, detail="electoral silence")
            raise
        if campaign.status == "running" or existing.state == "in-doubt":
            # running with its lock free: a process died between claiming and recording
            if not retry_in_doubt:
                if campaign.status == "running":
                    ledger.set_status(store, campaign_id, "stopped",
                                      error="in-doubt: a process stopped while publishing",
                                      detail="in-doubt")
                return PostOutcome(network, campaign_id, "in-doubt",
                                   detail="it may be on the network already: check, then use --retry-in-doubt")
        template = campaign.template
        image = Path(template["image"]) if template.get("image") else None
        if image is not None and _digest(image) != template.get("image_sha256"):
            raise InputError(_("{image}: the image changed since the post was planned").format(image=image))
        account = store_social.get_account(store, network)
        if account is None or account["account_id"] != template.get("account_id"):
            raise NotConfiguredError(_("the {network} account this post was planned for is no longer connected").format(
                                         network=network),
                                     hint=_("dbox connect {network}").format(network=network))
        from dbox.channels import get_channel
        from dbox.channels.base import OutgoingMessage
        from dbox.social.channel import IMAGE_HEADER, KEY_HEADER

        channel = get_channel(campaign.channel)            # the plugin, through the plugin manager
        settings = {**channel.settings(), "store": store}
        if client_factory:
            settings["client"] = client_factory(network)
        sender = channel.connect(settings)
        headers = {KEY_HEADER: f"dbox-{campaign.uid}"}
        if image is not None:
            headers[IMAGE_HEADER] = str(image)
        message = OutgoingMessage(account.get("handle") or account["account_id"], template["body"], headers=headers)
        ledger.set_status(store, campaign_id, "running", detail="publishing")      # the claim, committed
        try:
            result = sender.send(message)
        except BaseException:
            ledger.set_status(store, campaign_id, "stopped", error="in-doubt: interrupted while publishing",
                              detail="in-doubt")
            raise
        finally:
            sender.close()
        if result.outcome == "unknown":
            ledger.set_status(store, campaign_id, "stopped", error=f"in-doubt: {result.error}", detail="in-doubt")
            return PostOutcome(network, campaign_id, "in-doubt", detail=result.error)
        if result.outcome != "accepted":
            # nothing was published (refused, rate limited, not reachable): it can be tried again
            ledger.set_status(store, campaign_id, "stopped", error=result.error, detail="failed")
            return PostOutcome(network, campaign_id, "failed", detail=result.error)
        published = Published(result.provider_id, result.status)
        with store.transaction(immediate=True):
            ledger.add_event(store, campaign_id, "published",
                             json.dumps({"post_id": published.post_id, "url": published.url}))
        ledger.set_status(store, campaign_id, "done", detail=published.post_id)
        return PostOutcome(network, campaign_id, "published", published.post_id, published.url)
    finally:
        if lock is not None:
            lock.release()


def publish_due(store: Store, *, now: str | None = None, client_factory=None,
                log: Callable[[str], None] | None = None) -> list[PostOutcome]:
    """Publish every post campaign that is due (what ``run-due`` does for posts)."""
    outcomes = []
    for campaign_id in ledger.due_campaigns(store, now or utcnow()):
        campaign = ledger.get_campaign(store, campaign_id)
        if not is_post_channel(campaign.channel):
            continue
        outcome = publish_campaign(store, campaign_id, client_factory=client_factory)
        if log:
            log(f"{outcome.network}: {outcome.state} {outcome.post_id or outcome.detail or ''}".strip())
        outcomes.append(outcome)
    return outcomes


def run_due_post(store: Store, campaign_id: int, log=None) -> str:
    """What ``dbox run-due`` does with a due post campaign (it holds the campaign's lock): publish
    it, and say how it went in run-due's words ("error: ..." makes run-due exit non-zero)."""
    outcome = publish_campaign(store, campaign_id, lock_held=True)
    where = outcome.url or outcome.post_id or ""
    if log:
        log(campaign_id, f"post-{outcome.state}", where or outcome.detail)
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
        published = _published_event(store, campaign_id)
        rows.append((campaign_id, campaign.channel[len(CHANNEL_PREFIX):], campaign.status, campaign.due_at,
                     campaign.template.get("body", "")[:60], published[0] if published else campaign.last_error))
    return rows
