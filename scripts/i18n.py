"""dbox's message catalogs: extract the English messages, update the French catalog, compile it.

    .venv/bin/python scripts/i18n.py update     # extract, then merge into locale/fr/.../dbox.po
    .venv/bin/python scripts/i18n.py compile    # dbox.po -> dbox.mo (committed, shipped in the package)
    .venv/bin/python scripts/i18n.py check      # what tests/test_i18n_catalog.py checks, as a report

The messages are every ``_("...")``, ``ngettext("...", "...", n)`` and ``N_("...")`` of src/dbox
(Babel's Python extractor, and Jinja's for the ``*.j2`` templates) plus the help text of every command and option, taken from the built
command tree (``dbox.commands.framework.english_help_texts``): help is written in English in the
code, unmarked, and translated when the tree is built. Rules: docs/i18n.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "dbox"
LOCALE = PACKAGE / "locale"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "NC_": ((1, "c"), 2)}


def catalog_path(language: str = "fr") -> Path:
    return LOCALE / language / "LC_MESSAGES" / "dbox.po"


def extract():
    """A Babel ``Catalog`` of every message in the code and the command tree, in English."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    catalog = Catalog(project="dbox", charset="utf-8", fuzzy=False)
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract_from_file(
                "python", path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            catalog.add(message, locations=[(relative, lineno)], auto_comments=comments, context=context)
    for path in sorted(PACKAGE.rglob("*.j2")):      # Jinja templates: {{ _("...") }}, {{ ngettext(...) }}
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract_from_file(
                "jinja2.ext:babel_extract", path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
                strip_comment_tags=True, options={"trim_blocks": "true", "lstrip_blocks": "true"}):
            catalog.add(message, locations=[(relative, lineno)], auto_comments=comments, context=context)
    for text in help_texts():
        if text not in catalog:
            catalog.add(text, locations=[("command help", 0)])
    return catalog


def help_texts() -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    import typer.main

    from dbox.cli import app
    from dbox.commands.framework import english_help_texts

    return english_help_texts(typer.main.get_command(app))


def read(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        return read_po(fh, locale=path.parent.parent.name)


def write(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=False, include_previous=False)


def mo_bytes(catalog) -> bytes:
    import io

    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def update(language: str = "fr") -> None:
    template = extract()
    path = catalog_path(language)
    if path.exists():
        catalog = read(path)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
    else:
        from babel.messages.catalog import Catalog

        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=language, project="dbox", charset="utf-8", fuzzy=False,
                          header_comment=f"# dbox's messages in {language} (scripts/i18n.py, docs/i18n.md).")
        catalog.update(template, no_fuzzy_matching=True)
    if language == "fr":
        # French as gettext has always spelled it (0 and 1 singular): two forms, not CLDR's three.
        catalog._num_plurals, catalog._plural_expr = 2, "(n > 1)"
    write(catalog, path)
    missing = untranslated(catalog)
    print(f"{path.relative_to(ROOT)}: {len(template)} messages, {len(missing)} without a translation")


def compile_catalog(language: str = "fr") -> None:
    path = catalog_path(language)
    path.with_suffix(".mo").write_bytes(mo_bytes(read(path)))
    print(f"{path.with_suffix('.mo').relative_to(ROOT)} written")


def untranslated(catalog) -> list[str]:
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def problems(language: str = "fr") -> list[str]:
    """What keeps the catalog from being complete and current, one line each."""
    fresh = extract()
    catalog = read(catalog_path(language))
    found = []
    for message in fresh:
        if message.id and catalog.get(message.id, context=message.context) is None:
            found.append(f"not in the catalog: {message.id!r} ({message.locations[0][0]})")
    found += [f"no translation: {m!r}" for m in untranslated(catalog)]
    mo = catalog_path(language).with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
        found.append(f"{mo.relative_to(ROOT)} is older than the .po: run scripts/i18n.py compile")
    return found


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_catalog()
    elif command == "check":
        found = problems()
        print("\n".join(found) or "the French catalog is complete")
        sys.exit(1 if found else 0)
    else:
        sys.exit(f"unknown command {command!r}: update, compile or check")


if __name__ == "__main__":
    main()
