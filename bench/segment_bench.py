"""Benchmark of segment counts and exports on a 3,000,000-contact store, against hand-written SQL.

    .venv/bin/python bench/segment_bench.py                     # 3,000,000 contacts (a few minutes)
    .venv/bin/python bench/segment_bench.py --contacts 300000   # quicker
    .venv/bin/python bench/segment_bench.py --db /tmp/seg.sqlite3   # keep the store; reuse it next time
    .venv/bin/python bench/segment_bench.py --db postgresql://USER@HOST/DBNAME --contacts 300000
        # both engines: the SQLite store is built (or --sqlite PATH reused), copied into the
        # PostgreSQL database with dbox.store.copy (when it holds no contacts yet), and measured on each

The store is created by ``open_store`` (so it has dbox's schema, indexes and the geography
reference) and filled with raw sqlite3 ``executemany``: contacts spread over French communes in
proportion to their population, with the columns an import fills (commune, canton — empty for a
commune split between cantons —, circonscription, folded keys), addresses with their suppression
hashes, tags, consents and a custom field.

It then times, in the same process and on the same database, each query the way the CLI runs it
(``dbox.segments.select`` + ``count_contacts``; also the command in-process) and the equivalent
hand-written SQL, best of several runs, in wall time and in CPU time. The targets: select + count
under 0.2 s, and the compiled SQL within 1.5x of the hand-written SQL — compared in CPU time, which
is the query's own cost (SQLite runs in this process) whatever else the machine is doing. On
PostgreSQL the query runs in the server, so its ratio is taken in wall time (best of the runs):

  1. ``dbox segment --canton X --count``
  2. ``tag:militant and consent:sms and commune.population < 3500``
  3. ``reachable:sms and departement = 38`` and ``last_name ~ "mar"`` (for information)

and exports every contact to CSV, sampling the process's resident memory, next to an export of
10,000 contacts: flat memory means the same peak for both.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

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

def build(path: Path, n: int, seed: int = 7) -> None:
    """Fill a new store with ``n`` contacts. Random choices are drawn by SQLite (``random()``) from
    small vocabulary tables prepared in Python (names with their folded keys, communes weighted by
    population); the suppression hashes come from dbox's own Hasher, called from SQL."""
    from dbox.filters.keys import commune_key, text_key
    from dbox.store.db import open_store
    from dbox.store.suppressions import Hasher
    from dbox.text import fold

    store = open_store(path)
    conn = store._conn            # the raw sqlite3 connection: the build is SQLite's own bulk SQL
    rng = random.Random(seed)
    hasher = Hasher(store)
    conn.create_function("bench_hash", 1, hasher, deterministic=True)

    communes = conn.execute("SELECT insee, name, departement, population FROM geo_communes "
                            "WHERE insee NOT IN ('75056', '69123', '13055') AND population > 0").fetchall()
    cantons: dict[str, list[str]] = {}
    for insee, code in conn.execute("SELECT insee, canton_code FROM geo_commune_cantons"):
        cantons.setdefault(insee, []).append(code)
    circos: dict[str, list[str]] = {}
    for insee, code in conn.execute("SELECT insee, circonscription FROM geo_commune_circonscriptions"):
        circos.setdefault(insee, []).append(code)
    postal: dict[str, str] = {}
    for code, insee in conn.execute("SELECT postal_code, insee FROM geo_postal_codes ORDER BY 1"):
        postal.setdefault(insee, code)
    total = sum(c[3] for c in communes)
    surnames = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
                       for _ in range(8000)})

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
    conn.executemany("INSERT INTO b_first VALUES (?,?,?)", [(i, f, text_key(f)) for i, f in enumerate(FIRST)])
    conn.executemany("INSERT INTO b_last VALUES (?,?,?)", [(i, s, text_key(s)) for i, s in enumerate(surnames)])
    addresses = [f"{number} {street}" for number in range(1, 201) for street in STREETS]
    conn.executemany("INSERT INTO b_addr VALUES (?,?,?)", [(i, a, text_key(a)) for i, a in enumerate(addresses)])
    dates = sorted({f"20{rng.randint(24, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z"
                    for _ in range(3000)})
    conn.executemany("INSERT INTO b_date VALUES (?,?)", list(enumerate(dates)))
    conn.executemany("INSERT INTO b_prof VALUES (?,?,?)", [(i, p, text_key(p)) for i, p in enumerate(PROFESSIONS)])
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
            (low, high, len(surnames), len(addresses), len(dates)))
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
         (len(PROFESSIONS),)),
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


# -- measuring --------------------------------------------------------------------------------------

CPU_TIMES: dict[int, float] = {}


def best_of(fn, runs: int = 5) -> tuple[float, object]:
    """Best wall time of ``runs`` calls, and the result; the best CPU time is kept in CPU_TIMES[id(fn)]
    (on a busy machine, wall time also counts the time other processes had the CPU)."""
    best, cpu, result = float("inf"), float("inf"), None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    CPU_TIMES[id(fn)] = cpu
    return best, result


class PeakRSS:
    """Samples this process's resident memory (VmRSS) every 20 ms while the block runs."""

    def __enter__(self):
        self.peak = self.base = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 1024


def _rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def compare(store, expression: str | None, shortcuts: dict | None, hand_sql: str, hand_params, runs: int) -> bool:
    """Times (best of ``runs``) the compiled SQL alone, the whole library path (select + count) and the
    hand-written SQL; the target: select + count under 0.2 s, compiled SQL within 1.5x of the hand's."""
    from dbox import segments
    from dbox.store.contacts import count_contacts

    try:
        selection = segments.select(store, expression, shortcuts=shortcuts)
        count_contacts(store, selection.where, selection.params)
    except Exception as exc:          # the filter compiler not (yet) for this engine: say so, go on
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        theirs, n_theirs = best_of(lambda: store.execute(hand_sql, hand_params).fetchone()[0], runs)
        print(f"      compiled SQL: FAILED on {store.engine} ({type(exc).__name__}: {first[:120]})   "
              f"hand-written SQL {theirs * 1000:8.1f} ms   count {n_theirs:,}")
        return False
    ours_fn = lambda: count_contacts(store, selection.where, selection.params)  # noqa: E731
    total_fn = lambda: count_contacts(store, *_wp(segments.select(store, expression, shortcuts=shortcuts)))  # noqa: E731
    hand_fn = lambda: store.execute(hand_sql, hand_params).fetchone()[0]  # noqa: E731
    sql_time, n_ours = best_of(ours_fn, runs)
    total, _ = best_of(total_fn, runs)
    theirs, n_theirs = best_of(hand_fn, runs)
    ours_cpu, hand_cpu, total_cpu = CPU_TIMES[id(ours_fn)], CPU_TIMES[id(hand_fn)], CPU_TIMES[id(total_fn)]
    # SQLite runs in this process, so CPU time is the query's own cost; on a shared machine the wall
    # time also holds the time other processes had the CPU, and its ratios swing from run to run.
    if store.engine == "postgresql":      # the server does the work: wall time is the query's cost
        ours_cpu, hand_cpu, total_cpu = sql_time, theirs, total
    ratio = ours_cpu / hand_cpu if hand_cpu else float("inf")
    tiny = theirs < 0.001 and sql_time < 0.001   # under a millisecond, a ratio measures noise
    limit = 0.3 if store.engine == "postgresql" else 0.2      # issue 14: under 0.3 s on PostgreSQL
    ok = total < limit and (ratio <= 1.5 or tiny) and n_ours == n_theirs
    basis = "wall" if store.engine == "postgresql" else "CPU"
    cpu = (lambda t: "") if store.engine == "postgresql" else (lambda t: f" (CPU {t * 1000:7.1f})")
    print(f"      compiled SQL {sql_time * 1000:8.1f} ms{cpu(ours_cpu)}   "
          f"hand-written SQL {theirs * 1000:8.1f} ms{cpu(hand_cpu)}   {basis} ratio {ratio:4.2f}   "
          f"count {n_ours:,}{'' if n_ours == n_theirs else f' != {n_theirs:,}'}"
          f"{'   (both under 1 ms: no ratio target)' if tiny else ''}")
    print(f"      select + count (parse, check values, compile, run): {total * 1000:.1f} ms{cpu(total_cpu)}"
          f"   {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=3_000_000)
    parser.add_argument("--db", help="store to build (or reuse when it exists); a postgresql:// URL measures "
                                     "both engines (the SQLite store copied into it)")
    parser.add_argument("--sqlite", type=Path, help="with a postgresql:// --db: the SQLite store to build or reuse")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from dbox import segments
    from dbox.store.contacts import count_contacts, iter_contacts
    from dbox.store.db import open_store

    tmp = None
    pg_url = args.db if args.db and args.db.startswith(("postgresql://", "postgres://")) else None
    path = args.sqlite if pg_url else (Path(args.db) if args.db else None)
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="dbox-segbench-")
        os.chmod(tmp.name, 0o700)
        path = Path(tmp.name) / "bench.sqlite3"
    if not path.exists():
        print(f"Building a store of {args.contacts:,} contacts at {path} ...", file=sys.stderr)
        start = time.perf_counter()
        build(path, args.contacts)
        print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    targets = [str(path)]
    if pg_url:
        with open_store(path) as src, open_store(pg_url) as dst:
            if dst.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0:
                from dbox.store.copy import copy_store

                print(f"Copying it into {dst.location} (dbox.store.copy: COPY) ...", file=sys.stderr)
                start = time.perf_counter()
                report = copy_store(src, dst, batch=20_000)
                dst.execute("ANALYZE")
                print(f"  {report.total:,} rows copied in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        targets.append(pg_url)
    ok = True
    for target in targets:
        ok &= measure(target, args.runs)
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


def measure(target: str, runs: int) -> bool:
    """Every measurement on one store (a SQLite file or a PostgreSQL URL); True when the targets hold."""
    from dbox import segments
    from dbox.store.contacts import count_contacts, iter_contacts
    from dbox.store.db import open_store

    class Args:
        pass

    args = Args()
    args.runs = runs
    path = target
    store = open_store(target)
    conn = store
    n = store.execute("SELECT count(*) FROM contacts").fetchone()[0]
    if store.engine == "postgresql":
        version = store.execute("SHOW server_version").fetchone()[0]
        size = store.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e9
        print(f"\n=== PostgreSQL {version}: {n:,} contacts, {size:.2f} GB, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}   (ratios in wall time: the server does the work)")
    else:
        size = Path(target).stat().st_size / 1e9
        print(f"\n=== SQLite {sqlite3.sqlite_version}: {n:,} contacts, {size:.2f} GB, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")

    # The canton with the most contacts of its own (communes wholly inside it).
    code, canton, _ = conn.execute(
        "SELECT c.canton_code, g.name, count(*) FROM contacts c JOIN geo_cantons g ON g.code = c.canton_code "
        "WHERE c.canton_code IS NOT NULL GROUP BY c.canton_code, g.name ORDER BY 3 DESC, 1 LIMIT 1").fetchone()
    militant = conn.execute("SELECT id FROM tags WHERE key = 'militant'").fetchone()[0]
    ok = True

    print(f"\n1. dbox segment --canton \"{canton}\" --count   (canton {code}: the most contacts of its own)")
    ok &= compare(store, None, {"canton": canton}, "SELECT count(*) FROM contacts WHERE canton_code = ?", (code,),
                  args.runs)
    cli_time = cli_count(path, ["--canton", canton], args.runs)
    if cli_time is not None:
        print(f"      the command in-process (options, store opened, select, count, print): {cli_time * 1000:.1f} ms")

    expr = "tag:militant and consent:sms and commune.population < 3500"
    print(f"\n2. dbox segment '{expr}' --count")
    ok &= compare(store, expr, None,
                  "SELECT count(*) FROM contact_tags ct "
                  "JOIN consents k ON k.channel = 'sms' AND k.contact_id = ct.contact_id AND k.status = 'granted' "
                  "JOIN contacts c ON c.id = ct.contact_id "
                  "JOIN geo_communes g ON g.insee = c.commune_insee "
                  "WHERE ct.tag_id = ? AND g.population < 3500", (militant,), args.runs)
    cli_time = cli_count(path, [expr], args.runs)
    if cli_time is not None:
        print(f"      the command in-process: {cli_time * 1000:.1f} ms")

    print("\n3. For information (no target):")
    for expr, sql, params in [
        ("reachable:sms and departement = 38",
         "SELECT count(*) FROM contacts c JOIN consents k ON k.channel = 'sms' AND k.contact_id = c.id "
         "AND k.status = 'granted' JOIN contact_points p ON p.contact_id = c.id AND p.kind = 'mobile' "
         "AND p.value = c.mobile AND p.status = 'valid' WHERE c.departement = '38' AND NOT EXISTS "
         "(SELECT 1 FROM suppressions s WHERE s.value_hash = p.value_hash AND (s.channel IS NULL OR "
         "s.channel = 'sms'))", ()),
        ('last_name ~ "mar"', "SELECT count(*) FROM contacts WHERE instr(last_name_key, 'mar') > 0", ()),
        ("field.profession = enseignant and tag:bénévole",
         "SELECT count(*) FROM contact_fields f JOIN contact_tags ct ON ct.contact_id = f.contact_id AND "
         "ct.tag_id = (SELECT id FROM tags WHERE key = 'benevole') WHERE f.name = 'profession' "
         "AND f.value_key = 'enseignant'", ()),
    ]:
        print(f"  {expr}")
        compare(store, expr, None, sql, params, 3)

    print("\n4. Export to CSV (dbox.output.write_csv over iter_contacts), resident memory sampled:")
    from dbox.output import write_csv
    from dbox.store.contacts import DEFAULT_COLUMNS

    columns = list(DEFAULT_COLUMNS)
    try:
        everyone = segments.select(store)
        for limit in (10_000, None):
            with open(os.devnull, "w", encoding="utf-8") as sink, PeakRSS() as mem:
                start = time.perf_counter()
                written = write_csv(iter_contacts(store, columns, everyone.where, everyone.params, limit=limit),
                                    columns, sink, excel=True)
                took = time.perf_counter() - start
            print(f"  {written:>10,} rows in {took:6.1f} s   peak memory growth {mem.growth_mb:6.1f} MB")
    except Exception as exc:
        print(f"  FAILED on {store.engine}: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:120]}")

    print(f"\nTargets on {store.engine} (counts under 0.2 s{' (0.3 s on PostgreSQL)' if store.engine != 'sqlite' else ''}"
          f" and within 1.5x of hand-written SQL):", "met" if ok else "MISSED",
          f"(load average now {os.getloadavg()[0]:.1f})")
    store.close()
    return ok


def _wp(selection):
    return selection.where, selection.params


def cli_count(path: Path, args: list[str], runs: int) -> float:
    """The command as a user runs it, minus Python's start-up and Typer's one-off building of the
    command tree (done once here, as in any process)."""
    import typer.main
    from click.testing import CliRunner

    from dbox.cli import app

    runner = CliRunner()
    command = typer.main.get_command(app)

    def run():
        result = runner.invoke(command, ["--db", str(path), "segment", *args, "--count"])
        if result.exit_code != 0:
            raise RuntimeError(result.output)
        return result.output

    try:
        return best_of(run, runs)[0]
    except Exception as exc:
        print(f"      the command in-process: FAILED ({str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else exc})")
        return None


if __name__ == "__main__":
    sys.exit(main())
