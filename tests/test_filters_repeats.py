"""A saved segment used twice in one ``and``/``or`` is compiled once (``in:s or in:s`` is ``in:s``):
the same contacts, one copy of its SQL. Segments that use another one twice repeat its conditions
at every level; before, SQLite spent seconds planning thousands of copies of one condition.
What the user types twice stays as typed, so the SQL's shape never depends on the values
(tests/test_filters_properties.py::test_no_value_changes_the_sql)."""

import pytest
from test_segments_support import NOW, geo, sample, sample_template  # noqa: F401

from dbox import segments
from dbox.store import segments as store_segments


@pytest.mark.parametrize("definition", ["tag:militant and consent:sms", "tag:militant or consent:email",
                                        "tag:militant"])
def test_a_segment_used_twice_is_compiled_once(sample, definition):
    store_segments.insert(sample, "s", definition, None)
    for text, same_as in (("in:s or in:s", "in:s"), ("in:s and in:s", "in:s"),
                          ("(in:s or in:s or in:s) and tag:militant", "in:s and tag:militant")):
        twice, expected = segments.select(sample, text, now=NOW), segments.select(sample, same_as, now=NOW)
        assert twice.params == expected.params, text
        assert segments.count(sample, twice) == segments.count(sample, expected) > 0
    both = segments.select(sample, f"in:s or ({definition})", now=NOW)    # typed again: kept, as typed
    assert len(both.params) == 2 * len(segments.select(sample, "in:s", now=NOW).params)


def test_a_doubling_chain_of_segments_compiles_to_its_first_level(sample):
    store_segments.insert(sample, "l0", "(tag:militant and consent:sms) or consent:email", None)
    for level in range(1, 11):       # l10 is 1,024 copies of l0 once expanded
        store_segments.insert(sample, f"l{level}", f"in:l{level - 1} or in:l{level - 1}", None)
    first = segments.select(sample, "in:l0", now=NOW)
    last = segments.select(sample, "in:l10", now=NOW)
    assert last.params == first.params and len(last.where) < 2 * len(first.where)
    assert segments.count(sample, last) == segments.count(sample, first) > 0
    # the expansion still says what was written (and counts towards the limit of conditions)
    assert last.expanded.count(" or ") == 2 * 1024 - 1


def test_a_condition_typed_twice_is_compiled_as_typed(sample):
    assert len(segments.select(sample, "tag:militant or tag:militant", now=NOW).params) == 2
