"""Benchmark of the organizing filter terms and of walk-list planning on a large store.

    .venv/bin/python bench/organizing_bench.py                        # 1,000,000 contacts
    .venv/bin/python bench/organizing_bench.py --contacts 200000      # quicker
    .venv/bin/python bench/organizing_bench.py --db /tmp/org.sqlite3  # keep the store; reuse it next time

The store is created by ``open_store`` (dbox's schema) and filled with raw ``executemany``:
contacts in a few streets, 10 % with interactions (doors and calls, support levels, some not
reached), 100 actions with 3 % of the contacts having come to one to five of them, 2,000 volunteers
assigned. Each filter is counted the way ``dbox segment`` does (``dbox.segments.select`` +
``count_contacts``), best of 3, and compared, in the same process, with a baseline: a full count
of the contacts table that reads every row (``SELECT count(*) FROM contacts WHERE last_name LIKE
'%zz%'``), the price of any filter no index answers. Then a walk list of 20,000 contacts is
planned (``dbox.organizing.sheets.plan``) next to a plain read of the same contacts.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

STREETS = ["rue de la Mairie", "rue du Stade", "avenue Jean Jaurès", "rue des Alpes", "place Victor Hugo",
           "chemin des Vignes", "bd Gambetta", "impasse des Lilas", "av. Jean-Jaurès", "allée des Pins"]


def build(path: Path, n: int, seed: int = 11) -> None:
    from dbox.store.db import open_store

    rng = random.Random(seed)
    store = open_store(path)
    conn = store.conn
    now = "2026-11-01T10:00:00Z"
    conn.execute("BEGIN")
    batch = []
    for i in range(1, n + 1):
        street = STREETS[i % len(STREETS)]
        commune = "Grenoble" if i <= 20_000 else "Ailleurs"
        batch.append((i, "Prénom", f"Nom{i}", f"{rng.randint(1, 300)} {street}", "38100" if i <= 20_000 else "75011",
                      commune, "38185" if i <= 20_000 else None, now, now))
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO contacts (id, first_name, last_name, address, postal_code, commune_name, "
                             "commune_insee, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        conn.executemany("INSERT INTO contacts (id, first_name, last_name, address, postal_code, commune_name, "
                         "commune_insee, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", batch)
    conn.executemany("INSERT INTO actions (id, title, title_key, type, sheet, starts_at, target, status, created_at, "
                     "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     [(a, f"Action {a}", f"action {a}", "porte-a-porte" if a % 2 else "reunion",
                       "walk" if a % 2 else "list", f"2026-{1 + a % 10:02d}-10T09:00:00Z", "", "planned", now, now)
                      for a in range(1, 101)])
    rows = []
    for cid in rng.sample(range(1, n + 1), n // 10):
        for k in range(rng.randint(1, 3)):
            reached = rng.random() < 0.6
            rows.append((cid, rng.choice(["door", "call"]), f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
                         f"T1{k}:00:00Z", "answered" if reached else "not-home", int(reached),
                         rng.randint(1, 5) if reached else None, 0, "manual", now, now))
    conn.executemany("INSERT INTO interactions (contact_id, type, at, outcome, reached, support, wants_call, source, "
                     "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    people = set()
    for cid in rng.sample(range(1, n + 1), n * 3 // 100):
        for a in rng.sample(range(1, 101), rng.randint(1, 5)):
            people.add((a, cid))
    conn.executemany("INSERT INTO action_people (action_id, contact_id, attended, attended_at, source, updated_at) "
                     "VALUES (?,?,1,?,'manual',?)", [(a, c, now, now) for a, c in people])
    conn.executemany("INSERT OR IGNORE INTO action_assignments (action_id, contact_id, created_at) VALUES (?,?,?)",
                     [(rng.randint(1, 100), cid, now) for cid in rng.sample(range(1, n + 1), 2000)])
    conn.execute("COMMIT")
    store.close()


def best(fn, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="dbox-org-bench-")
    path = args.db or Path(folder) / "bench.sqlite3"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.contacts)
        print(f"built {args.contacts:,} contacts in {time.perf_counter() - start:.1f} s")
    from dbox import segments
    from dbox.organizing import actions, sheets
    from dbox.store.contacts import count_contacts
    from dbox.store.db import open_store

    store = open_store(path)
    from dbox.store.filters import refresh_keys

    refresh_keys(store)      # what an import fills as it writes; not part of what is timed
    total = count_contacts(store)
    baseline, _ = best(lambda: store.execute("SELECT count(*) FROM contacts WHERE last_name LIKE ?",
                                             ("%zz%",)).fetchone())
    print(f"{total:,} contacts; baseline (a full scan of contacts): {baseline * 1000:.0f} ms")
    for expression in ("support >= 4", "attended.count >= 2", "attended.count = 0", "last_interaction < 90 days ago",
                       "last_interaction is empty", "volunteer", 'attended:"Action 7"',
                       "support >= 4 and not volunteer and attended.count >= 1"):
        seconds, n = best(lambda e=expression: segments.count(store, segments.select(store, e)))
        print(f"  {expression:<58} {n:>9,}  {seconds * 1000:7.0f} ms  x{seconds / baseline:5.2f} baseline")
    action = actions.create(store, actions.ActionInput(title="PAP bench", type="pap", date="2026-12-05T10:00",
                                                       target="commune = 38185"))
    read, _ = best(lambda: sum(1 for _ in store.execute("SELECT id, address FROM contacts WHERE commune_insee = ?",
                                                        ("38185",))), 1)
    planned, plan = best(lambda: sheets.plan(store, action), 1)
    print(f"walk list of {plan.total:,} contacts planned in {planned:.2f} s (plain read: {read:.2f} s, "
          f"x{planned / max(read, 1e-9):.1f})")
    store.close()


if __name__ == "__main__":
    main()
