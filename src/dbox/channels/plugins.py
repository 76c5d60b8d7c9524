"""The plugin manager: loads every module of the ``dbox`` entry-point group, built-ins included.

``DBOX_PLUGINS`` (comma-separated entry-point names) restricts what is loaded; an empty value
loads none. A plugin that fails to load is reported as a warning and skipped: one broken
third-party package must not stop a campaign team from using the others.
"""

from __future__ import annotations

import os
import warnings

import pluggy

from dbox.channels import hookspecs
from dbox.errors import InputError

GROUP = "dbox"
_pm: pluggy.PluginManager | None = None


class PluginLoadWarning(UserWarning):
    """A plugin's module could not be imported or registered."""


def plugin_manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager(GROUP)
        pm.add_hookspecs(hookspecs)
        _load_entry_points(pm)
        _pm = pm
    return _pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    from importlib.metadata import entry_points

    wanted = os.environ.get("DBOX_PLUGINS")
    allowed = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for ep in entry_points(group=GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.has_plugin(ep.name):
            continue
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plugin warns, it does not crash dbox
            warnings.warn(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}",
                          PluginLoadWarning, stacklevel=2)


def channels() -> dict:
    """Channel id -> channel instance, for every loaded plugin (in registration order)."""
    from dbox.channels.base import Channel

    found: dict = {}

    def register(channel) -> None:
        if not isinstance(channel, Channel):
            warnings.warn(f"ignoring {channel!r}: not a dbox.channels.base.Channel", PluginLoadWarning, stacklevel=2)
            return
        found.setdefault(channel.id, channel)

    plugin_manager().hook.register_channels(register=register)
    return found


def get_channel(channel_id: str):
    loaded = channels()
    if channel_id not in loaded:
        known = ", ".join(sorted(loaded)) or "none"
        raise InputError(f"unknown channel {channel_id!r} (loaded: {known})", hint="see: dbox channels list")
    return loaded[channel_id]
