"""The CLI framework's own words in the user's language: help of every command and option, Typer's
help panels ("Options", "[default: ...]"), Click's usage line and its error messages.

Typer (0.2x) ships its own copy of Click without gettext, and reads its help panel titles once,
when ``typer.rich_utils`` is imported. So:

- ``translate_tree`` translates the help of the built command tree (commands, groups, options,
  arguments, the ``--help`` option itself), keeping the English text as the catalog's key: help is
  written once in English in the code, and none can bypass the catalog;
- every command gets ``LocalizedContext``, whose formatter writes ``Usage:`` in the language and
  which sets Typer's panel titles before any help is drawn;
- ``translate_click_error`` rewrites a Click usage error's message (its English sentence
  shapes are few and stable) before Typer prints it; ``translate_typer_texts`` the panel titles.

English runs change nothing: the catalog gives the English text back.
"""

from __future__ import annotations

import re

import typer

from dbox.i18n import N_, _, current_language

# The sentences of Typer's click and of Typer itself, as regular expressions over the English
# message, with the catalog key that says them. Tried in order, the first that matches wins.
_CLICK_MESSAGES = [
    (r"No such option: (?P<name>\S+)(?: Did you mean (?P<suggestion>.+)\?)?(?: \(Possible options: (?P<options>.+)\))?",
     N_("No such option: {name}")),
    (r"No such command '(?P<name>.+?)'\.(?: Did you mean (?P<suggestion>.+)\?)?", N_("No such command '{name}'.")),
    (r"Missing command\.", N_("Missing command.")),
    (r"Missing argument (?P<name>.+?)\.(?: (?P<extra>.*))?", N_("Missing argument {name}.")),
    (r"Missing option (?P<name>.+?)\.(?: (?P<extra>.*))?", N_("Missing option {name}.")),
    (r"Missing parameter: (?P<name>.+)", N_("Missing parameter: {name}")),
    (r"Got unexpected extra arguments? \((?P<args>.*)\)", N_("Got unexpected extra argument(s) ({args})")),
    (r"Option (?P<name>'.+?') requires an argument\.", N_("Option {name} requires an argument.")),
    (r"Option (?P<name>'.+?') requires (?P<n>\d+) arguments\.", N_("Option {name} requires {n} arguments.")),
    (r"Option (?P<name>'.+?') does not take a value\.", N_("Option {name} does not take a value.")),
    (r"Invalid value for (?P<name>.+?): (?P<message>.*)", N_("Invalid value for {name}: {message}")),
    (r"Invalid value: (?P<message>.*)", N_("Invalid value: {message}")),
    (r"Could not open file (?P<name>.+?): (?P<message>.*)", N_("Could not open file {name}: {message}")),
]
# The optional tails of those sentences.
_SUGGESTION = N_("Did you mean {suggestion}?")
_POSSIBLE = N_("(Possible options: {options})")
_COMPILED = [(re.compile(pattern + r"\Z", re.S), key) for pattern, key in _CLICK_MESSAGES]

# What a parameter's value check says (Typer's own, and pydantic's, through Typer).
_VALUE_MESSAGES = [
    (r"(?P<value>'.*') is not one of (?P<choices>.+)\.", N_("{value} is not one of {choices}.")),
    (r"(?P<value>'.*') is not a valid integer\.", N_("{value} is not a valid integer.")),
    (r"(?P<value>'.*') is not a valid float\.", N_("{value} is not a valid number.")),
    (r"(?P<value>'.*') is not a valid boolean\.", N_("{value} is not a valid boolean.")),
    (r"(?P<label>File|Directory|Path) (?P<path>'.*') does not exist\.", None),
    (r"(?P<label>File|Directory|Path) (?P<path>'.*') is a file\.", None),
    (r"(?P<label>File|Directory|Path) (?P<path>'.*') is a directory\.", None),
    (r"(?P<label>File|Directory|Path) (?P<path>'.*') is not readable\.", None),
    (r"(?P<label>File|Directory|Path) (?P<path>'.*') is not writable\.", None),
    (r"Input should be a valid integer.*", N_("a whole number is expected.")),
    (r"Input should be a valid number.*", N_("a number is expected.")),
    (r"Input should be a valid boolean.*", N_("yes or no is expected.")),
    (r"Input should be a valid date.*", N_("a date is expected (YYYY-MM-DD).")),
    (r"Input should be a valid datetime.*", N_("a date and time is expected (YYYY-MM-DD HH:MM).")),
    (r"Choose from:\n\t(?P<choices>.*)", N_("Choose from:\n\t{choices}")),
]
_VALUE_COMPILED = [(re.compile(pattern + r"\Z", re.S), key) for pattern, key in _VALUE_MESSAGES]

_PATH_MESSAGES = {
    ("File", "does not exist."): N_("File {path} does not exist."),
    ("Directory", "does not exist."): N_("Directory {path} does not exist."),
    ("Path", "does not exist."): N_("Path {path} does not exist."),
    ("File", "is a file."): N_("File {path} is a file."),
    ("Directory", "is a file."): N_("Directory {path} is a file."),
    ("Path", "is a file."): N_("Path {path} is a file."),
    ("File", "is a directory."): N_("File {path} is a directory."),
    ("Directory", "is a directory."): N_("Directory {path} is a directory."),
    ("Path", "is a directory."): N_("Path {path} is a directory."),
    ("File", "is not readable."): N_("File {path} is not readable."),
    ("Directory", "is not readable."): N_("Directory {path} is not readable."),
    ("Path", "is not readable."): N_("Path {path} is not readable."),
    ("File", "is not writable."): N_("File {path} is not writable."),
    ("Directory", "is not writable."): N_("Directory {path} is not writable."),
    ("Path", "is not writable."): N_("Path {path} is not writable."),
}


def translate_value_message(text: str) -> str:
    for pattern, key in _VALUE_COMPILED:
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groupdict()
        if key is None:
            tail = text[match.end("path") + 1:]
            key = _PATH_MESSAGES[(groups["label"], tail)]
        return _(key).format(**groups)
    return text


def translate_click_message(text: str) -> str:
    """One of Click's or Typer's English error sentences, said in the current language."""
    for pattern, key in _COMPILED:
        match = pattern.match(text)
        if not match:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        suggestion, options, extra = groups.pop("suggestion", None), groups.pop("options", None), groups.pop("extra", None)
        if "message" in groups:
            groups["message"] = translate_value_message(groups["message"])
        said = _(key).format(**groups)
        if suggestion:
            said += " " + _(_SUGGESTION).format(suggestion=suggestion)
        if options:
            said += " " + _(_POSSIBLE).format(options=options)
        if extra:
            said += " " + translate_value_message(extra)
        return said
    return text


def translate_click_error(exc) -> None:
    """Rewrite a Click exception's message in place, in the current language (Typer prints it)."""
    if current_language() == "en":
        return
    try:
        english = exc.format_message()
    except Exception:       # an exception class we do not know: leave it as it is
        return
    said = translate_click_message(english)
    exc.format_message = lambda: said
    translate_typer_texts()


# Typer's help panel titles and markers, read once from gettext when typer.rich_utils loads.
_TYPER_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
}


def translate_typer_texts() -> None:
    """Typer's panel titles and markers in the current language (before help or an error is drawn)."""
    from typer import rich_utils

    for name, key in _TYPER_TEXTS.items():
        setattr(rich_utils, name, _(key))


class LocalizedFormatter(typer._click.formatting.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix=None) -> None:
        if prefix is None:
            prefix = _("Usage:") + " "
        super().write_usage(prog, args, prefix)


class LocalizedContext(typer.Context):
    formatter_class = LocalizedFormatter

    def make_formatter(self):
        translate_typer_texts()
        return super().make_formatter()


def translate_tree(command) -> None:
    """Translate the help of ``command`` and everything below it, from the English kept aside
    the first time (so a tree can be translated again in another language)."""
    originals = command.__dict__.setdefault("_dbox_english", {"help": command.help, "short_help": command.short_help})
    command.help = _(originals["help"]) if originals["help"] else originals["help"]
    command.short_help = _(originals["short_help"]) if originals["short_help"] else originals["short_help"]
    command.context_class = LocalizedContext
    originals.setdefault("options_metavar", command.options_metavar)
    if originals["options_metavar"] == "[OPTIONS]":
        command.options_metavar = _("[OPTIONS]")
    if getattr(command, "subcommand_metavar", None):
        originals.setdefault("subcommand_metavar", command.subcommand_metavar)
        if originals["subcommand_metavar"] == "COMMAND [ARGS]...":
            command.subcommand_metavar = _("COMMAND [ARGS]...")
    for param in help_params(command):
        english = param.__dict__.setdefault("_dbox_english", getattr(param, "help", None))
        if english:
            param.help = _(english)
        if hasattr(param, "display_type") and "_dbox_display_type" not in param.__dict__:
            param._dbox_display_type = param.display_type
            param.display_type = lambda ctx, shown=param.display_type: _type_label(shown(ctx))
    for sub in (getattr(command, "commands", None) or {}).values():
        translate_tree(sub)


# Typer's value placeholders (<str>, <int>, <path>) as help shows them.
_TYPE_LABELS = {"str": N_("str"), "int": N_("int"), "float": N_("float"), "path": N_("path"),
                "datetime": N_("datetime"), "bool": N_("bool"), "int range": N_("int range"),
                "float range": N_("float range")}


def _type_label(shown):
    if not shown or not (shown.startswith("<") and shown.endswith(">")) or shown[1:-1] not in _TYPE_LABELS:
        return shown
    return "<" + _(_TYPE_LABELS[shown[1:-1]]) + ">"


def help_params(command) -> list:
    """The command's parameters, with its ``--help`` option (Typer's click builds it lazily)."""
    params = list(command.params)
    if getattr(command, "_help_option", False) is None or getattr(command, "_help_option", None) is not None:
        option = command.get_help_option(typer.Context(command, help_option_names=["-h", "--help"]))
        if option is not None and option not in params:
            params.append(option)
    return params


def english_help_texts(command) -> list[str]:
    """Every help text of the tree in English, for the catalog (scripts/i18n.py, the guard test)."""
    texts = []
    originals = command.__dict__.get("_dbox_english") or {"help": command.help, "short_help": command.short_help}
    texts += [t for t in (originals["help"], originals["short_help"]) if t]
    for param in help_params(command):
        english = param.__dict__.get("_dbox_english", getattr(param, "help", None))
        if english:
            texts.append(english)
    for sub in (getattr(command, "commands", None) or {}).values():
        texts += english_help_texts(sub)
    return texts
