"""The area registries (dbox.hookspecs) take a term or a holding from outside dbox exactly as from a
built-in area: a plugin registered here, the way a third-party package's module would be."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from test_send_support import import_contacts, people, store, template_store  # noqa: F401

from dbox import plugins, segments
from dbox.filters import parse, terms, to_text
from dbox.filters.errors import FilterSyntaxError
from dbox.filters.fields import EQUALITY, Field
from dbox.filters.nodes import And, Node, quote
from dbox.filters.terms import FilterTerm
from dbox.hookspecs import hookimpl
from dbox.privacy import rights
from dbox.privacy.holdings import Holding, holdings
from dbox.stats_sections import StatsSection


@dataclass(frozen=True)
class Initial(Node):
    """``initial:N``: the last name starts with that letter."""

    letter: str

    def to_text(self) -> str:
        return f"initial:{quote(self.letter)}"


def _parse_initial(parser, prefix: str) -> Node:
    value = parser.prefixed_value(prefix, "a letter")
    if len(value.value) != 1 or not value.value.isalpha():
        raise parser.error(f'"{value.value}" is not one letter', value.start, value.end)
    return Initial(value.value.upper(), span=(value.start, value.end), source=parser.source)


def _compile(compiler, node) -> tuple[str, list]:
    # A test stands for the store module a real area would ship this in.
    if isinstance(node, Initial):
        return "upper(substr(c.last_name, 1, 1)) = ?", [node.letter]
    if node.op == "=":
        return "length(c.last_name) = ?", [int(node.value.text)]
    return "length(c.last_name) != ?", [int(node.value.text)]


class InitialsPlugin:
    @hookimpl
    def register_filter_terms(self, register):
        register(FilterTerm("initials", {"sqlite": _compile}, prefixes=("initial",), parse=_parse_initial,
                            nodes=(Initial,), fields=(Field("name_length", "number", EQUALITY, allows_in=False,
                                                            allows_empty=False, help="letters in the last name"),),
                            aliases={"longueur_nom": "name_length"}))

    @hookimpl
    def register_personal_data(self, register):
        register(Holding("pigeons", ("pigeon_rings",), lambda store, contact_id: {"rings": [f"R-{contact_id}"]},
                         lambda data: [("Pigeons voyageurs", [f"bague {r}" for r in data["rings"]])]))

    @hookimpl
    def register_stats_sections(self, register):
        def rings(query):
            # A real area would call its store module; the selection reaches it as SQL on contacts.
            count = query.store.execute(f"SELECT count(*) FROM contacts c WHERE {query.where}",
                                        query.params).fetchone()[0]
            return {"contacts_with_rings": count, "since": query.since, "period": query.period}
        register(StatsSection("pigeons", rings, position=55, note="pigeons fly over any selection"))


@pytest.fixture
def initials():
    pm = plugins.plugin_manager()
    pm.register(InitialsPlugin(), name="initials-test")
    terms.reload()
    yield
    pm.unregister(name="initials-test")
    terms.reload()


def test_a_registered_prefix_parses_prints_and_compiles(store, tmp_path, initials):
    import_contacts(store, tmp_path, [{"first": "Ana", "last": "Dupont"}, {"first": "Léo", "last": "Martin"},
                                      {"first": "Zoé", "last": "Durand"}])
    tree = parse("initial:d and reachable:sms")
    assert tree == And((Initial("D"), parse("reachable:sms")))
    assert to_text(tree) == "initial:D and reachable:sms"
    assert parse(to_text(tree)) == tree
    selection = segments.select(store, "initial:d")
    assert segments.count(store, selection) == 2
    assert segments.count(store, segments.select(store, "not initial:D")) == 1


def test_a_registered_field_is_checked_like_a_contact_field(store, tmp_path, initials):
    import_contacts(store, tmp_path, [{"first": "Ana", "last": "Dupont"}, {"first": "Léo", "last": "Martin"},
                                      {"first": "Zoé", "last": "Roux"}])
    assert segments.count(store, segments.select(store, "longueur_nom = 6")) == 2
    assert to_text(parse("longueur_nom != 4")) == "name_length != 4"
    with pytest.raises(FilterSyntaxError) as exc:
        parse("name_length > 3")
    assert '">" does not apply to name_length (use =, !=)' in str(exc.value)
    with pytest.raises(FilterSyntaxError) as exc:
        parse("initial:xy")
    assert '"xy" is not one letter' in str(exc.value)


def test_unknown_prefixes_suggest_registered_ones(initials):
    with pytest.raises(FilterSyntaxError) as exc:
        parse("inital:D")
    assert exc.value.suggestion == "initial:"


def test_without_the_plugin_the_term_is_unknown():
    with pytest.raises(FilterSyntaxError) as exc:
        parse("initial:D")
    assert 'unknown filter "initial:"' in str(exc.value)


def test_the_builtin_areas_register_their_terms():
    registry = terms.registry()
    areas = [t.area for t in registry.terms]
    assert areas.index("social") < areas.index("organizing")   # dbox.plugins.BUILTIN's order
    assert {"network", "follower", "attended", "invited"} <= set(registry.prefixes)
    assert {"support", "attended.count", "last_interaction"} <= set(registry.fields)


def test_a_registered_holding_goes_into_the_privacy_export(store, tmp_path, initials):
    import_contacts(store, tmp_path, people(1))
    contact_id = store.execute("SELECT id FROM contacts").fetchone()[0]
    assert "pigeons" in [h.area for h in holdings()]
    data = rights.export(store, contact_id, log=False)
    assert data["pigeons"] == {"rings": [f"R-{contact_id}"]}
    assert "organizing" in data
    text = rights.render_text(data)
    assert "Pigeons voyageurs\n-----------------\nbague R-" in text


def test_a_registered_stats_section_goes_into_stats_in_its_place(store, tmp_path, initials):
    from dbox.insights import stats

    import_contacts(store, tmp_path, people(3))
    assert stats.sections() == ("summary", "areas", "growth", "followers", "campaigns", "pigeons", "actions")
    everyone = stats.compute(store, segments.select(store), stats.Options(since="2026-01-01"))
    assert everyone["pigeons"] == {"contacts_with_rings": 3, "since": "2026-01-01T00:00:00Z",
                                   "period": everyone["period"]}
    keys = list(everyone)
    assert keys.index("campaigns") < keys.index("pigeons") < keys.index("actions")
    assert "pigeons fly over any selection" not in everyone["notes"]
    one = stats.compute(store, segments.select(store, "first_name = Prénom1"),
                        stats.Options(sections=stats.check_sections(["pigeons"])))
    assert set(one) & set(stats.sections()) == {"pigeons"}
    assert one["pigeons"]["contacts_with_rings"] == 1
    assert "pigeons fly over any selection" in one["notes"]


def test_without_the_plugin_the_section_is_unknown():
    from dbox.errors import InputError
    from dbox.insights import stats

    assert "pigeons" not in stats.sections()
    with pytest.raises(InputError, match="choose among summary, areas, growth, followers, campaigns, actions"):
        stats.check_sections(["pigeons"])
