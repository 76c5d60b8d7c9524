"""The area registry: one pluggy manager for the hooks in :mod:`dbox.hookspecs`.

Built-in areas are listed in :data:`BUILTIN` by module name and imported the first time a
registry is read, so this base module depends on none of them (datasette's ``DEFAULT_PLUGINS``).
Third-party packages add theirs through the ``dbox`` entry-point group, the same group as channel
plugins, with the same ``DBOX_PLUGINS`` restriction (which never turns built-ins off).
"""

from __future__ import annotations

import importlib
import os
import warnings

import pluggy

from dbox import hookspecs

GROUP = "dbox"
# The built-in modules that implement area hooks (add a module here when an area starts to).
# Hooks run in this order (filter prefixes are suggested in it).
BUILTIN = (
    "dbox.organizing.privacy",
    "dbox.forms.privacy",
    "dbox.social.terms",
    "dbox.organizing.terms",
    "dbox.electoral.privacy",
    "dbox.electoral.terms",
    "dbox.social.stats",
    "dbox.organizing.stats",
)
_pm: pluggy.PluginManager | None = None


class PluginLoadWarning(UserWarning):
    """A plugin's module could not be imported or registered."""


def plugin_manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager(GROUP)
        pm.add_hookspecs(hookspecs)
        for name in reversed(BUILTIN):   # pluggy calls the last registered first
            pm.register(importlib.import_module(name), name=name)
        load_entry_points(pm, GROUP, builtins=False)
        _pm = pm
    return _pm


def hook():
    """The hook caller: ``hook().register_filter_terms(register=...)``."""
    return plugin_manager().hook


def load_entry_points(pm: pluggy.PluginManager, group: str, *, builtins: bool = True) -> None:
    """Register every module of the entry-point ``group`` (restricted by ``DBOX_PLUGINS``, a
    comma-separated list of entry-point names). A plugin that fails to load warns and is skipped:
    one broken third-party package must not stop a campaign team from using the others.
    ``builtins=False`` skips dbox's own modules (the channels), which implement no area hook."""
    from importlib.metadata import entry_points

    wanted = os.environ.get("DBOX_PLUGINS")
    allowed = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for ep in entry_points(group=group):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.has_plugin(ep.name) or (not builtins and ep.value.startswith("dbox.")):
            continue
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plugin warns, it does not crash dbox
            warnings.warn(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}",
                          PluginLoadWarning, stacklevel=3)
