"""Every test gets its own store, config folder and keyring: nothing touches the user's files.

Speed (docs/testing.md): a new store costs about a second (the geography reference is loaded into
it), so the ``store`` fixture copies a store made once per session; tests never write into the
source tree (``examples`` gives a copy of the bundled sample).
"""

import os
import shutil
from pathlib import Path

import pytest
import typer.testing
from typer.testing import CliRunner

# The suite reads dbox's English output: whatever the locale of the machine that runs it, dbox runs
# in English here, in this process and in the ones tests start (the French tests choose French
# themselves: tests/test_i18n*.py). Set before dbox is imported.
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"

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
    from dbox import i18n

    i18n.reset()     # a test that ran `dbox --lang fr ...` in this process leaves no French behind


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


# -- engines: the same tests on SQLite and on PostgreSQL (docs/testing.md) ---------------------------

ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """A test marked ``engines`` (or its module) runs once per engine: its ``engine`` fixture, and
    with it ``store`` and $DBOX_DB, take each value; ``engine("postgresql")`` names one engine only."""
    if "engine" not in metafunc.fixturenames:
        return
    only = metafunc.definition.get_closest_marker("engine")
    if only is not None:
        names = only.args
    elif metafunc.definition.get_closest_marker("engines") is not None:
        names = ENGINES
    else:
        return
    metafunc.parametrize("engine", names, indirect=True)


@pytest.fixture(scope="session")
def pg_server():
    """The URL of a PostgreSQL server for the tests: $DBOX_TEST_POSTGRES (.ci/run starts one), else
    a throwaway cluster of this session's own when PostgreSQL is installed. Without PostgreSQL the
    PostgreSQL tests are skipped, except in CI (CI=true), where that is a failure."""
    url = os.environ.get("DBOX_TEST_POSTGRES")
    if url:
        yield url
        return
    from dbox.testing import postgres

    if not postgres.installed():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but PostgreSQL is not installed and DBOX_TEST_POSTGRES is not set (.ci/run sets it)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql): PostgreSQL tests skipped")
    server = postgres.PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


def pg_url(server_url: str, dbname: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + dbname


def _pg_admin(server_url: str):
    import psycopg

    return psycopg.connect(server_url, autocommit=True)


_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A migrated PostgreSQL store made once per worker: each test's database is a copy of it
    (CREATE DATABASE ... TEMPLATE, milliseconds instead of seconds)."""
    name = f"dbox_template_{_WORKER}"
    with _pg_admin(pg_server) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    # Session fixtures run before each test's isolation: opening the store looks for a password in
    # the keyring, and keyring keeps the first backend it finds for the whole session; make it the
    # tests' own, never the machine's (nor "none", which later tests would then inherit).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHON_KEYRING_BACKEND", "dbox.testing.keyring_backend.FileKeyring")
        mp.setenv("DBOX_TEST_KEYRING_FILE", "/nonexistent/dbox-test-keyring.json")
        open_store(pg_url(pg_server, name)).close()
    return name


_pg_databases = iter(range(1, 10**9))


class _Dropper:
    """Drops the tests' databases in a thread of its own. DROP DATABASE waits for the sessions the
    test has just closed to end, and PostgreSQL looks again only every 0.1 s: seven drops in ten
    wait that long, which the next test need not. A failed drop fails the session at its end."""

    def __init__(self, server_url: str):
        import queue
        import threading

        self.server_url = server_url
        self.queue: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, name="dbox-test-dropper", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with _pg_admin(self.server_url) as admin:
            while (name := self.queue.get()) is not None:
                try:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                except Exception as exc:  # noqa: BLE001 - reported when the session ends
                    self.errors.append(f"{name}: {exc}")

    def drop(self, name: str) -> None:
        self.queue.put(name)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(60)
        assert not self.thread.is_alive(), "the test databases were not all dropped within a minute"
        assert not self.errors, "test databases not dropped: " + "; ".join(self.errors)


@pytest.fixture(scope="session")
def pg_dropper(pg_server):
    dropper = _Dropper(pg_server)
    yield dropper
    dropper.close()


@pytest.fixture
def pg_clone(pg_server, pg_dropper, monkeypatch):
    """``pg_clone(template)``: a fresh PostgreSQL database copied from ``template`` (a migrated
    store), its URL set as $DBOX_DB; dropped after the test (by ``pg_dropper``'s thread)."""
    made = []

    def clone(template: str) -> str:
        name = f"dbox_test_{_WORKER}_{next(_pg_databases)}"
        with _pg_admin(pg_server) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        made.append(name)
        url = pg_url(pg_server, name)
        monkeypatch.setenv("DBOX_DB", url)
        return url

    yield clone
    for name in made:
        pg_dropper.drop(name)


def pg_template_of(pg_server: str, name: str, build) -> str:
    """A template database ``name`` (per worker) built once by ``build(url)``: for module fixtures
    that fill a store (a sample of contacts) and copy it per test."""
    name = f"{name}_{_WORKER}"
    with _pg_admin(pg_server) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    build(pg_url(pg_server, name))
    return name


@pytest.fixture
def pg_database(pg_template, pg_clone) -> str:
    """A fresh, empty PostgreSQL store (a copy of the template) at $DBOX_DB; dropped after the test."""
    return pg_clone(pg_template)


@pytest.fixture(scope="session")
def pg_sample_template(pg_server, tmp_path_factory) -> str:
    """The sample of tests/test_segments_support.py on PostgreSQL, built once per worker."""
    from test_segments_support import build_sample_store

    folder = tmp_path_factory.mktemp("pg-sample")
    return pg_template_of(pg_server, "dbox_sample", lambda url: build_sample_store(url, folder))


@pytest.fixture
def pg_sample(engine):
    """Requested by a fixture that brings its own store (the sample): the engine fixture then
    makes no empty one."""
    return engine


@pytest.fixture
def engine(request) -> str:
    """The store engine of this test: "sqlite" unless the test is marked ``engines`` or
    ``engine(...)``; on "postgresql", $DBOX_DB is a fresh PostgreSQL store (``pg_database``)."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql" and "pg_sample" not in request.fixturenames:
        request.getfixturevalue("pg_database")
    return name


@pytest.fixture
def store(tmp_path, template_store, engine):
    """An open, empty store at $DBOX_DB (so the CLI sees it too), copied from the template."""
    if engine == "postgresql":
        s = open_store(os.environ["DBOX_DB"])
        yield s
        s.close()
        return
    dest = tmp_path / "store" / "dbox.sqlite3"
    # Not over a store an earlier fixture made (an import through the CLI), nor when a test replaced
    # the geography reference: then the store is opened, or made with that reference.
    if not dest.exists() and store_geo._reference_rows is _SHIPPED_REFERENCE:
        copy_store(template_store, dest)
    s = open_store(dest)
    yield s
    s.close()


@pytest.fixture
def store_file(template_store, engine) -> str:
    """$DBOX_DB holds an empty store, not opened: on SQLite a copy of the template (for a test whose
    commands would otherwise make the store on first use, half a second of geography each time,
    when making it is not what the test is about); on PostgreSQL the test's fresh database."""
    path = os.environ["DBOX_DB"]
    if engine == "sqlite" and not Path(path).exists() and store_geo._reference_rows is _SHIPPED_REFERENCE:
        copy_store(template_store, Path(path))
    return path


# Typer builds the click command from the app on every CliRunner.invoke (~40 ms of annotation
# evaluation each time, hundreds of times a run): built once per process instead. A click command
# is reusable, and dbox's main translates the tree again on each run from the English it keeps
# aside (dbox.commands.framework.translate_tree), as the French tests check.
_build_command = typer.testing._get_command
_commands: dict[int, tuple] = {}


def _command_of(app):
    built = _commands.get(id(app))
    if built is None or built[0] is not app:
        built = _commands[id(app)] = (app, _build_command(app))
    return built[1]


typer.testing._get_command = _command_of


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
