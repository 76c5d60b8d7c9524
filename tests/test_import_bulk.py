"""A large import drops the indexes it does not read and the unsubscribe-id trigger, and rebuilds
them at its end (docs/import.md, "Re-importing, dry runs, speed"). The threshold is lowered so
that a small file takes that path."""

import pytest

from dbox.errors import InputError
from dbox.importing import pipeline
from dbox.importing.pipeline import ImportOptions, import_file
from tests.conftest import write_csv

HEADER = "Prénom;Nom;Courriel;Portable;Code postal;Ville;Accord SMS\n"


def _schema(store):
    return store.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                         "ORDER BY name").fetchall()


def _people(start: int, count: int) -> str:
    return "".join(f"P{i};N{i};p{i}@exemple.fr;06{i:08d};38000;Grenoble;oui\n" for i in range(start, start + count))


def test_a_bulk_import_gives_each_new_contact_one_unsubscribe_id_and_rebuilds_the_schema(store, tmp_path,
                                                                                         monkeypatch):
    monkeypatch.setattr(pipeline, "DEFER_MIN_ROWS", 0)
    before = _schema(store)
    report = import_file(store, write_csv(tmp_path / "a.csv", HEADER + _people(0, 30)), ImportOptions(workers=0))
    assert report.counts["added"] == 30
    assert _schema(store) == before
    ids = store.execute("SELECT contact_id, count(*) FROM unsubscribe_ids GROUP BY contact_id").fetchall()
    assert [cid for cid, _ in ids] == list(range(1, 31)) and {n for _, n in ids} == {1}
    # A second bulk import: only its own new contacts get identifiers; the first ones keep theirs.
    first = store.execute("SELECT uid, contact_id FROM unsubscribe_ids ORDER BY contact_id").fetchall()
    import_file(store, write_csv(tmp_path / "b.csv", HEADER + _people(20, 30)), ImportOptions(workers=0))
    after = store.execute("SELECT uid, contact_id FROM unsubscribe_ids ORDER BY contact_id").fetchall()
    assert after[:30] == first and [cid for _, cid in after] == list(range(1, 51))
    assert len({uid for uid, _ in after}) == 50
    # The trigger is back: a contact written by a small import gets its identifier from it.
    monkeypatch.setattr(pipeline, "DEFER_MIN_ROWS", 10**9)
    import_file(store, write_csv(tmp_path / "c.csv", HEADER + _people(100, 1)), ImportOptions(workers=0))
    assert store.execute("SELECT count(*) FROM unsubscribe_ids WHERE contact_id = 51").fetchone() == (1,)


def test_a_bulk_import_that_fails_leaves_the_schema_and_the_store_as_they_were(store, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "DEFER_MIN_ROWS", 0)
    before = _schema(store)
    path = tmp_path / "broken.csv"
    path.write_bytes((HEADER + _people(0, 10)).encode() + b"Bad\xff;X;bad@exemple.fr;;;;\n")
    with pytest.raises(InputError, match="row 12"):
        import_file(store, path, ImportOptions(workers=0, chunk_rows=4))
    assert _schema(store) == before
    assert store.execute("SELECT count(*) FROM contacts").fetchone() == (0,)
    assert store.execute("SELECT count(*) FROM unsubscribe_ids").fetchone() == (0,)
