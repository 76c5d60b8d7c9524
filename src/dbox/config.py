"""The TOML config file: non-secret settings only (secrets live in keyring, see ``dbox.secrets``).

Profiles (an agency running several clients' campaigns): ``[profiles.NAME]`` tables of the same
file, each holding a client's whole configuration (``db``, ``[profiles.NAME.channels.sms]``, ...).
While a profile is active (``dbox --profile NAME`` or ``DBOX_PROFILE``), every setting is read from
and written to that table only; nothing is inherited from the top level or another profile, so no
setting crosses clients (docs/team.md).
"""

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from dbox.errors import InputError
from dbox.paths import config_file
from dbox.i18n import _

PROFILE_ENV = "DBOX_PROFILE"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_UNSET = object()
_active: Any = _UNSET


def use_profile(name: str | None) -> None:
    """Make ``name`` the active profile (None: none) for this process; ``--profile`` calls it.
    Until it is called, ``DBOX_PROFILE`` decides."""
    global _active
    if name is not None:
        check_profile_name(name)
    _active = name or None


def forget_profile() -> None:
    """Back to ``DBOX_PROFILE`` deciding (the end of a command run in-process)."""
    global _active
    _active = _UNSET


def active_profile() -> str | None:
    if _active is not _UNSET:
        return _active
    name = os.environ.get(PROFILE_ENV) or None
    if name is not None:
        check_profile_name(name)
    return name


def check_profile_name(name: str) -> str:
    if not _PROFILE_NAME.match(name):
        raise InputError(_("profile name {name!r}: use letters, digits, '-' and '_' (at most 63)").format(name=name))
    return name


def load_file(path: Path | None = None) -> dict[str, Any]:
    """The whole config file, every profile included."""
    path = path or config_file()
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_("{path}: invalid TOML: {exc}").format(path=path, exc=exc)) from None


def profiles(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every ``[profiles.NAME]`` table of the config file, by name."""
    found = load_file(path).get("profiles", {})
    return {k: v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The configuration in force: the active profile's table, else the file without its profiles."""
    config = load_file(path)
    name = active_profile()
    if name is None:
        config.pop("profiles", None)
        return config
    found = config.get("profiles", {}).get(name) if isinstance(config.get("profiles"), dict) else None
    if not isinstance(found, dict):
        raise InputError(_("no profile {name!r} in {value}").format(name=name, value=path or config_file()),
                         hint=_("see: dbox profiles list (a profile is a [profiles.NAME] table)"))
    return dict(found)


def save_config(config: dict[str, Any], path: Path | None = None) -> Path:
    """Write the configuration in force (the active profile's table, or the top level, keeping
    every profile) atomically: write a sibling file, then rename."""
    import tomli_w

    path = path or config_file()
    whole = load_file(path)
    name = active_profile()
    if name is None:
        config = {**config, **({"profiles": whole["profiles"]} if "profiles" in whole else {})}
    else:
        load_config(path)      # the profile must exist: a typo never creates a new client
        whole.setdefault("profiles", {})[name] = config
        config = whole
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
        raise InputError(_("public_url: {value!r} is not a base URL like https://dbox.example.fr").format(
                             value=value),
                         hint=_("set DBOX_PUBLIC_URL or public_url in the [serve] table of the config"))
    return value
