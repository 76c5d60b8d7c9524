"""Benchmark: exports stay flat in memory, on SQLite and on PostgreSQL (issues 14 and 16).

    .venv/bin/python bench/export_bench.py                                   # SQLite, 100,000 and 1,000,000
    .venv/bin/python bench/export_bench.py --db postgresql://USER@HOST:PORT/DBNAME   # and PostgreSQL
    .venv/bin/python bench/export_bench.py --keep /tmp/exports --sizes 100000,1000000   # reuse the stores

For each engine and size it builds a store (bench/bench_store.py; SQLite files in --keep or a
temporary folder, PostgreSQL databases DBNAME_export_<size> next to the one the URL names — its
role must be a superuser; kept for the next run), then runs ``dbox.segments.export`` of every
contact (the columns ``dbox segment export`` writes by default) as CSV, CSV for Excel and JSON to a
file, each in a process of its own, and prints its peak memory:

- ``anon``: the peak of the process's anonymous resident memory (``RssAnon``, sampled every 10 ms):
  what dbox and the engine's client allocate. Flat means the same figure at both sizes.
- ``file``: the peak of its file-backed resident memory (``RssFile``): on SQLite the store's pages
  it memory-maps (``mmap_size``, 1 GiB), page cache the kernel shares and reclaims, which grows with
  the part of the store read, not with what the process holds.

A last line per engine reads the same rows whole (``fetchall``, what an export without a stream
does) at both sizes, to show the measurement sees the difference. Wall and CPU seconds are printed
for information; on a shared machine read the memory columns and the CPU time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_store import build_postgres, build_sqlite  # noqa: E402

CHILD = r"""
import sys, threading, time

def rss(kind="RssAnon:"):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(kind):
                return int(line.split()[1])
    return 0


def anon():
    return rss()

target, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
from dbox import segments
from dbox.store.contacts import DEFAULT_COLUMNS, LIST_COLUMNS
from dbox.store.db import open_store

store = open_store(target)
everyone = segments.select(store)
columns = list(DEFAULT_COLUMNS)
base = anon()
peak, stop = [base, rss("RssFile:")], threading.Event()

def sample():
    while not stop.wait(0.01):
        peak[0] = max(peak[0], anon())
        peak[1] = max(peak[1], rss("RssFile:"))

thread = threading.Thread(target=sample, daemon=True)
thread.start()
wall, cpu = time.perf_counter(), time.process_time()
if mode == "fetchall":
    rows = store.execute("SELECT " + ", ".join(LIST_COLUMNS[c] for c in columns) + " FROM contacts c ORDER BY c.id").fetchall()
    n = len(rows)
else:
    fmt = "json" if mode == "json" else "csv"
    n = segments.export(store, everyone, columns, fmt=fmt, output=out, excel=mode == "excel")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
stop.set()
thread.join()
peak[0] = max(peak[0], anon())
store.close()
print(n, wall, cpu, base / 1024, peak[0] / 1024, peak[1] / 1024)
"""

MODES = ("csv", "excel", "json", "fetchall")


def export_once(target: str, mode: str, folder: Path) -> tuple[int, float, float, float, float, float]:
    out = folder / f"export.{'json' if mode == 'json' else 'csv'}"
    done = subprocess.run([sys.executable, "-c", CHILD, target, mode, str(out)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"export of {target} ({mode}) failed:\n{done.stderr[-3000:]}")
    out.unlink(missing_ok=True)
    n, wall, cpu, base, peak, rss = done.stdout.split()
    return int(n), float(wall), float(cpu), float(base), float(peak), float(rss)


def sqlite_store(folder: Path, n: int) -> str:
    path = folder / f"export-{n}.sqlite3"
    if not path.exists():
        print(f"Building {path} ({n:,} contacts) ...", file=sys.stderr)
        start = time.perf_counter()
        build_sqlite(path, n)
        print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return str(path)


def postgres_store(url: str, n: int) -> str:
    from dbox.store.db import open_store
    from dbox.store.pg import connect

    base, name = url.rsplit("/", 1)
    target = f"{base}/{name}_export_{n}"
    admin = connect(url)
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (f"{name}_export_{n}",)).fetchone():
        admin.execute(f'CREATE DATABASE "{name}_export_{n}"')
    admin.close()
    with open_store(target) as store:
        empty = store.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    if empty:
        print(f"Building {n:,} contacts in {name}_export_{n} ...", file=sys.stderr)
        start = time.perf_counter()
        build_postgres(target, n)
        print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="two store sizes (contacts), small,large")
    parser.add_argument("--db", help="a postgresql:// URL: measure PostgreSQL too (databases made next to it)")
    parser.add_argument("--keep", type=Path, help="folder for the SQLite stores (kept and reused)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = tempfile.TemporaryDirectory(prefix="dbox-exportbench-")
    os.chmod(tmp.name, 0o700)
    folder = args.keep or Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    engines = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.db else [])
    ok = True
    for engine in engines:
        targets = {n: sqlite_store(folder, n) if engine == "sqlite" else postgres_store(args.db, n) for n in sizes}
        print(f"\n=== {engine}: export of every contact, a process each "
              f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")
        print(f"  {'mode':9} {'contacts':>10} {'rows':>10} {'wall s':>7} {'CPU s':>6} {'anon at start':>13} "
              f"{'peak anon':>9} {'growth':>7} {'peak file':>9}   (MiB)")
        peaks: dict[str, list[float]] = {}
        for mode in MODES:
            for n in sizes:
                rows, wall, cpu, base, peak, rss = export_once(targets[n], mode, Path(tmp.name))
                peaks.setdefault(mode, []).append(peak - base)
                print(f"  {mode:9} {n:>10,} {rows:>10,} {wall:7.1f} {cpu:6.1f} {base:13.1f} {peak:9.1f} "
                      f"{peak - base:7.1f} {rss:9.1f}")
        for mode, growth in peaks.items():
            flat = growth[-1] <= growth[0] + max(8.0, 0.15 * growth[0])   # within noise: 8 MiB or 15 %
            if mode != "fetchall":
                ok &= flat
            print(f"  {mode:9} growth {growth[0]:.1f} MiB at {sizes[0]:,} -> {growth[-1]:.1f} MiB at {sizes[-1]:,}: "
                  f"{'flat' if flat else 'GROWS'}{' (for comparison: not streamed)' if mode == 'fetchall' else ''}")
    tmp.cleanup()
    print("\nExports flat in memory:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
