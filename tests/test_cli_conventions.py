"""One way to say it on the command line: shared options, one selection, help that reads well, and a
README that names commands and options the CLI really has."""

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from dbox.cli import app, reflow

ROOT = Path(__file__).resolve().parent.parent
SELECTION_FLAGS = {"--segment", "--canton", "--commune", "--departement", "--circo", "--tag", "--reachable"}
# The commands that choose contacts (issue 13): all take the same selection.
SELECTING = ("segment query", "segment save", "tag add", "tag remove", "send", "consent grant", "consent withdraw",
             "action invite", "action sheet", "stats", "report")


def _commands(command=None, path=()):
    command = command or typer.main.get_command(app)
    subs = getattr(command, "commands", None)
    if isinstance(subs, dict):
        for name, sub in subs.items():
            yield from _commands(sub, path + (name,))
    else:
        yield " ".join(path), command


COMMANDS = dict(_commands())


def _options(command) -> dict[str, object]:
    return {name: param for param in command.params for name in (*param.opts, *param.secondary_opts)
            if name.startswith("-")}


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "1000", "TERMINAL_WIDTH": "1000"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", SELECTING)
def test_every_selecting_command_takes_the_same_selection(name):
    command = COMMANDS[name]
    options = _options(command)
    assert SELECTION_FLAGS <= set(options), f"dbox {name} lacks {sorted(SELECTION_FLAGS - set(options))}"
    expression = [p for p in command.params if p.name == "sel_expression"]
    assert expression and (expression[0].param_type_name == "argument" or "--filter" in options)


@pytest.mark.parametrize("option", ["--yes", "--format", "--output", "--output-dir", "--segment", "--tag"])
def test_a_shared_option_has_one_definition(option):
    helps = {}
    for name, command in COMMANDS.items():
        param = _options(command).get(option)
        if param is not None:
            helps.setdefault(param.help, []).append(name)
    # --format: lists (table|csv|json) or one record (text|json); a printable sheet is pdf|html.
    # --output: a file, except where it names a folder or the report page.
    allowed = {"--format": 3, "--output": 3}.get(option, 1)
    if option == "--tag":
        # `forms create --tag benevole` (issue 15) gives a tag instead of selecting by one: that
        # command selects no contact, so the two meanings never meet on one command line.
        giving = {h: names for h, names in helps.items() if names == ["forms create"]}
        assert len(giving) <= 1 and not set(SELECTING) & {"forms create"}
        helps = {h: names for h, names in helps.items() if h not in giving}
    assert len(helps) <= allowed, helps


def test_yes_and_format_are_the_same_everywhere():
    yes = {n for n, c in COMMANDS.items() if "--yes" in _options(c)}
    assert {"send", "action invite", "consent grant", "tag add", "privacy forget", "restore", "post"} <= yes
    assert all(_options(COMMANDS[n])["--yes"].opts == ["--yes", "-y"] or
               set(_options(COMMANDS[n])["--yes"].opts) == {"--yes", "-y"} for n in yes)


def test_invite_and_send_share_the_message_options():
    send, invite = _options(COMMANDS["send"]), _options(COMMANDS["action invite"])
    shared = {"--sms", "--email", "--message", "--template", "--subject", "--html", "--yes", "--dry-run", "--limit",
              "--at", "--now"}
    assert shared <= set(send) and shared <= set(invite)
    assert all(send[o].help == invite[o].help for o in shared)


@pytest.mark.parametrize("args", [("send", "--sms", "-m", "x", "--dry-run", "true"), ("segment", "query", "--count", "true"),
                                  ("stats", "--empty", "yes")])
def test_a_value_after_a_flag_is_explained(tmp_path, args):
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "s.sqlite3"), *args])
    assert result.exit_code == 3
    assert f"Error: '{args[-1]}' is not a filter expression: flags take no value" in result.output
    assert "hint: write --dry-run, not --dry-run true" in result.output


def test_an_unknown_format_is_refused_before_any_work(tmp_path):
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "s.sqlite3"), "contacts", "show", "1", "--format", "xml"])
    assert result.exit_code == 3
    assert "Error: unknown format 'xml': choose one of text, json" in result.output
    assert not (tmp_path / "s.sqlite3").exists()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_no_bool_placeholder_and_wraps_by_itself(name):
    output = _help(*name.split())
    assert "<bool>" not in output
    lines = [line.strip(" │") for line in output.splitlines()]
    for paragraph in reflow(COMMANDS[name].help or "").split("\n\n"):
        if "\n" in paragraph or "[" in paragraph or "\\" in paragraph or len(paragraph) < 30:
            continue      # kept as written, or rich markup
        start = next((line for line in lines if paragraph[:25] in line), None)
        assert start is not None, (paragraph, output)
        assert start.rstrip().endswith(paragraph[-15:]), f"dbox {name}: the paragraph was broken: {start!r}"


def test_reflow_keeps_paragraphs_lists_and_verbatim_blocks():
    text = ("One sentence\n    broken here.\n\n    Second\n    paragraph.\n\n    - a list\n    - stays\n\n"
            "    \b\n    verbatim\n    block")
    assert reflow(text) == "One sentence broken here.\n\nSecond paragraph.\n\n- a list\n- stays\n\n\b\nverbatim\nblock"


# -- README and --help agree --------------------------------------------------------------------------

def _readme_table_commands():
    """The first cell of each row of README's command table: `dbox ...` snippets."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Commands"):text.index("###", text.index("## Commands"))]
    for row in table.splitlines():
        if row.startswith("| `dbox"):
            cell = row.split(" | ")[0]
            yield from re.findall(r"`(dbox [^`]+)`", cell)


def _expand(snippet: str):
    """`dbox campaigns list\\|show X` -> (["campaigns", "list"], words), (["campaigns", "show"], words)."""
    words = snippet.replace("\\|", "|").split()[1:]
    paths = [[]]
    rest = []
    for i, word in enumerate(words):
        if re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", word) and not rest:
            paths = [p + [alt] for p in paths for alt in word.split("|")]
        else:
            rest = words[i:]
            break
    return paths, rest


def test_readme_names_real_commands_and_options():
    snippets = list(_readme_table_commands())
    assert len(snippets) > 30
    problems = []
    for snippet in snippets:
        paths, rest = _expand(snippet)
        options = {w.split("=")[0] for alt in rest for w in alt.strip("[]").split("|") if w.startswith("--")}
        for path in paths:
            # an argument of the command (x, linkedin...) is not a sub-command: keep the longest real path
            while path and " ".join(path) not in COMMANDS and not any(c.startswith(" ".join(path) + " ")
                                                                       for c in COMMANDS):
                path = path[:-1]
            name = " ".join(path)
            if name not in COMMANDS:
                problems.append(f"{snippet}: `dbox {name}` is a group, not a command")
                continue
            missing = options - set(_options(COMMANDS[name]))
            if missing:
                problems.append(f"{snippet}: dbox {name} has no {sorted(missing)}")
    assert not problems, problems


def test_readme_examples_use_real_commands_and_options():
    import shlex

    text = (ROOT / "README.md").read_text()
    checked, problems = 0, []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if not line.startswith("dbox "):
                continue
            words = shlex.split(line)
            path = [w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w)]
            while path and " ".join(path) not in COMMANDS:
                path = path[:-1]
            name = " ".join(path)
            if name not in COMMANDS:
                problems.append(f"{line}: no such command")
                continue
            missing = {w.split("=")[0] for w in words if w.startswith("-")} - set(_options(COMMANDS[name]))
            if missing:
                problems.append(f"{line}: dbox {name} has no {sorted(missing)}")
            checked += 1
    assert checked >= 10 and not problems, problems
