"""The SQL of electoral geography (docs/electoral.md): rolls and voters, bureaux, the address ->
bureau table, contacts' bureaux, results per bureau, elections and their rounds.

Voters are not contacts: nothing here ever copies a voter into ``contacts``, and the sending code
never reads ``voters``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from dbox.store.db import Store
from dbox.i18n import _
from dbox.filters.nodes import And, Compare, Flag, InList, IsEmpty, Not, Or
from dbox.filters.parser import suggest
from dbox.filters.errors import FilterSyntaxError, Source
from dbox.text import fold

_PAGE = 900


# -- elections ---------------------------------------------------------------------------------------

def add_election(store: Store, name: str, area_kind: str, areas: list[str], rounds: list[tuple[str, str, str]],
                 at: str) -> int:
    election_id = store.execute(
        "INSERT INTO elections (name, area_kind, areas, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        (name, area_kind, json.dumps(areas), at)).fetchone()[0]
    store.executemany("INSERT INTO election_rounds (election_id, day, quiet_from, quiet_until) VALUES (?,?,?,?)",
                           [(election_id, *r) for r in rounds])
    return election_id


def election_exists(store: Store, name: str) -> bool:
    return store.execute("SELECT 1 FROM elections WHERE name = ?", (name,)).fetchone() is not None


def elections(store: Store) -> list[dict]:
    """Every election with its rounds, oldest first."""
    out = []
    for eid, name, kind, areas in store.execute(
            "SELECT id, name, area_kind, areas FROM elections ORDER BY (SELECT min(day) FROM election_rounds r "
            "WHERE r.election_id = elections.id), name"):
        rounds = store.execute("SELECT day, quiet_from, quiet_until FROM election_rounds WHERE election_id = ? "
                               "ORDER BY day", (eid,)).fetchall()
        out.append({"id": eid, "name": name, "area_kind": kind, "areas": json.loads(areas),
                    "rounds": [{"day": d, "quiet_from": f, "quiet_until": u} for d, f, u in rounds]})
    return out


def quiet_rounds_at(store: Store, moment: str) -> list[tuple[str, str, list, str, str, str]]:
    """(election, area_kind, areas, day, quiet_from, quiet_until) of every round whose quiet period
    holds ``moment`` (ISO UTC)."""
    return [(name, kind, json.loads(areas), day, f, u) for name, kind, areas, day, f, u in store.execute(
        "SELECT e.name, e.area_kind, e.areas, r.day, r.quiet_from, r.quiet_until FROM election_rounds r "
        "JOIN elections e ON e.id = r.election_id WHERE r.quiet_from <= ? AND ? < r.quiet_until ORDER BY r.day",
        (moment, moment))]


def delete_election(store: Store, name: str) -> int:
    return store.execute("DELETE FROM elections WHERE name = ?", (name,)).rowcount


def area_clause(area_kind: str, areas: list[str]) -> tuple[str, list]:
    """Contacts (``c``) who live in an election's area, or whose place is unknown (they may)."""
    if area_kind == "france":
        return "TRUE", []
    column = {"departement": "c.departement", "commune": "c.commune_insee", "canton": "c.canton_code",
              "circonscription": "c.circonscription"}[area_kind]
    unknown = "c.departement IS NULL" if area_kind == "departement" else f"({column} IS NULL)"
    return f"({column} IN (SELECT value FROM json_each(?)) OR {unknown})", [json.dumps(areas)]


def count_in_area(store: Store, contact_where: str, params: list, area_kind: str, areas: list[str]) -> int:
    clause, clause_params = area_clause(area_kind, areas)
    return store.execute(f"SELECT count(*) FROM contacts c WHERE ({contact_where}) AND {clause}",
                         [*params, *clause_params]).fetchone()[0]


# -- rolls and voters ----------------------------------------------------------------------------------

def roll_with_sha(store: Store, commune: str, sha256: str) -> int | None:
    row = store.execute("SELECT id FROM electoral_rolls WHERE commune_insee = ? AND sha256 = ?",
                        (commune, sha256)).fetchone()
    return row[0] if row else None


def add_roll(store: Store, commune: str, filename: str, sha256: str, source: str, election: str,
             purge_after: str, at: str, voters: int) -> int:
    return store.execute(
        "INSERT INTO electoral_rolls (commune_insee, filename, sha256, source, election, purge_after, imported_at, "
        "voters) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
        (commune, filename, sha256, source, election, purge_after, at, voters)).fetchone()[0]


def replace_commune_rolls(store: Store, commune: str, keep_roll: int) -> int:
    """A newer roll of a commune replaces the older ones (their voters go with them)."""
    return store.execute("DELETE FROM electoral_rolls WHERE commune_insee = ? AND id <> ?",
                         (commune, keep_roll)).rowcount


def insert_voters(store: Store, roll_id: int, commune: str, voters: Iterable[tuple]) -> None:
    """``voters``: (row_number, bureau, order_number, birth_name, usage_name, first_names, sex, birth_date,
    house_number, house_suffix, street, street_key, complement, postal_code)."""
    store.executemany(
        "INSERT INTO voters (roll_id, commune_insee, row_number, bureau, order_number, birth_name, usage_name, "
        "first_names, sex, birth_date, house_number, house_suffix, street, street_key, complement, postal_code) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", ((roll_id, commune, *v) for v in voters))


def rolls(store: Store) -> list[tuple]:
    """(id, commune, commune name, filename, source, election, purge_after, imported_at, voters, matched)."""
    return store.execute(
        "SELECT r.id, r.commune_insee, g.name, r.filename, r.source, r.election, r.purge_after, r.imported_at, "
        "r.voters, (SELECT count(*) FROM voters v WHERE v.roll_id = r.id AND v.contact_id IS NOT NULL) "
        "FROM electoral_rolls r LEFT JOIN geo_communes g ON g.insee = r.commune_insee ORDER BY r.id").fetchall()


def rolls_due(store: Store, today: str) -> list[tuple[int, str, str, int]]:
    """(id, commune, election, voters) of the rolls whose election is over on ``today``."""
    return store.execute("SELECT id, commune_insee, election, voters FROM electoral_rolls WHERE purge_after <= ? "
                         "ORDER BY id", (today,)).fetchall()


def delete_rolls(store: Store, roll_ids: list[int]) -> int:
    """Remove rolls, their voters, and the 'registered' mark and bureaux they gave contacts."""
    if not roll_ids:
        return 0
    ids = json.dumps(roll_ids)
    store.execute("DELETE FROM contact_bureaux WHERE how = 'roll' AND contact_id IN (SELECT contact_id FROM voters "
                  "WHERE roll_id IN (SELECT value FROM json_each(?)) AND contact_id IS NOT NULL)", (ids,))
    store.execute("DELETE FROM bureau_streets WHERE source = 'roll' AND commune_insee IN (SELECT commune_insee "
                  "FROM electoral_rolls WHERE id IN (SELECT value FROM json_each(?)))", (ids,))
    store.execute("DELETE FROM voters WHERE roll_id IN (SELECT value FROM json_each(?))", (ids,))
    return store.execute("DELETE FROM electoral_rolls WHERE id IN (SELECT value FROM json_each(?))", (ids,)).rowcount


def voter_addresses(store: Store, commune: str) -> Iterable[tuple[str, int | None, str]]:
    """(street_key, house_number, bureau) of every voter of the commune."""
    return store.execute("SELECT street_key, house_number, bureau FROM voters WHERE commune_insee = ? "
                         "AND street_key <> ''", (commune,))


def voters_for_matching(store: Store, commune: str) -> list[tuple]:
    """(id, bureau, birth_name, usage_name, first_names, birth_date, house_number, house_suffix, street_key)."""
    return store.execute(
        "SELECT id, bureau, birth_name, usage_name, first_names, birth_date, house_number, house_suffix, street_key "
        "FROM voters WHERE commune_insee = ?", (commune,)).fetchall()


def set_voter_matches(store: Store, commune: str, matches: list[tuple[int, int, str]]) -> None:
    """``matches``: (voter_id, contact_id, how); every other voter of the commune is unmatched."""
    store.execute("UPDATE voters SET contact_id = NULL, match_how = NULL WHERE commune_insee = ?", (commune,))
    store.executemany("UPDATE voters SET contact_id = ?, match_how = ? WHERE id = ?",
                           [(cid, how, vid) for vid, cid, how in matches])


def voters_page(store: Store, bureau: str | None, where: str, params: list, limit: int) -> list[tuple]:
    """Voters for a walk list or a count (never for a message): (bureau, order, names, sex, birth date, address)."""
    sql = ("SELECT v.bureau, v.order_number, v.birth_name, v.usage_name, v.first_names, v.sex, v.birth_date, "
           "v.house_number, v.house_suffix, v.street, v.complement, v.contact_id FROM voters v WHERE " + where)
    return store.execute(sql + " ORDER BY v.bureau, v.street_key, v.house_number, v.order_number LIMIT ?",
                         [*params, limit]).fetchall()


def count_voters(store: Store, where: str, params: list) -> int:
    return store.execute(f"SELECT count(*) FROM voters v WHERE {where}", params).fetchone()[0]


# -- contacts of a commune, and their bureaux ---------------------------------------------------------------

_BIRTH_FIELDS = ("date_de_naissance", "date_naissance", "naissance", "birth_date", "birthdate", "ddn",
                 "ne_le", "nee_le")


def contacts_of_commune(store: Store, commune: str) -> list[tuple]:
    """(id, first_name, last_name, address, birth date custom field) of contacts placed in the commune
    (a Paris, Lyon or Marseille arrondissement counts as its city, and the other way round)."""
    codes = communes_like(store, commune)
    marks = ",".join("?" * len(_BIRTH_FIELDS))
    return store.execute(
        f"SELECT c.id, c.first_name, c.last_name, c.address, (SELECT f.value FROM contact_fields f WHERE "
        f"f.contact_id = c.id AND f.name IN ({marks}) LIMIT 1) FROM contacts c WHERE c.commune_insee IN "
        f"(SELECT value FROM json_each(?))", [*_BIRTH_FIELDS, json.dumps(codes)]).fetchall()


def communes_like(store: Store, commune: str) -> list[str]:
    """The commune and its arrondissements (Paris, Lyon, Marseille), or an arrondissement and its city."""
    prefixes = {"75056": "751", "69123": "6938", "13055": "132"}
    codes = [commune]
    if commune in prefixes:
        codes += [c for (c,) in store.execute("SELECT insee FROM geo_communes WHERE insee LIKE ? AND insee <> ?",
                                              (prefixes[commune] + "%", commune))]
    return codes


def set_contact_bureaux(store: Store, commune: str, rows: list[tuple[int, str, int, str]], at: str) -> None:
    """Replace the bureaux of the commune's contacts: ``rows`` are (contact_id, bureau, registered, how)."""
    codes = json.dumps(communes_like(store, commune))
    _undo_geo(store, f"contact_id IN (SELECT id FROM contacts WHERE commune_insee IN (SELECT value FROM json_each(?)))",
              [codes])
    store.execute("DELETE FROM contact_bureaux WHERE contact_id IN (SELECT id FROM contacts WHERE commune_insee IN "
                  "(SELECT value FROM json_each(?)))", (codes,))
    store.executemany("INSERT INTO contact_bureaux (contact_id, bureau, registered, how, at) VALUES (?,?,?,?,?)",
                           [(*r, at) for r in rows])


def _undo_geo(store: Store, where: str, params: list) -> None:
    """Give back to contacts the empty canton/circonscription their bureau had filled."""
    store.execute(f"UPDATE contacts SET canton_code = NULL WHERE id IN (SELECT contact_id FROM contact_bureaux WHERE "
                  f"set_canton IS NOT NULL AND {where}) AND canton_code = (SELECT set_canton FROM contact_bureaux b "
                  f"WHERE b.contact_id = contacts.id)", params)
    store.execute(f"UPDATE contacts SET circonscription = NULL WHERE id IN (SELECT contact_id FROM contact_bureaux "
                  f"WHERE set_circo IS NOT NULL AND {where}) AND circonscription = (SELECT set_circo FROM "
                  f"contact_bureaux b WHERE b.contact_id = contacts.id)", params)
    store.execute(f"UPDATE contact_bureaux SET set_canton = NULL, set_circo = NULL WHERE {where}", params)


def apply_bureau_geography(store: Store) -> tuple[int, int]:
    """Contacts in a commune split between cantons (circonscriptions) have none; their bureau's gives
    them one. Returns (cantons set, circonscriptions set)."""
    cantons = store.execute(
        "UPDATE contacts SET canton_code = (SELECT b.canton_code FROM contact_bureaux cb JOIN bureaux b ON "
        "b.code = cb.bureau WHERE cb.contact_id = contacts.id) WHERE canton_code IS NULL AND id IN (SELECT "
        "cb.contact_id FROM contact_bureaux cb JOIN bureaux b ON b.code = cb.bureau WHERE b.canton_code IS NOT NULL "
        "AND b.canton_code IN (SELECT canton_code FROM geo_commune_cantons g WHERE g.insee = b.commune_insee))"
    ).rowcount
    store.execute("UPDATE contact_bureaux SET set_canton = (SELECT canton_code FROM contacts c WHERE c.id = "
                  "contact_bureaux.contact_id) WHERE set_canton IS NULL AND (SELECT canton_code FROM contacts c "
                  "WHERE c.id = contact_bureaux.contact_id) = (SELECT canton_code FROM bureaux b WHERE b.code = "
                  "contact_bureaux.bureau) AND (SELECT count(*) FROM geo_commune_cantons g, contacts c WHERE c.id = "
                  "contact_bureaux.contact_id AND g.insee = c.commune_insee) > 1")
    circos = store.execute(
        "UPDATE contacts SET circonscription = (SELECT b.circonscription FROM contact_bureaux cb JOIN bureaux b ON "
        "b.code = cb.bureau WHERE cb.contact_id = contacts.id) WHERE circonscription IS NULL AND id IN (SELECT "
        "cb.contact_id FROM contact_bureaux cb JOIN bureaux b ON b.code = cb.bureau WHERE b.circonscription IS NOT "
        "NULL AND b.circonscription IN (SELECT circonscription FROM geo_commune_circonscriptions g WHERE g.insee = "
        "b.commune_insee OR g.insee IN (SELECT c.commune_insee FROM contacts c WHERE c.id = cb.contact_id)))"
    ).rowcount
    store.execute("UPDATE contact_bureaux SET set_circo = (SELECT circonscription FROM contacts c WHERE c.id = "
                  "contact_bureaux.contact_id) WHERE set_circo IS NULL AND (SELECT circonscription FROM contacts c "
                  "WHERE c.id = contact_bureaux.contact_id) = (SELECT circonscription FROM bureaux b WHERE b.code = "
                  "contact_bureaux.bureau) AND (SELECT count(*) FROM geo_commune_circonscriptions g, contacts c "
                  "WHERE c.id = contact_bureaux.contact_id AND g.insee = c.commune_insee) > 1")
    return cantons, circos


def contact_bureau(store: Store, contact_id: int) -> tuple | None:
    """(bureau, label, registered, how, at) of a contact."""
    return store.execute("SELECT cb.bureau, b.label, cb.registered, cb.how, cb.at FROM contact_bureaux cb LEFT JOIN "
                         "bureaux b ON b.code = cb.bureau WHERE cb.contact_id = ?", (contact_id,)).fetchone()


def voter_records(store: Store, contact_id: int) -> list[tuple]:
    """The roll rows matched to a contact, with their roll's source: for a subject access request."""
    return store.execute(
        "SELECT v.bureau, v.order_number, v.birth_name, v.usage_name, v.first_names, v.sex, v.birth_date, "
        "v.house_number, v.house_suffix, v.street, v.complement, v.postal_code, v.match_how, r.filename, r.source, "
        "r.election, r.imported_at, r.purge_after FROM voters v JOIN electoral_rolls r ON r.id = v.roll_id "
        "WHERE v.contact_id = ?", (contact_id,)).fetchall()


# -- bureaux and the address -> bureau table ------------------------------------------------------------------

def upsert_bureaux(store: Store, rows: Iterable[tuple[str, str, str | None]]) -> None:
    """(code, commune, label): a bureau is known; a label given replaces the one stored."""
    store.executemany(
        "INSERT INTO bureaux (code, commune_insee, label) VALUES (?,?,?) ON CONFLICT(code) DO UPDATE SET "
        "label = coalesce(excluded.label, bureaux.label)", rows)


def set_bureau_areas(store: Store, rows: Iterable[tuple[str, str, str | None, str | None]]) -> None:
    """(code, commune, canton, circonscription) from a results file; a known value is kept when the file has none."""
    store.executemany(
        "INSERT INTO bureaux (code, commune_insee, canton_code, circonscription) VALUES (?,?,?,?) "
        "ON CONFLICT(code) DO UPDATE SET canton_code = coalesce(excluded.canton_code, bureaux.canton_code), "
        "circonscription = coalesce(excluded.circonscription, bureaux.circonscription)", rows)


def bureaux_of(store: Store, commune: str) -> list[tuple]:
    return store.execute("SELECT code, label, canton_code, circonscription FROM bureaux WHERE commune_insee = ? "
                         "ORDER BY code", (commune,)).fetchall()


def bureau_exists(store: Store, code: str) -> bool:
    return store.execute("SELECT 1 FROM bureaux WHERE code = ?", (code,)).fetchone() is not None


def known_bureaux(store: Store, prefix: str = "") -> list[str]:
    return [c for (c,) in store.execute("SELECT code FROM bureaux WHERE code >= ? AND code < ? ORDER BY code",
                                        (prefix, prefix + "\U0010ffff"))]


def replace_streets(store: Store, commune: str, source: str, rows: Iterable[tuple]) -> None:
    """``rows``: (street_key, side, low, high, bureau, addresses) of the commune, from ``source``."""
    store.execute("DELETE FROM bureau_streets WHERE commune_insee = ? AND source = ?", (commune, source))
    store.executemany("INSERT INTO bureau_streets (commune_insee, street_key, side, low, high, bureau, addresses, "
                           "source) VALUES (?,?,?,?,?,?,?,?)", ((commune, *r, source) for r in rows))


def street_ranges(store: Store, commune: str) -> dict[str, dict[str, list[tuple]]]:
    """source -> street_key -> [(side, low, high, bureau, addresses)] of a commune."""
    out: dict[str, dict[str, list[tuple]]] = {}
    for source, key, side, low, high, bureau, n in store.execute(
            "SELECT source, street_key, side, low, high, bureau, addresses FROM bureau_streets "
            "WHERE commune_insee = ?", (commune,)):
        out.setdefault(source, {}).setdefault(key, []).append((side, low, high, bureau, n))
    return out


def communes_with_streets(store: Store) -> list[str]:
    return [c for (c,) in store.execute("SELECT DISTINCT commune_insee FROM bureau_streets ORDER BY 1")]


# -- results -------------------------------------------------------------------------------------------------

def replace_results(store: Store, election: str, results: list[tuple], votes: list[tuple]) -> None:
    """``results``: (bureau, inscrits, votants, exprimes, blancs, nuls); ``votes``: (bureau, panel, nuance,
    candidate, voix). The bureaux in the file replace what the store held for them for this election."""
    bureaux = json.dumps([r[0] for r in results])
    store.execute("DELETE FROM election_votes WHERE election = ? AND bureau IN (SELECT value FROM json_each(?))",
                  (election, bureaux))
    store.execute("DELETE FROM election_results WHERE election = ? AND bureau IN (SELECT value FROM json_each(?))",
                  (election, bureaux))
    store.executemany("INSERT INTO election_results VALUES (?,?,?,?,?,?,?)", ((election, *r) for r in results))
    store.executemany("INSERT OR REPLACE INTO election_votes VALUES (?,?,?,?,?,?)", ((election, *v) for v in votes))


def result_elections(store: Store) -> list[tuple[str, int, int]]:
    """(election, bureaux, inscrits) of every results file loaded."""
    return store.execute("SELECT election, count(*), sum(inscrits) FROM election_results GROUP BY election "
                         "ORDER BY election").fetchall()


def has_results(store: Store, election: str) -> bool:
    return store.execute("SELECT 1 FROM election_results WHERE election = ? LIMIT 1", (election,)).fetchone() is not None


def nuances(store: Store, election: str) -> list[str]:
    return [n for (n,) in store.execute("SELECT DISTINCT nuance FROM election_votes WHERE election = ? AND nuance "
                                        "IS NOT NULL ORDER BY 1", (election,))]


# -- filter terms (compiled by dbox.store.filters through compile_term) ---------------------------------------

def bureau_sql(codes: list[str]) -> tuple[str, list]:
    return ("c.id IN (SELECT contact_id FROM contact_bureaux WHERE bureau IN (SELECT value FROM json_each(?)))",
            [json.dumps(codes)])


def registered_sql() -> tuple[str, list]:
    return "c.id IN (SELECT contact_id FROM contact_bureaux WHERE registered = 1)", []


def turnout_sql(election: str, op: str, percent: float) -> tuple[str, list]:
    """Contacts whose bureau's turnout (votants / inscrits, in %) compares ``op`` to ``percent``."""
    return (f"c.id IN (SELECT cb.contact_id FROM contact_bureaux cb JOIN election_results r ON r.bureau = cb.bureau "
            f"AND r.election = ? WHERE r.inscrits > 0 AND 100.0 * r.votants / r.inscrits {op} ?)", [election, percent])


def share_sql(election: str, nuance: str, op: str, percent: float) -> tuple[str, list]:
    """Contacts whose bureau gave the nuance a share of the votes cast (exprimés, in %) ``op`` ``percent``."""
    return (f"c.id IN (SELECT cb.contact_id FROM contact_bureaux cb JOIN election_results r ON r.bureau = cb.bureau "
            f"AND r.election = ? WHERE r.exprimes > 0 AND 100.0 * (SELECT coalesce(sum(v.voix), 0) FROM election_votes v "
            f"WHERE v.election = r.election AND v.bureau = r.bureau AND v.nuance = ?) / r.exprimes {op} ?)",
            [election, nuance, percent])


# -- coverage ------------------------------------------------------------------------------------------------

def coverage(store: Store, where: str, params: list, reach, election: str | None) -> list[tuple]:
    """Per bureau: (bureau, label, commune, contacts, reachable by SMS, reachable by e-mail, registered,
    inscrits, turnout %) for the contacts selected by ``where`` (over ``contacts c``). ``reach`` holds
    the filter language's reachable:sms / reachable:email tests (dbox.store.insights.Reach); inscrits
    and turnout come from ``election``'s results, else inscrits are the voters of the roll."""
    inscrits = ("(SELECT r.inscrits FROM election_results r WHERE r.bureau = cb.bureau AND r.election = ?)"
                if election else "(SELECT count(*) FROM voters v WHERE v.bureau = cb.bureau)")
    turnout = ("(SELECT round(100.0 * r.votants / r.inscrits, 1) FROM election_results r WHERE r.bureau = cb.bureau "
               "AND r.election = ? AND r.inscrits > 0)" if election else "NULL")
    extra = [election, election] if election else []
    return store.execute(
        f"SELECT cb.bureau, b.label, b.commune_insee, count(*), sum(CASE WHEN {reach.sms} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {reach.email} THEN 1 ELSE 0 END), sum(cb.registered), {inscrits}, {turnout} "
        f"FROM contacts c JOIN contact_bureaux cb ON cb.contact_id = c.id LEFT JOIN bureaux b ON b.code = cb.bureau "
        f"WHERE {where} GROUP BY cb.bureau, b.label, b.commune_insee ORDER BY cb.bureau",
        [*reach.sms_params, *reach.email_params, *extra, *params]).fetchall()


def latest_results(store: Store) -> str | None:
    """The most recent election with results loaded (by the year in its name, then its round)."""
    import re

    names = [n for (n,) in store.execute("SELECT DISTINCT election FROM election_results")]

    def key(name: str):
        years = re.findall(r"(?:19|20)\d\d", name)
        return (int(years[-1]) if years else 0, name)

    return max(names, key=key) if names else None


def without_bureau(store: Store, where: str, params: list) -> int:
    return store.execute(f"SELECT count(*) FROM contacts c WHERE ({where}) AND c.id NOT IN (SELECT contact_id FROM "
                         f"contact_bureaux)", params).fetchone()[0]


# -- overrides of the electoral silence ------------------------------------------------------------------

def add_override(store: Store, campaign_id: int, reason: str, by: str, at: str) -> None:
    store.execute("INSERT OR REPLACE INTO election_overrides (campaign_id, reason, by, at) VALUES (?,?,?,?)",
                  (campaign_id, reason, by, at))


def override_of(store: Store, campaign_id: int | None) -> str | None:
    if campaign_id is None:
        return None
    row = store.execute("SELECT reason FROM election_overrides WHERE campaign_id = ?", (campaign_id,)).fetchone()
    return row[0] if row else None


def campaign_exists(store: Store, campaign_id: int) -> bool:
    return store.execute("SELECT 1 FROM campaigns WHERE id = ?", (campaign_id,)).fetchone() is not None


def campaign_audience(campaign_id: int) -> tuple[str, list]:
    """The contacts a campaign has yet to reach, as a condition over ``contacts c``."""
    return ("c.id IN (SELECT contact_id FROM campaign_recipients WHERE campaign_id = ? AND state = 'planned')",
            [campaign_id])


# -- the right of access (dbox privacy export) ---------------------------------------------------------------

TABLES = ("voters", "contact_bureaux")


def export_contact(store: Store, contact_id: int) -> dict:
    """The contact's bureau and the roll lines matched to it, each with its roll's source."""
    bureau = contact_bureau(store, contact_id)
    keys = ("bureau", "order_number", "birth_name", "usage_name", "first_names", "sex", "birth_date", "house_number",
            "house_suffix", "street", "complement", "postal_code", "matched_by", "roll_file", "roll_source",
            "election", "roll_imported_at", "roll_purged_after")
    return {
        "bureau": dict(zip(("bureau", "label", "registered", "how", "at"), bureau)) if bureau else None,
        "roll": [dict(zip(keys, row)) for row in voter_records(store, contact_id)],
    }



# -- geography look-ups for results files -----------------------------------------------------------------

def cantons_of(store: Store, commune: str) -> dict[str, str]:
    """canton code -> folded name of the cantons the commune lies in."""
    return dict(store.execute("SELECT c.code, c.name_key FROM geo_commune_cantons g JOIN geo_cantons c ON "
                              "c.code = g.canton_code WHERE g.insee = ?", (commune,)).fetchall())


def circonscriptions_of(store: Store, commune: str) -> list[str]:
    return [c for (c,) in store.execute("SELECT circonscription FROM geo_commune_circonscriptions WHERE insee = ? "
                                        "ORDER BY 1", (commune,))]


def commune_known(store: Store, commune: str) -> bool:
    return store.execute("SELECT 1 FROM geo_communes WHERE insee = ?", (commune,)).fetchone() is not None


def communes_with_contact_bureaux(store: Store) -> list[str]:
    return [c for (c,) in store.execute("SELECT DISTINCT b.commune_insee FROM contact_bureaux cb JOIN bureaux b ON "
                                        "b.code = cb.bureau ORDER BY 1")]


# -- the filter terms of dbox.electoral.terms ----------------------------------------------------------------

REFUSED_FIELDS = ("birthplace", "nationality", "name_sound")
_SEX = {"f": "F", "femme": "F", "feminin": "F", "mme": "F", "m": "M", "homme": "M", "masculin": "M", "h": "M"}


def compile_term(compiler, node) -> tuple[str, list]:
    """SQL over alias ``c`` for the electoral filter terms (registered by dbox.electoral.terms;
    ``compiler`` is dbox.store.filters' compiler, whose ``error`` points at the node)."""
    if isinstance(node, Flag):
        return registered_sql()
    if getattr(node, "kind", None) in ("turnout", "share") and hasattr(node, "election"):
        return _result_term(compiler, node)
    name = node.field
    if name in REFUSED_FIELDS:
        raise compiler.error(_("{name} may not be used to select people: the CNIL forbids selecting voters by origin (délibération 2012-020); dbox does not keep it").format(
                                 name=name), node, at_field=True,
                             hint=_("allowed on roll data: bureau, age, sex, registered"))
    if isinstance(node, IsEmpty):
        sql = "c.id IN (SELECT contact_id FROM contact_bureaux)" if name == "bureau" else "FALSE"
        return (sql, []) if node.negated else (f"({sql}) IS NOT 1", [])
    if isinstance(node, InList):
        values = [_value(compiler, name, v) for v in node.values]
        sql, params = _in(name, values, compiler)
        return (f"({sql}) IS NOT 1", params) if node.negated else (sql, params)
    assert isinstance(node, Compare)
    op = node.op
    negate = op in ("!=",)
    op = "=" if negate else op
    if name == "bureau" and op == "^=":
        prefix = node.value.text.strip()
        sql, params = ("c.id IN (SELECT contact_id FROM contact_bureaux WHERE bureau >= ? AND bureau < ?)",
                       [prefix, prefix + "\U0010ffff"])
    elif name == "age":
        sql, params = _age(compiler, op, int(float(node.value.text)))
    else:
        sql, params = _in(name, [_value(compiler, name, node.value)], compiler)
    return (f"({sql}) IS NOT 1", params) if negate else (sql, params)


def _value(compiler, name: str, value) -> str | int:
    text = value.text.strip()
    if name == "sex":
        sex = _SEX.get(fold(text))
        if sex is None:
            raise compiler.error(_('"{text}" is not a sex on the roll (F or M)').format(text=text), value)
        return sex
    if name == "age":
        return int(float(text))
    code = text.upper()
    if not bureau_exists(compiler.store, code):
        known = known_bureaux(compiler.store, code.split("-")[0])
        raise compiler.error(_('unknown bureau "{text}"').format(text=text), value, suggestion=suggest(code, known),
                             hint=_("a bureau is written INSEE code, dash, number: 38185-0012 (dbox stats --by bureau lists them)"))
    return code


def _in(name: str, values: list, compiler) -> tuple[str, list]:
    if name == "bureau":
        return bureau_sql(values)
    if name == "sex":
        return ("c.id IN (SELECT contact_id FROM voters WHERE contact_id IS NOT NULL AND sex IN "
                "(SELECT value FROM json_each(?)))", [json.dumps(values)])
    parts = [_age(compiler, "=", v) for v in values]
    return "(" + " OR ".join(p for p, _unused in parts) + ")", [x for _unused, ps in parts for x in ps]


def _age_cond(compiler, op: str, years: int) -> tuple[str, list]:
    """(condition over ``v.birth_date``, params): aged ``op`` ``years`` in whole years on the
    compiler's day."""
    from datetime import date

    today = compiler.now.date()

    def born_before(n: int) -> str:   # the last birth date of someone aged n or more today
        try:
            return today.replace(year=today.year - n).isoformat()
        except ValueError:            # 29 February
            return date(today.year - n, 2, 28).isoformat()

    column = "v.birth_date"
    if op == ">=":
        cond, params = f"{column} <= ?", [born_before(years)]
    elif op == ">":
        cond, params = f"{column} <= ?", [born_before(years + 1)]
    elif op == "<":
        cond, params = f"{column} > ?", [born_before(years)]
    elif op == "<=":
        cond, params = f"{column} > ?", [born_before(years + 1)]
    else:
        cond, params = f"{column} <= ? AND {column} > ?", [born_before(years), born_before(years + 1)]
    return f"({column} IS NOT NULL AND {cond})", params


def _age(compiler, op: str, years: int) -> tuple[str, list]:
    """Contacts matched to a voter of that age (the roll's birth date)."""
    cond, params = _age_cond(compiler, op, years)
    return f"c.id IN (SELECT v.contact_id FROM voters v WHERE v.contact_id IS NOT NULL AND {cond})", params


def _result_term(compiler, node) -> tuple[str, list]:
    if not has_results(compiler.store, node.election):
        known = [e for e, _unused, _unused in result_elections(compiler.store)]
        raise compiler.error(_('no results loaded for "{election}"').format(election=node.election), node, suggestion=suggest(node.election, known),
                             hint="dbox electoral results import FILE --election " + node.election)
    op, negate = (node.op, False) if node.op != "!=" else ("=", True)
    percent = float(node.percent)
    if node.kind == "turnout":
        sql, params = turnout_sql(node.election, op, percent)
    else:
        known = nuances(compiler.store, node.election)
        if node.nuance not in known:
            raise compiler.error(_('no nuance "{nuance}" in the results of {election}').format(
                                     nuance=node.nuance, election=node.election), node,
                                 suggestion=suggest(node.nuance, known),
                                 hint=_("nuances: {items}").format(items=", ".join(known)))
        sql, params = share_sql(node.election, node.nuance, op, percent)
    return (f"({sql}) IS NOT 1", params) if negate else (sql, params)


# -- selecting voters on the roll (walk lists): only what the CNIL allows ------------------------------------

VOTER_FIELDS = ("bureau", "age", "sex")


def compile_voters(store: Store, tree, now) -> tuple[str, list]:
    """A filter tree as SQL over ``voters v``: bureau, age, sex and registered, joined with and, or,
    not; anything else is refused (CNIL délibération 2012-020: the roll is selected by age, sex and
    bureau only). ``now`` is the day ages are counted on."""
    class _Voters:
        def __init__(self):
            self.store, self.now = store, now

        def error(self, message, node, *, suggestion=None, hint=None, at_field=False):
            start, end = node.field_span if at_field and getattr(node, "field_span", (0, 0)) != (0, 0) else node.span
            return FilterSyntaxError(message, node.source or Source(""), start, end, suggestion=suggestion, hint=hint)

    compiler = _Voters()

    def walk(node) -> tuple[str, list]:
        if node is None:
            return "TRUE", []
        if isinstance(node, (And, Or)):
            parts = [walk(i) for i in node.items]
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(p for p, _unused in parts) + ")", [x for _unused, ps in parts for x in ps]
        if isinstance(node, Not):
            sql, params = walk(node.item)
            return f"(({sql}) IS NOT 1)", params
        if isinstance(node, Flag) and node.name == "registered":
            return "v.contact_id IS NOT NULL", []
        field_name = getattr(node, "field", None)
        if field_name in REFUSED_FIELDS:
            raise compiler.error(_("{field_name} may not be used to select voters: the CNIL forbids selecting voters by origin (délibération 2012-020); dbox does not keep it").format(
                                     field_name=field_name), node, at_field=True)
        if field_name not in VOTER_FIELDS or not isinstance(node, (Compare, InList, IsEmpty)):
            raise compiler.error(_("on the electoral roll only bureau, age, sex and registered may be used (CNIL délibération 2012-020)"), node)
        return _voter_condition(compiler, node), _voter_params(compiler, node)

    return walk(tree)


def _voter_condition(compiler, node) -> str:
    name = node.field
    if isinstance(node, IsEmpty):
        return "FALSE" if not node.negated else "TRUE"            # every voter has a bureau, an age and a sex
    if isinstance(node, InList):
        column = {"bureau": "v.bureau", "sex": "v.sex"}.get(name)
        if column is None:     # ages
            sql = "(" + " OR ".join(_age_cond(compiler, "=", 0)[0] for _unused in node.values) + ")"
        else:
            sql = f"{column} IN (SELECT value FROM json_each(?))"
        return f"(({sql}) IS NOT 1)" if node.negated else sql
    assert isinstance(node, Compare)
    negate = node.op == "!="
    op = "=" if negate else node.op
    if name == "bureau" and op == "^=":
        sql = "(v.bureau >= ? AND v.bureau < ?)"
    elif name == "age":
        sql = _age_cond(compiler, op, 0)[0]
    else:
        sql = {"bureau": "v.bureau = ?", "sex": "v.sex = ?"}[name]
    return f"(({sql}) IS NOT 1)" if negate else sql


def _voter_params(compiler, node) -> list:
    name = node.field
    if isinstance(node, IsEmpty):
        return []
    if isinstance(node, InList):
        values = [_value(compiler, name, v) for v in node.values]
        if name in ("bureau", "sex"):
            return [json.dumps(values)]
        return [x for v in values for x in _age_cond(compiler, "=", v)[1]]
    assert isinstance(node, Compare)
    op = "=" if node.op == "!=" else node.op
    if name == "bureau" and op == "^=":
        prefix = node.value.text.strip()
        return [prefix, prefix + "\U0010ffff"]
    if name == "age":
        return _age_cond(compiler, op, int(float(node.value.text)))[1]
    return [_value(compiler, name, node.value)]


def count_selected_voters(store: Store, where: str, params: list) -> int:
    return store.execute(f"SELECT count(*) FROM voters v WHERE {where}", params).fetchone()[0]


def selected_voters(store: Store, where: str, params: list) -> Iterable[tuple]:
    """Walk-list rows: bureau, order, usage or birth name, first names, number, street, complement, registered."""
    return store.execute(
        "SELECT v.bureau, v.order_number, coalesce(v.usage_name, v.birth_name), v.first_names, "
        "trim(coalesce(CAST(v.house_number AS TEXT), '') || ' ' || coalesce(v.house_suffix, '')), v.street, v.complement, "
        f"CASE WHEN v.contact_id IS NULL THEN 'no' ELSE 'yes' END FROM voters v WHERE {where} "
        "ORDER BY v.bureau, v.street_key, v.house_number, v.order_number", params)
