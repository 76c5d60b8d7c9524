"""The social networks as channel plugins (``social:x``, ``social:linkedin``, ``social:facebook``,
``social:mastodon``), registered through the ``dbox`` entry-point group like SMS and e-mail.

A social channel publishes posts; it does not message contacts. It is a *broadcast* channel: each
of its campaigns (made by ``dbox post``) holds one ledger message with no contact, addressed to the
connected account, which the send engine claims, publishes through this channel's sender and
records like an SMS (docs/sending.md, "Posts"). ``dbox send --channel social:x`` is refused with
the command to use. Settings live in ``[social.<network>]`` (dbox connect), not ``[channels.<id>]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbox.channels import hookimpl
from dbox.channels.base import Channel, ComposeRules, OutgoingMessage, Sender, SendResult
from dbox.errors import DboxError, InputError, NotConfiguredError
from dbox.i18n import N_, _
from dbox.social.posting import image_digest, run_due_text
from dbox.store import social as store_social
from dbox.config import section

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

    def campaign_settings(self, store, campaign, settings: dict[str, Any]) -> dict[str, Any]:
        """Before the engine claims the post: the image is the one checked when it was planned,
        and the account it was planned for is still the connected one. The sender gets the store
        (to find the account and its tokens); every message, the campaign's idempotency key and
        the image (as headers, through the compose rules)."""
        template = campaign.template
        image = template.get("image")
        if image and image_digest(Path(image)) != template.get("image_sha256"):
            raise InputError(_("{image}: the image changed since the post was planned").format(image=image))
        account = store_social.get_account(store, self.network)
        if account is None or account["account_id"] != template.get("account_id"):
            raise NotConfiguredError(_("the {network} account this post was planned for is no longer connected").format(
                                         network=self.network),
                                     hint=_("dbox connect {network}").format(network=self.network))
        headers = {KEY_HEADER: f"dbox-{campaign.uid}"}
        if image:
            headers[IMAGE_HEADER] = image
        return {**settings, "store": store, "post_headers": headers}

    def run_result(self, store, campaign_id: int, report) -> str:
        """``dbox run-due``'s line for a post the engine ran (dbox.social.posting.run_due_text)."""
        return run_due_text(store, campaign_id)

    def settings(self) -> dict[str, Any]:
        return dict(section(f"social.{self.network}"))

    def missing(self, settings: dict[str, Any], *, secrets: bool = True) -> list[str]:
        needed = "instance" if self.network == "mastodon" else "client_id"
        return [] if settings.get(needed) else [needed]

    def check(self, settings: dict[str, Any], *, secrets: bool = True) -> None:
        if self.missing(settings):
            raise NotConfiguredError(_("channel {id} is not connected").format(id=self.id), hint=self.setup_command)

    def compose_rules(self, settings: dict[str, Any]) -> ComposeRules:
        return ComposeRules(kind="post", headers=dict(settings.get("post_headers") or {}))

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
            from dbox.social.connections import open_client   # deferred: the network clients load requests_oauthlib

            client, account = open_client(store, self.network)
        return SocialSender(self.network, client, account)


class SocialSender(Sender):
    """Publishes ``message.body`` as a post; the image and idempotency key come as headers."""

    def __init__(self, network: str, client, account: dict):
        self.network = network
        self.client = client
        self.account = account

    def send(self, message: OutgoingMessage) -> SendResult:
        from dbox.social.clients import PublishUnknown   # deferred: the network clients load requests_oauthlib

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
