"""Benchmark of ``dbox stats`` and ``dbox report`` against a bare aggregate, in the same run.

    .venv/bin/python bench/insights_bench.py                  # 300,000 contacts (a few minutes)
    .venv/bin/python bench/insights_bench.py --rows 60000     # quicker

It imports a generated French-Excel file (bench/import_bench.py's) into a new store, then times:
  1. the baseline: one ``SELECT departement, count(*) ... GROUP BY`` over the contacts — the least
     any per-area statistic must read;
  2. ``dbox stats --by X --format json`` for each level (all sections), as subprocesses;
  3. ``dbox report --out`` (HTML) as a subprocess;
and the peak memory (max RSS) of ``dbox stats`` on the store and on a store a fifth of its size:
everything is aggregated in SQLite, so it must not grow with the number of contacts.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import write_file  # noqa: E402

DBOX = [sys.executable, "-m", "dbox"]


def build_store(folder: Path, rows: int) -> Path:
    csv_path = folder / f"contacts-{rows}.csv"
    write_file(csv_path, rows)
    db = folder / f"store-{rows}.sqlite3"
    env = {**os.environ, "DBOX_DB": str(db)}
    subprocess.run([*DBOX, "import", str(csv_path), "--consent", "sms,email", "--consent-source", "bench"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return db


def baseline(db: Path) -> float:
    conn = sqlite3.connect(db)
    start = time.perf_counter()
    conn.execute("SELECT departement, count(*) FROM contacts GROUP BY departement").fetchall()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def timed(args: list[str], db: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a dbox subprocess."""
    env = {**os.environ, "DBOX_DB": str(db)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([*DBOX, *args], check=True, env=env, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small_rows = max(1000, args.rows // 5)
        print(f"building stores of {args.rows:,} and {small_rows:,} contacts ...", flush=True)
        big = build_store(folder, args.rows)
        small = build_store(folder, small_rows)
        base = baseline(big)
        print(f"baseline GROUP BY departement: {base:.3f} s")
        for level in ("departement", "canton", "commune", "circo"):
            seconds, _ = timed(["stats", "--by", level, "--format", "json"], big)
            print(f"dbox stats --by {level:<11} {seconds:7.2f} s  ({seconds / base:,.0f}x the baseline; "
                  f"process start included)")
        seconds, _ = timed(["report", "--out", str(folder / "report.html")], big)
        print(f"dbox report (HTML)           {seconds:7.2f} s, {(folder / 'report.html').stat().st_size / 1e6:.1f} MB")
        # peak memory in fresh interpreters, one per store size (ru_maxrss of children is a max so far:
        # run the small one first)
        code = ("import resource, sys; from dbox.cli import main; sys.argv = ['dbox', 'stats', '--format', 'json'];\n"
                "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
                "    try: main()\n    except SystemExit: pass\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
        for label, db in (("small", small), ("big", big)):
            env = {**os.environ, "DBOX_DB": str(db)}
            out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True)
            print(f"peak memory of dbox stats, {label} store: {out.stdout.strip().splitlines()[-1]} MB")


if __name__ == "__main__":
    main()
