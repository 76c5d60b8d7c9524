"""The social networks as channel plugins (``social:x``, ``social:linkedin``, ``social:facebook``,
``social:mastodon``), registered through the ``dbox`` entry-point group like SMS and e-mail.

A social channel publishes posts; it does not message contacts. Its campaigns have no recipient
rows, ``dbox post`` creates them, and ``run-due`` hands them to dbox.social.posting, which sends
through this channel's sender. ``dbox send --channel social:x`` is refused with the command to
use. Settings live in ``[social.<network>]`` (dbox connect), not ``[channels.<id>]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbox.channels import hookimpl
from dbox.channels.base import Channel, ComposeRules, OutgoingMessage, Sender, SendResult
from dbox.errors import DboxError, InputError, NotConfiguredError
from dbox.i18n import N_, _

IMAGE_HEADER = "X-Dbox-Image"
KEY_HEADER = "Idempotency-Key"
TITLES = {"x": N_("X (Twitter) posts"), "linkedin": N_("LinkedIn posts"), "facebook": N_("Facebook Page posts"),
          "mastodon": N_("Mastodon posts")}


class SocialChannel(Channel):
    broadcast = True               # publishes to the network's audience, one message per campaign
    consent_channel = "social"
    default_rate = "1/s"
    default_workers = 1

    def __init__(self, network: str):
        self.network = network
        self.id = f"social:{network}"
        self.title = TITLES[network]
        self.setup_command = f"dbox connect {network}"

    @property
    def reach(self):
        raise InputError(_("channel {id} publishes posts; it does not message contacts").format(id=self.id),
                         hint=_('dbox post "text" --network {network}').format(network=self.network))

    def run_due(self, store, campaign_id: int, log=None) -> str:
        """What ``dbox run-due`` does with this channel's due post campaign (sending calls it
        through the channel, so it does not depend on the social area)."""
        from dbox.social.posting import run_due_post

        return run_due_post(store, campaign_id, log)

    def settings(self) -> dict[str, Any]:
        from dbox.config import section

        return dict(section(f"social.{self.network}"))

    def missing(self, settings: dict[str, Any], *, secrets: bool = True) -> list[str]:
        needed = "instance" if self.network == "mastodon" else "client_id"
        return [] if settings.get(needed) else [needed]

    def check(self, settings: dict[str, Any], *, secrets: bool = True) -> None:
        if self.missing(settings):
            raise NotConfiguredError(_("channel {id} is not connected").format(id=self.id), hint=self.setup_command)

    def compose_rules(self, settings: dict[str, Any]) -> ComposeRules:
        return ComposeRules(kind="post")

    def connect(self, settings: dict[str, Any]) -> Sender:
        """``settings["store"]`` is the open store: the connected account and the keyring entry
        of its tokens are found there. ``settings["client"]`` may give an already open client."""
        store = settings.get("store")
        if store is None and settings.get("client") is None:
            raise NotConfiguredError(_("channel {id} needs the store to find the connected account").format(
                                         id=self.id))
        if settings.get("client") is not None:
            client, account = settings["client"]
        else:
            from dbox.social.connections import open_client

            client, account = open_client(store, self.network)
        return SocialSender(self.network, client, account)


class SocialSender(Sender):
    """Publishes ``message.body`` as a post; the image and idempotency key come as headers."""

    def __init__(self, network: str, client, account: dict):
        self.network = network
        self.client = client
        self.account = account

    def send(self, message: OutgoingMessage) -> SendResult:
        from dbox.social.clients import PublishUnknown

        image = message.headers.get(IMAGE_HEADER)
        kwargs = {"key": message.headers.get(KEY_HEADER), "handle": self.account.get("handle")}
        if self.network in ("linkedin", "facebook"):
            kwargs["account_id"] = (self.account.get("settings") or {}).get("page_id") or self.account["account_id"]
        try:
            published = self.client.publish(message.body, image=Path(image) if image else None, **kwargs)
        except PublishUnknown as exc:
            return SendResult("unknown", error=str(exc))
        except NotConfiguredError as exc:
            return SendResult("fatal", error=str(exc))
        except DboxError as exc:
            return SendResult("failed", error=str(exc))
        return SendResult("accepted", provider_id=published.post_id, status=published.url)


NETWORKS = ("x", "linkedin", "facebook", "mastodon")


@hookimpl
def register_channels(register):
    for network in NETWORKS:
        register(SocialChannel(network))
