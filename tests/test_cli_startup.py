"""`dbox --help` stays quick: it loads the CLI framework and the command modules, nothing else.

The heavy libraries (Twilio, Jinja2, openpyxl, phonenumbers, ...) and dbox's own library areas load
inside the commands that need them. This test lists what a real `dbox --help` process imported;
the time itself is measured in bench/help_bench.py, never here."""

import json
import subprocess
import sys

import pytest

# Third-party packages dbox depends on that must wait until a command needs them.
HEAVY = ("twilio", "jinja2", "openpyxl", "phonenumbers", "email_validator", "requests", "requests_oauthlib",
         "charset_normalizer", "keyring", "holidays", "fpdf", "pluggy", "gsm0338", "twitter_text", "tomli_w",
         "platformdirs", "babel", "plotly", "matplotlib", "datasette", "sqlcipher3", "urllib3", "shapely")
# The only dbox modules a help screen may need.
# dbox.i18n chooses the language before any help is drawn, from the config file too (docs/i18n.md).
ALLOWED_DBOX = ("dbox", "dbox.__main__", "dbox.cli", "dbox.errors", "dbox.commands", "dbox.i18n", "dbox.paths")

PROBE = """
import json, sys
sys.argv = ["dbox", *json.loads(sys.argv[1])]
from dbox.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _modules_loaded_by(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "HOME": "/nonexistent"})
    marker = result.stderr.rfind("MODULES ")
    assert marker >= 0, result.stderr
    assert "Usage: dbox" in result.stdout, result.stdout
    return json.loads(result.stderr[marker + len("MODULES "):])


@pytest.mark.parametrize("args", [("--help",), ("send", "--help"), ("segment", "query", "--help")])
def test_help_imports_nothing_heavy(args):
    modules = _modules_loaded_by(*args)
    heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert not heavy, f"`dbox {' '.join(args)}` imported {heavy}: import them inside the command that needs them"
    ours = [m for m in modules if m.split(".")[0] == "dbox"
            and not (m in ALLOWED_DBOX or m.startswith("dbox.commands."))]
    assert not ours, f"`dbox {' '.join(args)}` imported library modules {ours}: import them inside the commands"


def test_the_probe_sees_a_heavy_import():
    """The check above can fail: a command that ran (not just its help) shows up."""
    modules = _modules_loaded_by("contacts", "list", "--help")
    assert "typer" in modules and "dbox.commands.contacts" in modules
