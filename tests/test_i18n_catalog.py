"""The guard of issue 17, first half: every user-facing string has its French translation
(docs/i18n.md). A fresh extraction of the code (every ``_()``, ``ngettext()``, ``N_()``, the Jinja
templates and the help of every command and option) against the committed French catalog, and the
compiled ``.mo`` against its ``.po`` (scripts/i18n.py does the extraction, in about a second).
The second half, no string bypassing the catalog, is tests/test_i18n_guard.py."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_has_a_french_translation():
    problems = _tool().problems("fr")
    assert not problems, "the French catalog is behind the code (scripts/i18n.py update, translate, compile):\n" \
        + "\n".join(problems[:40])


def test_placeholders_survive_translation():
    """A French message names the same {placeholders} as its English key: .format() would fail on
    a missing one, and a translator's typo would show up as an error in front of a user."""
    tool = _tool()
    catalog = tool.read(tool.catalog_path("fr"))
    field = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z_0-9]*)?[^{}]*\}(?!\})")
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        names = {m.group(1) for m in field.finditer(ids[-1])}
        for string in strings:
            if {m.group(1) for m in field.finditer(string)} != names:
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, "\n".join(wrong)


