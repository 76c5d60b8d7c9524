"""The guard of issue 17, made systematic: every error dbox prints and the normal output of the main
commands go through the catalog (docs/i18n.md).

tests/test_i18n_guard.py runs every ``--help`` and a hand list of error paths under a pseudo-locale
(every message wrapped in ⟦ ⟧). Here the failing invocations are *generated from the command tree*:
for every command, its required arguments filled with ids, names and files that do not exist, each
typed option given a bad value, a broken filter where a command takes one, a store that is not a
database and one that cannot be reached; then the everyday commands run on a demo store (the
bundled examples imported, a saved segment, an action, a scheduled campaign). Any word shown
outside the markers that is neither a command or option name, nor the user's input, nor data of
the demo store (names, communes, tags) bypassed the catalog, and the test names it.

Cheap: in-process CliRunner, one demo store built per module and copied (milliseconds) per test.
"""

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from dbox import i18n
from dbox.cli import app
from conftest import EXAMPLES, copy_store, isolate
from test_i18n_guard import Pseudo, _outside_markers, _walk

WORD = r"[A-Za-zÀ-ÿ]{2,}"


class CatalogPseudo(Pseudo):
    """The pseudo-locale, stricter: only a message the catalog holds is wrapped in ⟦ ⟧. A string
    translated with ``_()`` at run time but never marked for extraction (``_(variable)`` of an
    unmarked value) stays bare, so its words count as a leak: French would show it in English."""

    def __init__(self):
        import gettext

        with (i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "dbox.mo").open("rb") as fh:
            keys = gettext.GNUTranslations(fh)._catalog
        self.known = {k[0] if isinstance(k, tuple) else k for k in keys}

    def gettext(self, message):
        return f"⟦{message}⟧" if message in self.known else message

    def ngettext(self, singular, plural, n):
        text = singular if n == 1 else plural
        return f"⟦{text}⟧" if singular in self.known else text

    def pgettext(self, context, message):
        return f"⟦{message}⟧" if f"{context}\x04{message}" in self.known else message
# Commands that serve or wait for a browser: they would block once their arguments are good.
BLOCKING = {("serve",), ("browse",), ("connect",)}


def _run_english(args):
    """Set-up steps, in English (their output is not what is checked)."""
    i18n.reset()
    result = CliRunner().invoke(app, [str(a) for a in args], input="")
    i18n.reset()
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory, template_store):
    """A store with the bundled examples imported, a saved segment, an action, a scheduled e-mail
    campaign and an interaction; the config and keyring of its home. Built once per module."""
    home = tmp_path_factory.mktemp("i18n-demo")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, home)
        copy_store(template_store, home / "store" / "dbox.sqlite3")
        shutil.copytree(EXAMPLES, home / "examples", ignore=shutil.ignore_patterns("*.rejected.csv", "demo.*"))
        _run_english(["import", home / "examples" / "contacts.csv"])
        _run_english(["segment", "save", "militants", "tag:militant"])
        _run_english(["action", "create", "Porte-à-porte Mistral", "--type", "porte-a-porte",
                      "--date", "2026-12-05T10:00", "--commune", "Grenoble"])
        _run_english(["channels", "setup", "email", "--set", "host=127.0.0.1", "--set", "port=2525",
                      "--set", "from_address=equipe@exemple.fr", "--set", "unsubscribe_mailto=stop@exemple.fr",
                      "--set", "unsubscribe_url=https://exemple.fr/u"])
        _run_english(["send", "--email", "--tag", "militant", "-m", "Bonjour {{ first_name }}",
                      "--subject", "Réunion", "--at", "2030-12-20 18:00", "--yes"])
        _run_english(["interaction", "add", "1", "--type", "call", "--outcome", "reached", "--note", "rappeler"])
    return home


# What SQLite's query plan says (`dbox segment explain` shows it as the engine wrote it).
SQL_PLAN = {"SCAN", "SEARCH", "USING", "COVERING", "INDEX", "PRIMARY", "KEY", "CORRELATED", "SCALAR", "SUBQUERY",
            "LIST", "AND", "OR", "NOT", "IN", "EXISTS", "TEMP", "TREE", "FOR", "ORDER", "BY", "GROUP", "DISTINCT",
            "MULTI", "UNION", "ALL", "BLOOM", "FILTER", "ON", "CO", "ROUTINE", "LEFT", "JOIN", "AUTOMATIC",
            "ROWID", "COMPOUND", "QUERY", "MATERIALIZE", "VIRTUAL", "TABLE", "LAST", "EXCEPT", "INTERSECT"}


def _data_words(store: Path) -> set[str]:
    """Words that are data, not messages: what the demo store holds about people and places, the
    names of its tables and indexes (a query plan names them), the audit log's recorded details and
    the channels' ids (``social:mastodon``)."""
    from dbox.channels import channels

    words = set(SQL_PLAN) | {"sms", "email", "phone", "post", "social"}    # consent channels, as codes
    for channel_id in channels():
        words.update(re.findall(WORD, channel_id))
    with sqlite3.connect(store) as db:
        queries = [
            "SELECT name, tbl_name, '', '', '', '' FROM sqlite_master",
            "SELECT host, detail, command, '', '', '' FROM audit_log",
            # filter expressions the user typed earlier (saved segments, campaigns' audiences)
            "SELECT expression, '', '', '', '', '' FROM segments",
            "SELECT expression, '', '', '', '', '' FROM campaigns",
            # the consent history's stored details ("column of the file (contacts.csv)"): data, as stored
            "SELECT detail, channel, '', '', '', '' FROM consent_events",
            "SELECT civility, first_name, last_name, email, address, commune_name FROM contacts",
            "SELECT phone_region, '', '', '', '', '' FROM contacts",     # a region code (FR), as stored
            "SELECT name, '', '', '', '', '' FROM tags",
            "SELECT name, value, '', '', '', '' FROM contact_fields",
            "SELECT name, '', '', '', '', '' FROM geo_cantons WHERE departement IN (SELECT departement FROM contacts)",
            "SELECT name, '', '', '', '', '' FROM geo_communes WHERE departement IN (SELECT departement FROM contacts)",
            "SELECT title, '', '', '', '', '' FROM actions",
        ]
        for query in queries:
            for row in db.execute(query):
                for value in row:
                    words.update(re.findall(WORD, str(value or "")))
    from dbox.insights.departements import NAMES

    for name in NAMES.values():
        words.update(re.findall(WORD, name))
    return words


@pytest.fixture(scope="module")
def vocabulary(data_vocabulary):
    """Error runs: data, plus command names and metavars (a usage line shows them)."""
    words = {"dbox", "root", "help"}
    for path, command in _walk(typer.main.get_command(app)):
        words.update(w for name in path for w in re.findall(WORD, name))
        for param in command.params:
            if getattr(param, "metavar", None):
                words.update(re.findall(WORD, param.metavar))
            if _is_argument(param):       # Click names a missing argument: 'CONTACT', 'slug'
                words.update(w for word in re.findall(WORD, param.name or "") for w in (word, word.upper()))
    return words | data_vocabulary


@pytest.fixture(scope="module")
def data_vocabulary(demo):
    """Normal runs: only data (names, places, tags, ids) and what dbox says to the public in French;
    an English word that happens to be an option's name is still a leak in a sentence or a title."""
    return _data_words(demo / "store" / "dbox.sqlite3") | {
        "Réunion", "Bonjour", "exemple", "fr", "equipe", "stop", "https", "rappeler", "militants",
        "token", "dbox", "sqlite", "Europe", "Paris", "UTC",
        # what dbox says to the public, always in French: the e-mail's unsubscribe line, an action's date
        "Pour", "ne", "plus", "recevoir", "nos", "messages", "samedi", "décembre"}


@pytest.fixture(scope="module")
def root():
    """The command tree, built once: building it is most of an in-process run's time (the root
    command translates it again in the run's language each time it runs)."""
    return typer.main.get_command(app)


@pytest.fixture
def pseudo_home(demo, root, tmp_path, monkeypatch):
    """A fresh copy of the demo home for one test, the pseudo-locale on."""
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: root)
    home = tmp_path / "home"
    shutil.copytree(demo, home)
    isolate(monkeypatch, home)
    monkeypatch.setenv("COLUMNS", "2000")
    monkeypatch.setattr(i18n, "choose_language", lambda *args, **kwargs: "pseudo")
    real_use = i18n.use
    pseudo = CatalogPseudo()
    monkeypatch.setattr(i18n, "use", lambda language, translations=None: real_use(language, pseudo))
    i18n.reset()
    yield home
    i18n.reset()


def _leaks(output: str, args, vocabulary) -> list[str]:
    """Words outside the markers that are neither known words nor the user's input (the arguments,
    the paths they name, the content of the files given)."""
    given = {w for arg in args for w in re.findall(WORD, str(arg))}
    for arg in args:
        path = Path(str(arg))
        if len(str(arg)) < 300 and path.is_file() and path.stat().st_size < 100_000:
            given.update(re.findall(WORD, path.read_bytes().decode("latin-1")))
    # the preview of a message (`    | ...` lines) is the campaign's text, not dbox's; links are data
    output = "\n".join(line for line in output.splitlines() if not re.match(r"\s*\| ", line))
    output = re.sub(r"https?://\S+", " ", output)
    return sorted({w for w in _outside_markers(output) if w not in vocabulary and w not in given})


# -- failing invocations generated from the command tree ------------------------------------------

def _leaf_commands():
    root = typer.main.get_command(app)
    for path, command in _walk(root):
        if getattr(command, "commands", None) or not path or path[:1] in {p[:1] for p in BLOCKING}:
            continue
        yield path, command


def _is_argument(param) -> bool:
    return type(param).__name__.endswith("Argument")


def _annotation(param):
    descriptor = getattr(param, "type_descriptor", None)
    return getattr(descriptor, "annotation", None)


def _value_for(param, home: Path, kind: str) -> str:
    """A value of the parameter's kind that dbox must refuse: an id that does not exist, a missing
    file, a name no one gave."""
    annotation = _annotation(param)
    name = param.name or ""
    if annotation is Path or name in ("file", "followers_file", "source", "destination"):
        return {"missing": str(home / "absent.csv"), "garbage": str(home / "garbage.csv"),
                "empty": str(home / "empty.csv")}[kind]
    if annotation is int or name in ("contact", "campaign", "campaign_id", "action", "keep", "other",
                                     "import_id", "contacts"):
        return "99999"
    return "zzqx"


BAD_FILTERS = ["age >> 3", "canton = ", "(tag:x", "nosuchfield = 2"]


def _invocations(path, command, home: Path):
    """The failing runs of one command: required arguments that point at nothing, each typed option
    given a bad value, broken filters, files missing, empty or garbage."""
    params = list(command.params)
    required = [p for p in params if _is_argument(p) and p.required]
    optional_args = [p for p in params if _is_argument(p) and not p.required]
    base = [_value_for(p, home, "missing") for p in required]
    runs = [list(path) + base]
    if required:
        runs.append(list(path))                                   # missing argument(s)
    for kind in ("garbage", "empty"):
        if any(_value_for(p, home, kind) != _value_for(p, home, "missing") for p in required):
            runs.append(list(path) + [_value_for(p, home, kind) for p in required])
    if any(p.name == "sel_expression" for p in optional_args):
        runs += [list(path) + base + [expr] for expr in BAD_FILTERS]
    for param in params:
        if _is_argument(param) or not getattr(param, "opts", None):
            continue
        option = param.opts[0]
        annotation = _annotation(param)
        if annotation is bool or getattr(param, "is_flag", False):
            continue
        if annotation in (int, float):
            runs.append(list(path) + base + [option, "many"])
        elif annotation is Path:
            runs.append(list(path) + base + [option, str(home / "no-such-dir" / "x")])
        elif param.name == "fmt":
            runs.append(list(path) + base + [option, "xml"])
        elif param.name in ("sel_segment", "sel_reachable", "by", "since", "period", "at", "msg_at",
                            "date", "end", "type_", "channel", "channel_id", "phone_format", "role",
                            "network", "as_of", "election_date", "section", "timezone_", "relation",
                            "encoding", "delimiter", "kind", "until", "support", "round_", "area"):
            runs.append(list(path) + base + [option, "zzqx"])
    # dbox's own store errors: a file that is not a database, a server that cannot be reached
    runs.append(["--db", str(home / "garbage.csv"), *path, *base])
    runs.append(["--db", "postgresql://dbox@127.0.0.1:1/absent", *path, *base])
    return runs


def _write_bad_files(home: Path) -> None:
    # no word in it: a word of the file may be echoed back as the user's input and would hide a leak
    (home / "garbage.csv").write_bytes(b"\x00\x01PK\x03\x04\xff\xfe\x80;1;2\n" * 20)
    (home / "empty.csv").write_bytes(b"")


@pytest.mark.parametrize("path", [p for p, _c in _leaf_commands()], ids=" ".join)
def test_every_error_of_every_command_goes_through_the_catalog(pseudo_home, root, vocabulary, path):
    command = root
    for name in path:
        command = command.commands[name]
    _write_bad_files(pseudo_home)
    runner = CliRunner()
    leaks, failures = {}, 0
    for args in _invocations(path, command, pseudo_home):
        i18n.reset()
        result = runner.invoke(app, args, input="")
        assert not isinstance(result.exception, (AssertionError, NameError, TypeError, AttributeError)), (
            args, result.output, result.exception)
        failures += result.exit_code != 0
        words = _leaks(result.output, [*args, str(pseudo_home / "store" / "dbox.sqlite3")], vocabulary)
        if words:
            leaks[" ".join(args)] = (words, result.output[-600:])
    assert failures, f"dbox {' '.join(path)}: no generated run failed, nothing was checked"
    assert not leaks, "outside the catalog:\n" + "\n".join(
        f"dbox {k}\n  words: {w}\n  output: {o}" for k, (w, o) in leaks.items())


# -- the normal output of the main commands on the demo store -------------------------------------

NORMAL_RUNS = [
    ["contacts", "count"],
    ["contacts", "list", "--limit", "5"],
    ["contacts", "show", "1"],
    ["contacts", "duplicates"],
    ["contacts", "timeline", "1"],
    ["segment", "query", "tag:militant", "--limit", "3"],
    ["segment", "query", "--departement", "38", "--reachable", "sms", "--count"],
    ["segment", "list"],
    ["segment", "show", "militants"],
    ["segment", "explain", "tag:militant and departement = 38"],
    ["tag", "list"],
    ["tag", "add", "relance", "tag:militant", "--dry-run"],
    ["consent", "show", "1"],
    ["stats"],
    ["stats", "--by", "canton"],
    ["stats", "--by", "commune", "--section", "growth"],
    ["channels", "list"],
    ["campaigns", "list"],
    ["campaigns", "show", "1"],
    ["send", "--email", "--tag", "sympathisant", "-m", "Bonjour", "--subject", "Réunion", "--dry-run"],
    ["send", "--email", "--tag", "sympathisant", "-m", "Bonjour", "--subject", "Réunion", "--at",
     "2030-12-21 18:00", "--yes"],
    ["campaigns", "pause", "1"],
    ["campaigns", "cancel", "1", "--yes"],
    ["action", "list"],
    ["action", "show", "1"],
    ["action", "stats"],
    ["action", "rsvp", "1", "1", "yes"],
    ["action", "edit", "1", "--capacity", "20"],
    ["interaction", "add", "2", "--type", "door", "--outcome", "reached"],
    ["privacy", "forget", "2", "--dry-run"],
    ["privacy", "retention"],
    ["privacy", "sources"],
    ["privacy", "suppressions"],
    ["audit"],
    ["elections", "add", "municipales-2032", "--round", "2032-03-14", "--area", "commune:38185"],
    ["elections", "list"],
    ["forms", "create", "adhesion", "--title", "Adhésion"],
    ["forms", "list"],
    ["followers", "stats"],
    ["posts", "list"],
    ["inbox"],
    ["run-due"],
    ["profiles", "list"],
    ["electoral", "results", "list"],
    ["optouts", "import", "EXAMPLES/optouts.txt", "--channel", "sms", "--dry-run"],
    ["import", "EXAMPLES/contacts.csv", "--dry-run"],
    ["import", "EXAMPLES/contacts.csv"],
]


@pytest.mark.parametrize("args", NORMAL_RUNS, ids=lambda args: " ".join(args))
def test_the_main_commands_speak_through_the_catalog(pseudo_home, data_vocabulary, args):
    (pseudo_home / "examples" / "optouts.txt").write_text("+33689986987\n+33799788093\n")
    args = [a.replace("EXAMPLES", str(pseudo_home / "examples")) for a in args]
    result = CliRunner().invoke(app, args, input="")
    assert result.exit_code == 0, (args, result.output, result.exception)
    words = _leaks(result.output, [*args, str(pseudo_home / "store" / "dbox.sqlite3")], data_vocabulary)
    assert not words, f"dbox {' '.join(args)}: outside the catalog: {words}\n{result.output}"
