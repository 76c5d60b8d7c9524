"""Where the networks' secrets live: the system keyring, with environment variables for cron.

Tokens are JSON in the keyring entry ``dbox`` / ``social/<network>/<account>`` (the store keeps
only which entry, in ``social_accounts.token_key``, and when the token expires). App client
secrets are in ``dbox`` / ``social/<network>/client_secret``.

Environment variables, for a cron job on a box with no keyring (they win, as in dbox.secrets):
``DBOX_<NETWORK>_TOKEN`` (the token JSON, or a bare access token) and
``DBOX_<NETWORK>_CLIENT_SECRET``. A token that refreshes
itself (X rotates its refresh token at every refresh) cannot be written back to a variable, so
refreshed tokens need the keyring; dbox says so instead of losing them.
"""

from __future__ import annotations

import json
import os

from dbox.errors import NotConfiguredError
from dbox.secrets import set_secret, get_secret, delete_secret
from dbox.i18n import _



def _env_name(network: str, what: str) -> str:
    return f"DBOX_{network.upper()}_{what}"


def token_key(network: str, account_id: str, instance: str | None = None) -> str:
    if instance:
        from urllib.parse import urlsplit

        return f"social/{network}/{urlsplit(instance).netloc}/{account_id}"
    return f"social/{network}/{account_id}"


def save_token(network: str, key: str, token: dict) -> None:
    """Keep ``token`` (access and refresh tokens, expiry) in the keyring (dbox.secrets refuses
    a missing or plaintext keyring and names the environment variable instead)."""
    kept = {k: token[k] for k in ("access_token", "refresh_token", "token_type", "expires_at", "scope")
            if token.get(k) is not None}
    set_secret(key, json.dumps(kept), _env_name(network, "TOKEN"))


def load_token(network: str, key: str) -> dict | None:
    """The token from ``DBOX_<NETWORK>_TOKEN`` when set (cron), else the keyring, else None."""
    env = _env_name(network, "TOKEN")
    if os.environ.get(env):
        value = os.environ[env].strip()
        if not value.startswith("{"):
            return {"access_token": value, "token_type": "Bearer", "from_env": True}
        try:
            return {**json.loads(value), "from_env": True}
        except ValueError:
            raise NotConfiguredError(_("{env} is neither JSON nor a bare access token").format(env=env)) from None

    value = get_secret(key)
    return json.loads(value) if value else None


def delete_token(key: str) -> None:
    delete_secret(key)


def save_client_secret(network: str, secret: str) -> None:
    set_secret(f"social/{network}/client_secret", secret, _env_name(network, "CLIENT_SECRET"))


def client_secret(network: str) -> str | None:
    return get_secret(f"social/{network}/client_secret", _env_name(network, "CLIENT_SECRET"))
