"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temporary folder, a free port on
127.0.0.1, a socket folder of its own, durability off (fsync, synchronous_commit, full-page writes:
a test cluster is thrown away, never recovered), stopped at once (``-m immediate``) at the end.
Its folder is in memory (``/dev/shm``) when the machine has one: a test suite makes and drops a
database per test, and on a disk filesystem each of those thousand-file copies and removals costs
the server several times the CPU it costs on tmpfs (ext4 looks for free inodes among the ones just
freed), more and more as the run goes on.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster's programs run as the
``postgres`` operating-system user (Debian's package creates it) through ``runuser``, and the
folder belongs to that user. Connections are trusted from 127.0.0.1 only, as the ``postgres`` role.

    python -m dbox.testing.postgres start DIR   # prints the URL; .ci/run exports it as DBOX_TEST_POSTGRES
    python -m dbox.testing.postgres stop DIR
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
            "shared_buffers=64MB", "wal_level=minimal", "max_wal_senders=0", "jit=off")


def find_bin(name: str = "initdb") -> str | None:
    """The path of a PostgreSQL server program, or None when the server is not installed."""
    for folder in BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return shutil.which(name)


def installed() -> bool:
    return find_bin("initdb") is not None and find_bin("pg_ctl") is not None


SCRATCH_NEEDED = 2 << 30     # a test run's cluster stays under a few hundred MB; its WAL may reach 1 GB


def scratch_folder() -> str | None:
    """Where a throwaway cluster goes: ``/dev/shm`` (memory) when it is a writable folder with
    room to spare (a container's is often 64 MB), else the system's temporary folder (None, for
    :func:`tempfile.mkdtemp`)."""
    shm = "/dev/shm"
    try:
        roomy = shutil.disk_usage(shm).free >= SCRATCH_NEEDED
    except OSError:
        return None
    return shm if roomy and os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL will not run as root: run its programs as the ``postgres`` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PostgresServer:
    """One cluster in ``folder`` (made when None). ``start()`` returns the URL of its ``postgres``
    database; ``stop()`` stops it at once and removes the folder when we made it."""

    def __init__(self, folder: Path | str | None = None):
        self.own_folder = folder is None
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="dbox-pg-", dir=scratch_folder()))
        self.port: int | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(_as_server_user(argv), capture_output=True, text=True)
        if done.returncode:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    def start(self) -> str:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL is not installed (no initdb): apt-get install postgresql")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "socket").mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.folder / "socket", "postgres", "postgres")
            os.chmod(self.folder, 0o700)
        # C collation: text sorts and compares byte by byte as in SQLite, and LIKE 'abc%' uses an index.
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                   "--encoding=UTF8", "--locale=C"])
        for attempt in range(5):
            self.port = _free_port()
            options = " ".join(["-k", str(self.folder / "socket"), "-p", str(self.port),
                                "-c", "listen_addresses=127.0.0.1", *(f"-c {s}" for s in SETTINGS)])
            try:
                self._run([pg_ctl, "-D", str(self.data), "-l", str(self.folder / "server.log"),
                           "-o", options, "-w", "-t", "60", "start"])
                (self.folder / "url").write_text(self.url)
                return self.url
            except RuntimeError:
                if attempt == 4:       # the port was taken between our check and the server's bind
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        pg_ctl = find_bin("pg_ctl")
        if pg_ctl and (self.data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m dbox.testing.postgres start|stop DIR", file=sys.stderr)
        return 2
    server = PostgresServer(argv[1])
    if argv[0] == "start":
        print(server.start())
    else:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
