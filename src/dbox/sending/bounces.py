"""``dbox bounces sync``: the bounces and complaints that come back after a campaign.

Each message of the bounce mailbox (IMAP, a Maildir folder, an mbox file) is read once
(``dbox.sending.dsn``), matched to its campaign and contact, and its effect recorded with it in one
transaction (``dbox.store.bounces``): a hard bounce suppresses the address for e-mail, soft ones are
counted and suppress it after ``[bounces] soft_limit`` in a row (default 3), a complaint withdraws
e-mail consent and suppresses the address like an opt-out. A second run records nothing twice.

Matching, best first: the per-message return path the report was delivered to (VERP, when
``bounce_address`` is set), the original Message-ID (``<dbox.<campaign uid>.<contact id>@...>``)
in the report, and last the failed address alone (the latest e-mail campaign sent to it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dbox.errors import InputError
from dbox.masking import mask
from dbox.sending.dsn import Report, parse
from dbox.store import bounces as store_bounces
from dbox.store import ledger
from dbox.i18n import _
from dbox.config import section
from dbox.sending.mailbox import ImapSource, read_maildir, read_mbox
from dbox.channels import get_channel
from dbox.privacy.audit import record

DEFAULT_SOFT_LIMIT = 3


def _noop_log(*_args, **_kwargs) -> None:
    pass


@dataclass
class BounceSummary:
    read: int = 0
    already: int = 0
    hard: int = 0
    soft: int = 0
    suppressed: int = 0          # addresses suppressed by this run (hard, or soft at the limit)
    complaints: int = 0
    delayed: int = 0
    unmatched: int = 0
    other: int = 0
    source: str = ""
    kinds: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (f"{self.read} message(s) read ({self.already} already seen): {self.hard} hard bounce(s), "
                f"{self.soft} soft, {self.complaints} complaint(s), {self.delayed} delayed, {self.unmatched} "
                f"not ours, {self.other} not a report; {self.suppressed} address(es) suppressed")


def soft_limit() -> int:
    value = section("bounces").get("soft_limit", DEFAULT_SOFT_LIMIT)
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise InputError(_("config [bounces] soft_limit = {value!r}: use a whole number").format(value=value)) from None
    if limit < 1:
        raise InputError(_("config [bounces] soft_limit = {value!r}: use 1 or more").format(value=value))
    return limit


def match(store, report: Report) -> tuple[int | None, int | None, str | None]:
    """(campaign id, contact id, the address the message went to), or Nones when it is not ours."""
    for uid, contact_id in report.origins:
        campaign_id = store_bounces.campaign_by_uid(store, uid)
        if campaign_id is not None:
            address = store_bounces.recipient_address(store, campaign_id, contact_id)
            if address is not None:
                return campaign_id, contact_id, address
    if report.recipient and report.kind in ("hard", "soft", "complaint"):
        found = store_bounces.latest_recipient(store, report.recipient)
        if found is not None:
            campaign_id, contact_id = found
            return campaign_id, contact_id, store_bounces.recipient_address(store, campaign_id, contact_id)
    return None, None, None


def process(store, raw: bytes, summary: BounceSummary, limit: int, log=_noop_log) -> str:
    """Read one message of the mailbox and record it. Returns what ``apply_report`` did."""
    report = parse(raw)
    summary.read += 1
    if store_bounces.seen(store, report.report_id):
        summary.already += 1
        return "already"
    campaign_id, contact_id, address = match(store, report)
    outcome = store_bounces.apply_report(
        store, report_id=report.report_id, kind=report.kind, status=report.status, diagnostic=report.diagnostic,
        campaign_id=campaign_id, contact_id=contact_id, address=address, soft_limit=limit)
    if outcome == "already":
        summary.already += 1
        return outcome
    if report.kind in ("hard", "soft", "complaint") and address is None:
        summary.unmatched += 1
    elif report.kind == "hard":
        summary.hard += 1
    elif report.kind == "soft":
        summary.soft += 1
    elif report.kind == "complaint":
        summary.complaints += 1
    elif report.kind == "delayed":
        summary.delayed += 1
    else:
        summary.other += 1
    if outcome == "suppressed":
        summary.suppressed += 1
    if address is not None and report.kind in ("hard", "soft", "complaint"):
        log(campaign_id, "bounce", f"{report.kind} {report.status or ''} to={mask(address)} -> {outcome}")
    return outcome


def sync_messages(store, messages: Iterable[tuple[str, bytes]], *, log=_noop_log,
                  summary: BounceSummary | None = None) -> BounceSummary:
    summary = summary or BounceSummary()
    limit = soft_limit()
    for _key, raw in messages:
        process(store, raw, summary, limit, log)
    return summary


def sync_imap(store, settings: dict, *, log=_noop_log) -> BounceSummary:
    """Read the new messages of the IMAP bounce folder (after the last UID read)."""
    source = ImapSource(settings)
    summary = BounceSummary(source=f"imap {source.host}/{source.folder}")
    limit = soft_limit()
    source.open()
    try:
        mark = ledger.get_meta(store, source.key) or ""
        validity, _unused, last = mark.partition(":")
        last_uid = int(last) if validity == source.uidvalidity and last.isdigit() else 0
        uids = source.uids_after(last_uid)
        done = last_uid
        for uid, raw in source.fetch(uids):
            process(store, raw, summary, limit, log)
            done = uid
            if summary.read % 50 == 0:
                ledger.set_meta(store, source.key, f"{source.uidvalidity}:{done}")
        ledger.set_meta(store, source.key, f"{source.uidvalidity}:{done}")
    finally:
        source.close()
    return summary


def email_settings() -> dict:
    return get_channel("email").settings()


def imap_configured(settings: dict | None = None) -> bool:
    settings = email_settings() if settings is None else settings
    return bool(settings.get("imap_host"))


def sync(store, *, maildir: Path | None = None, mbox: Path | None = None, log=_noop_log) -> BounceSummary:
    """``dbox bounces sync``: a Maildir folder, an mbox file, or the configured IMAP mailbox."""
    if maildir is not None and mbox is not None:
        raise InputError(_("give --maildir or --mbox, not both"))
    if maildir is not None:
        summary = sync_messages(store, read_maildir(maildir), log=log, summary=BounceSummary(source=str(maildir)))
    elif mbox is not None:
        summary = sync_messages(store, read_mbox(mbox), log=log, summary=BounceSummary(source=str(mbox)))
    else:
        summary = sync_imap(store, email_settings(), log=log)
    _audit(store, summary)
    log(None, "bounces", f"{summary.source}: {summary.line()}")
    return summary


def sync_if_configured(store, *, log: Callable = _noop_log) -> BounceSummary | None:
    """What ``run-due`` schedules: the IMAP bounce mailbox when one is configured, else nothing."""
    settings = email_settings()
    if not imap_configured(settings):
        return None
    summary = sync_imap(store, settings, log=log)
    _audit(store, summary)
    log(None, "bounces", f"{summary.source}: {summary.line()}")
    return summary


def _audit(store, summary: BounceSummary) -> None:
    record(store, "bounces sync", summary.suppressed + summary.complaints,
           {"source": summary.source, "hard": summary.hard, "soft": summary.soft,
            "complaints": summary.complaints, "suppressed": summary.suppressed})
