"""Unsubscribe tokens of e-mail ``List-Unsubscribe`` links (RFC 2369 / RFC 8058).

A token is ``<uid>.<24 hex digits of HMAC-SHA256(uid)>``: ``uid`` is the contact's random
unsubscribe identifier (32 hex digits, table ``unsubscribe_ids``, made when the contact is created),
the HMAC is keyed by a random per-store key in the store's ``meta`` table. The identifier is never
given to another contact: contact ids are reused after an erasure, so a token built on the id
(what dbox did before schema 7) would, after an erasure, withdraw the consent of the next contact
holding the id. An erased contact's identifier is deleted with it, so its tokens do nothing.

Tokens sent before schema 7 (``<contact id>.<HMAC>``) still work for the contacts they were sent to
(a ``legacy:<id>`` identifier, made by the migration only for contacts the ledger shows an e-mail
sent to); a contact created since never has one.

The sending code (``dbox.sending.compose``) puts the token in the channel's ``unsubscribe_url``.
The hosted endpoint (``dbox.privacy.unsubscribe_app``) has no key and only queues well-formed
tokens; ``dbox optouts import`` checks each one against the store, so a forged, mistyped or erased
contact's token changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from dbox.store import privacy as sp
from dbox.store.db import Store

TOKEN_RE = re.compile(r"^([0-9a-f]{32}|[1-9][0-9]{0,11})\.([0-9a-f]{24})$")


def _digest(key: str, subject: str) -> str:
    return hmac.new(key.encode(), f"unsubscribe:{subject}".encode(), hashlib.sha256).hexdigest()[:24]


def token_for(key: str, uid: str) -> str:
    """The token of a contact's unsubscribe identifier (the sending code calls this per message)."""
    return f"{uid}.{_digest(key, uid)}"


def make_token(store: Store, contact_id: int) -> str:
    """The token the sending code puts in a contact's unsubscribe link."""
    uid = sp.unsubscribe_uid(store, int(contact_id))
    if uid is None:
        raise LookupError(f"no contact with id {contact_id}")
    return token_for(sp.unsubscribe_key(store), uid)


def well_formed(token: str) -> bool:
    """Syntax only: what the hosted endpoint, which has no key, can check."""
    return bool(TOKEN_RE.match(token or ""))


def verify(store: Store, token: str) -> int | None:
    """The contact the token was made for, or None when it is forged, mistyped, or its contact was
    erased."""
    match = TOKEN_RE.match((token or "").strip())
    if not match:
        return None
    subject = match.group(1)
    expected = _digest(sp.unsubscribe_key(store), subject)
    if not hmac.compare_digest(expected, match.group(2)):
        return None
    uid = subject if len(subject) == 32 and not subject.isdigit() else f"legacy:{int(subject)}"
    return sp.contact_of_unsubscribe_uid(store, uid)
