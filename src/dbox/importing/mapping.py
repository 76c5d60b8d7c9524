"""Mapping a file's columns to contact fields, from French and English headers.

Headers are compared folded (case, accents and punctuation ignored): "Tél. portable",
"TEL PORTABLE" and "tel-portable" are the same. A column no alias knows becomes a custom field,
queryable later as ``field.<name>``. ``--map "Header=field"`` overrides; ``=ignore`` skips a column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbox.errors import InputError
from dbox.readers import folded_header, parse_map
from dbox.text import custom_field_name
from dbox.i18n import _

FIELDS = {
    "civility": "Civility (M. / Mme)",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "First and last name in one cell",
    "email": "E-mail (several allowed: the first is primary)",
    "mobile": "Mobile phone",
    "fixed": "Fixed phone",
    "phone": "Phone of unknown type (told apart by its number)",
    "address": "Street address",
    "address2": "Address complement (joined to the address)",
    "postal_code": "Postal code",
    "commune": "Commune (town) name",
    "insee": "INSEE commune code",
    "tags": "Tags, separated by , ; or |",
    "consent_sms": "Consent to SMS (oui/non)",
    "consent_email": "Consent to e-mail (oui/non)",
    "consent_phone": "Consent to phone calls (oui/non)",
    "consent_post": "Consent to post (oui/non)",
    "ignore": "Skip this column",
}

_ALIASES = {
    "civility": ["civilite", "civ", "titre", "title", "salutation", "genre", "sexe", "gender"],
    "first_name": ["prenom", "prenoms", "first name", "firstname", "given name", "forename"],
    "last_name": ["nom", "nom de famille", "last name", "lastname", "surname", "family name",
                  "nom d usage", "nom usuel"],
    "full_name": ["nom complet", "nom et prenom", "nom prenom", "prenom nom", "full name", "name",
                  "contact", "identite"],
    "email": ["email", "e mail", "mail", "courriel", "adresse mail", "adresse email",
              "adresse e mail", "adresse electronique", "mel", "email address", "e mail address",
              "courriel 2", "email 2", "e mail 2", "email secondaire", "autre email"],
    "mobile": ["portable", "tel portable", "telephone portable", "mobile", "tel mobile",
               "telephone mobile", "gsm", "cell", "cellphone", "mobile phone", "cell phone", "port",
               "numero portable", "n portable"],
    "fixed": ["fixe", "tel fixe", "telephone fixe", "tel domicile", "telephone domicile",
              "domicile", "home phone", "landline", "tel bureau", "telephone bureau", "work phone"],
    "phone": ["telephone", "tel", "phone", "numero", "numero de telephone", "phone number",
              "n telephone", "n tel", "tel 1", "tel 2", "telephone 1", "telephone 2"],
    "address": ["adresse", "adresse postale", "address", "rue", "street", "voie", "adresse 1",
                "address 1", "address line 1", "numero et rue"],
    "address2": ["complement", "complement d adresse", "adresse 2", "address 2", "address line 2",
                 "batiment", "lieu dit"],
    "postal_code": ["code postal", "cp", "postal code", "postcode", "zip", "zip code", "code post"],
    "commune": ["ville", "commune", "localite", "city", "town", "municipalite"],
    "insee": ["code insee", "insee", "code commune", "code commune insee", "cog"],
    "tags": ["etiquettes", "etiquette", "tags", "tag", "labels", "groupes", "groupe", "categories",
             "categorie"],
    "consent_sms": ["accord sms", "consentement sms", "optin sms", "opt in sms", "sms ok", "ok sms",
                    "accepte sms", "sms"],
    "consent_email": ["accord email", "accord e mail", "accord mail", "consentement email",
                      "consentement e mail", "optin email", "opt in email", "email ok",
                      "accepte email", "newsletter", "accord courriel"],
    "consent_phone": ["accord telephone", "accord appel", "consentement telephone", "ok appel"],
    "consent_post": ["accord courrier", "consentement courrier", "accord postal", "ok courrier"],
}

ALIASES = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
# The columns dbox adds to FILE.rejected.csv (folded): skipped when a fixed rejects file is imported.
_REJECT_COLUMNS = {"dbox row", "dbox column", "dbox value", "dbox reason"}
# Fields a contact has once, where a second column would be ambiguous.
SINGLE_FIELDS = {"civility", "first_name", "last_name", "full_name", "address", "address2",
                 "postal_code", "commune", "insee"}


@dataclass
class ColumnMapping:
    header: list[str]
    targets: list[str]                     # one per column: a field of FIELDS or "field:<name>"
    how: list[str] = field(default_factory=list)  # "alias", "override", "custom"

    def columns_for(self, target: str) -> list[int]:
        return [i for i, t in enumerate(self.targets) if t == target]

    def describe(self) -> list[tuple[str, str, str]]:
        return list(zip(self.header, self.targets, self.how))


def parse_overrides(specs: list[str]) -> dict[str, str]:
    """``["Portable=mobile", "Ville=commune"]`` -> folded header -> field."""
    return parse_map(specs, lambda target: target in FIELDS or target.startswith("field."), example="Portable=mobile",
                     fields_hint=_("fields: {fields}, or field.<name> for a custom field").format(fields=", ".join(FIELDS)))


def map_columns(header: list[str], overrides: dict[str, str] | None = None) -> ColumnMapping:
    overrides = overrides or {}
    folded = folded_header(header, overrides)
    targets, how = [], []
    for name, key in zip(header, folded):
        if key in overrides:
            target = overrides[key]
            if target.startswith("field."):
                target = "field:" + custom_field_name(target[6:])
            targets.append(target)
            how.append("override")
        elif key in ALIASES:
            targets.append(ALIASES[key])
            how.append("alias")
        elif key in _REJECT_COLUMNS:
            # The columns dbox adds to FILE.rejected.csv: a fixed rejects file imports cleanly.
            targets.append("ignore")
            how.append("dbox rejects column")
        else:
            targets.append("field:" + custom_field_name(name))
            how.append("custom")
    # A second column for a single-valued field is kept as a custom field rather than lost.
    seen = set()
    for i, target in enumerate(targets):
        if target in SINGLE_FIELDS:
            if target in seen:
                targets[i] = "field:" + custom_field_name(header[i])
                how[i] = "custom (duplicate)"
            seen.add(target)
    if not any(t in ("first_name", "last_name", "full_name", "email", "mobile", "fixed", "phone")
               for t in targets):
        raise InputError(
            _("no column holds a name, an e-mail or a phone (columns: {items})").format(items=', '.join(header)),
            hint=_('map one with --map "Header=last_name"'),
        )
    return ColumnMapping(header, targets, how)
