"""Folded search keys: what ``~``, ``^=`` and ``=`` compare for names, addresses, communes and custom
fields, so that "Dupont", "DUPONT" and "dupont" match, and "Hélène" matches "helene".

A key is the text lower-cased, without accents, punctuation or spaces: ``fold_key("N'Diaye") ==
"ndiaye"``. Commune names first get their usual abbreviations spelt out (``St-Égrève`` ->
``saintegreve``). The store keeps these keys next to the values (``contacts.first_name_key``,
``last_name_key``, ``address_key``, ``commune_key``, ``contact_fields.value_key``); a key is NULL until
computed, and ``dbox.store.filters.refresh_keys`` computes the missing ones.
"""

from __future__ import annotations

from functools import lru_cache

from dbox.geo import commune_key as _commune_words
from dbox.text import fold_key


@lru_cache(maxsize=65536)
def text_key(value: str | None) -> str:
    """The key of a name, an address or a custom field's value ('' for nothing)."""
    return fold_key(value)


@lru_cache(maxsize=65536)
def commune_key(value: str | None) -> str:
    """The key of a commune name: abbreviations spelt out, then folded ('' for nothing)."""
    if not value:
        return ""
    return _commune_words(value).replace(" ", "")


def contact_keys(first_name: str | None, last_name: str | None, address: str | None,
                 commune_name: str | None) -> tuple[str, str, str, str]:
    """(first_name_key, last_name_key, address_key, commune_key) of a contact."""
    return text_key(first_name), text_key(last_name), text_key(address), commune_key(commune_name)
