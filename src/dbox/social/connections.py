"""Connecting an account (``dbox connect NETWORK``) and opening an API client for it later.

The flow: :func:`prepare` (client id to config.toml, client secret to the keyring, a Mastodon
app registered on the server), :func:`dbox.social.oauth.begin` (the address to open),
the redirect caught on 127.0.0.1 or pasted, then :func:`complete` (tokens to the keyring, the
account's metadata to the store). :func:`open_client` gives a client whose token refreshes
itself and is written back when it does.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from dbox.errors import InputError, NotConfiguredError
from dbox.social import oauth, tokens
from dbox.social.clients import CLIENTS, FacebookClient, Profile
from dbox.social.networks import APP_CONSOLES, NetworkConfig, network_config
from dbox.store import social as store_social
from dbox.store.db import Store, utcnow
from dbox.config import update_section
from dbox.i18n import _


def _iso(epoch) -> str | None:
    if not epoch:
        return None
    return datetime.fromtimestamp(float(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare(network: str, *, client_id: str | None = None, client_secret: str | None = None,
            instance: str | None = None, redirect_uri: str | None = None) -> NetworkConfig:
    """Save what the user gave (client id in config.toml, secret in the keyring) and return the
    network's settings, ready for the authorization."""
    changes = {}
    if client_id:
        changes["client_id"] = client_id.strip()
    if instance:
        changes["instance"] = instance.strip().rstrip("/")
    if redirect_uri:
        changes["redirect_uri"] = redirect_uri
    if changes:
        update_section(f"social.{network}", changes)
    if client_secret:
        tokens.save_client_secret(network, client_secret.strip())
    config = network_config(network)
    if network == "mastodon" and not config.client_id:
        client_id, secret = oauth.register_mastodon_app(config)
        update_section("social.mastodon", {"client_id": client_id})
        tokens.save_client_secret("mastodon", secret)
        config = network_config("mastodon")
    if not config.client_id:
        raise NotConfiguredError(_("no {network} client id").format(network=network),
                                 hint=_("create an app at {APP_CONSOLES}, then: dbox connect {network} --client-id ID").format(
                                          APP_CONSOLES=APP_CONSOLES.get(network, 'the network'), network=network))
    if network in ("linkedin", "facebook") and not config.client_secret:
        raise NotConfiguredError(_("no {network} client secret").format(network=network),
                                 hint=_("dbox connect {network} --client-secret (prompts; kept in the keyring) or set DBOX_{network2}_CLIENT_SECRET").format(
                                          network=network, network2=network.upper()))
    return config


def complete(store: Store, auth: oauth.Authorization, pasted: str, *, page: str | None = None) -> dict:
    """Exchange the code, find out who connected, keep the tokens and the account."""
    config = auth.config
    token = oauth.finish(auth, pasted)
    keeper = oauth.TokenKeeper(config, token)
    client = CLIENTS[config.name](keeper)
    settings: dict = {}
    if config.name == "facebook":
        token, profile, settings = _facebook_page(client, config, token, page)
    else:
        profile = client.me()
        if config.name == "mastodon":
            settings = client.limits()
    key = tokens.token_key(config.name, profile.account_id, config.instance)
    tokens.save_token(config.name, key, token)
    with store.transaction(immediate=True):
        store_social.save_account(
            store, network=config.name, account_id=profile.account_id, handle=profile.handle,
            display_name=profile.display_name, instance=config.instance, token_key=key,
            scopes=" ".join(token.get("scope") or []) if isinstance(token.get("scope"), list) else token.get("scope"),
            connected_at=utcnow(), expires_at=_iso(token.get("expires_at")),
            refreshable=int(bool(token.get("refresh_token"))), refreshed_at=None, settings=settings)
    return store_social.get_account(store, config.name)


def _facebook_page(client: FacebookClient, config: NetworkConfig, token: dict, page: str | None):
    """Facebook: a long-lived user token, then the Page's own token (which does not expire)."""
    exchanged = client.json("GET", config.token_url, params={
        "grant_type": "fb_exchange_token", "client_id": config.client_id, "client_secret": config.client_secret,
        "fb_exchange_token": token["access_token"]})
    client.keeper.session.token = {"access_token": exchanged["access_token"], "token_type": "Bearer"}
    pages = client.pages()
    if not pages:
        raise NotConfiguredError(_("this Facebook account manages no Page"), hint=_("dbox posts to Pages, not profiles"))
    if page:
        chosen = [p for p in pages if page in (p["id"], p.get("name"))]
        if not chosen:
            raise InputError(f"no Page {page!r} among: " + ", ".join(f"{p['id']} {p.get('name')}" for p in pages))
    elif len(pages) > 1:
        raise InputError(_("this account manages several Pages: choose one with --page"),
                         hint="pages: " + ", ".join(f"{p['id']} ({p.get('name')})" for p in pages))
    else:
        chosen = pages
    chosen = chosen[0]
    page_token = {"access_token": chosen["access_token"], "token_type": "Bearer"}
    profile = Profile(chosen["id"], None, chosen.get("name"))
    return page_token, profile, {"page_id": chosen["id"]}


def open_client(store: Store, network: str, **client_kwargs):
    """(API client, account dict) for the account connected on ``network``."""
    account = store_social.get_account(store, network)
    if account is None:
        raise NotConfiguredError(_("no {network} account connected").format(network=network), hint=_("dbox connect {network}").format(
                                                                             network=network))
    config = network_config(network, account.get("instance"))
    token = tokens.load_token(network, account["token_key"])
    if token is None:
        raise NotConfiguredError(_("the {network} tokens are missing from the keyring").format(network=network),
                                 hint=_("dbox connect {network} (or set DBOX_{network2}_TOKEN)").format(
                                          network=network, network2=network.upper()))

    def saved(new_token: dict) -> None:
        tokens.save_token(network, account["token_key"], new_token)
        with store.transaction(immediate=True):
            store_social.update_account(store, network, expires_at=_iso(new_token.get("expires_at")),
                                        refreshed_at=utcnow(), refreshable=int(bool(new_token.get("refresh_token"))))

    keeper = oauth.TokenKeeper(config, token, on_refresh=saved, clock=client_kwargs.get("clock", time.time))
    return CLIENTS[network](keeper, **client_kwargs), account


def disconnect(store: Store, network: str) -> bool:
    account = store_social.get_account(store, network)
    if account is None:
        return False
    tokens.delete_token(account["token_key"])
    with store.transaction(immediate=True):
        store_social.delete_account(store, network)
    return True
