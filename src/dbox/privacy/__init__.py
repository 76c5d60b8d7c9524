"""Personal data: consent, rights requests, retention, oppositions, the audit log, backups.

Library modules with plain functions; the commands in ``dbox.commands.privacy`` only parse and
print, and every SQL statement lives in ``dbox.store.privacy`` and ``dbox.store.audit``.
"""
