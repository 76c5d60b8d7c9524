"""Follower export files: recognised by content, awkward variants, clear errors."""

import json
import shutil

import pytest

from dbox.errors import InputError
from dbox.social.formats import parse_connected_on, read_export, repair_mojibake
from dbox.social.urls import mastodon_profile_url, url_key

from conftest import FIXTURES

SOCIAL = FIXTURES / "social"


def test_x_archive_follower_and_following():
    export = read_export(SOCIAL / "follower.js")
    assert (export.kind, export.network, export.relation) == ("x-archive", "x", "follower")
    assert [f.account_id for f in export.followers] == ["1460000000000000001", "783214", "22334455"]
    assert export.followers[1].profile_url == "https://twitter.com/intent/user?user_id=783214"
    assert all(f.handle is None and f.display_name is None for f in export.followers)
    following = read_export(SOCIAL / "following.js")
    assert following.relation == "following"
    assert [f.account_id for f in following.followers] == ["783214", "99887766"]


def test_detection_is_by_content_not_by_name(tmp_path):
    renamed = tmp_path / "mes-abonnes.txt"
    shutil.copy(SOCIAL / "follower.js", renamed)
    assert read_export(renamed).kind == "x-archive"
    disguised = tmp_path / "Connections.csv"
    shutil.copy(SOCIAL / "your_friends.json", disguised)
    assert read_export(disguised).kind == "facebook"


def test_linkedin_recent_export_with_notes_bom_crlf_and_date_formats():
    export = read_export(SOCIAL / "Connections.csv")
    assert (export.network, export.relation) == ("linkedin", "connection")
    people = {f.display_name: f for f in export.followers}
    assert list(people) == ["Élodie Marchand", "Jean-Pierre Dubois", "Amina Benali", "Luc Perrin", "Sophie Nguyen"]
    elodie = people["Élodie Marchand"]
    assert elodie.email == "elodie.marchand@example.org"
    assert elodie.since == "2023-10-12"
    assert elodie.handle == "elodie-marchand-38"
    assert elodie.row == 5                       # Notes: (1), the note (2), blank (3), header (4)
    assert people["Jean-Pierre Dubois"].email is None
    assert people["Amina Benali"].since == "2021-06-30"
    assert people["Amina Benali"].handle == "amina-benali"
    assert people["Luc Perrin"].since == "2019-03-05"
    assert people["Sophie Nguyen"].since == "2020-09-07"   # "07 sept. 2020"
    assert export.rejected == ["line 10: column Connected On: 'the day before yesterday' is not a date"]


def test_linkedin_older_export_without_notes_or_url():
    export = read_export(SOCIAL / "Connections-2019.csv")
    assert [(f.display_name, f.email, f.since) for f in export.followers] == [
        ("Marie Laurent", "marie.laurent@example.com", "2019-10-12"),
        ("Paul Girard", None, "2019-12-25"),
    ]
    assert len(export.rejected) == 1 and export.rejected[0].startswith("line 4: column Email Address:")


@pytest.mark.parametrize("value, expected", [
    ("12 Oct 2023", "2023-10-12"), ("12 October 2023", "2023-10-12"), ("05-Mar-19", "2019-03-05"),
    ("2023-10-12", "2023-10-12"), ("Oct 12, 2023", "2023-10-12"), ("10/12/19", "2019-10-12"),
    ("25/12/2019", "2019-12-25"), ("12 oct. 2023", "2023-10-12"), ("1 février 2024", "2024-02-01"), ("", None),
])
def test_connected_on_formats(value, expected):
    assert parse_connected_on(value) == expected


def test_instagram_bare_list_wrapped_and_newer_variants():
    followers = read_export(SOCIAL / "followers_1.json")
    assert (followers.network, followers.relation) == ("instagram", "follower")
    assert [f.handle for f in followers.followers] == ["camille.rossi", "collectif_velo38"]
    assert followers.followers[0].since == "2023-07-22T04:26:40Z"
    assert followers.rejected == ["entry 3: no string_list_data"]
    following = read_export(SOCIAL / "following.json")
    assert following.relation == "following"
    # title + "_u" link without value (recent exports)
    assert [f.handle for f in following.followers] == ["camille.rossi", "ville_de_grenoble"]
    assert following.followers[0].profile_url == "https://www.instagram.com/camille.rossi"
    older = read_export(SOCIAL / "followers-2021.json")
    assert [f.handle for f in older.followers] == ["maxime.leroy"] and older.relation == "follower"


def test_facebook_friends_followers_following_with_mojibake_repaired():
    friends = read_export(SOCIAL / "your_friends.json")
    assert (friends.network, friends.relation) == ("facebook", "friend")
    assert [f.display_name for f in friends.followers] == ["François Lefèvre", "Zoé Martin", "Jean Dupont", "Jérôme Ngô"]
    assert friends.rejected == ["entry 5: no name"]
    assert read_export(SOCIAL / "people_who_followed_you.json").followers[0].display_name == "Hélène Faure"
    following = read_export(SOCIAL / "who_you've_followed.json")
    assert following.relation == "following"
    assert following.followers[0].display_name == "Mairie de Saint-Égrève"


def test_mojibake_repair_is_exact():
    assert repair_mojibake("FranÃ§ois") == "François"
    assert repair_mojibake("José") == "José"           # real Latin-1 text is left alone
    assert repair_mojibake("Jean") == "Jean"
    assert repair_mojibake("Ngô Bảo") == "Ngô Bảo"     # characters beyond Latin-1: not mojibake


def test_mastodon_follows_with_and_without_header():
    export = read_export(SOCIAL / "following_accounts.csv")
    assert (export.network, export.relation) == ("mastodon", "following")
    assert [f.handle for f in export.followers] == ["alice@mastodon.social", "bob_militant@piaille.fr"]
    assert export.followers[1].profile_url == "https://piaille.fr/@bob_militant"
    assert export.rejected == ["line 4: 'not-an-address' is not a user@server address"]
    old = read_export(SOCIAL / "follows-2022.csv")
    assert [f.handle for f in old.followers] == ["claire@framapiaf.org", "david@mamot.fr"]


@pytest.mark.parametrize("name, message", [
    ("tweets.js", "X archive file 'tweets' is not a follower list; expected data/follower.js or data/following.js"),
    ("follower-truncated.js", "broken X archive follower.js: Unterminated string starting at (line 10, column 21)"),
    ("close_friends.json", "Instagram 'relationships_close_friends' is not a followers list"),
    ("muted_accounts.csv", "a Mastodon mutes export, not follows; expected following_accounts.csv"),
    ("unknown.json", "JSON with keys messages is not a followers export; expected X archive data/follower.js"),
    ("contacts.csv", "not a followers export dbox knows; expected X archive data/follower.js"),
])
def test_unknown_or_broken_files_name_what_was_expected(name, message):
    with pytest.raises(InputError) as info:
        read_export(SOCIAL / name)
    assert str(info.value).startswith(f"{SOCIAL / name}: ")
    assert message in str(info.value)


def test_empty_zip_and_missing_files(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file; expected X archive"):
        read_export(empty)
    archive = tmp_path / "twitter-2024.zip"
    archive.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(InputError, match="a ZIP archive; unzip it"):
        read_export(archive)
    with pytest.raises(InputError, match="no such file"):
        read_export(tmp_path / "nope.js")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"friends_v2": {"name": "x"}}))
    with pytest.raises(InputError, match="'friends_v2' should be a list, found dict"):
        read_export(wrong)


@pytest.mark.parametrize("url, key", [
    ("https://www.LinkedIn.com/in/Jean-Dupont/?trk=abc", "linkedin.com/in/jean-dupont"),
    ("fr.linkedin.com/in/jean-dupont", "linkedin.com/in/jean-dupont"),
    ("https://www.linkedin.com/in/%C3%A9lodie-m", "linkedin.com/in/élodie-m"),
    ("https://twitter.com/intent/user?user_id=783214", "x.com/i/user/783214"),
    ("https://x.com/i/user/783214", "x.com/i/user/783214"),
    ("http://mobile.twitter.com/Candidate38/", "x.com/candidate38"),
    ("https://www.instagram.com/_u/camille.rossi/?igsh=xyz", "instagram.com/camille.rossi"),
    ("https://m.facebook.com/profile.php?id=1000123&ref=x", "facebook.com/profile.php?id=1000123"),
    ("https://mastodon.social/users/Alice", "mastodon.social/@alice"),
    ("https://mastodon.social/@alice", "mastodon.social/@alice"),
    ("jean@example.org", None), ("pas une url", None), ("", None), ("ftp://x.org/a", None),
])
def test_profile_url_keys(url, key):
    assert url_key(url) == key


def test_mastodon_profile_url():
    assert mastodon_profile_url("@Alice@Mastodon.Social") == "https://mastodon.social/@Alice"
    assert mastodon_profile_url("alice") is None
