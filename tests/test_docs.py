"""The README's commands are the ones CI runs, and every command has help text."""

import re
from pathlib import Path

import typer.main

from dbox.cli import app

ROOT = Path(__file__).resolve().parent.parent


def readme_commands():
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_opens_with_setup_and_test_commands():
    commands = readme_commands()
    assert "import examples/contacts.csv" in commands[0]
    assert commands[1].endswith("python -m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def _is_group(command) -> bool:
    # Typer's groups subclass click's, or (typer >= 0.2x) the click copy typer vendors: a group is
    # what has sub-commands, whichever click it comes from.
    return isinstance(getattr(command, "commands", None), dict)


def _walk(command, path=()):
    yield path, command
    if _is_group(command):
        for name, sub in command.commands.items():
            yield from _walk(sub, path + (name,))


def test_the_walk_reaches_every_command():
    paths = {" ".join(p) for p, _ in _walk(typer.main.get_command(app))}
    assert {"send", "segment query", "action invite", "privacy forget", "campaigns show"} <= paths


def test_every_command_has_help():
    root = typer.main.get_command(app)
    missing = [" ".join(p) for p, c in _walk(root) if p and not (c.help or c.short_help)]
    assert not missing, f"commands without help: {missing}"


def test_every_command_is_documented():
    docs = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    root = typer.main.get_command(app)
    undocumented = [" ".join(p) for p, c in _walk(root)
                    if p and not _is_group(c) and f"dbox {' '.join(p)}" not in docs
                    and f"`{p[-1]}`" not in docs]
    assert not undocumented, f"commands missing from README.md and docs/: {undocumented}"
