"""The hooks a dbox plugin can implement (one short file: this is the plugin API).

A plugin is a module listed under ``[project.entry-points.dbox]`` in its distribution's
pyproject.toml; it implements hooks with ``@dbox.channels.hookimpl``. The built-in channels
(``dbox.channels.sms``, ``dbox.channels.email``) are registered exactly that way.
"""

import pluggy

hookspec = pluggy.HookspecMarker("dbox")
hookimpl = pluggy.HookimplMarker("dbox")


@hookspec
def register_channels(register):
    """Register sending channels: call ``register(channel)`` with an instance of a
    ``dbox.channels.base.Channel`` subclass for each one."""
