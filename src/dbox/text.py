"""Text folding shared by import, dedupe and the filter language."""

import re
import unicodedata
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_CUSTOM_NAME = re.compile(r"[^a-z0-9]+")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 16)  # names, towns and tags repeat a lot in a contact file
def fold(text: str | None) -> str:
    """Lower-case, accent-free, punctuation collapsed to single spaces: 'Saint-Étienne' -> 'saint etienne'."""
    if not text:
        return ""
    if text.isascii():
        return _NON_ALNUM.sub(" ", text.lower()).strip()
    return _NON_ALNUM.sub(" ", strip_accents(text).lower()).strip()


def fold_key(text: str | None) -> str:
    """Like :func:`fold` with no spaces at all: 'Porte-à-porte' -> 'porteaporte'."""
    return fold(text).replace(" ", "")


def custom_field_name(header: str) -> str:
    """The name under which an unknown column is stored: 'Profession (déclarée)' -> 'profession_declaree'.

    Import (column headers) and the filter language (``field:Profession``) both name custom fields
    through it, so a filter finds what an import stored."""
    return _CUSTOM_NAME.sub("_", fold(header)).strip("_") or "column"


def name_key(first: str | None, last: str | None) -> str | None:
    """The dedupe key of a person's name, ``fold(last)|fold(first)``; None unless both are given.
    Import, rectification and the store's writers key names through it alone."""
    if not (first and last):
        return None
    return f"{fold(last)}|{fold(first)}"
