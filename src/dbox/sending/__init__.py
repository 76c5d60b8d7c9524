"""Sending campaigns: composing, who receives, quiet hours, the send loop, scheduling.

The SQL is in dbox.store.ledger; the providers are channels (dbox.channels). Commands call
``dbox.sending.service``.
"""
