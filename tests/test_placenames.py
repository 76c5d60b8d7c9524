"""French place names after "de" and "à" (dbox.placenames), checked against INSEE on every commune
of the shipped table, and used in message templates."""

from __future__ import annotations

import collections

import pytest

from dbox import placenames
from dbox.geo import reference_rows
from dbox.placenames import a, de

# INSEE's "charnière" for each TNCC (type de nom en clair): what "de" and "à" make of the name as
# the table writes it (article restored). n: characters of the article that go away.
_DE = {"0": ("de ", 0), "1": ("d'", 0), "2": ("du ", 3), "3": ("de ", 0), "4": ("des ", 4), "5": ("de ", 0),
       "6": ("des ", 4), "7": ("de ", 0), "8": ("de ", 0)}
_A = {"0": ("à ", 0), "1": ("à ", 0), "2": ("au ", 3), "3": ("à ", 0), "4": ("aux ", 4), "5": ("à ", 0),
      "6": ("aux ", 4), "7": ("à ", 0), "8": ("à ", 0)}

# Names INSEE files without an article (TNCC 0 or 1) though they start with one: INSEE's charnière
# would give "de Le Vernet-Chaméane"; French contracts it, and so does dbox.
_ARTICLE_IN_NAME = {"Le Vernet-Chaméane": ("du Vernet-Chaméane", "au Vernet-Chaméane")}


def test_the_issue_examples():
    assert de("Grenoble") == "de Grenoble"
    assert de("Allevard") == "d'Allevard"
    assert de("Le Bourg-d'Oisans") == "du Bourg-d'Oisans"
    assert de("Les Avenières") == "des Avenières"
    assert a("Grenoble") == "à Grenoble"
    assert a("Le Bourg-d'Oisans") == "au Bourg-d'Oisans"
    assert a("Les Avenières") == "aux Avenières"
    assert (de("La Mure"), a("La Mure")) == ("de La Mure", "à La Mure")
    assert (de("L'Isle-d'Abeau"), a("L'Isle-d'Abeau")) == ("de L'Isle-d'Abeau", "à L'Isle-d'Abeau")
    assert (de("Le Havre"), a("Le Havre")) == ("du Havre", "au Havre")
    assert (de("Hyères"), de("Échirolles"), de("Yerres")) == ("d'Hyères", "d'Échirolles", "d'Yerres")
    assert (de("Aux Marais"), a("Aux Marais")) == ("des Marais", "aux Marais")
    assert (de("Los Masos"), a("Los Masos")) == ("de Los Masos", "à Los Masos")


def test_written_by_hand():
    assert de("  le   bourg-d'oisans ") == "du bourg-d'oisans"        # spaces collapsed, case kept
    assert de("LES AVENIÈRES") == "DES AVENIÈRES"
    assert a("LE HAVRE") == "AU HAVRE"
    assert de("L’Isle-d’Abeau") == "de L’Isle-d’Abeau"                  # curly apostrophe
    assert de("Lens") == "de Lens" and de("Lestelle") == "de Lestelle" and de("Laval") == "de Laval"
    assert de("Aux-Aussat") == "d'Aux-Aussat"          # a hyphen: part of the name, not the article
    assert de("") == "" and a(None) == "" and de("   ") == ""
    assert de("Hautefort") == "d'Hautefort"            # INSEE: TNCC 1
    assert de("Honfleur") == "de Honfleur"             # INSEE: TNCC 0, an aspirated h
    assert de("Hxyzville") == "d'Hxyzville"            # unknown: mute, as most are


def test_every_commune_of_the_table_as_insee_writes_it():
    """Each of the 34,920 rows: what de() and à() give is INSEE's form for its TNCC, except the
    names INSEE files without article that begin with one, and the homonyms INSEE itself writes
    both ways (one "de", the other "d'": the mute form is kept for both)."""
    rows = list(reference_rows())
    assert len(rows) == 34920
    by_name = collections.defaultdict(set)
    for row in rows:
        by_name[row["name"]].add(row["tncc"])
    both_ways = {n for n, codes in by_name.items() if {"0", "1"} <= codes}
    wrong, checked, kinds = [], 0, collections.Counter()
    for row in rows:
        name, tncc = row["name"], row["tncc"]
        kinds[tncc] += 1
        if name in _ARTICLE_IN_NAME:
            expected = _ARTICLE_IN_NAME[name]
        else:
            (p_de, cut_de), (p_a, cut_a) = _DE[tncc], _A[tncc]
            expected = (p_de + name[cut_de:], p_a + name[cut_a:])
            if name in both_ways:
                expected = ("d'" + name, expected[1])
        got = (de(name), a(name))
        checked += 1
        if got != expected:
            wrong.append((row["insee"], name, tncc, got, expected))
    assert not wrong, f"{len(wrong)} names wrong, e.g. {wrong[:10]}"
    assert checked == 34920
    # every kind of name is there: no article, elided, Le, La, Les, L', Aux, Los
    assert {k for k, n in kinds.items() if n} >= {"0", "1", "2", "3", "4", "5", "6", "8"}
    assert both_ways == {"Halloy", "Haraucourt", "Hargnies", "Hauterive", "Hauteroche", "Hauteville", "Herly",
                         "Heuqueville", "Homps", "Houssay"}


def test_initial_h_comes_from_the_table():
    aspirated = placenames._aspirated_h()
    assert 200 < len(aspirated) < 300
    assert "honfleur" in aspirated and "hyeres" not in aspirated


def test_in_a_message_template():
    from dbox.sending.bounded import ALLOWED_FILTERS, make_environment

    assert {"de", "a"} <= ALLOWED_FILTERS
    env = make_environment(autoescape=False)
    template = env.from_string("Réunion publique {{ commune | a }}, salle des fêtes {{ commune | de }}.")
    assert (template.render(commune="Le Bourg-d'Oisans")
            == "Réunion publique au Bourg-d'Oisans, salle des fêtes du Bourg-d'Oisans.")
    assert env.from_string("{{ commune | de | default('de chez vous', true) }}").render(commune="") == "de chez vous"


def test_refused_nowhere_the_others_are_allowed():
    from dbox.sending.bounded import check_template, make_environment

    env = make_environment(autoescape=False)
    check_template("body", env.parse("{{ commune | de }} {{ commune | a }}"))
    with pytest.raises(Exception):
        check_template("body", env.parse("{{ commune | attr('x') }}"))


def test_in_an_invitation():
    """An invitation binds the action's fields as literals (dbox.organizing.invite), then renders
    like any message: the filters apply to them too."""
    from dbox.organizing.invite import bind_action
    from dbox.sending.bounded import make_environment

    text = bind_action("Salle des fêtes {{ action.commune | de }}, {{ first_name }}.",
                       {"commune": "Les Avenières"}, "body")
    env = make_environment(autoescape=False)
    assert env.from_string(text).render(first_name="Anne") == "Salle des fêtes des Avenières, Anne."


def test_a_campaign_preview_says_it_in_french(store, cli, tmp_path):
    """The whole path: contacts imported (the commune named as INSEE writes it), a campaign's
    --dry-run renders each message with the filters."""
    path = tmp_path / "c.csv"
    path.write_text("Nom,Prénom,Portable,Code postal,Ville,Accord SMS\n"
                    "Martin,Anne,0612345678,38520,Le Bourg-d'Oisans,oui\n", encoding="utf-8")
    assert cli("import", path).exit_code == 0
    result = cli("send", "--sms", "-m", "Réunion {{ commune | a }}, salle des fêtes {{ commune | de }}", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Réunion au Bourg-d'Oisans, salle des fêtes du Bourg-d'Oisans" in result.output
