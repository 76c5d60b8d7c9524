"""``--log FILE``: one line appended per campaign step, masked, flushed at once (cron reads it)."""

from __future__ import annotations

import os
from pathlib import Path

from dbox.store.db import utcnow


class StepLog:
    def __init__(self, path: Path | None = None, echo=None):
        self.path = Path(path) if path else None
        self.echo = echo

    def __call__(self, campaign_id: int | None, step: str, detail: str = "") -> None:
        line = f"{utcnow()} " + (f"campaign={campaign_id} " if campaign_id is not None else "") + f"{step}"
        if detail:
            line += f" {detail}"
        if self.path is not None:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        if self.echo is not None:
            self.echo(line)
