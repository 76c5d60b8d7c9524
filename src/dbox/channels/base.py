"""What a channel is: a small class with an id, the address it uses, its limits and settings, and a
``connect()`` that returns a sender whose ``send(message)`` gives a classified result.

A third-party channel subclasses ``Channel``, and registers an instance from its plugin module::

    from dbox.channels import hookimpl
    from dbox.channels.base import Channel

    class Pigeon(Channel):
        id = "pigeon"
        ...

    @hookimpl
    def register_channels(register):
        register(Pigeon())
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dbox.errors import InputError, NotConfiguredError
from dbox.store.ledger import BROADCAST, Reach
from dbox.i18n import _
from dbox.config import section
from dbox.secrets import get_secret, keyring_problem


@dataclass(frozen=True)
class SettingField:
    """One setting a channel needs. Secrets go to the keyring (``env`` wins); the rest to the
    config file section ``[channels.<id>]`` (``env`` wins too, for cron)."""

    name: str
    prompt: str
    secret: bool = False
    env: str | None = None
    required: bool = False
    default: Any = None
    help: str = ""
    validate: Callable[[str], Any] | None = None   # returns the normalized value or raises InputError
    ask: bool = True      # False: optional, set with --set / --secret-stdin or env, never prompted for


@dataclass
class ComposeRules:
    """How dbox finishes a message for this channel (see dbox.sending.compose)."""

    kind: str = "text"                    # text (SMS-like: segments, opt-out mention) | email
    optout_mention: str | None = None     # appended unless the text already has one
    sender_name: str | None = None        # prefixed unless the text already names the sender
    unsubscribe_mailto: str | None = None
    unsubscribe_url: str | None = None
    price_per_segment: float | None = None
    currency: str = "EUR"
    headers: dict[str, str] = field(default_factory=dict)   # added to every message (kind "post")


@dataclass
class OutgoingMessage:
    to: str
    body: str
    subject: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None          # e-mail: deterministic, so a duplicate can be detected
    validity_seconds: int | None = None    # SMS: drop it if not delivered within this


@dataclass
class SendResult:
    """``accepted`` (provider_id), ``retry`` (429, 5xx, could not connect: nothing was sent),
    ``failed`` (permanent), ``unknown`` (the request may have been processed: in-doubt) or
    ``fatal`` (every message would fail the same way: bad credentials; the run stops)."""

    outcome: str
    provider_id: str | None = None
    status: str | None = None
    code: str | None = None
    error: str | None = None
    retry_after: float | None = None
    effect: str | None = None              # 'invalid-address' | 'opted-out'


@dataclass
class InboundMessage:
    provider_id: str
    sender: str
    body: str
    received_at: str | None = None


@dataclass
class Delivery:
    provider_id: str
    status: str                  # the provider's word
    state: str | None            # delivered | undelivered | failed | None (not final yet)
    code: str | None = None


class Sender:
    """One worker's connection to the provider (an HTTP session, an SMTP connection)."""

    def send(self, message: OutgoingMessage) -> SendResult:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Channel:
    id: str = ""
    title: str = ""
    consent_channel: str = ""       # the consents.channel it needs ('sms', 'email')
    address_kind: str = ""          # 'mobile' or 'email'
    default_rate: str = "10/s"
    default_workers: int = 4
    max_length: int | None = None   # characters of a message body
    quiet_hours: bool = False       # on by default?
    fields: tuple[SettingField, ...] = ()
    setup_command: str = ""
    broadcast = False               # publishes to its own audience (a social network): no contacts

    @property
    def reach(self) -> Reach:
        return Reach(self.consent_channel, self.address_kind)

    @property
    def claim_reach(self) -> Reach:
        """What the engine's claim re-checks before each message: the contact's reach, or nothing
        for a broadcast channel's message (it has no contact: ``ledger.BROADCAST``)."""
        return BROADCAST if self.broadcast else self.reach

    def campaign_settings(self, store, campaign, settings: dict[str, Any]) -> dict[str, Any]:
        """The settings a run of ``campaign`` uses (default: the channel's own). A channel may
        refuse to start here (raise a DboxError: nothing is claimed) and add what its sender and
        its compose rules need for this campaign."""
        return settings

    def run_result(self, store, campaign_id: int, report):
        """What ``dbox run-due`` reports for a run of this channel's campaign (it still holds the
        campaign's lock): the run's report, or a line in the channel's words (a line starting with
        ``error:`` makes run-due exit non-zero)."""
        return report

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Every setting, resolved: environment variable, then keyring (secrets) or config file,
        then the default. Secrets that cannot be read are None."""
        stored = section(f"channels.{self.id}")
        values: dict[str, Any] = {}
        for f in self.fields:
            if f.secret:
                values[f.name] = get_secret(f"{self.id}.{f.name}", f.env)
                continue
            raw = os.environ.get(f.env) if f.env else None
            value = raw if raw not in (None, "") else stored.get(f.name, f.default)
            if raw not in (None, "") and f.validate:
                try:
                    value = f.validate(raw)
                except InputError as exc:
                    raise InputError(f"{f.env}: {exc}") from None
            values[f.name] = value
        for key, value in stored.items():
            values.setdefault(key, value)   # quiet-hours keys and other extras
        return values

    def missing(self, settings: dict[str, Any], *, secrets: bool = True) -> list[str]:
        """Names of required settings that are not set (secrets only when ``secrets``)."""
        return [f.name for f in self.fields
                if f.required and (secrets or not f.secret) and settings.get(f.name) in (None, "")]

    def check(self, settings: dict[str, Any], *, secrets: bool = True) -> None:
        missing = self.missing(settings, secrets=secrets)
        if not missing:
            return
        envs = [f.env for f in self.fields if f.name in missing and f.env]
        secret_missing = [f for f in self.fields if f.secret and f.name in missing]
        if secret_missing:
            problem = keyring_problem()
            if problem:
                raise NotConfiguredError(
                    _("channel {id}: {items} not set, and no usable keyring: {problem}").format(
                        id=self.id, items=', '.join(missing), problem=problem),
                    hint=_("set {items} in the environment").format(items=", ".join(envs)))
        command = self.setup_command or "dbox channels setup " + self.id
        hint = (_("run: {command} (or set {env})").format(command=command, env=", ".join(envs)) if envs
                else _("run: {command}").format(command=command))
        raise NotConfiguredError(_("channel {id} is not configured: {items} missing").format(
                                     id=self.id, items=', '.join(missing)), hint=hint)

    def validate_settings(self, settings: dict[str, Any]) -> None:
        """Cross-field checks after setup (override)."""

    # -- composing and sending --------------------------------------------------------------
    def compose_rules(self, settings: dict[str, Any]) -> ComposeRules:
        return ComposeRules()

    def connect(self, settings: dict[str, Any]) -> Sender:
        raise NotImplementedError

    # -- optional: what the provider can tell back -------------------------------------------
    supports_lookup = False
    supports_status = False
    supports_inbound = False

    def lookup(self, settings: dict[str, Any], to: str, since: str, body: str | None) -> Delivery | None:
        """Find a message sent to ``to`` since ``since`` (ISO UTC): reconciliation of in-doubt ones."""
        raise NotImplementedError

    def delivery_statuses(self, settings: dict[str, Any], provider_ids: list[str],
                          since: str | None) -> Iterator[Delivery]:
        raise NotImplementedError

    def inbound(self, settings: dict[str, Any], since: str | None) -> Iterator[InboundMessage]:
        raise NotImplementedError

    def pushed_status(self, provider_id: str, status: str, code: str | None) -> tuple[Delivery, str | None]:
        """A status the provider pushed (a webhook): the delivery it means, and the effect of its
        error code on the address (``invalid-address``, ``opted-out``, or None)."""
        return Delivery(provider_id, status, None, code), None
