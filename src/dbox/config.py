"""The TOML config file: non-secret settings only (secrets live in keyring, see ``dbox.secrets``)."""

import os
import tomllib
from pathlib import Path
from typing import Any

from dbox.errors import InputError
from dbox.paths import config_file


def load_config(path: Path | None = None) -> dict[str, Any]:
    path = path or config_file()
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None


def save_config(config: dict[str, Any], path: Path | None = None) -> Path:
    """Write the whole config atomically (write a sibling file, then rename)."""
    import tomli_w

    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".toml.tmp")
    with tmp.open("wb") as fh:
        tomli_w.dump(config, fh)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def section(name: str, path: Path | None = None) -> dict[str, Any]:
    """One ``[name]`` table of the config (``channels.sms`` style dotted names allowed)."""
    node: Any = load_config(path)
    for part in name.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def update_section(name: str, values: dict[str, Any], path: Path | None = None) -> Path:
    config = load_config(path)
    node = config
    for part in name.split("."):
        node = node.setdefault(part, {})
    node.update(values)
    return save_config(config, path)


def public_url(path: Path | None = None) -> str | None:
    """The public base URL of ``dbox serve`` (``https://dbox.example.fr``, no trailing slash):
    ``DBOX_PUBLIC_URL``, else ``public_url`` in the config's ``[serve]`` table, else None (no
    server: statuses and replies are pulled with ``campaigns sync`` / ``optouts sync``).
    Twilio signs its webhooks against this URL, and ``dbox send`` gives it as StatusCallback."""
    value = os.environ.get("DBOX_PUBLIC_URL") or section("serve", path).get("public_url")
    if not value:
        return None
    value = str(value).strip().rstrip("/")
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"public_url: {value!r} is not a base URL like https://dbox.example.fr",
                         hint="set DBOX_PUBLIC_URL or public_url in the [serve] table of the config")
    return value
