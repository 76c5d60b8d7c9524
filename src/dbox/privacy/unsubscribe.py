"""Unsubscribe tokens of e-mail ``List-Unsubscribe`` links (RFC 2369 / RFC 8058).

The sending code (``dbox.sending.compose``) makes the tokens: ``<contact id>.<24 hex digits of
HMAC-SHA256>``, keyed by a random per-store key in the store's ``meta`` table, and puts them in
the channel's ``unsubscribe_url`` (``https://desabo.example.fr/u/{token}``, or ``?token=``).
A token names a contact without revealing anything about them. The hosted endpoint
(``dbox.privacy.unsubscribe_app``) has no key and only queues well-formed tokens; ``dbox optouts
import`` checks each one against the store's key, so a forged or mistyped token changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from dbox.store import privacy as sp
from dbox.store.db import Store

TOKEN_RE = re.compile(r"^([1-9][0-9]{0,11})\.([0-9a-f]{24})$")


def _digest(key: str, contact_id: int) -> str:
    return hmac.new(key.encode(), f"unsubscribe:{contact_id}".encode(), hashlib.sha256).hexdigest()[:24]


def make_token(store: Store, contact_id: int) -> str:
    """The token the sending code puts in a contact's unsubscribe link (same key, same format)."""
    return f"{int(contact_id)}.{_digest(sp.unsubscribe_key(store), int(contact_id))}"


def well_formed(token: str) -> bool:
    """Syntax only: what the hosted endpoint, which has no key, can check."""
    return bool(TOKEN_RE.match(token or ""))


def verify(store: Store, token: str) -> int | None:
    """The contact id the token was made for, or None when it is forged or mistyped."""
    match = TOKEN_RE.match((token or "").strip())
    if not match:
        return None
    contact_id = int(match.group(1))
    expected = _digest(sp.unsubscribe_key(store), contact_id)
    return contact_id if hmac.compare_digest(expected, match.group(2)) else None
