"""Unsubscribe tokens for e-mail ``List-Unsubscribe`` links (RFC 2369 / RFC 8058).

A token names a contact without revealing anything about them: ``<contact id>.<HMAC>``, the HMAC
(SHA-256, truncated to 128 bits) keyed by a random per-store key kept in the store's ``meta``
table. The hosted endpoint (``dbox.privacy.unsubscribe_app``) only queues tokens; ``dbox optouts
import`` checks each one against the store's key, so a forged or mistyped token changes nothing.

The sending code builds its links with :func:`unsubscribe_url`::

    List-Unsubscribe: <https://desabo.example.fr/u/12.Jx3...>, <mailto:desabo@example.fr?subject=12.Jx3...>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from dbox.store import privacy as sp
from dbox.store.db import Store

TOKEN_RE = re.compile(r"^([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{22})$")


def _key(store: Store) -> bytes:
    return sp.unsubscribe_key(store).encode()


def _mac(key: bytes, contact_id: int) -> str:
    digest = hmac.new(key, f"dbox-unsubscribe:{contact_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def make_token(store: Store, contact_id: int) -> str:
    return f"{int(contact_id)}.{_mac(_key(store), int(contact_id))}"


def unsubscribe_url(store: Store, contact_id: int, base_url: str) -> str:
    """``base_url`` is where the endpoint is mounted, e.g. ``https://desabo.example.fr/u/``."""
    return base_url.rstrip("/") + "/" + make_token(store, contact_id)


def well_formed(token: str) -> bool:
    """Syntax only (what the hosted endpoint, which has no key, can check)."""
    return bool(TOKEN_RE.match(token or ""))


def verify(store: Store, token: str, key: bytes | None = None) -> int | None:
    """The contact id the token was made for, or None when it is forged or mistyped."""
    match = TOKEN_RE.match((token or "").strip())
    if not match:
        return None
    contact_id = int(match.group(1))
    expected = _mac(key or _key(store), contact_id)
    return contact_id if hmac.compare_digest(expected, match.group(2)) else None
