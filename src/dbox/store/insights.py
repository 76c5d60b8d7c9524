"""Insights: every SQL statement behind ``dbox stats``, ``dbox report`` and ``dbox browse``.

Everything is aggregated inside the database and read back a group at a time: a 3-million-contact store
is never loaded into Python. The callers (``dbox.insights``) pass the selection as a WHERE clause
over ``contacts c`` (built by ``dbox.segments``), and the reachability tests as SQL fragments over
the same alias, so that "reachable by SMS" here is exactly ``reachable:sms`` of the filter
language.

Areas and their reference numbers come from the geography tables (docs/geography.md):

- a *département*'s population is the sum of its communes', the municipal arrondissements of
  Paris, Lyon and Marseille left out (their parent commune already counts them);
- a *canton*'s (a *circonscription*'s) population is the sum of the communes that lie wholly in
  it. A contact gets a canton only when its commune lies wholly in one, so contacts and
  population cover the same communes and the ratio per 1,000 inhabitants is fair; ``complete``
  says whether the area also has communes split with another one (whose contacts are counted on
  a separate row);
- an area's representative point is the population-weighted mean of its communes' points.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from dbox.store.db import Store
from dbox.store.organizing import INVITED_STATES

# Municipal arrondissements: rows of geo_communes beside their parent commune (75056, 69123, 13055).
_ARRONDISSEMENT = ("(g.insee BETWEEN '75101' AND '75120' OR g.insee BETWEEN '69381' AND '69389' "
                   "OR g.insee BETWEEN '13201' AND '13216')")

# Keys of the rows for contacts that are in no single area of a level.
UNPLACED = {
    "~unlocated": "commune not located",
    "~split": "commune split between several areas",
    "~none": "commune in no area of this kind",
}


@dataclass(frozen=True)
class Level:
    """How one kind of area is read: the contact's key, and the reference tables."""

    name: str
    contact_key: str          # SQL over c: the area key of a contact (or an UNPLACED key)
    member_table: str | None  # geo_commune_<x>: commune -> area, for split detection
    member_column: str | None


LEVELS = {
    "departement": Level(
        "departement",
        "coalesce(c.departement, '~unlocated')",
        None, None),
    "commune": Level(
        "commune",
        "coalesce(c.commune_insee, '~unlocated')",
        None, None),
    "canton": Level(
        "canton",
        "CASE WHEN c.canton_code IS NOT NULL THEN c.canton_code WHEN c.commune_insee IS NULL THEN '~unlocated' "
        "WHEN EXISTS (SELECT 1 FROM geo_commune_cantons m WHERE m.insee = c.commune_insee) THEN '~split' "
        "ELSE '~none' END",
        "geo_commune_cantons", "canton_code"),
    "circonscription": Level(
        "circonscription",
        "CASE WHEN c.circonscription IS NOT NULL THEN c.circonscription WHEN c.commune_insee IS NULL "
        "THEN '~unlocated' WHEN EXISTS (SELECT 1 FROM geo_commune_circonscriptions m "
        "WHERE m.insee = c.commune_insee) THEN '~split' ELSE '~none' END",
        "geo_commune_circonscriptions", "circonscription"),
}


@dataclass
class Reach:
    """SQL boolean fragments over ``c`` (and their parameters) for "reachable by SMS / e-mail"."""

    sms: str
    sms_params: list
    email: str
    email_params: list


def materialize_reach(store: Store, where: str, params: list, reach: Reach) -> Reach:
    """Evaluate the reachability tests once for the selection, into two temporary tables of contact
    ids (on disk with the connection's temporary files, not in Python), and return tests that read
    them: the summary and every level of areas then share one evaluation."""
    out = []
    for channel, test, test_params in (("sms", reach.sms, reach.sms_params), ("email", reach.email, reach.email_params)):
        table = f"temp.dbox_reach_{channel}"
        store.execute(f"DROP TABLE IF EXISTS {table}")
        store.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        store.execute(f"INSERT INTO {table} (id) SELECT c.id FROM contacts c WHERE ({where}) AND ({test})",
                      [*params, *test_params])
        out.append(f"c.id IN (SELECT id FROM {table})")
    return Reach(out[0], [], out[1], [])


def _counts_select(reach: Reach) -> tuple[str, list]:
    sql = (f"count(*) AS contacts, "
           f"coalesce(sum(CASE WHEN {reach.sms} THEN 1 ELSE 0 END), 0) AS sms, "
           f"coalesce(sum(CASE WHEN {reach.email} THEN 1 ELSE 0 END), 0) AS email")
    return sql, [*reach.sms_params, *reach.email_params]


# -- the whole selection --------------------------------------------------------------------------

def summary(store: Store, where: str, params: list, reach: Reach, since: str | None) -> dict:
    """Counts over the whole selection, in one pass."""
    counts, counts_params = _counts_select(reach)
    sql = (f"SELECT {counts}, "
           f"coalesce(sum(c.mobile IS NOT NULL), 0), coalesce(sum(c.email IS NOT NULL), 0), "
           f"coalesce(sum(c.commune_insee IS NOT NULL), 0), "
           f"coalesce(sum(CASE WHEN c.created_at >= ? THEN 1 ELSE 0 END), 0), "
           f"count(DISTINCT c.commune_insee), count(DISTINCT c.departement) "
           f"FROM contacts c WHERE {where}")
    row = store.execute(sql, [*counts_params, since or "", *params]).fetchone()
    keys = ("contacts", "reachable_sms", "reachable_email", "with_mobile", "with_email", "located",
            "new_since", "communes", "departements")
    result = dict(zip(keys, row))
    if since is None:
        result["new_since"] = None
    return result


def geo_status_counts(store: Store, where: str, params: list) -> dict[str, int]:
    return {status or "missing": n for status, n in store.execute(
        f"SELECT c.geo_status, count(*) FROM contacts c WHERE {where} GROUP BY 1", params)}


def has_geography(store: Store) -> bool:
    return store.execute("SELECT 1 FROM geo_communes LIMIT 1").fetchone() is not None


# -- by area --------------------------------------------------------------------------------------

def _area_reference(level: Level) -> str:
    """SQL of (k, name, departement, population, lat, lon, complete) for every area of the level."""
    if level.name == "departement":
        return (f"SELECT g.departement AS k, NULL AS name, g.departement AS departement, "
                f"sum(g.population) AS population, "
                f"sum(g.lat * coalesce(g.population, 1)) / sum(coalesce(g.population, 1)) AS lat, "
                f"sum(g.lon * coalesce(g.population, 1)) / sum(coalesce(g.population, 1)) AS lon, 1 AS complete "
                f"FROM geo_communes g WHERE NOT {_ARRONDISSEMENT} AND g.lat IS NOT NULL GROUP BY g.departement")
    if level.name == "commune":
        return ("SELECT g.insee AS k, g.name AS name, g.departement AS departement, g.population AS population, "
                "g.lat AS lat, g.lon AS lon, 1 AS complete FROM geo_communes g")
    table, column = level.member_table, level.member_column
    name = ("(SELECT name FROM geo_cantons WHERE code = m.{col})" if level.name == "canton" else "NULL")
    dep = ("(SELECT departement FROM geo_cantons WHERE code = m.{col})" if level.name == "canton"
           else "substr(m.{col}, 1, instr(m.{col}, '-') - 1)")
    return (
        f"SELECT m.{column} AS k, {name.format(col=column)} AS name, {dep.format(col=column)} AS departement, "
        f"sum(CASE WHEN s.n = 1 THEN g.population END) AS population, "
        f"sum(g.lat * coalesce(g.population, 1)) / sum(coalesce(g.population, 1)) AS lat, "
        f"sum(g.lon * coalesce(g.population, 1)) / sum(coalesce(g.population, 1)) AS lon, "
        f"min(CASE WHEN s.n = 1 THEN 1 ELSE 0 END) AS complete "
        f"FROM {table} m JOIN geo_communes g ON g.insee = m.insee "
        f"JOIN (SELECT insee, count(*) AS n FROM {table} GROUP BY insee) s ON s.insee = m.insee "
        f"GROUP BY m.{column}")


def by_area(store: Store, level_name: str, where: str, params: list, reach: Reach, *,
            include_empty: bool = False) -> Iterator[tuple]:
    """One row per area of the level holding contacts of the selection:
    ``(key, name, departement, contacts, sms, email, population, lat, lon, complete)``, most contacts
    first. Contacts in no single area come as rows whose key is one of ``UNPLACED``. With
    ``include_empty``, the areas of the départements the selection reaches that hold none of its
    contacts come too, with 0 contacts."""
    level = LEVELS[level_name]
    counts, counts_params = _counts_select(reach)
    reference = _area_reference(level)
    sql = (f"WITH sel AS (SELECT {level.contact_key} AS k, {counts} FROM contacts c WHERE {where} GROUP BY 1), "
           f"ref AS ({reference}) "
           f"SELECT sel.k, ref.name, ref.departement, sel.contacts, sel.sms, sel.email, ref.population, "
           f"ref.lat, ref.lon, ref.complete FROM sel LEFT JOIN ref ON ref.k = sel.k")
    all_params = [*counts_params, *params]
    if include_empty:
        sql += (" UNION ALL SELECT ref.k, ref.name, ref.departement, 0, 0, 0, ref.population, ref.lat, ref.lon, "
                "ref.complete FROM ref WHERE ref.k NOT IN (SELECT k FROM sel) AND ref.departement IN "
                "(SELECT DISTINCT departement FROM contacts c WHERE c.departement IS NOT NULL AND " + where + ")")
        all_params += params
    sql += " ORDER BY 4 DESC, 1"
    cursor = store.execute(sql, all_params)
    while rows := cursor.fetchmany(1000):
        yield from rows


# -- over time ------------------------------------------------------------------------------------

PERIOD_SQL = {
    "sqlite": {
        "week": "date({col}, 'weekday 0', '-6 days')",     # the Monday of the week (UTC)
        "month": "substr({col}, 1, 7)",
    },
    "postgresql": {             # the same 'YYYY-MM-DD' Monday from the ISO text (isodow: Monday 1)
        "week": "to_char(CAST(substr({col}, 1, 10) AS date) "
                "- (CAST(extract(isodow FROM CAST(substr({col}, 1, 10) AS date)) AS integer) - 1), 'YYYY-MM-DD')",
        "month": "substr({col}, 1, 7)",
    },
}


def _period(store: Store, period: str, column: str) -> str:
    return PERIOD_SQL[store.engine][period].format(col=column)


def growth(store: Store, where: str, params: list, period: str, since: str | None) -> Iterator[tuple]:
    """New contacts of the selection per period and first source: ``(period, import_id, count)``;
    ``import_id`` is the first import that brought the contact (None: added otherwise)."""
    p = _period(store, period, "c.created_at")
    sql = (f"SELECT {p} AS p, (SELECT min(s.import_id) FROM contact_sources s WHERE s.contact_id = c.id) AS imp, "
           f"count(*) FROM contacts c WHERE {where}")
    all_params = list(params)
    if since:
        sql += " AND c.created_at >= ?"
        all_params.append(since)
    sql += " GROUP BY 1, 2 ORDER BY 1, 2"
    yield from store.execute(sql, all_params)


def count_before(store: Store, where: str, params: list, since: str) -> int:
    return store.execute(f"SELECT count(*) FROM contacts c WHERE {where} AND c.created_at < ?",
                         [*params, since]).fetchone()[0]


def import_labels(store: Store, ids: list[int]) -> dict[int, tuple[str, str]]:
    """import id -> (file name, started_at)."""
    if not ids:
        return {}
    return {i: (name, at) for i, name, at in store.execute(
        "SELECT id, filename, started_at FROM imports WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(ids)])}


def follower_series(store: Store, period: str, since: str | None) -> list[tuple]:
    """Per network, relation and period: the last snapshot's total and the new ones of the period:
    ``(network, relation, period, total, new, linked, taken_at)``."""
    p = _period(store, period, "taken_at")
    sql = (f"SELECT network, relation, p, total, new_in, linked, taken_at FROM ("
           f"SELECT network, relation, {p} AS p, total, linked, taken_at, "
           f"sum(new) OVER (PARTITION BY network, relation, {p}) AS new_in, "
           f"row_number() OVER (PARTITION BY network, relation, {p} ORDER BY taken_at DESC, id DESC) AS rn "
           f"FROM follower_snapshots WHERE taken_at >= ?) AS latest WHERE rn = 1 ORDER BY network, relation, p")
    return store.execute(sql, [since or ""]).fetchall()


# The campaigns that message no contact (broadcasts: posts, migration 0011), told from the ledger
# itself: their one message has no contact. Uncorrelated, so computed once (index on contact_id).
_BROADCASTS = "(SELECT campaign_id FROM campaign_recipients WHERE contact_id IS NULL)"


def posts_published(store: Store, since: str | None) -> list[tuple]:
    """Broadcast campaigns (posts) per channel: ``(channel, done, other)``."""
    return store.execute(
        "SELECT channel, sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN status <> 'done' THEN 1 ELSE 0 END) FROM campaigns "
        f"WHERE id IN {_BROADCASTS} AND created_at >= ? GROUP BY 1 ORDER BY 1", [since or ""]).fetchall()


# -- campaigns ------------------------------------------------------------------------------------

# A JSON object parameter as rows (key, value).
_JSON_OBJECT = {"sqlite": "json_each(?)", "postgresql": "json_each_text(CAST(? AS json))"}
CAMPAIGN_COLUMNS = ("id", "channel", "status", "created_at", "finished_at", "audience", "recipients", "sent",
                    "delivered", "failed", "skipped", "in_doubt", "pending", "opted_out", "segments",
                    "undelivered")
_SENT = "('accepted', 'delivered', 'undelivered')"


def campaign_outcomes(store: Store, where: str, params: list, since: str | None,
                      consent_channels: dict[str, str], *, selection_given: bool) -> list[tuple]:
    """One row per message campaign created since ``since`` (CAMPAIGN_COLUMNS), counting only the
    recipients in the selection. ``opted_out``: recipients sent a message who withdrew their
    consent for the channel at or after it was sent. With no selection, the outcomes kept for
    erased contacts (``erased_recipients``) are added."""
    recipients = "campaign_recipients r"
    all_params: list = [json.dumps(consent_channels)]
    join_filter = ""
    if selection_given:
        join_filter = f" AND r.contact_id IN (SELECT c.id FROM contacts c WHERE {where})"
        all_params += params
    sql = (
        "SELECT k.id, k.channel, k.status, k.created_at, k.finished_at, "
        "CASE WHEN k.segment IS NOT NULL THEN 'segment ' || k.segment ELSE k.expression END, "
        "count(r.id), "
        f"coalesce(sum(r.state IN {_SENT}), 0), coalesce(sum(r.state = 'delivered'), 0), "
        "coalesce(sum(r.state IN ('failed', 'undelivered')), 0), coalesce(sum(r.state = 'skipped'), 0), "
        "coalesce(sum(r.state = 'in-doubt'), 0), coalesce(sum(r.state IN ('planned', 'claimed')), 0), "
        f"coalesce(sum(CASE WHEN r.state IN {_SENT} AND EXISTS (SELECT 1 FROM consent_events e "
        "WHERE e.contact_id = r.contact_id AND e.channel = coalesce(m.value, k.channel) AND e.action = 'withdraw' "
        "AND e.at >= coalesce(r.claimed_at, r.done_at, k.started_at, k.created_at)) THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN r.state IN {_SENT} THEN r.segments END), 0), "
        "coalesce(sum(r.state = 'undelivered'), 0) "
        f"FROM campaigns k LEFT JOIN {_JSON_OBJECT[store.engine]} m ON m.key = k.channel "
        f"LEFT JOIN {recipients} ON r.campaign_id = k.id{join_filter} "
        f"WHERE k.id NOT IN {_BROADCASTS} AND k.created_at >= ? GROUP BY k.id ORDER BY k.id")
    all_params.append(since or "")
    rows = [list(r) for r in store.execute(sql, all_params)]
    if not selection_given and rows and has_table(store, "erased_recipients"):
        erased = {cid: counts for cid, *counts in store.execute(
            f"SELECT campaign_id, count(*), coalesce(sum(state IN {_SENT}), 0), "
            "coalesce(sum(state = 'delivered'), 0), coalesce(sum(state IN ('failed', 'undelivered')), 0), "
            "coalesce(sum(state = 'skipped'), 0), "
            f"coalesce(sum(CASE WHEN state IN {_SENT} THEN segments END), 0), "
            "coalesce(sum(state = 'undelivered'), 0) FROM erased_recipients "
            "WHERE campaign_id IN (SELECT value FROM json_each(?)) GROUP BY campaign_id",
            [json.dumps([r[0] for r in rows])])}
        for row in rows:
            extra = erased.get(row[0])
            if extra:
                total, sent, delivered, failed, skipped, segments, undelivered = extra
                row[6] += total
                row[7] += sent
                row[8] += delivered
                row[9] += failed
                row[10] += skipped
                row[14] += segments
                row[15] += undelivered
    return [tuple(r) for r in rows]


def has_table(store: Store, name: str) -> bool:
    return store.has_table(name)


# -- dbox browse: what Datasette runs -------------------------------------------------------------

# Canned queries of the browser (Datasette metadata). Read-only SELECTs over the store.
BROWSE_QUERIES = {
    "contacts_by_commune": {
        "title": "Contacts by commune (map)",
        "description": "One point per commune holding contacts, at the commune's representative point; "
                       "the map groups nearby communes.",
        "sql": (
            "SELECT g.insee, g.name AS commune, g.departement, count(*) AS contacts, g.population, "
            "round(1000.0 * count(*) / g.population, 2) AS per_1000_inhabitants, g.lat AS latitude, "
            "g.lon AS longitude, json_object('title', g.name || ' (' || g.departement || ')', 'description', "
            "count(*) || ' contact(s)', 'link', '/store/contacts?commune_insee=' || g.insee) AS popup "
            "FROM contacts c JOIN geo_communes g ON g.insee = c.commune_insee WHERE g.lat IS NOT NULL "
            "GROUP BY g.insee ORDER BY contacts DESC"),
    },
    "contacts_by_canton": {
        "title": "Contacts by canton",
        "description": "Contacts whose commune lies wholly in one canton; those in communes split between "
                       "cantons have no canton of their own.",
        "sql": (
            "SELECT k.code, k.name AS canton, k.departement, count(c.id) AS contacts FROM geo_cantons k "
            "JOIN contacts c ON c.canton_code = k.code GROUP BY k.code ORDER BY contacts DESC"),
    },
    "contacts_by_tag": {
        "title": "Contacts by tag",
        "sql": ("SELECT t.name AS tag, count(*) AS contacts FROM tags t JOIN contact_tags ct ON ct.tag_id = t.id "
                "GROUP BY t.id ORDER BY contacts DESC"),
    },
    "consent_by_channel": {
        "title": "Consent by channel",
        "sql": ("SELECT channel, status, count(*) AS contacts FROM consents GROUP BY channel, status "
                "ORDER BY channel, status"),
    },
}

# Tables the browser never shows: `meta` holds the suppression salt and the unsubscribe key.
BROWSE_SECRET_TABLES = ("meta",)


def browse_tag_facet_sql(inner_sql: str, limit: int) -> str:
    """Facet over tags for the contacts a Datasette table query selects (``inner_sql``)."""
    return (f"SELECT t.id AS value, t.name AS label, count(*) AS count FROM ({inner_sql}) x "
            f"JOIN contact_tags ct ON ct.contact_id = x.id JOIN tags t ON t.id = ct.tag_id "
            f"GROUP BY t.id ORDER BY count DESC, label LIMIT {int(limit)}")


def browse_tag_where(tag_id: int) -> str:
    return f"id IN (SELECT contact_id FROM contact_tags WHERE tag_id = {int(tag_id)})"


def browse_consent_facet_sql(inner_sql: str, limit: int) -> str:
    return (f"SELECT k.channel || ':' || k.status AS value, k.channel || ' ' || k.status AS label, "
            f"count(*) AS count FROM ({inner_sql}) x JOIN consents k ON k.contact_id = x.id "
            f"GROUP BY k.channel, k.status ORDER BY k.channel, k.status LIMIT {int(limit)}")


def browse_consent_where(channel: str, status: str) -> str:
    """A _where fragment for Datasette; channel and status are checked words, quoted as literals."""
    quote = lambda s: "'" + s.replace("'", "''") + "'"  # noqa: E731
    return f"id IN (SELECT contact_id FROM consents WHERE channel = {quote(channel)} AND status = {quote(status)})"


def browse_canton_facet_sql(inner_sql: str, limit: int) -> str:
    return (f"SELECT x.canton_code AS value, coalesce(k.name || ' (' || x.canton_code || ')', x.canton_code) "
            f"AS label, count(*) AS count FROM ({inner_sql}) x LEFT JOIN geo_cantons k ON k.code = x.canton_code "
            f"WHERE x.canton_code IS NOT NULL GROUP BY x.canton_code ORDER BY count DESC, label LIMIT {int(limit)}")


# -- actions and volunteers (tables of docs/organizing.md) ------------------------------------------

ACTION_COLUMNS = ("id", "starts_at", "type", "title", "commune", "invited", "yes", "maybe", "no", "came",
                  "volunteers", "doors_or_calls", "reached", "supporters", "gained")


def action_outcomes(store: Store, where: str, params: list, since: str | None, *,
                    selection_given: bool) -> list[tuple]:
    """One row per action (not cancelled) starting since ``since`` (ACTION_COLUMNS); with a
    selection, every count is limited to its contacts. Invited: recipients of an invitation campaign
    the provider accepted (as ``dbox action stats`` counts them)."""
    if not has_table(store, "actions"):
        return []

    def only(column: str) -> str:
        return f" AND {column} IN (SELECT id FROM sel)" if selection_given else ""

    states = ", ".join("'" + s + "'" for s in INVITED_STATES)   # constants of the organizing schema
    sql = (
        f"WITH sel AS MATERIALIZED (SELECT c.id FROM contacts c WHERE {where if selection_given else 'FALSE'}) "
        "SELECT a.id, a.starts_at, a.type, a.title, a.commune_name, "
        "(SELECT count(DISTINCT r.contact_id) FROM action_invitations ai JOIN campaigns k ON k.fingerprint = "
        f"ai.fingerprint JOIN campaign_recipients r ON r.campaign_id = k.id WHERE ai.action_id = a.id "
        f"AND r.state IN ({states}){only('r.contact_id')}), "
        f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.rsvp = 'yes'{only('p.contact_id')}), "
        f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.rsvp = 'maybe'{only('p.contact_id')}), "
        f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.rsvp = 'no'{only('p.contact_id')}), "
        f"(SELECT count(*) FROM action_people p WHERE p.action_id = a.id AND p.attended = 1{only('p.contact_id')}), "
        f"(SELECT count(*) FROM action_assignments s WHERE s.action_id = a.id{only('s.contact_id')}), "
        "i.n, i.reached, i.supporters, i.gained "
        "FROM actions a LEFT JOIN (SELECT action_id, count(*) AS n, coalesce(sum(reached), 0) AS reached, "
        "coalesce(sum(support >= 4), 0) AS supporters, coalesce(sum(gained IS NOT NULL), 0) AS gained "
        f"FROM interactions WHERE action_id IS NOT NULL AND type IN ('door', 'call'){only('contact_id')} "
        "GROUP BY action_id) i ON i.action_id = a.id "
        "WHERE a.status = 'planned' AND a.starts_at >= ? ORDER BY a.starts_at, a.id")
    rows = store.execute(sql, [*(params if selection_given else []), since or ""]).fetchall()
    return [(*r[:11], r[11] or 0, r[12] or 0, r[13] or 0, r[14] or 0) for r in rows]


def contacts_among(store: Store, where: str, params: list, ids: list[int]) -> set[int]:
    """Which of ``ids`` are contacts of the selection."""
    if not ids:
        return set()
    return {i for (i,) in store.execute(
        f"SELECT c.id FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?)) AND {where}",
        [json.dumps(ids), *params])}


def first_created_at(store: Store, where: str, params: list) -> str | None:
    """When the first contact of a selection was created (None for none)."""
    row = store.execute(f"SELECT min(c.created_at) FROM contacts c WHERE {where}", params).fetchone()
    return row[0] if row else None


def message_channels(store: Store) -> list[str]:
    """The channels campaigns sent messages on (broadcasts, i.e. posts, left out)."""
    return [c for (c,) in store.execute(f"SELECT DISTINCT channel FROM campaigns WHERE id NOT IN {_BROADCASTS}")]
