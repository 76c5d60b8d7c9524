"""Each network's endpoints and OAuth settings, with the overrides of config.toml.

``[social.x]`` (and ``linkedin``, ``facebook``, ``mastodon``) in config.toml may set
``client_id``, ``redirect_uri``, and ``api_url`` / ``authorize_url`` / ``token_url`` (a
self-hosted gateway, or dbox's own test servers on 127.0.0.1). Mastodon needs ``instance``
(``https://mastodon.social``); its client id is registered by ``dbox connect mastodon``.
Client secrets are never here: see dbox.social.tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbox.errors import NotConfiguredError
from dbox.config import section
from dbox.social.tokens import client_secret
from dbox.i18n import _

DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"

_DEFAULTS = {
    "x": {
        "authorize_url": "https://x.com/i/oauth2/authorize",
        "token_url": "https://api.x.com/2/oauth2/token",
        "api_url": "https://api.x.com",
        "scopes": ["tweet.read", "tweet.write", "users.read", "follows.read", "media.write", "offline.access"],
        "pkce": True,
    },
    "linkedin": {
        "authorize_url": "https://www.linkedin.com/oauth/v2/authorization",
        "token_url": "https://www.linkedin.com/oauth/v2/accessToken",
        "api_url": "https://api.linkedin.com",
        "scopes": ["openid", "profile", "w_member_social"],
        "pkce": False,
    },
    "facebook": {
        "authorize_url": "https://www.facebook.com/v21.0/dialog/oauth",
        "token_url": "https://graph.facebook.com/v21.0/oauth/access_token",
        "api_url": "https://graph.facebook.com/v21.0",
        "scopes": ["pages_show_list", "pages_read_engagement", "pages_manage_posts"],
        "pkce": False,
    },
    "mastodon": {
        "authorize_url": "{instance}/oauth/authorize",
        "token_url": "{instance}/oauth/token",
        "api_url": "{instance}",
        "scopes": ["read:accounts", "read:follows", "write:statuses", "write:media"],
        "pkce": True,
    },
}
# Where to create an app and get a client id, for the error that says what to do.
APP_CONSOLES = {
    "x": "https://developer.x.com/en/portal/dashboard (OAuth 2.0, type: native app or web app)",
    "linkedin": "https://www.linkedin.com/developers/apps (products: Sign In with LinkedIn, Share on LinkedIn)",
    "facebook": "https://developers.facebook.com/apps (Facebook Login for Business, Pages permissions)",
}


@dataclass
class NetworkConfig:
    name: str
    authorize_url: str
    token_url: str
    api_url: str
    scopes: list[str]
    pkce: bool
    redirect_uri: str = DEFAULT_REDIRECT
    client_id: str | None = None
    client_secret: str | None = None
    instance: str | None = None
    extra: dict = field(default_factory=dict)


def network_config(name: str, instance: str | None = None) -> NetworkConfig:
    """The settings of ``name`` (defaults, then config.toml, then the keyring's client secret)."""
    settings = section(f"social.{name}")
    defaults = _DEFAULTS[name]
    instance = (instance or settings.get("instance") or "").rstrip("/") or None
    if name == "mastodon":
        if not instance:
            raise NotConfiguredError(_("no Mastodon server chosen"),
                                     hint=_("dbox connect mastodon --instance https://your.server"))
        if not instance.startswith(("https://", "http://")):
            instance = "https://" + instance
    values = {key: str(settings.get(key) or defaults[key]).format(instance=instance)
              for key in ("authorize_url", "token_url", "api_url")}
    return NetworkConfig(
        name=name, scopes=list(settings.get("scopes") or defaults["scopes"]), pkce=defaults["pkce"],
        redirect_uri=settings.get("redirect_uri") or DEFAULT_REDIRECT, client_id=settings.get("client_id"),
        client_secret=client_secret(name), instance=instance,
        extra={k: v for k, v in settings.items() if k not in values}, **values)
