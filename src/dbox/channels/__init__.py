"""Sending channels as plugins: the hook specs, the plugin manager, the channel base class.

``get_channel("sms")`` returns a loaded channel; ``channels()`` lists them all. Heavy provider
libraries (twilio, smtplib's friends) are imported by the channels only when they send.
"""

from dbox.channels.hookspecs import hookimpl, hookspec
from dbox.channels.plugins import channels, get_channel, plugin_manager

__all__ = ["hookimpl", "hookspec", "channels", "get_channel", "plugin_manager"]
