"""Benchmark of segment counts and exports on a 3,000,000-contact store, against hand-written SQL.

    .venv/bin/python bench/segment_bench.py                     # 3,000,000 contacts (a few minutes)
    .venv/bin/python bench/segment_bench.py --contacts 300000   # quicker
    .venv/bin/python bench/segment_bench.py --db /tmp/seg.sqlite3   # keep the store; reuse it next time
    .venv/bin/python bench/segment_bench.py --db postgresql://USER@HOST/DBNAME --sqlite /tmp/seg.sqlite3
        # both engines: each store built in its own bulk SQL when missing (the PostgreSQL database
        # when it holds no contacts; its role must be a superuser), then measured on each

The stores are made by bench/bench_store.py (``open_store``, so dbox's schema, indexes and the
geography reference, then the engine's own INSERT ... SELECT): contacts spread over French communes
in proportion to their population, with the columns an import fills, addresses with their
suppression hashes, tags, consents and a custom field.

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
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_store import build_sqlite as build, build_postgres  # noqa: E402


# -- measuring --------------------------------------------------------------------------------------

CPU_TIMES: dict[int, float] = {}
SERVER_CPU = None        # on PostgreSQL, when the server runs here: its session process's CPU seconds


def cpu_now() -> float:
    """This process's CPU seconds, plus the PostgreSQL session process's when it runs on this machine."""
    return time.process_time() + (SERVER_CPU() if SERVER_CPU else 0.0)


def server_cpu_clock(store):
    """A function giving the CPU seconds used so far by the server process of ``store``'s session
    (Linux ``/proc/PID/schedstat``, nanoseconds on a CPU), or None when the server is elsewhere."""
    from urllib.parse import urlsplit

    if urlsplit(store.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    pid = store.execute("SELECT pg_backend_pid()").fetchone()[0]
    stat, comm = Path(f"/proc/{pid}/schedstat"), Path(f"/proc/{pid}/comm")
    try:
        if "postgres" not in comm.read_text():
            return None
        stat.read_text()
    except OSError:
        return None
    return lambda: int(stat.read_text().split()[0]) / 1e9


def best_of(fn, runs: int = 5) -> tuple[float, object]:
    """Best wall time of ``runs`` calls, and the result; the best CPU time is kept in CPU_TIMES[id(fn)]
    (on a busy machine, wall time also counts the time other processes had the CPU). On a
    PostgreSQL server of this machine the CPU time includes the session's server process."""
    best, cpu, result = float("inf"), float("inf"), None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), cpu_now()
        result = fn()
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, cpu_now() - start_cpu)
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
    ours_fn = lambda: segments.count(store, selection)  # noqa: E731   (what `dbox segment --count` runs)
    total_fn = lambda: segments.count(store, segments.select(store, expression, shortcuts=shortcuts))  # noqa: E731
    hand_fn = lambda: store.execute(hand_sql, hand_params).fetchone()[0]  # noqa: E731
    pg = store.engine == "postgresql"
    if pg:
        # wall time with the server's own settings (parallel workers as configured) ...
        wall_ours, _ = best_of(ours_fn, runs)
        wall_hand, _ = best_of(hand_fn, runs)
        print(f"      server's settings: compiled SQL {wall_ours * 1000:8.1f} ms   hand-written SQL "
              f"{wall_hand * 1000:8.1f} ms   wall ratio {wall_ours / wall_hand:4.2f}")
        # ... then CPU time with one process doing the work (the client's and the session's server
        # process, parallel workers off): the query's own cost, whatever else the machine is doing
        store.execute("SET max_parallel_workers_per_gather = 0")
    sql_time, n_ours = best_of(ours_fn, runs)
    total, _ = best_of(total_fn, runs)
    theirs, n_theirs = best_of(hand_fn, runs)
    if pg:
        store.execute("RESET max_parallel_workers_per_gather")
    ours_cpu, hand_cpu, total_cpu = CPU_TIMES[id(ours_fn)], CPU_TIMES[id(hand_fn)], CPU_TIMES[id(total_fn)]
    # SQLite runs in this process, so CPU time is the query's own cost; on a shared machine the wall
    # time also holds the time other processes had the CPU, and its ratios swing from run to run.
    if pg and not SERVER_CPU:     # a server elsewhere: only wall time tells the query's cost
        ours_cpu, hand_cpu, total_cpu = sql_time, theirs, total
    ratio = ours_cpu / hand_cpu if hand_cpu else float("inf")
    tiny = theirs < 0.001 and sql_time < 0.001   # under a millisecond, a ratio measures noise
    limit = 0.3 if pg else 0.2      # issue 14: under 0.3 s on PostgreSQL; issue 16: 0.2 s on SQLite
    ok = total_cpu < limit and (ratio <= 1.5 or tiny) and n_ours == n_theirs
    basis = "CPU" if not pg or SERVER_CPU else "wall"
    cpu = (lambda t: "") if basis == "wall" else (lambda t: f" (CPU {t * 1000:7.1f})")
    if pg and SERVER_CPU:
        print("      one process (parallel workers off), CPU = client + server session process:")
    print(f"      compiled SQL {sql_time * 1000:8.1f} ms{cpu(ours_cpu)}   "
          f"hand-written SQL {theirs * 1000:8.1f} ms{cpu(hand_cpu)}   {basis} ratio {ratio:4.2f}   "
          f"count {n_ours:,}{'' if n_ours == n_theirs else f' != {n_theirs:,}'}"
          f"{'   (both under 1 ms: no ratio target)' if tiny else ''}")
    print(f"      select + count (parse, check values, compile, run): {total * 1000:.1f} ms{cpu(total_cpu)}"
          f"   {'OK' if ok else 'MISSED'} (target: {basis} under {limit} s, ratio <= 1.5)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=3_000_000)
    parser.add_argument("--db", help="store to build (or reuse when it exists); a postgresql:// URL measures "
                                     "both engines (the SQLite store copied into it)")
    parser.add_argument("--sqlite", type=Path, help="with a postgresql:// --db: the SQLite store to build or reuse")
    parser.add_argument("--no-sqlite", action="store_true", help="with a postgresql:// --db: PostgreSQL only")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-export", action="store_true", help="skip the export (bench/export_bench.py measures it)")
    args = parser.parse_args()

    from dbox import segments
    from dbox.store.contacts import count_contacts, iter_contacts
    from dbox.store.db import open_store

    tmp = None
    pg_url = args.db if args.db and args.db.startswith(("postgresql://", "postgres://")) else None
    path = args.sqlite if pg_url else (Path(args.db) if args.db else None)
    if pg_url and args.no_sqlite:
        path = None
    elif path is None:
        tmp = tempfile.TemporaryDirectory(prefix="dbox-segbench-")
        os.chmod(tmp.name, 0o700)
        path = Path(tmp.name) / "bench.sqlite3"
    if path is not None and not path.exists():
        print(f"Building a store of {args.contacts:,} contacts at {path} ...", file=sys.stderr)
        start = time.perf_counter()
        build(path, args.contacts)
        print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    targets = [str(path)] if path is not None else []
    if pg_url:
        with open_store(pg_url) as dst:
            empty = dst.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
        if empty:
            print(f"Building {args.contacts:,} contacts in {dst.location} (generate_series) ...", file=sys.stderr)
            start = time.perf_counter()
            build_postgres(pg_url, args.contacts)
            print(f"  built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        targets.append(pg_url)
    ok = True
    for target in targets:
        ok &= measure(target, args.runs, export=not args.no_export)
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


def measure(target: str, runs: int, export: bool = True) -> bool:
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
    global SERVER_CPU
    SERVER_CPU = server_cpu_clock(store) if store.engine == "postgresql" else None
    if store.engine == "postgresql":
        version = store.execute("SHOW server_version").fetchone()[0]
        size = store.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e9
        print(f"\n=== PostgreSQL {version}: {n:,} contacts, {size:.2f} GB, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}\n    shared_buffers {store.execute('SHOW shared_buffers').fetchone()[0]}, "
              f"work_mem {store.execute('SHOW work_mem').fetchone()[0]}, random_page_cost "
              f"{store.execute('SHOW random_page_cost').fetchone()[0]}, max_parallel_workers_per_gather "
              f"{store.execute('SHOW max_parallel_workers_per_gather').fetchone()[0]}; "
              f"{'CPU includes the server session process' if SERVER_CPU else 'a remote server: ratios in wall time'}")
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
        print(f"      the command in-process (options, store opened, select, count, print): {cli_time[0] * 1000:.1f} ms"
              f" (CPU {cli_time[1] * 1000:.1f}{'' if store.engine == 'sqlite' else ', client only'})")

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
        print(f"      the command in-process: {cli_time[0] * 1000:.1f} ms (CPU {cli_time[1] * 1000:.1f}"
              f"{'' if store.engine == 'sqlite' else ', client only'})")

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

    if export:
        export_memory(store)
    print(f"\nTargets on {store.engine} (counts under 0.2 s{' (0.3 s on PostgreSQL)' if store.engine != 'sqlite' else ''}"
          f" and within 1.5x of hand-written SQL):", "met" if ok else "MISSED",
          f"(load average now {os.getloadavg()[0]:.1f})")
    store.close()
    return ok


def export_memory(store) -> None:
    from dbox import segments
    from dbox.store.contacts import iter_contacts

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


def _wp(selection):
    return selection.where, selection.params


def cli_count(path: Path, args: list[str], runs: int) -> tuple[float, float] | None:
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
        wall = best_of(run, runs)[0]
        return wall, CPU_TIMES[id(run)]
    except Exception as exc:
        print(f"      the command in-process: FAILED ({str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else exc})")
        return None


if __name__ == "__main__":
    sys.exit(main())
