"""Stores built by two versions of ``dbox import`` from the same files must be identical.

    .venv/bin/python bench/import_equivalence.py --old /path/to/old/checkout/src [--rows 12000]

``--old``: the ``src`` folder of another checkout (e.g. ``git archive <commit> src | tar -x -C DIR``).
Both versions run the same scenario, each in its own process with its own ``PYTHONPATH``, into a
fresh store: a store file, then a messy file of people partly already in the store (bench's
generator: duplicates inside the file, bad e-mails, tags, consents and refusals, custom fields), in
several ways — serial and with workers, small chunks, ``--update``, ``--consent`` with a wording, a
re-import with ``--force`` — and once below the deferred-index threshold. Then every table is
compared row by row (timestamps and random unsubscribe identifiers left out, as they differ from one
run to the next), with each import's report (counts, notes, rejections) and rejects file.

Exit status 0 when identical; otherwise the first differences of each table are printed.
Speed is not measured here (bench/import_bench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEW_SRC = HERE.parent / "src"

# Columns whose values differ from run to run whatever the code: times and random identifiers.
VOLATILE = {"created_at", "updated_at", "at", "started_at", "finished_at", "applied_at", "uid"}

# The tables an import writes or reads back.
IMPORT_TABLES = ("contacts", "contact_points", "contact_tags", "tags", "contact_fields", "contact_sources",
                 "consent_events", "consent_wordings", "consents", "imports", "unsubscribe_ids", "suppressions", "meta")

SCENARIO = r'''
import json, sys, shutil
from pathlib import Path
from dbox.store.db import open_store
from dbox.importing import pipeline
from dbox.importing.pipeline import ImportOptions, import_file

folder = Path(sys.argv[1])
steps = json.loads(sys.argv[2])
store = open_store(folder / "store.sqlite3")
# One salt for both versions' stores, so that the address hashes compare.
store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('suppression_salt', 'equivalence')")
reports = []
for step in steps:
    if step.get("suppress"):
        from dbox.store import suppressions
        # People erased since: their addresses are suppressed, a later file must leave them out.
        for (email,) in store.execute("SELECT email FROM contacts WHERE email IS NOT NULL AND id % 53 = 0").fetchall():
            suppressions.add(store, "email", email, "erased")
        continue
    pipeline.DEFER_MIN_ROWS = step.pop("defer_min_rows", 10_000)
    source = folder / step.pop("file")
    options = ImportOptions(**step)
    report = import_file(store, source, options)
    rejected = report.rejected_file.read_text(encoding="utf-8-sig") if report.rejected_file else None
    if report.rejected_file:
        report.rejected_file.unlink()
    reports.append({"counts": dict(sorted(report.counts.items())), "geo": dict(sorted(report.geo.items())),
                    "split": dict(sorted(report.split_communes.items())), "conflicts": report.conflicts,
                    "rejections": report.rejections, "warnings": report.warnings, "rejected": rejected,
                    "already": report.already_imported is not None})
store.close()
(folder / "reports.json").write_text(json.dumps(reports, ensure_ascii=False, indent=1))
'''


def steps(rows: int) -> list[dict]:
    wording = {"*": "J'accepte de recevoir des nouvelles de la campagne"}
    return [
        {"file": "store.csv", "workers": 2, "defer_min_rows": 1000},
        {"suppress": True},
        {"file": "big.csv", "workers": 0, "chunk_rows": 700, "defer_min_rows": 1000},
        {"file": "small.csv", "workers": 0, "chunk_rows": 97, "defer_min_rows": 10**9,
         "consent": ["email"], "consent_source": "réunion du 12/10", "consent_wording": wording},
        {"file": "big.csv", "workers": 2, "update": True, "force": True},
        {"file": "other.csv", "workers": 0, "update": True},
        {"file": "small.csv", "workers": 0},   # already imported: nothing done
    ]


def make_files(folder: Path, rows: int) -> None:
    sys.path.insert(0, str(HERE))
    from import_bench import write_file

    store_rows = rows // 4
    write_file(folder / "store.csv", store_rows, seed=11, prefix="s")
    write_file(folder / "big.csv", rows, seed=7, store_rows=store_rows)
    write_file(folder / "small.csv", rows // 10, seed=8, store_rows=store_rows)
    write_file(folder / "other.csv", rows // 3, seed=9, prefix="s", store_rows=store_rows)


def build(src: Path, folder: Path, rows: int) -> None:
    folder.mkdir(mode=0o700)
    for name in ("store.csv", "big.csv", "small.csv", "other.csv"):
        (folder / name).hardlink_to(folder.parent / name)
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, "-c", SCENARIO, str(folder), json.dumps(steps(rows))], check=True, env=env)


def tables(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    out = {}
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for name in names:
        columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{name}")') if c[1] not in VOLATILE]
        if not columns:
            continue
        listed = ", ".join(f'"{c}"' for c in columns)
        out[name] = [tuple(columns)] + conn.execute(f'SELECT {listed} FROM "{name}" ORDER BY {listed}').fetchall()
    # A consent event's id only orders the events of one contact and channel (its history): the
    # order of ids across contacts is not part of the result. Ranked within (contact, channel).
    rank = ("(SELECT count(*) FROM consent_events o WHERE o.contact_id = e.contact_id "
            "AND o.channel = e.channel AND o.id <= e.id)")
    out["consent_events"] = [("contact_id", "channel", "rank", "action", "source", "detail")] + conn.execute(
        f"SELECT contact_id, channel, {rank} AS r, action, source, detail FROM consent_events e "
        f"ORDER BY contact_id, channel, r").fetchall()
    out["consent_wordings"] = [("contact_id", "channel", "rank", "wording")] + conn.execute(
        f"SELECT e.contact_id, e.channel, {rank} AS r, w.wording FROM consent_wordings w "
        f"JOIN consent_events e ON e.id = w.event_id ORDER BY 1, 2, 3").fetchall()
    # Other work changes other tables' schema between the two versions: the import's own tables
    # and indexes must be the same (a bulk import drops and rebuilds indexes and a trigger).
    marks = ",".join("?" * len(IMPORT_TABLES))
    out["(schema)"] = conn.execute(f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ({marks}) "
                                   f"ORDER BY name", IMPORT_TABLES).fetchall()
    out.pop("schema_migrations", None)
    conn.close()
    return out


def compare(old: Path, new: Path) -> list[str]:
    problems = []
    a, b = tables(old / "store.sqlite3"), tables(new / "store.sqlite3")
    for name in sorted(set(a) | set(b)):
        ra, rb = a.get(name), b.get(name)
        if ra == rb or (ra is None and len(rb) == 1) or (rb is None and len(ra) == 1):
            continue   # the same, or an empty table only one version's schema has
        problems.append(f"table {name}: {len(ra or [])} rows (old) vs {len(rb or [])} (new)")
        if ra and rb:
            only_a = [r for r in ra if r not in set(rb)][:3]
            only_b = [r for r in rb if r not in set(ra)][:3]
            problems.extend(f"   old only: {r}" for r in only_a)
            problems.extend(f"   new only: {r}" for r in only_b)
    ja = json.loads((old / "reports.json").read_text())
    jb = json.loads((new / "reports.json").read_text())
    if len(ja) != len(jb):
        problems.append(f"{len(ja)} reports (old) vs {len(jb)} (new)")
    for i, (x, y) in enumerate(zip(ja, jb)):
        for key in x:
            if x[key] != y[key]:
                problems.append(f"import {i + 1}: report {key} differs: old {str(x[key])[:300]} / new {str(y[key])[:300]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True, help="src folder of the reference version")
    parser.add_argument("--new", type=Path, default=NEW_SRC, help="src folder of the version checked")
    parser.add_argument("--rows", type=int, default=8_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_files(tmp, args.rows)
        build(args.old.resolve(), tmp / "old", args.rows)
        build(args.new.resolve(), tmp / "new", args.rows)
        problems = compare(tmp / "old", tmp / "new")
        counts = {k: len(v) - 1 for k, v in tables(tmp / "new" / "store.sqlite3").items() if k != "(schema)" and len(v) > 1}
        print("tables compared:", ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items())))
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("identical: every table, every report, every rejects file")


if __name__ == "__main__":
    main()
