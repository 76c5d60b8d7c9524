"""How long ``dbox --help`` takes, against a bare Python start-up in the same run.

    .venv/bin/python bench/help_bench.py            # best of 5
    .venv/bin/python bench/help_bench.py --runs 11

Each command runs as a fresh process (what a user waits for). Prints the best wall time and the
best CPU time (user + system, less sensitive to other processes on a shared machine) of each, and
the ratio to ``python -c pass``. The goal (issue 16): ``dbox --help`` within 0.3 s.
tests/test_cli_startup.py guards the cause (nothing heavy imported), not the time.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DBOX = str(Path(sys.executable).with_name("dbox"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "dbox --help": [DBOX, "--help"],
    "dbox send --help": [DBOX, "send", "--help"],
}


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    best_wall = best_cpu = float("inf")
    env = {**os.environ, "COLUMNS": "100"}
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return best_wall, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {name: measure(argv, args.runs) for name, argv in COMMANDS.items()}
    base_wall, base_cpu = results["python -c pass"]
    print(f"best of {args.runs}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':<28}{'wall s':>8}{'cpu s':>8}{'x python':>10}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<28}{wall:>8.3f}{cpu:>8.3f}{cpu / base_cpu:>10.1f}")
    verdict = "met" if results["dbox --help"][0] <= 0.3 else "NOT met"
    print(f"goal dbox --help <= 0.3 s wall: {verdict}")


if __name__ == "__main__":
    main()
