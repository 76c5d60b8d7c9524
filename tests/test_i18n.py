"""dbox speaks the user's language: chosen from --lang, config.toml, then the locale (docs/i18n.md);
Click's and Typer's own words follow; dates, numbers and euros are written the local way."""

import os
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from dbox import i18n
from dbox.cli import app
from dbox.config import update_section


@pytest.fixture
def french():
    i18n.use("fr")
    yield
    i18n.reset()


@pytest.mark.parametrize("environ, language", [
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_BE.UTF-8"}, "fr"),
    ({"LANG": "fr"}, "fr"),
    ({"LANG": "C"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({}, "en"),
    # gettext's order: LANGUAGE, LC_ALL, LC_MESSAGES, LANG; the first one set wins
    ({"LC_ALL": "fr_FR.UTF-8", "LANG": "C"}, "fr"),
    ({"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}, "en"),
    ({"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LANGUAGE": "de:fr", "LANG": "C"}, "fr"),
    ({"LANGUAGE": "en:fr", "LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANGUAGE": "de", "LANG": "fr_FR.UTF-8"}, "fr"),     # no German: LANGUAGE says nothing dbox speaks
])
def test_the_language_comes_from_the_locale(environ, language):
    assert i18n.language_from_environment(environ) == language


def test_lang_option_then_config_then_locale():
    assert i18n.choose_language(None, {"LANG": "fr_FR.UTF-8"}) == "fr"
    update_section("dbox", {"lang": "en"})
    assert i18n.choose_language(None, {"LANG": "fr_FR.UTF-8"}) == "en"
    assert i18n.choose_language("fr", {"LANG": "C"}) == "fr"
    update_section("dbox", {"lang": "fr"})
    assert i18n.choose_language(None, {"LANG": "C"}) == "fr"
    assert i18n.choose_language("en", {"LANG": "C"}) == "en"


def test_a_broken_config_does_not_keep_help_from_showing(tmp_path):
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("lang = [unclosed\n")
    assert i18n.choose_language(None, {"LANG": "fr_FR.UTF-8"}) == "fr"


def test_messages_in_french_and_english(french):
    assert i18n._("Error:") == "Erreur :"
    i18n.use("en")
    assert i18n._("Error:") == "Error:"


def _dbox(*args, lang="C.UTF-8", **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    environ.update(LANG=lang, COLUMNS="120", **env)
    return subprocess.run([sys.executable, "-m", "dbox", *args], capture_output=True, text=True, env=environ,
                          timeout=60)


def test_help_is_french_under_a_french_locale_and_english_under_c():
    french = _dbox("--help", lang="fr_FR.UTF-8")
    assert french.returncode == 0, french.stderr
    assert "Utilisation : dbox" in french.stdout
    assert "Commandes" in french.stdout and "Afficher cette aide et quitter." in french.stdout
    assert "Show this message" not in french.stdout
    english = _dbox("--help", lang="C")
    assert "Usage: dbox" in english.stdout and "Show this message and exit." in english.stdout
    assert "Utilisation" not in english.stdout


def test_lang_option_wins_over_the_locale():
    result = _dbox("--lang", "en", "--help", lang="fr_FR.UTF-8")
    assert "Usage: dbox" in result.stdout
    result = _dbox("--db", "x.sqlite3", "--lang=fr", "--help", lang="C")
    assert "Utilisation : dbox" in result.stdout


def test_click_errors_in_french():
    result = _dbox("contacts", "list", "--bogus", lang="fr_FR.UTF-8")
    assert result.returncode == 2
    assert "Option inconnue : --bogus" in result.stderr
    assert "Erreur" in result.stderr and "Error" not in result.stderr
    result = _dbox("contacts", "lis", lang="fr_FR.UTF-8")
    assert "Commande inconnue : « lis ». Vouliez-vous dire 'list' ?" in result.stderr


def test_an_unknown_language_is_one_clear_error():
    result = CliRunner().invoke(app, ["--lang", "de", "contacts", "count"])
    assert result.exit_code == 3
    assert "unknown language 'de': choose fr or en" in result.output


def test_in_process_runs_switch_language_and_back():
    """The command tree is translated for each run: French, then English again, in one process."""
    runner = CliRunner()
    assert "Afficher cette aide" in runner.invoke(app, ["--lang", "fr", "--help"]).output
    assert "Show this message" in runner.invoke(app, ["--lang", "en", "--help"]).output


@pytest.mark.parametrize("text, said", [
    ("No such option: --x", "Option inconnue : --x"),
    ("No such option: --colums Did you mean --columns?", "Option inconnue : --colums Vouliez-vous dire --columns ?"),
    ("Missing argument 'FILE'.", "Il manque l’argument 'FILE'."),
    ("Got unexpected extra arguments (a b)", "Argument(s) en trop : a b"),
    ("Option '--db' requires an argument.", "L’option '--db' attend une valeur."),
    ("Invalid value for '--limit': 'x' is not a valid integer.",
     "Valeur incorrecte pour '--limit' : 'x' n’est pas un nombre entier."),
    ("Something Click never said", "Something Click never said"),
])
def test_click_sentences(french, text, said):
    from dbox.commands.framework import translate_click_message

    assert translate_click_message(text) == said


def test_local_formats_in_french(french):
    moment = datetime(2026, 12, 3, 19, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert i18n.format_datetime(moment) == "jeudi 3 décembre 2026 à 19 h"
    assert i18n.format_datetime(moment.replace(minute=30)) == "jeudi 3 décembre 2026 à 19 h 30"
    assert i18n.format_decimal(1234.5) == "1\u202f234,5"
    assert i18n.format_euros(84.83) == "84,83\u00a0€"
    assert i18n.format_euros(1234) == "1\u202f234,00\u00a0€"
    assert i18n.format_local_time(datetime(2026, 12, 3, 18, 0), "Europe/Paris") == "03/12/2026 19:00 (Europe/Paris)"


def test_local_formats_in_english():
    i18n.use("en")
    moment = datetime(2026, 12, 3, 19, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert i18n.format_datetime(moment) == "Thursday 3 December 2026 at 7:05 pm"
    assert i18n.format_decimal(1234.5) == "1,234.5"
    assert i18n.format_euros(84.83) == "€84.83"
    assert i18n.format_local_time(datetime(2026, 7, 3, 18, 0), "Europe/Paris") == "2026-07-03 20:00 (Europe/Paris)"


def test_excel_exports_speak_the_language_and_csv_stays_english(french):
    """--excel is for people (French headers under French); --format csv is for programs."""
    import io

    from dbox.output import write_csv

    excel, plain = io.StringIO(), io.StringIO()
    write_csv([("Ana", "+33785812350")], ["first_name", "mobile"], excel, excel=True)
    write_csv([("Ana", "+33785812350")], ["first_name", "mobile"], plain)
    assert excel.getvalue().splitlines()[0] == "prénom;portable"
    assert plain.getvalue().splitlines()[0] == "first_name,mobile"
