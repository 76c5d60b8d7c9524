"""Every test gets its own store, config folder and keyring: nothing touches the user's files.

Speed (docs/testing.md): a new store costs about a second (the geography reference is loaded into
it), so the ``store`` fixture copies a store made once per session; tests never write into the
source tree (``examples`` gives a copy of the bundled sample).
"""

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbox.store import geo as store_geo
from dbox.store.db import open_store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_SHIPPED_REFERENCE = store_geo._reference_rows


def isolate(monkeypatch, folder: Path) -> None:
    """Point dbox's store, config folder and keyring into ``folder``; forget provider settings."""
    monkeypatch.setenv("DBOX_DB", str(folder / "store" / "dbox.sqlite3"))
    monkeypatch.setenv("DBOX_CONFIG_DIR", str(folder / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "dbox.testing.keyring_backend.FileKeyring")
    monkeypatch.setenv("DBOX_TEST_KEYRING_FILE", str(folder / "keyring.json"))
    for name in list(os.environ):
        if name.startswith(("DBOX_TWILIO", "DBOX_SMTP", "DBOX_IMAP")):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)
    yield


@pytest.fixture(autouse=True)
def nothing_written_into_the_source_tree(request):
    """The bundled examples stay as they are: a test that imports them works on a copy
    (``examples`` fixture), so nothing like examples/contacts.rejected.csv appears (tests run in
    parallel, and a file written there would be shared between them)."""
    before = sorted(p.name for p in EXAMPLES.iterdir())
    yield
    after = sorted(p.name for p in EXAMPLES.iterdir())
    assert after == before, f"{request.node.nodeid} wrote into examples/: {sorted(set(after) - set(before))}"


@pytest.fixture
def examples(tmp_path) -> Path:
    """A copy of the bundled examples/ folder (dbox writes its rejected-rows file beside the input)."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("*.rejected.csv", "demo.sqlite3*"))
    return folder


def copy_store(template: Path, dest: Path) -> Path:
    """A copy of a closed store file, with the modes dbox gives its own (folder 0700, file 0600)."""
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(template, dest)
    os.chmod(dest, 0o600)
    return dest


@pytest.fixture(scope="session")
def template_store(tmp_path_factory) -> Path:
    """A new, empty store made once per session (migrations and the geography reference): the
    ``store`` fixture copies it, which takes milliseconds instead of a second."""
    path = tmp_path_factory.getbasetemp() / "template-store" / "dbox.sqlite3"
    if not path.exists():     # modules that import the fixture by name share this one file too
        partial = path.with_name("building.sqlite3")     # a failed build leaves no template behind
        partial.unlink(missing_ok=True)
        open_store(partial).close()
        partial.replace(path)
    return path


@pytest.fixture
def store(tmp_path, template_store):
    """An open, empty store at $DBOX_DB (so the CLI sees it too), copied from the template."""
    dest = tmp_path / "store" / "dbox.sqlite3"
    # Not over a store an earlier fixture made (an import through the CLI), nor when a test replaced
    # the geography reference: then the store is opened, or made with that reference.
    if not dest.exists() and store_geo._reference_rows is _SHIPPED_REFERENCE:
        copy_store(template_store, dest)
    s = open_store(dest)
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
