"""A real IMAP server for tests and rehearsals: Debian's Dovecot (``dovecot-imapd``), started on
127.0.0.1 on a free port with a temporary configuration, one user and a Maildir, and stopped at once.

    with DovecotServer(folder) as server:
        server.append(raw_bytes)                 # through IMAP APPEND, as a mail server would deliver
        ... imap_host=127.0.0.1 imap_port=server.port imap_security=none ...

Run as root, the master process stays root and the mail processes run as ``nobody`` (the mail
folder is theirs); run as another user, everything runs as that user. Nothing outside ``folder``
is read or written (``-c`` points Dovecot at this configuration only).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

USER = "bounces"
PASSWORD = "bounce-test-password"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (str(Path("/usr/sbin/dovecot")) if Path("/usr/sbin/dovecot").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DovecotServer:
    def __init__(self, folder: Path | None = None, *, user: str = USER, password: str = PASSWORD):
        # Dovecot's own processes (auth, imap) run as nobody when started by root: they must reach
        # the folder, so it is a fresh 0755 folder under the system temp dir (a test's tmp_path
        # sits in 0700 folders), removed at stop. ``folder``: keep it there instead.
        import tempfile

        self.owned = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="dbox-dovecot-")) if folder is None else Path(folder)
        self.user = user
        self.password = password
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def _config(self) -> str:
        import grp
        import pwd

        if os.geteuid() == 0:
            run_user, uid, gid = "nobody", pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid
        else:
            uid, gid = os.getuid(), os.getgid()
            run_user = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
        d = self.folder
        return f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {run_user}
default_internal_group = {group}
default_login_user = {run_user}
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
"""

    def start(self) -> "DovecotServer":
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        d = self.folder
        for sub in ("run", "state", "home"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o755)
        (d / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        (d / "dovecot.conf").write_text(self._config())
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(d / "home", nobody.pw_uid, nobody.pw_gid)
        # its own process group: stop() ends the master and every child it forked at once
        self.process = subprocess.Popen([binary, "-F", "-c", str(d / "dovecot.conf")], start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    err = self.process.stderr.read().decode("utf-8", "replace") if self.process.stderr else ""
                    log = (d / "dovecot.log").read_text() if (d / "dovecot.log").exists() else ""
                    self.stop()
                    raise RuntimeError(f"dovecot did not start: {err} {log}".strip()) from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            import signal

            try:      # a graceful shutdown takes Dovecot a second; nothing here needs to survive
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None
        if self.owned:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "DovecotServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self):
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Deliver messages into the mailbox through IMAP APPEND."""
        conn = self.client()
        try:
            for raw in messages:
                status, data = conn.append(folder, None, None, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND failed: {data}")
        finally:
            conn.logout()
