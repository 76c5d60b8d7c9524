"""``dbox followers import FILE``: identities, linking to contacts, snapshots, transactions."""

import json
import shutil

import pytest

from dbox.errors import InputError
from dbox.importing.pipeline import import_file
from dbox.social.followers import import_followers_file, relink
from dbox.store import social as store_social
from dbox.store import suppressions

from conftest import FIXTURES, write_csv

pytestmark = pytest.mark.engines

SOCIAL = FIXTURES / "social"

CONTACTS = """Nom;Prénom;Email;Profil LinkedIn;Instagram
Marchand;Élodie;elodie.marchand@example.org;;
Benali;Amina;amina@example.org;https://www.linkedin.com/in/Amina-Benali/;
Rossi;Camille;camille@example.org;;https://instagram.com/Camille.Rossi
Nguyen;Sophie;s.nguyen@example.org;;
"""


@pytest.fixture
def contacts(store, tmp_path):
    import_file(store, write_csv(tmp_path / "contacts.csv", CONTACTS))
    return {email: cid for cid, email in store.execute("SELECT id, email FROM contacts")}


def snapshot_rows(store):
    return store.execute("SELECT network, relation, source, total, new, known, linked FROM follower_snapshots "
                         "ORDER BY id").fetchall()


def test_linkedin_import_links_by_email_and_by_profile_url(store, contacts):
    report = import_followers_file(store, SOCIAL / "Connections.csv")
    assert (report.read, report.new_identities, len(report.rejected)) == (6, 5, 1)
    assert report.linked.by_email == 1 and report.linked.by_profile_url == 1
    linked = dict(store.execute(
        "SELECT display_name, contact_id FROM identities WHERE contact_id IS NOT NULL").fetchall())
    assert linked == {"Élodie Marchand": contacts["elodie.marchand@example.org"],
                      "Amina Benali": contacts["amina@example.org"]}
    methods = dict(store.execute("SELECT display_name, link_method FROM identities WHERE contact_id IS NOT NULL"))
    assert methods == {"Élodie Marchand": "email", "Amina Benali": "profile_url"}
    # Sophie's e-mail in LinkedIn differs from the store's: she stays an audience member
    assert store.execute("SELECT contact_id FROM identities WHERE display_name = 'Sophie Nguyen'").fetchone() == (None,)
    assert snapshot_rows(store) == [("linkedin", "connection", "file", 5, 5, 5, 2)]
    kind, rows_read, added, rejected = store.execute(
        "SELECT kind, rows_read, added, rejected FROM imports WHERE id = ?", (report.import_id,)).fetchone()
    assert (kind, rows_read, added, rejected) == ("followers", 6, 5, 1)


def test_reimport_is_skipped_and_force_refreshes_without_duplicates(store, contacts):
    import_followers_file(store, SOCIAL / "Connections.csv")
    again = import_followers_file(store, SOCIAL / "Connections.csv")
    assert again.already_imported is not None
    forced = import_followers_file(store, SOCIAL / "Connections.csv", force=True)
    assert (forced.new_identities, forced.seen, forced.new_relations) == (0, 5, 0)
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (5,)
    assert [r[4] for r in snapshot_rows(store)] == [5, 0]


def test_x_follower_and_following_give_one_identity_with_two_relations(store):
    import_followers_file(store, SOCIAL / "follower.js")
    import_followers_file(store, SOCIAL / "following.js")
    assert store.execute("SELECT count(*) FROM identities WHERE network = 'x'").fetchone() == (4,)
    relations = store.execute(
        "SELECT group_concat(r.relation, ',') FROM identities i JOIN identity_relations r ON r.identity_id = i.id "
        "WHERE i.account_id = '783214'").fetchone()[0]
    assert sorted(relations.split(",")) == ["follower", "following"]
    url_key = store.execute("SELECT url_key FROM identities WHERE account_id = '783214'").fetchone()[0]
    assert url_key == "x.com/i/user/783214"


def test_facebook_people_without_ids_are_not_duplicated_across_imports(store, tmp_path):
    import_followers_file(store, SOCIAL / "your_friends.json")
    # the same export downloaded again a month later, one friend more
    data = json.loads((SOCIAL / "your_friends.json").read_text())
    data["friends_v2"].append({"name": "Nouvelle Amie", "timestamp": 1600000000})
    later = tmp_path / "your_friends.json"
    later.write_text(json.dumps(data))
    report = import_followers_file(store, later)
    assert (report.new_identities, report.seen) == (1, 4)
    names = [n for (n,) in store.execute("SELECT display_name FROM identities ORDER BY id")]
    assert names == ["François Lefèvre", "Zoé Martin", "Jean Dupont", "Jérôme Ngô", "Nouvelle Amie"]


def test_instagram_follower_links_by_profile_url_in_a_custom_field(store, contacts):
    report = import_followers_file(store, SOCIAL / "followers_1.json")
    assert report.linked.by_profile_url == 1
    row = store.execute("SELECT handle, contact_id FROM identities WHERE contact_id IS NOT NULL").fetchone()
    assert row == ("camille.rossi", contacts["camille@example.org"])


def test_an_identity_matching_two_contacts_stays_unlinked(store, tmp_path):
    write_csv(tmp_path / "c.csv", "Nom;Prénom;LinkedIn\nA;Un;https://linkedin.com/in/jpdubois\n"
              "B;Deux;https://www.linkedin.com/in/JPDubois/\n")
    import_file(store, tmp_path / "c.csv")
    report = import_followers_file(store, SOCIAL / "Connections.csv")
    assert report.linked.ambiguous == 1
    assert store.execute("SELECT contact_id FROM identities WHERE handle = 'jpdubois'").fetchone() == (None,)


def test_relink_after_contacts_arrive(store, tmp_path):
    import_followers_file(store, SOCIAL / "Connections.csv")
    assert store.execute("SELECT count(contact_id) FROM identities").fetchone() == (0,)
    import_file(store, write_csv(tmp_path / "c.csv", CONTACTS))
    counts = relink(store)
    assert (counts.by_email, counts.by_profile_url) == (1, 1)


def test_suppressed_email_is_not_imported(store):
    suppressions.add(store, "email", "elodie.marchand@example.org", "erasure")
    report = import_followers_file(store, SOCIAL / "Connections.csv")
    assert report.suppressed == 1
    assert store.execute("SELECT count(*) FROM identities WHERE email = 'elodie.marchand@example.org'").fetchone() == (0,)


def test_broken_file_changes_nothing(store, contacts):
    before = store.execute("SELECT count(*) FROM imports").fetchone()
    with pytest.raises(InputError, match="broken X archive follower.js"):
        import_followers_file(store, SOCIAL / "follower-truncated.js")
    assert store.execute("SELECT count(*) FROM imports").fetchone() == before
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (0,)


def test_failure_midway_rolls_back(store, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_social, "add_snapshot", boom)
    with pytest.raises(RuntimeError):
        import_followers_file(store, SOCIAL / "Connections.csv")
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (0,)
    assert store.execute("SELECT count(*) FROM imports WHERE kind = 'followers'").fetchone() == (0,)


def test_dry_run_writes_nothing(store):
    report = import_followers_file(store, SOCIAL / "follower.js", dry_run=True)
    assert report.new_identities == 3
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (0,)
    assert store.execute("SELECT count(*) FROM follower_snapshots").fetchone() == (0,)


def test_filter_terms_select_contacts(store, contacts):
    import_followers_file(store, SOCIAL / "Connections.csv")
    import_followers_file(store, SOCIAL / "following.json")          # Camille is followed on Instagram
    sql, params = store_social.network_term_sql("linkedin")
    ids = {i for (i,) in store.execute(f"SELECT c.id FROM contacts c WHERE {sql}", params)}
    assert ids == {contacts["elodie.marchand@example.org"], contacts["amina@example.org"]}
    sql, params = store_social.network_term_sql("instagram")
    assert {i for (i,) in store.execute(f"SELECT c.id FROM contacts c WHERE {sql}", params)} == {
        contacts["camille@example.org"]}
    # following is not a follower
    sql, params = store_social.follower_term_sql("instagram")
    assert store.execute(f"SELECT count(*) FROM contacts c WHERE {sql}", params).fetchone() == (0,)
    sql, params = store_social.follower_term_sql("linkedin")
    assert store.execute(f"SELECT count(*) FROM contacts c WHERE {sql}", params).fetchone() == (2,)
    assert store_social.audience_count(store, "linkedin") == 5
    assert store_social.audience_count(store, "linkedin", linked=False) == 3


# -- CLI ----------------------------------------------------------------------------------------------

def test_cli_import_report_and_stats(cli, store, contacts):
    result = cli("followers", "import", SOCIAL / "Connections.csv")
    assert result.exit_code == 0, result.output
    assert "Connections.csv: LinkedIn Connections.csv (linkedin, connections)" in result.output
    assert "read 6; new people 5; already known 0; new connections 5; rejected 1" in result.output
    assert "linked to contacts: 1 by e-mail, 1 by profile URL" in result.output
    assert "linkedin connections known: 5, of which 2 are contacts and 3 audience only" in result.output
    assert "rejected: Connections.csv: line 10: column Connected On: 'the day before yesterday' is not a date" in result.output
    stats = cli("followers", "stats", "--format", "csv")
    assert stats.output.splitlines() == ["network,relation,people,contacts,audience_only", "linkedin,connection,5,2,3"]
    history = cli("followers", "stats", "--history", "--format", "json")
    rows = json.loads(history.output)
    assert [(r["network"], r["total"], r["new"], r["linked"]) for r in rows] == [("linkedin", 5, 5, 2)]
    listed = cli("followers", "list", "--linked", "--format", "csv", "--network", "linkedin")
    lines = listed.output.splitlines()
    assert lines[0].startswith("id,network,relations,account_id,handle,display_name")
    assert len(lines) == 3 and "Élodie Marchand" in listed.output and "email" in listed.output


def test_cli_bad_file_is_one_error_line_and_nothing_changes(cli, store):
    result = cli("followers", "import", SOCIAL / "muted_accounts.csv")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        f"Error: {SOCIAL / 'muted_accounts.csv'}: a Mastodon mutes export, not follows; expected following_accounts.csv")
    assert store.execute("SELECT count(*) FROM imports").fetchone() == (0,)


def test_cli_needs_a_file_or_from(cli):
    result = cli("followers", "import")
    assert result.exit_code == 3
    assert "Error: give either an export FILE or --from NETWORK" in result.stderr


def test_cli_unknown_network_option(cli):
    result = cli("followers", "stats", "--network", "myspace")
    assert result.exit_code == 3
    assert "Error: unknown network 'myspace'" in result.stderr


def test_cli_dry_run(cli, store, tmp_path):
    path = tmp_path / "follower.js"
    shutil.copy(SOCIAL / "follower.js", path)
    result = cli("followers", "import", "--dry-run", path)
    assert result.exit_code == 0
    assert result.output.startswith("Dry run: nothing was written.")
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (0,)


def test_cli_import_followers_alias(cli, store):
    result = cli("import", "followers", SOCIAL / "follower.js")
    assert result.exit_code == 0, result.output
    assert "follower.js: X archive follower.js (x, followers)" in result.output
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (3,)
    dry = cli("import", "followers", SOCIAL / "following.js", "--dry-run")
    assert dry.output.startswith("Dry run: nothing was written.")
    missing = cli("import", "followers")
    assert missing.exit_code == 3 and "Error: give either an export FILE or --from NETWORK" in missing.stderr
    from_x = cli("import", "followers", "--from", "x")
    assert from_x.exit_code == 5 and "Error: no x account connected" in from_x.stderr


def test_cli_import_of_contacts_is_unchanged_by_the_alias(cli, store, tmp_path):
    contacts = write_csv(tmp_path / "c.csv", "Nom;Prénom;Email\nDupont;Jean;jean@example.org\n")
    assert cli("import", contacts).exit_code == 0
    two = cli("import", contacts, contacts)
    assert two.exit_code == 3 and "Error: dbox import takes one contacts FILE" in two.stderr


def test_segment_terms_network_and_follower(cli, store, contacts):
    import_followers_file(store, SOCIAL / "Connections.csv")
    import_followers_file(store, SOCIAL / "following.json")          # Camille is followed on Instagram
    result = cli("segment", "query", "follower:linkedin", "--format", "csv", "--columns", "email")
    assert result.exit_code == 0, result.output + result.stderr
    assert sorted(result.output.splitlines()[1:]) == ["amina@example.org", "elodie.marchand@example.org"]
    on_instagram = cli("segment", "query", "network:instagram and not follower:instagram", "--format", "csv",
                       "--columns", "email")
    assert on_instagram.output.splitlines()[1:] == ["camille@example.org"]
    twitter = cli("segment", "query", "follower:twitter", "--format", "csv", "--columns", "email")
    assert twitter.exit_code == 0 and twitter.output.splitlines()[1:] == []
    bad = cli("segment", "query", "network:myspace")
    assert bad.exit_code == 3
    assert 'unknown network "myspace"' in bad.stderr
