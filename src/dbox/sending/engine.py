"""The send loop: a small pool of workers sends a campaign's planned messages through a channel.

For each message a worker: checks the quiet hours, waits for the rate limiter, *claims* it (one
committed transaction that re-checks consent and suppressions), renders it, calls the provider,
and commits the outcome. A retryable error of the provider (429, 5xx, no connection) puts the
message back to ``planned``, waits (exponential backoff, ``Retry-After`` honoured), and claims it
again; after ``max_attempts`` the run stops and says how to resume. A temporary refusal of one
recipient (SMTP 4xx: ``soft``) is retried the same way, then left for a later run (``retry_at``)
for at most ``soft_days``, then failed: it never stops the run. A permanent error fails the
message; an unknown outcome (the provider may have it) makes it ``in-doubt``, never retried
automatically. An exception raised by a channel for one message makes that message in-doubt (it
may have gone) and the run goes on; a store fault (disk full, read-only, locked) stops the run
before the next claim (``StoreFault``).

The store connection is shared by the threads under one lock: every ledger call is a short
transaction; claims and outcomes that arrive together share a commit (``dbox.sending.commits``),
each still committed before its worker goes on. Memory stays flat: rows are read a page at a
time, by the worker that needs the next one.
"""

from __future__ import annotations

import gc
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dbox.channels.base import OutgoingMessage, SendResult
from dbox.errors import DboxError as DboxErrorTypes
from dbox.errors import InputError, NotConfiguredError, StoreError
from dbox.masking import mask
from dbox.masking import scrub as mask_text
from dbox.sending.commits import GroupCommit
from dbox.sending.rate import TokenBucket
from dbox.sending.window import from_iso, iso
from dbox.store import ledger
from dbox.store.db import fault_text as _fault_text
from dbox.store.db import STORE_FAULTS, store_fault
from dbox.electoral.calendar import ElectoralSilence, check_send

PAGE = 500
BACKOFF_BASE = 1.0     # seconds before the first retry; doubles each time


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RunOptions:
    rate: float
    workers: int
    limit: int | None = None
    max_attempts: int = 5
    backoff_base: float = field(default_factory=lambda: BACKOFF_BASE)
    backoff_max: float = 60.0
    clock: Callable[[], datetime] = utc_now
    progress: Callable[[int], None] | None = None
    soft_attempts: int = 3               # tries of a recipient refused for now (4xx), in this run
    soft_retry_minutes: float = 30.0     # then: not before this long (a later run-due)
    soft_days: float = 3.0               # then: failed once refused for this long
    sleep: Callable[[float], bool] | None = None   # wait between retries (tests inject one); True: abort


@dataclass
class RunReport:
    campaign_id: int
    status: str = "running"           # done | waiting | stopped
    stop_reason: str | None = None    # window | limit | provider | fatal | interrupted | store
    accepted: int = 0
    failed: int = 0
    skipped: int = 0
    in_doubt: int = 0
    retries: int = 0
    deferred: int = 0                # refused for now (4xx): left for a later run
    left: int = 0
    in_doubt_total: int = 0          # the campaign's, after this run (earlier crashes included)
    due_at: datetime | None = None
    error: str | None = None
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    ledger_writes: int = 0           # claims and outcomes written ...
    ledger_commits: int = 0          # ... in this many commits (several workers' writes may share one)
    not_configured: Exception | None = None   # what stopped the run at connect, before any claim (exit 5)


class _Run:
    def __init__(self, store, campaign, channel, settings, composer, window, options: RunOptions, log):
        self.store = store
        self.campaign = campaign
        self.channel = channel
        self.settings = settings
        self.composer = composer
        self.window = None if campaign.ignore_window else window
        self.options = options
        self.log = log
        self.reach = channel.claim_reach        # a broadcast's message (a post) has no contact to re-check
        self.db = threading.Lock()
        self.commits = GroupCommit(store, self.db)   # claims and outcomes; other writes take self.db
        self.counts = threading.Lock()
        self.stop = threading.Event()       # no new message is started
        self.abort = threading.Event()      # messages in flight give up waiting too (not for --limit)
        self.stop_reason: str | None = None
        self.error: str | None = None
        self.bucket = TokenBucket(options.rate)
        self.report = RunReport(campaign.id)
        self.started = 0
        self.rows: deque = deque()          # the page being sent, handed out one row at a time
        self.feed = threading.Lock()
        self.after = 0                      # the last row id read
        self.exhausted = False

    # -- stop conditions ---------------------------------------------------------------------
    def halt(self, reason: str, error: str | None = None) -> None:
        with self.counts:
            if self.stop_reason is None:
                self.stop_reason = reason
                self.error = error
        if reason != "limit":
            self.abort.set()
        self.stop.set()

    def _take_slot(self) -> bool:
        """Count one more message against --limit; False (and stop) when the limit is reached."""
        with self.counts:
            if self.options.limit is not None and self.started >= self.options.limit:
                stop = True
            else:
                self.started += 1
                stop = False
        if stop:
            self.halt("limit")
        return not stop

    def _give_back_slot(self) -> None:
        with self.counts:
            self.started -= 1

    def _validity(self) -> int | None:
        """Seconds the provider may keep the message; 0 when the window is closed now."""
        if self.window is None:
            return None
        now = self.options.clock()
        return self.window.validity_seconds(now) if self.window.can_send(now) else 0

    # -- the worker ----------------------------------------------------------------------------
    def next_row(self) -> tuple | None:
        """The next planned row for a worker; None when none is left or the run stops. A page is
        read (``PAGE`` rows: memory stays flat) by the worker that finds the last one used up:
        no thread in between to wake for every message."""
        with self.feed:
            if not self.rows and not self.exhausted and not self.stop.is_set():
                with self.db:
                    page = ledger.planned_page(self.store, self.campaign.id, self.after, PAGE, self.field_names,
                                               self.composer.custom_needed, iso(self.options.clock()))
                if page:
                    self.after = page[-1][0]
                    self.rows.extend(page)
                else:
                    self.exhausted = True
            if self.stop.is_set() or not self.rows:
                return None
            return self.rows.popleft()

    def worker(self) -> None:
        sender = None
        try:
            while not self.stop.is_set():
                try:
                    item = self.next_row()
                    if item is None:
                        return
                    if sender is None:
                        sender = self.channel.connect(self.settings)
                    self.process(sender, item)
                except STORE_FAULTS as exc:    # the store failed: stop before the next claim
                    self.halt("store", str(exc))
                except DboxErrorTypes as exc:   # e.g. settings missing at connect: every message would fail
                    if sender is None and isinstance(exc, NotConfiguredError):
                        self.report.not_configured = exc
                    self.halt("fatal", str(exc))
                except Exception as exc:   # a bug outside the provider call: stop cleanly, claims stay in-doubt
                    self.halt("error", f"{type(exc).__name__}: {exc}")
                    raise
        finally:
            if sender is not None:
                try:
                    sender.close()
                except Exception:   # closing a broken connection must not hide the run's outcome
                    pass

    def process(self, sender, item) -> None:
        recipient_id, contact_id, address, _attempts, *values = item
        custom_json = values.pop()
        fields = dict(zip(self.field_names, values))
        try:
            rendered = self.composer.render(contact_id, address, fields, custom_json)
        except InputError as exc:
            rendered, render_error = None, str(exc)
        attempt = 0
        while True:
            if self.stop.is_set():
                return
            validity = self._validity()
            if validity == 0:
                self.halt("window")
                return
            if not self._take_slot():
                return
            if not self.bucket.acquire(self.abort):
                self._give_back_slot()
                return
            reason = self.commits.write(ledger.claim, recipient_id, self.reach, address)
            if reason is not None:
                self._give_back_slot()
                if reason != "gone":
                    with self.counts:
                        self.report.skipped += 1
                        self.report.skipped_reasons[reason] = self.report.skipped_reasons.get(reason, 0) + 1
                return
            if rendered is None:
                self.commits.write(ledger.record_outcome, recipient_id, "failed", reason="template", error=render_error)
                self._count("failed")
                return
            attempt += 1
            message = OutgoingMessage(address, rendered.body, rendered.subject, rendered.html, rendered.headers,
                                      rendered.message_id, validity)
            try:
                result = sender.send(message)
            except Exception as exc:   # the channel failed on this message: it may have gone, the run goes on
                result = SendResult("unknown", error=f"{type(exc).__name__} in the channel: {mask_text(str(exc))}")
            if result.outcome == "accepted":
                self.commits.write(ledger.record_outcome, recipient_id, "accepted", provider_id=result.provider_id,
                                   provider_status=result.status, segments=rendered.segments)
                self._count("accepted")
                return
            if result.outcome == "failed":
                self.commits.write(ledger.record_outcome, recipient_id, "failed", reason=result.code,
                                   error=result.error, segments=0)
                if result.effect:
                    with self.db:
                        self._effect(result, address)
                self._count("failed")
                self.log(self.campaign.id, "failed", f"to={mask(address)} code={result.code} {result.error or ''}")
                return
            if result.outcome == "unknown":
                self.commits.write(ledger.record_outcome, recipient_id, "in-doubt", error=result.error,
                                   segments=rendered.segments)
                self._count("in_doubt")
                self.log(self.campaign.id, "in-doubt", f"to={mask(address)} {result.error or ''}")
                return
            if result.outcome == "soft" and attempt >= self.options.soft_attempts:
                self._defer(recipient_id, address, result)
                self._give_back_slot()
                return
            # retry, soft or fatal: nothing was sent; the message goes back to planned
            self.commits.write(ledger.record_outcome, recipient_id, "planned", error=result.error)
            self._give_back_slot()
            if result.outcome == "fatal":
                self.halt("fatal", result.error)
                return
            if result.outcome != "soft" and attempt >= self.options.max_attempts:
                self.halt("provider", f"gave up after {attempt} attempts: {result.error}")
                return
            with self.counts:
                self.report.retries += 1
            delay = min(self.options.backoff_max, self.options.backoff_base * 2 ** (attempt - 1))
            delay *= 0.75 + random.random() / 2
            if result.retry_after is not None:
                delay = max(delay, min(result.retry_after, self.options.backoff_max * 5))
                self.bucket.pause(result.retry_after)
            if self._sleep(delay):
                return

    def _sleep(self, seconds: float) -> bool:
        """Wait between two tries; True when the run is aborted meanwhile."""
        if self.options.sleep is not None:
            return bool(self.options.sleep(seconds)) or self.abort.is_set()
        return self.abort.wait(seconds)

    def _defer(self, recipient_id: int, address: str, result) -> None:
        """Refused for now after this run's tries: a later run-due tries again, for a bounded time."""
        now = self.options.clock()
        with self.db:
            outcome = ledger.defer(
                self.store, recipient_id, now=iso(now),
                retry_at=iso(now + timedelta(minutes=self.options.soft_retry_minutes)),
                give_up_before=iso(now - timedelta(days=self.options.soft_days)),
                reason=result.code, error=result.error)
        if outcome == "failed":
            self._count("failed")
            self.log(self.campaign.id, "failed", f"to={mask(address)} refused for {self.options.soft_days:g} days: "
                                                 f"{result.error or ''}")
        elif outcome == "deferred":
            with self.counts:
                self.report.deferred += 1
            self.log(self.campaign.id, "deferred", f"to={mask(address)} {result.error or ''}")

    def _effect(self, result, address: str) -> None:
        apply_effect(self.store, self.reach, address, result.effect, result.code, self.campaign.id)

    def _count(self, what: str) -> None:
        with self.counts:
            setattr(self.report, what, getattr(self.report, what) + 1)
            done = self.report.accepted + self.report.failed + self.report.in_doubt
        if self.options.progress:
            self.options.progress(done)

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> RunReport:
        self.field_names = sorted(self.composer.fields_needed)
        threads = [threading.Thread(target=self.worker, name=f"dbox-send-{i}", daemon=True)
                   for i in range(max(1, self.options.workers))]
        # What the process holds now (the store's caches, the composer, a caller's own data) lives
        # for the whole run: the cyclic garbage collector need not walk it again every few
        # thousand allocations of the send loop (docs/sending.md, "Speed").
        frozen_here = gc.get_freeze_count() == 0     # a caller that froze its own keeps it
        if frozen_here:
            gc.freeze()
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        except KeyboardInterrupt:
            self.halt("interrupted", "interrupted by the user")
            for t in threads:
                t.join()
        finally:
            if frozen_here:
                gc.unfreeze()
        self.report.stop_reason = self.stop_reason
        self.report.error = self.error
        self.report.ledger_writes, self.report.ledger_commits = self.commits.writes, self.commits.commits
        return self.report


def run_campaign(store, campaign, channel, settings, composer, window, options: RunOptions, log) -> RunReport:
    """Send what is left of ``campaign``. The caller holds the campaign's lock. A store fault
    raises ``StoreError`` (exit 4): the ledger is left as it was at the last committed step."""
    try:
        return _run_campaign(store, campaign, channel, settings, composer, window, options, log)
    except STORE_FAULTS as exc:
        raise store_fault(exc, store.path) from None


def _run_campaign(store, campaign, channel, settings, composer, window, options: RunOptions, log) -> RunReport:
    try:   # Code électoral L49: nothing goes out during an election's silence (docs/electoral.md)
        check_send(store, campaign.channel, campaign.id, now=options.clock())
    except ElectoralSilence as exc:   # held: run-due sends it once the polls have closed
        ledger.set_status(store, campaign.id, "waiting", due_at=exc.until, detail="electoral silence")
        log(campaign.id, "waiting", str(exc))
        raise
    stale = ledger.mark_stale_claims(store, campaign.id)
    if stale:
        log(campaign.id, "in-doubt", f"{stale} message(s) claimed by a process that ended; not resent "
                                     f"(dbox campaigns reconcile {campaign.id})")
    planned = ledger.count_state(store, campaign.id, "planned")
    ledger.set_status(store, campaign.id, "running", detail=f"{planned} planned")
    log(campaign.id, "started", f"channel={campaign.channel} planned={planned}")
    t0 = time.monotonic()
    run = _Run(store, campaign, channel, settings, composer, window, options, log)
    report = run.run()
    if report.stop_reason == "store":
        message, hint = _fault_text(report.error or "", store.path)
        raise StoreError(message, hint=hint)
    report.left = ledger.count_state(store, campaign.id, "planned")
    report.in_doubt_total = ledger.count_state(store, campaign.id, "in-doubt")
    elapsed = time.monotonic() - t0
    summary = (f"accepted={report.accepted} failed={report.failed} skipped={report.skipped} "
               f"in_doubt={report.in_doubt} left={report.left} seconds={elapsed:.1f}")
    reason = report.stop_reason
    if reason == "window" and report.left:
        report.due_at = window.next_open(options.clock())
        report.status = "waiting"
        ledger.set_status(store, campaign.id, "waiting", due_at=iso(report.due_at), detail="quiet hours")
        log(campaign.id, "waiting", f"quiet hours; resumes at {iso(report.due_at)} {summary}")
    elif report.left and reason is None and ledger.count_ready(store, campaign.id, iso(options.clock())) == 0:
        # every message left was refused for now (4xx): a later run-due tries them again
        report.due_at = from_iso(ledger.next_retry_at(store, campaign.id))
        report.status = "waiting"
        ledger.set_status(store, campaign.id, "waiting", due_at=iso(report.due_at),
                          detail=f"{report.left} refused for now; {summary}")
        log(campaign.id, "waiting", f"{report.left} refused for now; tried again at {iso(report.due_at)} {summary}")
    elif report.left == 0 and reason in (None, "window", "limit"):
        report.status = "done"
        ledger.set_status(store, campaign.id, "done", detail=summary)
        log(campaign.id, "done", summary)
    elif reason in (None, "window"):
        # nothing stopped the run, yet some are left: released after an error; try again later
        report.status = "stopped"
        ledger.set_status(store, campaign.id, "stopped", error="messages left after the run", detail=summary)
        log(campaign.id, "stopped", summary)
    else:
        report.status = "stopped"
        error = report.error if reason != "limit" else f"--limit {options.limit} reached"
        ledger.set_status(store, campaign.id, "stopped", error=error, detail=summary)
        log(campaign.id, "stopped", f"reason={reason} {summary}" + (f" error={error}" if error else ""))
    return report


def apply_effect(store, reach, address: str, effect: str | None, code: str | None, campaign_id: int) -> None:
    """What a provider's answer means for the address, whether it came with the send or later by
    status callback (``dbox.sending.service.take_status``): bounced, invalid (21211), opted out (21610)."""
    if effect == "bounced":
        ledger.suppress(store, "email" if reach.address_kind == "email" else "phone", address,
                        "bounced", reach.consent_channel)
    elif effect == "invalid-address":
        ledger.invalidate_address(store, reach.address_kind, address)
    elif effect == "opted-out":
        ledger.record_optout(store, reach, address, source="stop-reply",
                             detail=f"provider error {code} during campaign {campaign_id}", reason="stop-reply")
