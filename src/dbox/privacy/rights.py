"""Rights requests (GDPR art. 15–17): export everything held on a person, erase them, rectify.

- :func:`export` gathers the contact, its addresses, tags, custom fields, consents with their
  history, where the data came from, rectifications, exchanges, messages sent with their outcomes
  (from the send ledger) and rows other areas keep about the person; :func:`render_text` turns it
  into a letter-ready text.
- :func:`forget` removes the person everywhere in one transaction (ledger rows keep a tombstone
  without any identifying column) and keeps salted hashes of their e-mails, phones, name+postal
  code and social accounts in the suppression list, so an import or a follower sync does not bring
  them back. Deleted content is zeroed (``secure_delete``) and the WAL checkpointed.
- :func:`rectify` changes fields and records who changed what, old and new values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dbox.errors import InputError
from dbox.privacy import audit
from dbox.privacy.holdings import holdings
from dbox.store import privacy as sp
from dbox.store import suppressions
from dbox.store.contacts import contact_details
from dbox.store.db import Store, utcnow
from dbox import normalize as norm
from dbox.files import write_private
from dbox.geo import resolve
from dbox.store.geo import load_index
from dbox.i18n import _

# Tables export() presents in their own sections (the rest go under "other records").
_PRESENTED = {"contact_points", "contact_tags", "contact_fields", "consent_events", "consents",
              "contact_sources", "identities", "rectifications", "contact_exchanges"}


def identity_suppression_value(network: str, account_id: str | None, handle: str | None) -> list[str]:
    """The values hashed for a social identity: its account id and its handle, each with the network."""
    values = []
    if account_id:
        values.append(f"{network.lower()}:id:{account_id}")
    if handle:
        values.append(f"{network.lower()}:handle:{handle.lower().lstrip('@')}")
    return values


def name_suppression_value(name_key: str, postal_code: str) -> str:
    """A person known only by name and postal code (no e-mail, no phone) is suppressed by this value."""
    return f"name:{name_key}|{postal_code}"


# -- export ----------------------------------------------------------------------------------------

def export(store: Store, contact_id: int, *, log: bool = True) -> dict:
    """Everything the store holds on one contact, as JSON-able data."""
    details = contact_details(store, contact_id)
    data = {
        "generated_at": utcnow(),
        "contact_id": contact_id,
        "identity": {k: v for k, v in details.items()
                     if not isinstance(v, (list, dict)) and k not in ("id",)},
        "addresses": details["points"],
        "tags": details["tags"],
        "fields": details["fields"],
        "consents": details["consents"],
        "consent_history": details["consent_history"],
        "sources": details["sources"],
        "social_identities": details["identities"],
        "rectifications": [
            {"at": at, "by": who, "field": f, "old": old, "new": new, "reason": reason}
            for at, who, f, old, new, reason in sp.rectification_history(store, contact_id)],
        "exchanges": [{"at": at, "kind": kind, "detail": d} for at, kind, d in sp.exchanges(store, contact_id)],
        "messages": sp.ledger_messages(store, contact_id),
    }
    presented = set(_PRESENTED)
    for holding in holdings():   # what other areas hold (organizing: actions, volunteering, interactions)
        data[holding.area] = holding.export(store, contact_id)
        presented |= set(holding.tables)
    ledger = sp.ledger_recipient_table(store)
    data["other_records"] = sp.other_rows(store, contact_id, presented | ({ledger} if ledger else set()))
    if log:
        audit.record(store, "privacy export", 1, {"contact_id": contact_id})
    return data


def render_text(data: dict) -> str:
    """The export as a plain text a person can read (French headings: it is sent to them)."""
    lines = [f"Données personnelles détenues — fiche n° {data['contact_id']}",
             f"Extrait le {data['generated_at']}", ""]

    def section(title: str, rows: list[str]) -> None:
        lines.append(title)
        lines.append("-" * len(title))
        lines.extend(rows or ["(aucune)"])
        lines.append("")

    labels = {"civility": "Civilité", "first_name": "Prénom", "last_name": "Nom", "email": "E-mail",
              "mobile": "Portable", "fixed": "Fixe", "address": "Adresse", "postal_code": "Code postal",
              "commune_name": "Commune", "commune_insee": "Code INSEE", "departement": "Département",
              "canton_code": "Canton (code)", "canton": "Canton", "circonscription": "Circonscription",
              "geo_status": "Localisation", "phone_region": "Région du téléphone",
              "created_at": "Fiche créée le", "updated_at": "Modifiée le"}
    section("Identité et coordonnées", [f"{labels.get(k, k)} : {v}" for k, v in data["identity"].items()
                                        if v not in (None, "")])
    section("Adresses électroniques et téléphones",
            [f"{p['kind']} : {p['value']} ({p['status']})" for p in data["addresses"]])
    section("Étiquettes", [", ".join(data["tags"])] if data["tags"] else [])
    section("Autres informations", [f"{k} : {v}" for k, v in data["fields"].items()])
    section("Consentements (état actuel)",
            [f"{c['channel']} : {'accordé' if c['status'] == 'granted' else 'retiré'} le {c['at']} ({c['source']})"
             for c in data["consents"]])
    section("Historique des consentements",
            [f"{e['at']} {e['channel']} : {'accord' if e['action'] == 'grant' else 'retrait'} — {e['source']}"
             + (f" — {e['detail']}" if e["detail"] else "") for e in data["consent_history"]])
    section("Origine des données",
            [f"fichier {s['file']}, ligne {s['row']}, importé le {s['imported_at']}" for s in data["sources"]]
            + [f"réseau {i['network']} : {i['handle'] or i['account_id']}" for i in data["social_identities"]])
    section("Messages envoyés", [_message_line(m) for m in data["messages"]])
    section("Échanges", [f"{x['at']} {x['kind']}" + (f" — {x['detail']}" if x["detail"] else "")
                         for x in data["exchanges"]])
    for holding in holdings():
        if data.get(holding.area):
            for title, rows in holding.text_lines(data[holding.area]):
                section(title, rows)
    section("Rectifications", [f"{r['at']} {r['field']} : {r['old']!r} → {r['new']!r} (par {r['by']})"
                               + (f" — {r['reason']}" if r["reason"] else "") for r in data["rectifications"]])
    for table, rows in data["other_records"].items():
        section(f"Autres enregistrements ({table})",
                [", ".join(f"{k}={v}" for k, v in row.items() if k != "contact_id" and v is not None)
                 for row in rows])
    lines.append("Pour toute question, ou pour exercer vos droits d'accès, de rectification, d'effacement et "
                 "d'opposition, répondez à ce courrier.")
    return "\n".join(lines) + "\n"


def _message_line(m: dict) -> str:
    channel = m.get("campaign_channel") or m.get("channel") or ""
    when = next((m[k] for k in ("done_at", "claimed_at", "campaign_started_at", "campaign_created_at")
                 if m.get(k)), "")
    state = _STATES_FR.get(m.get("state") or "", m.get("state") or "")
    campaign = f"campagne {m['campaign_id']}" if m.get("campaign_id") else ""
    to = f"à {m['address']}" if m.get("address") else ""
    reason = f"({m['reason']})" if m.get("reason") else ""
    return " ".join(str(x) for x in (when, channel, campaign, to, state, reason) if x)


_STATES_FR = {"planned": "prévu", "claimed": "en cours d'envoi", "accepted": "envoyé", "delivered": "distribué",
              "undelivered": "non distribué", "failed": "échec", "skipped": "non envoyé",
              "in-doubt": "envoi incertain"}


def write_export(data: dict, folder: Path) -> tuple[Path, Path]:
    """Write ``dbox-export-<id>.json`` and ``.txt`` in ``folder``, mode 0600 (they hold personal data)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(_("{folder}: not a folder").format(folder=folder))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"dbox-export-{data['contact_id']}-{data['generated_at'][:10]}"
    json_path, text_path = folder / f"{stem}.json", folder / f"{stem}.txt"
    _write_private(json_path, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    _write_private(text_path, render_text(data))
    return json_path, text_path


def _write_private(path: Path, text: str) -> None:
    write_private(path, text)


# -- erasure ---------------------------------------------------------------------------------------

@dataclass
class ForgetReport:
    contact_id: int
    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, int] = field(default_factory=dict)      # kind -> hashed values kept


def _suppression_values(store: Store, contact_id: int) -> list[tuple[str, str]]:
    """(kind, value) of everything that must keep the person out after erasure."""
    values = [("email" if kind == "email" else "phone", value) for kind, value in sp.contact_points(store, contact_id)]
    name_key, postal_code = sp.name_and_postal_code(store, contact_id)
    if name_key and postal_code:
        values.append(("name", name_suppression_value(name_key, postal_code)))
    for network, account_id, handle in sp.identity_keys(store, contact_id):
        values += [("social", v) for v in identity_suppression_value(network, account_id, handle)]
    return values


def forget(store: Store, contact_id: int, *, dry_run: bool = False, reason: str = "erasure") -> ForgetReport:
    """Erase one contact everywhere and keep hashes that keep them out; ``dry_run`` only counts."""
    sp_existing = sp.existing_contact_ids(store, [contact_id])
    if contact_id not in sp_existing:
        raise InputError(_("no contact with id {contact_id}").format(contact_id=contact_id))
    report = ForgetReport(contact_id, dry_run)
    values = _suppression_values(store, contact_id)
    for kind, _unused in values:
        report.hashes[kind] = report.hashes.get(kind, 0) + 1
    if dry_run:
        report.removed = sp.erasure_inventory(store, contact_id)
        return report
    hasher = suppressions.Hasher(store)
    now = utcnow()
    sp.set_secure_delete(store, True)
    try:
        with store.transaction(immediate=True):
            sp.add_suppression_hashes(store, [(hasher(v), kind, reason, None, now) for kind, v in values])
            report.removed = sp.erase_contacts(store, [contact_id])
            audit.record(store, "privacy forget", 1, {"contact_id": contact_id, "hashes_kept": len(values)})
        sp.scrub_freed_pages(store)
    finally:
        sp.set_secure_delete(store, False)
    return report


# -- rectification ---------------------------------------------------------------------------------

EDITABLE = ("civility", "first_name", "last_name", "email", "mobile", "fixed", "address", "postal_code", "commune")


@dataclass
class Rectification:
    contact_id: int
    changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)   # field, old, new


def parse_assignments(specs: list[str]) -> dict[str, str | None]:
    """['first_name=Jean', 'field.profession='] -> {'first_name': 'Jean', 'field.profession': None}."""
    values: dict[str, str | None] = {}
    for spec in specs:
        if "=" not in spec:
            raise InputError(_("--set {spec!r}: expected FIELD=VALUE (an empty value clears the field)").format(
                                 spec=spec))
        name, value = spec.split("=", 1)
        name = name.strip()
        if name not in EDITABLE and not (name.startswith("field.") and len(name) > 6):
            raise InputError(_("--set {spec!r}: unknown field {name!r}").format(spec=spec, name=name),
                             hint=_("fields: {items}, or field.<name>").format(items=", ".join(EDITABLE)))
        if name in values:
            raise InputError(_("--set: field {name!r} given twice").format(name=name))
        values[name] = value.strip() or None
    if not values:
        raise InputError(_("nothing to change"), hint=_("add --set FIELD=VALUE"))
    return values


def rectify(store: Store, contact_id: int, values: dict[str, str | None], *, reason: str | None = None,
            dry_run: bool = False) -> Rectification:
    """Apply ``values`` (normalized like an import would) and keep a history row per field changed."""
    row = sp.contact_row(store, contact_id)
    if row is None:
        raise InputError(_("no contact with id {contact_id}").format(contact_id=contact_id))
    result = Rectification(contact_id)
    contact_updates: dict[str, str | None] = {}
    point_changes: list[tuple[str, str | None, str | None]] = []
    custom_changes: list[tuple[str, str | None]] = []
    try:
        for name, raw in values.items():
            if name.startswith("field."):
                old = sp.custom_field(store, contact_id, name[6:])
                if old != raw:
                    custom_changes.append((name[6:], raw))
                    result.changes.append((name, old, raw))
                continue
            if name == "commune" or name == "postal_code":
                continue   # handled together below
            if raw is None:
                new = None
            elif name in ("mobile", "fixed"):
                phone = norm.normalize_field(name, raw, row["phone_region"] or "FR")
                if phone.kind != name:
                    raise InputError(_("--set {name}={raw}: {e164} is a {kind} number, not a {name} one").format(
                                         name=name, raw=raw, e164=phone.e164, kind=phone.kind))
                new = phone.e164
            else:
                new = norm.normalize_field(name, raw)
            old = row[name]
            if old == new:
                continue
            contact_updates[name] = new
            result.changes.append((name, old, new))
            if name in ("email", "mobile", "fixed"):
                point_changes.append((name, old, new))
        if "postal_code" in values or "commune" in values:
            location = _relocate(store, row, values)
            for name, new in location.items():
                if row[name] != new:
                    contact_updates[name] = new
            for shown, column in (("postal_code", "postal_code"), ("commune", "commune_name")):
                if shown in values and row[column] != location[column]:
                    result.changes.append((shown, row[column], location[column]))
    except norm.ValueRejected as exc:
        raise InputError(_("--set: {exc}").format(exc=exc)) from None
    if dry_run or not result.changes:
        return result
    now, user = utcnow(), audit.os_user()
    with store.transaction(immediate=True):
        for kind, old, new in point_changes:
            sp.replace_point(store, contact_id, kind, old, new)
            if new is None:
                # the next address of that kind, if any, becomes the primary one
                contact_updates[kind] = sp.other_point(store, contact_id, kind)
        if contact_updates:
            sp.update_contact(store, contact_id, contact_updates, now)
        for name, value in custom_changes:
            sp.set_custom_field(store, contact_id, name, value)
        sp.add_rectifications(store, [(contact_id, now, user, f, old, new, reason) for f, old, new in result.changes])
        audit.record(store, "privacy rectify", 1,
                     {"contact_id": contact_id, "fields": [f for f, _unused, _unused in result.changes]})
    return result


def _relocate(store: Store, row: dict, values: dict) -> dict:
    """New location columns from a changed postal code and/or commune (resolved like an import)."""
    postal = values["postal_code"] if "postal_code" in values else row["postal_code"]
    commune = values["commune"] if "commune" in values else row["commune_name"]
    if postal:
        postal = norm.normalize_postal_code(postal)
    commune = " ".join(commune.split()) if commune else None
    location = {"postal_code": postal, "commune_name": commune, "commune_insee": None, "departement": None,
                "canton_code": None, "circonscription": None, "geo_status": "missing",
                "phone_region": norm.phone_region_for_postal_code(postal or "")}
    if postal or commune:
        geo = resolve(load_index(store), postal, commune)
        location.update(commune_name=(geo.commune_name or commune) if geo.status == "resolved" else commune,
                        commune_insee=geo.insee, departement=geo.departement, canton_code=geo.canton_code,
                        circonscription=geo.circonscription, geo_status=geo.status)
    return location
