"""The filter terms organizing adds: attended:, invited:, attended.count, support, last_interaction,
volunteer — parsed, printed back, compiled, and exact about people with no record."""

import pytest
from test_organizing_support import day_after, import_people, local_text, store, template_store  # noqa: F401

from dbox import segments
from dbox.errors import InputError
from dbox.filters import parse, to_text
from dbox.filters.nodes import ActionRef, Compare, Flag, IsEmpty, Not
from dbox.store import organizing as so
from dbox.store.db import utcnow

pytestmark = pytest.mark.engines


@pytest.mark.parametrize("text, canonical", [
    ('attended:"Porte-à-porte quartier Mistral"', 'attended:"Porte-à-porte quartier Mistral"'),
    ("attended:12", "attended:12"),
    ("invited:'Réunion publique'", 'invited:"Réunion publique"'),
    ("Bénévole", "volunteer"),
    ("not volunteer", "not volunteer"),
    ("attended.count >= 2", "attended.count >= 2"),
    ("soutien in (4, 5)", "support in (4, 5)"),
    ("support is empty", "support is empty"),
    ("last_interaction < 90 days ago", "last_interaction < 90 days ago"),
    ("derniere_interaction >= 2026-01-01", "last_interaction >= 2026-01-01"),
])
def test_parse_and_print_back(text, canonical):
    tree = parse(text)
    assert to_text(tree) == canonical
    assert parse(to_text(tree)) == tree


def test_nodes():
    assert parse("attended:3") == ActionRef("attended", "3")
    assert parse("volunteer") == Flag("volunteer")
    assert parse("not support is empty") == Not(IsEmpty("support"))
    assert isinstance(parse("attended.count = 0"), Compare)


@pytest.mark.parametrize("text, message", [
    ("attended:", 'expected an action (its id or its title) after "attended:" at column 10'),
    ("invited: and x", 'expected an action (its id or its title) after "invited:" at column 10'),
    ("attended.count is empty", "attended.count is never empty"),
    ("last_interaction in (today)", '"in" does not apply to last_interaction'),
    ("support >= beaucoup", "support needs a number"),
    ("last_interaction < 90 jours ago", 'unknown unit "jours"'),
])
def test_syntax_errors(text, message):
    with pytest.raises(InputError) as info:
        parse(text)
    assert message in str(info.value)


def _setup(store, tmp_path):
    from dbox.organizing import actions

    who = import_people(store, tmp_path)
    meeting = actions.create(store, actions.ActionInput(title="Réunion publique", type="reunion",
                                                        date=local_text(day_after(-10))))
    door = actions.create(store, actions.ActionInput(title="PAP Mistral", type="pap", date=local_text(day_after(-3))))
    now = utcnow()
    with store.transaction():
        so.set_attended(store, [(meeting.id, who["Alice"], 1, now, "manual"), (door.id, who["Alice"], 1, now, "manual"),
                                (meeting.id, who["Bruno"], 1, now, "manual"), (meeting.id, who["Chloé"], 0, now, "manual")])
        so.insert_interactions(store, [
            {"contact_id": who["David"], "type": "door", "at": "2025-01-10T10:00:00Z", "outcome": "answered",
             "reached": 1, "support": 5, "action_id": None, "source": "manual"},
            {"contact_id": who["David"], "type": "call", "at": "2025-06-10T10:00:00Z", "outcome": "answered",
             "reached": 1, "support": 2, "source": "manual"},                 # the latest level counts
            {"contact_id": who["Emma"], "type": "door", "at": "2025-06-11T10:00:00Z", "outcome": "not-home",
             "reached": 0, "source": "manual"},
            {"contact_id": who["Farid"], "type": "note", "at": now, "reached": 0, "note": "voisin", "source": "manual"},
            {"contact_id": who["Gaëlle"], "type": "door", "at": now, "outcome": "answered", "reached": 1, "support": 4,
             "volunteer_id": who["Hugo"], "source": "manual"},
        ], now)
    return who, meeting, door


def ids(store, expression):
    sel = segments.select(store, expression)
    return sorted(row[0] for row in segments.rows(store, sel, ["id"]))


def test_semantics(store, tmp_path):
    who, meeting, door = _setup(store, tmp_path)
    every = sorted(who.values())
    name = {v: k for k, v in who.items()}

    def names(expression):
        return sorted(name[i] for i in ids(store, expression))

    assert names('attended:"réunion PUBLIQUE"') == ["Alice", "Bruno"]
    assert names(f"attended:{door.id}") == ["Alice"]
    assert names("attended.count >= 2") == ["Alice"]
    assert names("attended.count = 1") == ["Bruno"]
    assert len(ids(store, "attended.count = 0")) == 6           # never came (Chloé was absent) counts 0
    assert len(ids(store, "attended.count < 1")) == 6
    assert names("attended.count in (0, 2)") == sorted(set(name.values()) - {"Bruno"})
    assert names("support >= 4") == ["Gaëlle"]                    # David's latest level is 2
    assert names("support = 2") == ["David"]
    assert names("support in (2, 4)") == ["David", "Gaëlle"]
    assert len(ids(store, "support != 2")) == 7                   # includes everyone without a level
    assert names("support is not empty") == ["David", "Gaëlle"]
    assert names("volunteer") == ["Alice", "Hugo"]                # came to a door-to-door; recorded a result
    assert len(ids(store, "not volunteer")) == 6
    assert names("last_interaction >= 30 days ago") == ["Alice", "Bruno", "Gaëlle"]
    assert names("last_interaction < 2025-06-01") == []           # David's latest is 2025-06-10
    assert names("last_interaction <= 2025-06-10") == ["David"]   # Emma's door did not open
    assert names("last_interaction is empty") == ["Chloé", "Emma", "Farid", "Hugo"]
    assert ids(store, "invited:1") == []
    assert sorted(ids(store, "volunteer or not volunteer")) == every


@pytest.mark.parametrize("expression, message", [
    ('attended:"Reunion publik"', 'unknown action "Reunion publik" at column 10 — did you mean "Réunion publique"?'),
    ("invited:99", "no action with id 99 at column 9"),
    ("support > 7", "support is a level from 1 to 5, found 7 at column 11"),
    ("support in (4, 4.5)", "support is a level from 1 to 5, found 4.5 at column 16"),
    ("attended.count >= -1", "attended.count is a whole number of actions, found -1 at column 19"),
])
def test_values_that_cannot_match_are_errors(store, tmp_path, expression, message):
    _setup(store, tmp_path)
    with pytest.raises(InputError) as info:
        segments.select(store, expression)
    assert message in str(info.value)


def test_cli_segment_counts_and_shows_the_position(store, tmp_path, cli):
    _setup(store, tmp_path)
    result = cli("segment", "volunteer and attended.count >= 1")
    assert result.exit_code == 0 and "1 contact match: volunteer and attended.count >= 1" in result.output
    result = cli("segment", "tag:militant and attended:'PAP Mistal'")
    assert result.exit_code == 3
    assert 'unknown action "PAP Mistal" at column 27 — did you mean "PAP Mistral"?' in result.output
    assert "^^^" in result.output
