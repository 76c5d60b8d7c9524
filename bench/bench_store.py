"""Bench stores of N contacts built fast, in the engine's own bulk SQL, for the segment and export
benches (bench/segment_bench.py, bench/export_bench.py):

    build_sqlite(path, n)      # INSERT ... SELECT over a recursive CTE, in chunks of 100,000
    build_postgres(url, n)     # INSERT ... SELECT over generate_series (3,000,000 in a few minutes)

Both draw the same distributions: contacts spread over French communes in proportion to their
population (95 %; 5 % in communes not found), with the columns an import fills (commune, canton —
empty for a commune split between cantons —, circonscription, folded keys), 85 % with an e-mail
and 70 % with a mobile (points 97 % valid, with dbox's suppression hashes), tags (sympathisant
30 %, militant 4 %, ...), SMS consents 35 % (4.6 % withdrawn), e-mail consents 50 %, a profession
field for 40 %, and an SMS opposition for one mobile in a thousand. Random draws come from the
engine (``random()``); the small vocabularies (names with their folded keys, communes weighted by
population) are prepared in Python. The store is made by ``open_store`` first, so it has dbox's
schema, indexes and geography reference; secondary indexes are dropped for the load and rebuilt.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

TAGS = [("sympathisant", 0.30), ("militant", 0.04), ("bénévole", 0.08), ("donateur", 0.03), ("élu", 0.005),
        ("porte-à-porte", 0.05), ("tractage", 0.06)]
FIRST = ["Jean", "Marie", "Pierre", "Claire", "Jean-Pierre", "Anne-Sophie", "Léa", "Hugo", "Chloé", "Inès",
         "Éric", "Hélène", "François", "Zoé", "Gaëlle", "Mohamed", "Fatou", "Loïc", "Maëlys", "Rémi"]
SYLLABLES = ["ma", "ro", "du", "le", "ber", "fon", "tai", "ne", "gar", "nier", "mo", "reau", "lam", "bert",
             "che", "val", "rou", "sel", "mar", "tin", "gi", "rard", "pe", "tit"]
PROFESSIONS = ["enseignant", "retraité", "infirmière", "artisan", "étudiant", "agriculteur", "cadre", "employé"]
STREETS = ["rue de la Mairie", "rue du Stade", "avenue Jean Jaurès", "rue des Alpes", "place Victor Hugo",
           "chemin des Vignes", "boulevard Gambetta", "impasse des Lilas"]


# -- building the store ---------------------------------------------------------------------------

def build_sqlite(path: Path, n: int, seed: int = 7) -> None:
    """Fill a new store with ``n`` contacts. Random choices are drawn by SQLite (``random()``) from
    small vocabulary tables prepared in Python (names with their folded keys, communes weighted by
    population); the suppression hashes come from dbox's own Hasher, called from SQL."""
    from dbox.store.db import open_store
    from dbox.store.suppressions import Hasher
    from dbox.text import fold

    store = open_store(path)
    conn = store._conn            # the raw sqlite3 connection: the build is SQLite's own bulk SQL
    hasher = Hasher(store)
    conn.create_function("bench_hash", 1, hasher, deterministic=True)
    firsts, lasts, addrs, dates, profs, places = _vocabulary(lambda sql: conn.execute(sql).fetchall(), seed)

    conn.execute("PRAGMA foreign_keys = OFF")   # the rows are consistent by construction
    conn.execute("PRAGMA journal_mode = OFF")   # a bench store: no need to write everything twice
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")   # 1 GB: a big transaction must not spill
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("CREATE TEMP TABLE b_first (i INTEGER PRIMARY KEY, name TEXT, key TEXT)")
    conn.execute("CREATE TEMP TABLE b_last (i INTEGER PRIMARY KEY, name TEXT, key TEXT)")
    conn.execute("CREATE TEMP TABLE b_addr (i INTEGER PRIMARY KEY, address TEXT, key TEXT)")
    conn.execute("CREATE TEMP TABLE b_date (i INTEGER PRIMARY KEY, d TEXT)")
    conn.execute("CREATE TEMP TABLE b_prof (i INTEGER PRIMARY KEY, name TEXT, key TEXT)")
    conn.execute("CREATE TEMP TABLE b_place (i INTEGER PRIMARY KEY, upto REAL, postal TEXT, commune TEXT, "
                 "insee TEXT, dep TEXT, canton TEXT, circo TEXT, status TEXT, commune_key TEXT)")
    conn.executemany("INSERT INTO b_first VALUES (?,?,?)", firsts)
    conn.executemany("INSERT INTO b_last VALUES (?,?,?)", lasts)
    conn.executemany("INSERT INTO b_addr VALUES (?,?,?)", addrs)
    conn.executemany("INSERT INTO b_date VALUES (?,?)", dates)
    conn.executemany("INSERT INTO b_prof VALUES (?,?,?)", profs)
    conn.executemany("INSERT INTO b_place VALUES (?,?,?,?,?,?,?,?,?,?)", places)
    conn.execute("CREATE INDEX b_place_upto ON b_place(upto)")

    indexes = [(name, sql) for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        "('contacts', 'contact_points', 'contact_tags', 'contact_fields', 'consents')")]
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    tag_ids = {name: conn.execute("INSERT INTO tags (name, key) VALUES (?, ?)", (name, fold(name))).lastrowid
               for name, _ in TAGS}
    start = time.perf_counter()
    chunk = 100_000
    for low in range(1, n + 1, chunk):
        high = min(low + chunk - 1, n)
        # MATERIALIZED: each random() is drawn once per contact, whatever the plan.
        conn.execute(
            "INSERT INTO contacts (id, civility, first_name, last_name, name_key, email, mobile, address, "
            "postal_code, commune_name, commune_insee, departement, canton_code, circonscription, geo_status, "
            "phone_region, created_at, updated_at, first_name_key, last_name_key, address_key, commune_key) "
            "WITH RECURSIVE ids(id) AS (SELECT ? UNION ALL SELECT id + 1 FROM ids WHERE id < ?), "
            "r AS MATERIALIZED (SELECT id, abs(random()) % 20 AS f, abs(random()) % ? AS l, "
            "abs(random()) % ? AS a, (abs(random()) % 1000000) / 1000000.0 AS p, abs(random()) % ? AS d, "
            "abs(random()) % 100 AS e, abs(random()) % 100 AS m, abs(random()) % 3 AS civ FROM ids) "
            "SELECT r.id, CASE r.civ WHEN 0 THEN 'M.' WHEN 1 THEN 'Mme' END, f.name, l.name, "
            "l.key || '|' || f.key, CASE WHEN r.e < 85 THEN f.key || '.' || l.key || r.id || '@exemple.fr' END, "
            "CASE WHEN r.m < 70 THEN '+336' || printf('%08d', r.id) END, a.address, pl.postal, pl.commune, "
            "pl.insee, pl.dep, pl.canton, pl.circo, pl.status, 'FR', dt.d, dt.d, f.key, l.key, a.key, "
            "pl.commune_key "
            "FROM r JOIN b_first f ON f.i = r.f JOIN b_last l ON l.i = r.l JOIN b_addr a ON a.i = r.a "
            "JOIN b_date dt ON dt.i = r.d "
            "JOIN b_place pl ON pl.i = (SELECT i FROM b_place WHERE upto > r.p ORDER BY upto LIMIT 1)",
            (low, high, len(lasts), len(addrs), len(dates)))
        print(f"\r  {high:,} contacts ({time.perf_counter() - start:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    steps = [
        ("addresses", "INSERT INTO contact_points (contact_id, kind, value, status, value_hash) "
         "SELECT id, 'email', email, CASE WHEN abs(random()) % 100 < 97 THEN 'valid' ELSE 'invalid' END, "
         "bench_hash(email) FROM contacts WHERE email IS NOT NULL", ()),
        ("phones", "INSERT INTO contact_points (contact_id, kind, value, status, value_hash) "
         "SELECT id, 'mobile', mobile, CASE WHEN abs(random()) % 100 < 97 THEN 'valid' ELSE 'invalid' END, "
         "bench_hash(mobile) FROM contacts WHERE mobile IS NOT NULL", ()),
        *[(f"tag {name}", "INSERT INTO contact_tags (contact_id, tag_id) SELECT id, ? FROM contacts "
           "WHERE abs(random()) % 1000000 < ?", (tag_ids[name], int(share * 1_000_000))) for name, share in TAGS],
        ("sms consents", "INSERT INTO consents (contact_id, channel, status, at, source) "
         "SELECT id, 'sms', 'granted', created_at, 'import' FROM contacts WHERE abs(random()) % 100 < 35", ()),
        ("sms withdrawals", "INSERT OR IGNORE INTO consents (contact_id, channel, status, at, source) "
         "SELECT id, 'sms', 'withdrawn', created_at, 'stop-reply' FROM contacts "
         "WHERE abs(random()) % 1000 < 46", ()),
        ("e-mail consents", "INSERT INTO consents (contact_id, channel, status, at, source) "
         "SELECT id, 'email', 'granted', created_at, 'import' FROM contacts WHERE abs(random()) % 100 < 50", ()),
        ("professions", "INSERT INTO contact_fields (contact_id, name, value, value_key) "
         "WITH r AS MATERIALIZED (SELECT id, abs(random()) % 100 AS keep, abs(random()) % ? AS p FROM contacts) "
         "SELECT r.id, 'profession', b.name, b.key FROM r JOIN b_prof b ON b.i = r.p WHERE r.keep < 40",
         (len(profs),)),
        ("suppressions", "INSERT OR IGNORE INTO suppressions (value_hash, kind, reason, channel, at) "
         "SELECT value_hash, 'phone', 'stop-reply', 'sms', '2026-01-01T00:00:00Z' FROM contact_points "
         "WHERE kind = 'mobile' AND contact_id % 1000 = 7", ()),
    ]
    for label, sql, params in steps:
        print(f"  {label} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        conn.execute(sql, params)
    print(f"  indexing ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    store.close()




def _vocabulary(rows_of, seed: int):
    """The small tables both builders draw from: (firsts, lasts, addresses, dates, professions,
    places). ``rows_of(sql)`` reads the store's geography."""
    from dbox.filters.keys import commune_key, text_key

    rng = random.Random(seed)
    communes = rows_of("SELECT insee, name, departement, population FROM geo_communes "
                       "WHERE insee NOT IN ('75056', '69123', '13055') AND population > 0 ORDER BY insee")
    cantons: dict[str, list[str]] = {}
    for insee, code in rows_of("SELECT insee, canton_code FROM geo_commune_cantons ORDER BY 1, 2"):
        cantons.setdefault(insee, []).append(code)
    circos: dict[str, list[str]] = {}
    for insee, code in rows_of("SELECT insee, circonscription FROM geo_commune_circonscriptions ORDER BY 1, 2"):
        circos.setdefault(insee, []).append(code)
    postal: dict[str, str] = {}
    for code, insee in rows_of("SELECT postal_code, insee FROM geo_postal_codes ORDER BY 1"):
        postal.setdefault(insee, code)
    total = sum(c[3] for c in communes)
    surnames = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
                       for _ in range(8000)})
    firsts = [(i, f, text_key(f)) for i, f in enumerate(FIRST)]
    lasts = [(i, s, text_key(s)) for i, s in enumerate(surnames)]
    addresses = [f"{number} {street}" for number in range(1, 201) for street in STREETS]
    addrs = [(i, a, text_key(a)) for i, a in enumerate(addresses)]
    dates = list(enumerate(sorted({f"20{rng.randint(24, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                                   f"T10:00:00Z" for _ in range(3000)})))
    profs = [(i, p, text_key(p)) for i, p in enumerate(PROFESSIONS)]
    places, cumulative = [], 0
    for insee, name, dep, population in communes:       # 95 % of contacts placed, by population
        cumulative += population
        cs, ci = cantons.get(insee, []), circos.get(insee, [])
        places.append((len(places), 0.95 * cumulative / total, postal.get(insee), name, insee, dep,
                       cs[0] if len(cs) == 1 else None, ci[0] if len(ci) == 1 else None, "resolved",
                       commune_key(name)))
    for k in range(500):                                 # 5 % whose commune was not found
        name = rng.choice(["Trifouilly", "Pétaouchnok", None])
        places.append((len(places), 0.95 + 0.05 * (k + 1) / 500, f"{rng.randint(1000, 95999):05d}", name, None,
                       None, None, None, "unknown", commune_key(name)))
    return firsts, lasts, addrs, dates, profs, places


_BULK_TABLES = ("contacts", "contact_points", "contact_tags", "contact_fields", "consents", "unsubscribe_ids")


def build_postgres(url: str, n: int, seed: int = 7, chunk: int = 500_000) -> None:
    """Fill the PostgreSQL database at ``url`` (new or empty of contacts) with ``n`` contacts.

    The role must be a superuser (``session_replication_role = replica`` skips the foreign-key
    and unsubscribe-id triggers during the load; the unsubscribe ids are then written in one
    statement). Ends with ``VACUUM ANALYZE``, as a real server's autovacuum would after a load:
    the planner's statistics, and the visibility map that lets counts read indexes alone."""
    from dbox.store.db import open_store
    from dbox.store.pg import connect
    from dbox.store.suppressions import Hasher
    from dbox.text import fold

    with open_store(url) as store:
        salt = Hasher(store).salt.decode()
    conn = connect(url)

    def rows_of(sql):
        return conn.execute(sql).fetchall()

    firsts, lasts, addrs, dates, profs, places = _vocabulary(rows_of, seed)
    start = time.perf_counter()

    def step(label, sql, params=None):
        print(f"  {label} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        conn.execute(sql, params)

    conn.execute("SET session_replication_role = replica")
    conn.execute("SET maintenance_work_mem = '256MB'")     # index builds sort in memory
    conn.execute("SET work_mem = '64MB'")
    conn.execute("BEGIN")
    for table, cols, rows in [
        ("b_first", "i INT PRIMARY KEY, name TEXT, key TEXT", firsts),
        ("b_last", "i INT PRIMARY KEY, name TEXT, key TEXT", lasts),
        ("b_addr", "i INT PRIMARY KEY, address TEXT, key TEXT", addrs),
        ("b_date", "i INT PRIMARY KEY, d TEXT", dates),
        ("b_prof", "i INT PRIMARY KEY, name TEXT, key TEXT", profs),
        ("b_place", "i INT PRIMARY KEY, upto DOUBLE PRECISION, postal TEXT, commune TEXT, insee TEXT, "
                    "dep TEXT, canton TEXT, circo TEXT, status TEXT, commune_key TEXT", places)]:
        conn.execute(f"CREATE TEMP TABLE {table} ({cols}) ON COMMIT DROP")
        with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    conn.execute("CREATE INDEX ON b_place (upto)")
    conn.execute("ANALYZE b_first, b_last, b_addr, b_date, b_prof, b_place")
    indexes = rows_of(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        f"AND i.tablename IN ({', '.join(repr(t) for t in _BULK_TABLES)}) AND NOT EXISTS (SELECT 1 FROM "
        "pg_constraint k WHERE k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    # Primary keys too, but for contacts (ids) and consents (the withdrawals below skip granted ones):
    # built once from sorted rows at the end rather than row by row at random places.
    keys = rows_of(
        "SELECT t.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class t "
        "ON t.oid = k.conrelid WHERE k.contype = 'p' AND t.relnamespace = current_schema()::regnamespace "
        "AND t.relname IN ('contact_points', 'contact_tags', 'contact_fields', 'unsubscribe_ids')")
    for table, name, _ in keys:
        conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    tag_ids = {}
    for name, _ in TAGS:
        tag_ids[name] = conn.execute("INSERT INTO tags (name, key) VALUES (%s, %s) RETURNING id",
                                     (name, fold(name))).fetchone()[0]
    for low in range(1, n + 1, chunk):
        high = min(low + chunk - 1, n)
        conn.execute(
            "INSERT INTO contacts (id, civility, first_name, last_name, name_key, email, mobile, address, "
            "postal_code, commune_name, commune_insee, departement, canton_code, circonscription, geo_status, "
            "phone_region, created_at, updated_at, first_name_key, last_name_key, address_key, commune_key) "
            "WITH r AS MATERIALIZED (SELECT id, floor(random() * 20)::int AS f, floor(random() * %s)::int AS l, "
            "floor(random() * %s)::int AS a, random() AS p, floor(random() * %s)::int AS d, "
            "floor(random() * 100)::int AS e, floor(random() * 100)::int AS m, floor(random() * 3)::int AS civ "
            "FROM generate_series(%s::bigint, %s::bigint) AS id) "
            "SELECT r.id, CASE r.civ WHEN 0 THEN 'M.' WHEN 1 THEN 'Mme' END, f.name, l.name, "
            "l.key || '|' || f.key, CASE WHEN r.e < 85 THEN f.key || '.' || l.key || r.id || '@exemple.fr' END, "
            "CASE WHEN r.m < 70 THEN '+336' || lpad(r.id::text, 8, '0') END, a.address, pl.postal, pl.commune, "
            "pl.insee, pl.dep, pl.canton, pl.circo, pl.status, 'FR', dt.d, dt.d, f.key, l.key, a.key, "
            "pl.commune_key "
            "FROM r JOIN b_first f ON f.i = r.f JOIN b_last l ON l.i = r.l JOIN b_addr a ON a.i = r.a "
            "JOIN b_date dt ON dt.i = r.d "
            "CROSS JOIN LATERAL (SELECT * FROM b_place WHERE upto > r.p ORDER BY upto LIMIT 1) pl",
            (len(lasts), len(addrs), len(dates), low, high))
        print(f"\r  {high:,} contacts ({time.perf_counter() - start:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    hashed = "encode(sha256(convert_to(%s || {}, 'UTF8')), 'hex')"      # dbox's Hasher: sha256(salt + value)
    step("unsubscribe ids", "INSERT INTO unsubscribe_ids (uid, contact_id) "
                            "SELECT replace(gen_random_uuid()::text, '-', ''), id FROM contacts")
    step("addresses", "INSERT INTO contact_points (contact_id, kind, value, status, value_hash) "
         "SELECT id, 'email', email, CASE WHEN random() < 0.97 THEN 'valid' ELSE 'invalid' END, "
         f"{hashed.format('email')} FROM contacts WHERE email IS NOT NULL", (salt,))
    step("phones", "INSERT INTO contact_points (contact_id, kind, value, status, value_hash) "
         "SELECT id, 'mobile', mobile, CASE WHEN random() < 0.97 THEN 'valid' ELSE 'invalid' END, "
         f"{hashed.format('mobile')} FROM contacts WHERE mobile IS NOT NULL", (salt,))
    for name, share in TAGS:
        step(f"tag {name}", "INSERT INTO contact_tags (contact_id, tag_id) SELECT id, %s FROM contacts "
             "WHERE random() < %s", (tag_ids[name], share))
    step("sms consents", "INSERT INTO consents (contact_id, channel, status, at, source) "
         "SELECT id, 'sms', 'granted', created_at, 'import' FROM contacts WHERE random() < 0.35")
    step("sms withdrawals", "INSERT INTO consents (contact_id, channel, status, at, source) "
         "SELECT id, 'sms', 'withdrawn', created_at, 'stop-reply' FROM contacts WHERE random() < 0.046 "
         "ON CONFLICT DO NOTHING")
    step("e-mail consents", "INSERT INTO consents (contact_id, channel, status, at, source) "
         "SELECT id, 'email', 'granted', created_at, 'import' FROM contacts WHERE random() < 0.5")
    step("professions", "INSERT INTO contact_fields (contact_id, name, value, value_key) "
         "WITH r AS MATERIALIZED (SELECT id, random() AS keep, floor(random() * %s)::int AS p FROM contacts) "
         "SELECT r.id, 'profession', b.name, b.key FROM r JOIN b_prof b ON b.i = r.p WHERE r.keep < 0.4",
         (len(profs),))
    step("suppressions", "INSERT INTO suppressions (value_hash, kind, reason, channel, at) "
         "SELECT value_hash, 'phone', 'stop-reply', 'sms', '2026-01-01T00:00:00Z' FROM contact_points "
         "WHERE kind = 'mobile' AND mod(contact_id, 1000) = 7 ON CONFLICT DO NOTHING")
    for table, name, definition in keys:
        step(f"key of {table}", f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for name, sql in indexes:
        step(f"index {name}", sql)
    step("ids", "SELECT setval(pg_get_serial_sequence('contacts', 'id'), greatest((SELECT max(id) FROM contacts), 1))")
    conn.execute("COMMIT")
    conn.execute("SET session_replication_role = origin")
    step("vacuum analyze", "VACUUM ANALYZE")
    print(f"  done ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    conn.close()
