"""The guard of issue 17, second half: no user-facing string bypasses the catalog (docs/i18n.md).
The first half, every message having its French translation, is tests/test_i18n_catalog.py.

A pseudo-locale run: a catalog that wraps every message in ⟦ ⟧ replaces the French one, then the
``--help`` of every command and a set of error paths run; whatever words are left outside the
markers (beyond command and option names, placeholders and values) bypassed the catalog.
"""

import re

import pytest
import typer.main
from typer.testing import CliRunner

from dbox import i18n
from dbox.cli import app

class Pseudo:
    """Every message wrapped in markers: what is shown outside them did not go through the catalog."""

    @staticmethod
    def gettext(message):
        return f"⟦{message}⟧"

    @staticmethod
    def ngettext(singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"


@pytest.fixture
def pseudo(monkeypatch):
    monkeypatch.setenv("COLUMNS", "2000")      # no help line wrapped: a marker stays on its line
    monkeypatch.setattr(i18n, "choose_language", lambda *args, **kwargs: "pseudo")
    real_use = i18n.use
    monkeypatch.setattr(i18n, "use", lambda language, translations=None: real_use(language, Pseudo()))
    yield CliRunner()
    i18n.reset()


def _walk(command, path=()):
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, path + (name,))


def _allowed_words():
    """Words a screen may show untranslated: command and option names, metavars, choices."""
    words = {"dbox", "root", "help"}      # CliRunner names the program after the root callback
    for path, command in _walk(typer.main.get_command(app)):
        words.update(w for name in path for w in re.findall(r"[A-Za-z]{2,}", name))
        for param in command.params:
            for name in list(getattr(param, "opts", ())) + list(getattr(param, "secondary_opts", ())):
                words.update(re.findall(r"[A-Za-z]{2,}", name))
            if getattr(param, "metavar", None):
                words.update(re.findall(r"[A-Za-z]{2,}", param.metavar))
            words.update(re.findall(r"[A-Za-z]{2,}", param.name or ""))
    return words


def _outside_markers(text: str) -> list[str]:
    """The words shown outside ⟦ ⟧ (nested markers included)."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"⟦[^⟦⟧]*⟧", " ", text, flags=re.S)
    text = re.sub(r"⟦[^⟦⟧\n]*", " ", text)     # a command list shows the first line of a help text only
    text = re.sub(r"<[^<>]+>", " ", text)               # value placeholders: <path>, <texte>
    return re.findall(r"[A-Za-zÀ-ÿ]{2,}", text)


def test_every_help_screen_goes_through_the_catalog(pseudo):
    allowed = _allowed_words()
    leaks = {}
    for path, _command in _walk(typer.main.get_command(app)):
        result = pseudo.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "⟦" in result.output, f"dbox {' '.join(path)} --help: nothing went through the catalog"
        words = [w for w in _outside_markers(result.output) if w not in allowed]
        if words:
            leaks[" ".join(("dbox",) + path)] = sorted(set(words))
    assert not leaks, "help text outside the catalog:\n" + "\n".join(f"{k}: {v}" for k, v in leaks.items())


# Error paths: usage errors of Click and Typer, and dbox's own errors (with their hints).
ERROR_RUNS = [
    ["--bogus"],
    ["contacts", "list", "--bogus"],
    ["contacts", "lis"],
    ["contacts", "list", "--limit", "many"],
    ["import"],
    ["segment", "query", "tag:"],
    ["segment", "query", "--format", "xml"],
    ["segment", "query", "canton = "],
    ["segment", "query", "age >> 3"],
    ["segment", "show", "nope"],
    ["segment", "save", "1 bad name", "tag:x"],
    ["contacts", "show", "99999"],
    ["consent", "grant"],
    ["tag", "add", "militant"],
    ["stats", "--by", "nowhere"],
    ["elections", "add", "x", "--round", "someday", "--area", "france"],
    ["action", "create", "", "--type", "tractage", "--date", "2026-12-05T10:00"],
    ["action", "show", "12345"],
    ["privacy", "forget", "99999", "--yes"],
    ["campaigns", "show", "4242"],
    ["--lang", "de", "contacts", "count"],
]


@pytest.mark.parametrize("args", ERROR_RUNS, ids=" ".join)
def test_error_paths_go_through_the_catalog(store_file, pseudo, args):
    allowed = _allowed_words()
    result = pseudo.invoke(app, args)
    assert result.exit_code != 0, result.output
    words = [w for w in _outside_markers(result.output) if w not in allowed]
    # the user's own input may be echoed back (a value, a name, an id): drop what came from argv
    given = {w for arg in args for w in re.findall(r"[A-Za-zÀ-ÿ]{2,}", arg)}
    words = [w for w in words if w not in given]
    assert not words, f"dbox {' '.join(args)}: outside the catalog: {sorted(set(words))}\n{result.output}"
