"""What a filter can test: the fields, their kinds, the operators each accepts, and their aliases.

This is the language's vocabulary, independent of any store: the parser checks expressions
against it and the compiler (``dbox.store.filters``) turns each kind into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbox.filters import terms
from dbox.text import custom_field_name, strip_accents

EQUALITY = frozenset({"=", "!="})
ORDER = frozenset({"<", "<=", ">", ">="})
TEXT_MATCH = frozenset({"^=", "~", "!~"})
ALL_OPERATORS = EQUALITY | ORDER | TEXT_MATCH


@dataclass(frozen=True)
class Field:
    name: str
    kind: str                 # see KINDS
    operators: frozenset      # comparison operators allowed (besides in / is empty)
    allows_in: bool = True
    allows_empty: bool = True
    help: str = ""

    def operator_list(self) -> str:
        ops = [op for op in ("=", "!=", "<", "<=", ">", ">=", "^=", "~", "!~") if op in self.operators]
        if self.allows_in:
            ops.append("in")
        if self.allows_empty:
            ops.append("is empty")
        return ", ".join(ops)


# kind -> what its values are
KINDS = {
    "name": "text, compared case- and accent-insensitively",
    "email": "an e-mail address (compared in lower case)",
    "phone": "a phone number (normalized to +33...)",
    "postal_code": "a 5-digit postal code",
    "code": "a code, compared exactly",
    "civility": "M. or Mme",
    "enum": "one of a fixed set of words",
    "departement": "a département code: 38, 2A, 971",
    "canton": "a canton name or INSEE code",
    "commune": "a commune name or INSEE code",
    "circonscription": "a legislative circonscription: 38-01",
    "date": "a date (2026-01-31, 31/01/2026), a time (2026-01-31T08:00:00Z), today, yesterday, "
            "now or N days/weeks/months/years ago",
    "number": "a number",
    "custom": "text (a custom field from an import), compared case- and accent-insensitively; "
              "< and > compare numbers when the value is a number",
}

_NAME_OPS = EQUALITY | ORDER | TEXT_MATCH
FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("first_name", "name", _NAME_OPS, help="first name"),
    Field("last_name", "name", _NAME_OPS, help="last name"),
    Field("civility", "civility", EQUALITY, help="M. or Mme"),
    Field("email", "email", EQUALITY | TEXT_MATCH, help="primary e-mail"),
    Field("mobile", "phone", EQUALITY | TEXT_MATCH, help="primary mobile phone"),
    Field("fixed", "phone", EQUALITY | TEXT_MATCH, help="primary fixed phone"),
    Field("address", "name", _NAME_OPS, help="street address"),
    Field("postal_code", "postal_code", EQUALITY | ORDER | {"^="}, help="postal code"),
    Field("commune", "commune", EQUALITY | TEXT_MATCH,
          help="commune: INSEE name or code; 'Lyon' includes its arrondissements"),
    Field("commune_insee", "code", EQUALITY | {"^="}, help="INSEE code of the commune"),
    Field("departement", "departement", EQUALITY, help="département code"),
    Field("canton", "canton", EQUALITY | TEXT_MATCH, help="canton: INSEE name or code"),
    Field("circonscription", "circonscription", EQUALITY | {"^="},
          help="legislative circonscription, 38-01"),
    Field("geo_status", "enum", EQUALITY, help="resolved, ambiguous, unknown or missing"),
    Field("phone_region", "code", EQUALITY, help="region the phones were read in: FR, RE, ..."),
    Field("created_at", "date", EQUALITY | ORDER, allows_in=False, allows_empty=False,
          help="when the contact was first imported"),
    Field("updated_at", "date", EQUALITY | ORDER, allows_in=False, allows_empty=False,
          help="when the contact last changed"),
    Field("id", "number", EQUALITY | ORDER, allows_empty=False, help="contact id"),
    Field("commune.population", "number", EQUALITY | ORDER,
          help="population of the contact's commune (INSEE)"),
)}

CUSTOM_PREFIX = "field."
CUSTOM = Field("field.*", "custom", EQUALITY | ORDER | TEXT_MATCH, help="a custom field")

ALIASES = {
    "prenom": "first_name", "firstname": "first_name",
    "nom": "last_name", "lastname": "last_name", "surname": "last_name",
    "civilite": "civility",
    "e_mail": "email", "mail": "email", "courriel": "email",
    "portable": "mobile",
    "fixe": "fixed",
    "adresse": "address",
    "cp": "postal_code", "code_postal": "postal_code", "postcode": "postal_code", "zip": "postal_code",
    "ville": "commune", "city": "commune", "commune.name": "commune", "commune.nom": "commune",
    "insee": "commune_insee", "code_insee": "commune_insee", "commune.insee": "commune_insee",
    "dep": "departement", "dept": "departement", "department": "departement",
    "circo": "circonscription",
    "population": "commune.population",
}

GEO_STATUSES = ("resolved", "ambiguous", "unknown", "missing")
CONSENT_CHANNELS = ("sms", "email", "phone", "post", "social")
REACHABLE_CHANNELS = ("sms", "email")
# The language's own prefixes; areas add theirs (attended:, network:, ...) through dbox.filters.terms.
PREFIXES = ("tag", "consent", "reachable", "in")
DATE_WORDS = ("today", "yesterday", "now")
TIME_UNITS = ("minute", "hour", "day", "week", "month", "year")
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "empty"})


def normalize_field_name(word: str) -> str:
    """'Département' -> 'departement', 'Code-Postal' -> 'code_postal'."""
    return strip_accents(word).lower().replace("-", "_")


def lookup(name: str) -> Field | None:
    """The field a (normalized) name denotes, or None; custom fields are ``field.<name>``.
    Fields registered by areas (``support``, ...) are looked up like the contact fields."""
    if name.startswith(CUSTOM_PREFIX):
        return CUSTOM if len(name) > len(CUSTOM_PREFIX) else None
    name = canonical_name(name)
    return FIELDS.get(name) or terms.registry().fields.get(name)


def canonical_name(name: str) -> str:
    if name.startswith(CUSTOM_PREFIX):
        return CUSTOM_PREFIX + custom_field_name(name[len(CUSTOM_PREFIX):])
    return ALIASES.get(name) or terms.registry().aliases.get(name, name)


def known_names() -> list[str]:
    """Every name a field can be written with (for "did you mean")."""
    registered = terms.registry()
    return [*FIELDS, *registered.fields, *ALIASES, *registered.aliases]


def prefixes() -> tuple[str, ...]:
    """Every ``prefix:`` the language reads: its own, then those areas registered."""
    return (*PREFIXES, *terms.registry().prefixes)


def flags() -> dict[str, str]:
    """One-word conditions (as written, normalized -> canonical word), all registered by areas."""
    return terms.registry().flags
