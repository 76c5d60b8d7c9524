"""Exports read the store as a stream (issue 14, bulk paths): on PostgreSQL through a server-side
cursor (``DECLARE`` / ``FETCH``), so the client holds one batch whatever the row count; on SQLite by
stepping the cursor. Memory figures are in bench/export_bench.py; here, what proves the path."""

import io
import sys

import pytest

pytestmark = pytest.mark.engines

from dbox import segments
from dbox.store.contacts import count_contacts, iter_contacts
from test_segments_support import sample, sample_template  # noqa: F401
from test_team import team_db  # noqa: F401


def open_cursors(store) -> list[str]:
    return [name for (name,) in store.execute("SELECT name FROM pg_cursors ORDER BY name")]


class Probe(io.StringIO):
    """The export's output (stdout): at each write it notes the server-side cursors then open."""

    def __init__(self, store):
        super().__init__()
        self.store, self.seen = store, set()

    def write(self, text):
        self.seen.update(open_cursors(self.store))
        return super().write(text)


@pytest.mark.engine("postgresql")
def test_a_segment_export_reads_through_a_server_side_cursor(sample, monkeypatch):
    selection = segments.select(sample, "tag:militant or consent:sms")
    probe = Probe(sample)
    monkeypatch.setattr(sys, "stdout", probe)
    written = segments.export(sample, selection, ["id", "email", "tags"], fmt="csv")
    assert written == count_contacts(sample, selection.where, selection.params) > 0
    assert probe.getvalue().count("\r\n") == written + 1
    assert any(name.startswith("dbox_stream_") for name in probe.seen), probe.seen
    # The cursor and its transaction end with the export; the audit row it wrote is committed.
    assert open_cursors(sample) == [] and not sample.in_transaction


@pytest.mark.engine("postgresql")
def test_a_stream_left_early_closes_its_cursor_and_transaction(sample):
    rows = iter_contacts(sample, ["id"], batch=3)
    first = next(rows)
    assert sample.in_transaction and len(open_cursors(sample)) == 1
    rows.close()
    assert open_cursors(sample) == [] and not sample.in_transaction
    with sample.transaction():          # the connection is usable as before
        sample.execute("UPDATE contacts SET updated_at = updated_at WHERE id = ?", (first[0],))


def test_streams_read_in_batches_give_every_row_once(sample):
    everyone = [row[0] for row in iter_contacts(sample, ["id"])]
    assert everyone == sorted(everyone) and len(everyone) == count_contacts(sample) > 10
    assert [row[0] for row in iter_contacts(sample, ["id"], batch=3)] == everyone
    # two at once (one read inside the other): each has its own cursor
    pairs = [(a[0], b[0]) for a, b in zip(iter_contacts(sample, ["id"], batch=4),
                                          iter_contacts(sample, ["id"], batch=5))]
    assert pairs == [(i, i) for i in everyone]


def test_stream_parameters_are_bound_as_in_every_other_statement(sample):
    # a list (json_each on SQLite, = ANY on PostgreSQL), text and a number, in one filter
    selection = segments.select(sample, 'departement in (38, 07) or last_name ~ "mar" or commune.population < 3500')
    ids = [row[0] for row in iter_contacts(sample, ["id"], selection.where, selection.params, batch=2)]
    assert len(ids) == count_contacts(sample, selection.where, selection.params) > 0
    limited = list(iter_contacts(sample, ["id", "email"], selection.where, selection.params, limit=2))
    assert [row[0] for row in limited] == ids[:2]
    # a literal '%' in the statement (doubled for psycopg's placeholders, then bound here)
    assert list(sample.stream("SELECT ? || '%', ?", ("50", 7))) == [("50%", 7)]


@pytest.mark.engine("postgresql")
def test_an_export_the_role_may_not_read_is_refused_in_one_line_and_writes_nothing(engine, store, team_db, cli,
                                                                                 tmp_path):
    # the server refuses the cursor's DECLARE (an organizer may not read phones): the stream's
    # transaction is rolled back, the refusal is the usual one line, and no file is left
    from test_team import as_member

    assert cli("team", "add", "tm_exporter", "--role", "organizer").exit_code == 0
    target = tmp_path / "out.csv"
    refused = cli("--db", as_member(team_db, "tm_exporter"), "segment", "-c", "id,mobile", "-o", target)
    assert refused.exit_code == 8, refused.output
    assert refused.output.startswith("Error: your role organizer cannot ") and "permission denied" in refused.output
    assert len(refused.output.strip().splitlines()) <= 2 and not target.exists()
    assert list(tmp_path.iterdir()) == []
