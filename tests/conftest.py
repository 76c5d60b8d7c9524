"""Every test gets its own store, config folder and keyring: nothing touches the user's files."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbox.store.db import open_store

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DBOX_DB", str(tmp_path / "store" / "dbox.sqlite3"))
    monkeypatch.setenv("DBOX_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "dbox.testing.keyring_backend.FileKeyring")
    monkeypatch.setenv("DBOX_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    for name in list(os.environ):
        if name.startswith(("DBOX_TWILIO", "DBOX_SMTP")):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "store" / "dbox.sqlite3")
    yield s
    s.close()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def cli(runner):
    """Run ``dbox ARGS`` in-process; returns the click Result."""
    from dbox.cli import app

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
