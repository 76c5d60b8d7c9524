"""Long filter expressions and exploding saved segments (issue 12, item 10), through the CLI."""

from test_segments_support import NOW, geo, sample, sample_template  # noqa: F401

from dbox import segments
from dbox.store import segments as store_segments
from dbox.store.filters import MAX_CONDITIONS


def _ids(store, limit):
    return [i for (i,) in store.execute("SELECT id FROM contacts ORDER BY id LIMIT ?", (limit,))]


def test_a_thousand_term_or_chain_compiles_and_counts(sample, cli):
    ids = _ids(sample, 1000)
    expression = " or ".join(f"id = {i}" for i in range(1, 1001))
    assert len(expression) < 20_000
    result = cli("segment", "--count", expression)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{len([i for i in ids if i <= 1000])}\n"
    both = cli("segment", "--count", " and ".join(f"id != {i}" for i in range(1, 1001)))
    assert both.exit_code == 0 and both.stdout == f"{segments.count(sample, segments.select(sample, None)) - len(ids)}\n"
    # the same selection written as a list gives the same contacts
    assert cli("segment", "--count", f"id in ({', '.join(str(i) for i in range(1, 1001))})").stdout == result.stdout


def test_a_doubling_segment_is_refused_before_it_is_saved(sample, cli):
    assert cli("segment", "save", "l0", "tag:militant").exit_code == 0
    level = 0
    while True:
        level += 1
        result = cli("segment", "save", f"l{level}", f"in:l{level - 1} or in:l{level - 1}")
        if result.exit_code != 0:
            break
        assert level < 20
    assert 2 ** level > MAX_CONDITIONS >= 2 ** (level - 1)
    assert result.exit_code == 3
    assert result.output.startswith(f"Error: too many conditions: more than {MAX_CONDITIONS:,} once saved "
                                    f"segments are replaced by their definitions (reached through in:l{level - 1})")
    assert "Traceback" not in result.output
    assert store_segments.get(sample, store_segments.segment_key(f"l{level}")) is None     # nothing written
    assert cli("segment", "list").exit_code == 0


def test_segment_list_never_fails_on_a_stored_segment(sample, cli):
    # segments stored by an older dbox, before the check: one explodes, one no longer compiles
    store_segments.insert(sample, "l0", "tag:militant", None)
    for level in range(1, 16):
        store_segments.insert(sample, f"l{level}", f"in:l{level - 1} or in:l{level - 1}", None)
    store_segments.insert(sample, "casse", "tag:disparu", None)
    result = cli("segment", "list")
    assert result.exit_code == 0, result.output
    assert "l15" in result.stdout and "casse" in result.stdout
    as_json = cli("segment", "list", "--format", "json")
    counts = {row["name"]: row["contacts"] for row in __import__("json").loads(as_json.stdout)}
    assert counts["l15"] == "?" and counts["casse"] == "?" and counts["l3"] == counts["l0"]
    show = cli("segment", "show", "l15")
    assert show.exit_code == 3 and show.output.startswith("Error: ") and "too many conditions" in show.output


def test_an_over_long_expression_shows_a_short_excerpt(sample, cli):
    expression = " or ".join(f"id = {i}" for i in range(1, 3001))
    assert len(expression) > 20_000
    result = cli("segment", "--count", expression)
    assert result.exit_code == 3
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Error: expression too long ({len(expression)} characters, at most 20000) "
                               f"at column 20001")
    assert all(len(line) < 200 for line in lines), [len(line) for line in lines]
    assert lines[2].strip() and set(lines[2].strip()) == {"^"}
