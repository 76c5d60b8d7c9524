"""On PostgreSQL an import draws its contacts' ids from the id sequence (issue 14): whatever adds
a contact while an import runs — a sign-up form, a row written with the column's default — gets
an id of its own, never one the import holds in its open transaction."""

import os
import threading

import pytest
from conftest import write_csv

from dbox.importing.pipeline import ImportOptions, import_file, import_rows
from dbox.store.db import open_store

pytestmark = pytest.mark.engines

ROWS = 7


def _file(tmp_path, first: int, count: int):
    lines = ["Prénom;Nom;Courriel"] + [f"P{n};Nom{n};p{n}@exemple.fr" for n in range(first, first + count)]
    return write_csv(tmp_path / f"c{first}.csv", "\n".join(lines) + "\n")


def _added_by(store, report) -> list[int]:
    return [i for (i,) in store.execute("SELECT contact_id FROM contact_sources WHERE import_id = ? ORDER BY 1",
                                        (report.import_id,))]


def test_contacts_added_while_an_import_runs_get_ids_of_their_own(engine, store, tmp_path):
    url = os.environ["DBOX_DB"]
    added, forms, errors = [], [], []

    def sign_up():     # a form's submission: the same rules as an import, its own connection
        try:
            with open_store(url) as own:
                report = import_rows(own, "form benevoles", ["first_name", "last_name", "email"],
                                     [["Léa", "Martin", "lea@exemple.fr"]])
                forms.append(report.contacts[1])
        except Exception as exc:        # noqa: BLE001  (said by the assertion below)
            errors.append(exc)

    thread = threading.Thread(target=sign_up)

    def midway(read: int) -> None:
        """After the first chunk is written, inside the import's open transaction."""
        if read != 2:
            return
        if engine == "postgresql":
            # a row written with the column's default, by another connection: it must not wait
            # for the import's transaction (and then collide with an id the import gave)
            import psycopg

            with psycopg.connect(url, autocommit=True) as other:
                other.execute("SET lock_timeout = '5s'")
                added.append(other.execute(
                    "INSERT INTO contacts (first_name, last_name, created_at, updated_at) "
                    "VALUES ('Autre', 'Personne', '2026-11-27T00:00:00Z', '2026-11-27T00:00:00Z') "
                    "RETURNING id").fetchone()[0])
        thread.start()

    report = import_file(store, _file(tmp_path, 1, ROWS), ImportOptions(chunk_rows=2, workers=0), progress=midway)
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == []
    assert report.counts["added"] == ROWS
    ids = [i for (i,) in store.execute("SELECT id FROM contacts ORDER BY id")]
    mine = _added_by(store, report)
    assert len(ids) == len(set(ids)) == ROWS + len(added) + 1
    assert set(ids) == {*mine, *added, *forms} and not set(mine) & {*added, *forms}
    # and the next import goes on past every id given
    again = import_file(store, _file(tmp_path, 100, 3), ImportOptions(workers=0))
    assert min(_added_by(store, again)) > max(ids)
    assert store.execute("SELECT count(DISTINCT id) FROM contacts").fetchone()[0] == len(ids) + 3
