"""The plugin manager: loads every module of the ``dbox`` entry-point group, built-ins included.

``DBOX_PLUGINS`` (comma-separated entry-point names) restricts what is loaded; an empty value
loads none. A plugin that fails to load is reported as a warning and skipped: one broken
third-party package must not stop a campaign team from using the others.
"""

from __future__ import annotations

import warnings

import pluggy

from dbox.channels import hookspecs
from dbox.errors import InputError
from dbox.plugins import PluginLoadWarning, load_entry_points
from dbox.i18n import _
from dbox.channels.base import Channel

GROUP = "dbox"
_pm: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager(GROUP)
        pm.add_hookspecs(hookspecs)
        _load_entry_points(pm)
        _pm = pm
    return _pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    load_entry_points(pm, GROUP)


def channels() -> dict:
    """Channel id -> channel instance, for every loaded plugin (in registration order)."""
    found: dict = {}

    def register(channel) -> None:
        if not isinstance(channel, Channel):
            warnings.warn(_("ignoring {channel!r}: not a dbox.channels.base.Channel").format(channel=channel), PluginLoadWarning, stacklevel=2)
            return
        found.setdefault(channel.id, channel)

    plugin_manager().hook.register_channels(register=register)
    return found


def get_channel(channel_id: str):
    loaded = channels()
    if channel_id not in loaded:
        known = ", ".join(sorted(loaded)) or "none"
        raise InputError(_("unknown channel {channel_id!r} (loaded: {known})").format(
                             channel_id=channel_id, known=known), hint=_("see: dbox channels list"))
    return loaded[channel_id]
