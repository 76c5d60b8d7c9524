"""Profiles: one config file, several clients (an agency running several candidates' campaigns).

A profile is a ``[profiles.NAME]`` table of config.toml holding a client's store (``db``: a file or
a ``postgresql://`` URL; by default ``profiles/NAME.sqlite3`` in dbox's data folder) and every
setting dbox reads for that client (channels, sending, timezone, ...). ``dbox --profile NAME`` or
``DBOX_PROFILE=NAME`` makes it active: the store, the settings (``dbox.config``) and the keyring
entries (``dbox.secrets.keyring_name``) are then that client's only. The rules: docs/team.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dbox.config import active_profile, check_profile_name, profiles
from dbox.errors import InputError
from dbox.paths import config_file, default_data_dir
from dbox.i18n import _

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@]*):[^@]*@", re.IGNORECASE)


@dataclass
class Profile:
    name: str
    store: str          # where its store is, as shown (a password in a URL masked)
    explicit_store: bool
    channels: list[str]
    active: bool


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def mask_url(location: str) -> str:
    """A store location as it may be shown: the password of a URL replaced by dots."""
    return _PASSWORD.sub(r"\1:•••@", location)


def store_location(name: str) -> Path | str:
    """The store of profile ``name``: its ``db`` (a URL as is, a path expanded), else its own file
    in the data folder. Unknown profile: an error naming the config file."""
    check_profile_name(name)
    table = profiles().get(name)
    if table is None:
        raise InputError(_("no profile {name!r} in {config_file}").format(name=name, config_file=config_file()),
                         hint=_("see: dbox profiles list (a profile is a [profiles.NAME] table)"))
    db = table.get("db")
    if db is None:
        return default_data_dir() / "profiles" / f"{name}.sqlite3"
    if not isinstance(db, str) or not db.strip():
        raise InputError(_("{config_file}: [profiles.{name}] db must be a file path or a postgresql:// URL").format(
                             config_file=config_file(), name=name))
    return db if is_url(db) else Path(db).expanduser()


def list_profiles() -> list[Profile]:
    active = active_profile()
    found = []
    for name, table in sorted(profiles().items()):
        location = store_location(name)
        channels = table.get("channels", {})
        found.append(Profile(name, mask_url(str(location)), "db" in table,
                             sorted(channels) if isinstance(channels, dict) else [], name == active))
    return found
