"""OAuth, tokens, follower syncs and API calls against the local servers (real requests-oauthlib
sessions, base URLs pointed at 127.0.0.1)."""

import json
import time

import pytest
import requests

from dbox.config import update_section
from dbox.errors import InputError, NotConfiguredError, ProviderError
from dbox.social import connections, oauth, tokens
from dbox.social.clients import PublishUnknown
from dbox.social.sync import sync_followers
from dbox.store import social as store_social
from dbox.testing.social_servers import SocialServer


def x_followers(n, start=0):
    return [{"id": str(9000 + i), "username": f"Soutien{i}", "name": f"Soutien n°{i}"} for i in range(start, start + n)]


def connect(store, server, **prepare):
    """The whole connect flow, the browser being a plain HTTP GET that does not follow the redirect."""
    update_section(f"social.{server.network}", server.settings())
    if server.network in ("linkedin", "facebook"):
        prepare.setdefault("client_secret", "dbox-secret")
    config = connections.prepare(server.network, **prepare)
    auth = oauth.begin(config)
    location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
    return connections.complete(store, auth, location)


class Sleeper:
    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        self.waits.append(seconds)


@pytest.fixture
def xserver():
    with SocialServer("x", followers=x_followers(5), page_size=2) as server:
        yield server


# -- connecting -----------------------------------------------------------------------------------

def test_connect_x_with_pkce_stores_tokens_in_keyring_never_in_the_store(store, xserver, tmp_path):
    account = connect(store, xserver)
    assert (account["account_id"], account["handle"], account["refreshable"]) == ("4242", "candidate38", 1)
    assert account["token_key"] == "social/x/4242"
    authorize = next(r for r in xserver.requests if r.path == "/i/oauth2/authorize")
    assert authorize.query["code_challenge_method"] == ["S256"]
    token = tokens.load_token("x", account["token_key"])
    assert token["access_token"] in xserver.access and token["refresh_token"] in xserver.refresh
    # no token anywhere in the store file or the config file
    dump = "\n".join(store.dump_lines())
    assert token["access_token"] not in dump and token["refresh_token"] not in dump
    config_text = (tmp_path / "config" / "config.toml").read_text()
    assert token["access_token"] not in config_text and "secret" not in config_text


def test_pasted_address_from_another_authorization_is_refused(store, xserver):
    update_section("social.x", xserver.settings())
    auth = oauth.begin(connections.prepare("x"))
    location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
    forged = location.replace(f"state={auth.state}", "state=someone-else")
    with pytest.raises(InputError, match=r"belongs to another authorization \(its state differs\)"):
        connections.complete(store, auth, forged)
    assert store_social.get_account(store, "x") is None


def test_denied_authorization_is_a_provider_error(store, xserver):
    xserver.deny = True
    update_section("social.x", xserver.settings())
    auth = oauth.begin(connections.prepare("x"))
    location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
    with pytest.raises(ProviderError, match="x refused the authorization: access_denied"):
        connections.complete(store, auth, location)


def test_wrong_pkce_verifier_is_refused_by_the_server(store, xserver):
    update_section("social.x", xserver.settings())
    auth = oauth.begin(connections.prepare("x"))
    location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
    auth.session._code_verifier = "not-the-verifier-that-was-hashed-into-the-challenge-xxxxxxxx"
    with pytest.raises(ProviderError, match="PKCE verification failed"):
        connections.complete(store, auth, location)


def test_redirect_catcher_receives_the_browser(store, xserver):
    import socket
    import threading

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    update_section("social.x", {**xserver.settings(), "redirect_uri": f"http://127.0.0.1:{port}/callback"})
    auth = oauth.begin(connections.prepare("x"))
    catcher = oauth.RedirectCatcher(auth.config.redirect_uri)
    browser = threading.Thread(target=lambda: requests.get(auth.url, timeout=5))   # follows the redirect
    browser.start()
    received = catcher.wait(timeout=10)
    browser.join()
    account = connections.complete(store, auth, received)
    assert account["handle"] == "candidate38"


def test_mastodon_registers_its_app_and_learns_the_character_limit(store):
    with SocialServer("mastodon", max_characters=1000) as server:
        account = connect(store, server, instance=server.url)
        assert [r.path for r in server.requests][:1] == ["/api/v1/apps"]
        assert account["settings"]["max_characters"] == 1000
        assert account["expires_at"] is None and account["refreshable"] == 0
        assert tokens.client_secret("mastodon") in server.clients.values()


def test_facebook_keeps_the_page_token(store):
    with SocialServer("facebook", followers_count=1234) as server:
        account = connect(store, server)
        assert (account["account_id"], account["display_name"]) == ("5550001", "Liste Grenoble en commun")
        assert tokens.load_token("facebook", account["token_key"])["access_token"] == "page-token-1"


def test_facebook_with_several_pages_needs_page(store):
    pages = [{"id": "1", "name": "A", "access_token": "pa"}, {"id": "2", "name": "B", "access_token": "pb"}]
    with SocialServer("facebook", pages=pages) as server:
        with pytest.raises(InputError, match="several Pages: choose one with --page"):
            connect(store, server)
        update_section("social.facebook", server.settings())
        auth = oauth.begin(connections.prepare("facebook", client_secret="dbox-secret"))
        location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
        assert connections.complete(store, auth, location, page="B")["account_id"] == "2"


def test_linkedin_without_secret_says_what_to_do(store):
    with SocialServer("linkedin") as server:
        update_section("social.linkedin", server.settings())
        with pytest.raises(NotConfiguredError, match="no linkedin client secret") as info:
            connections.prepare("linkedin")
        assert "DBOX_LINKEDIN_CLIENT_SECRET" in info.value.hint


def test_no_client_id_names_the_console():
    with pytest.raises(NotConfiguredError, match="no x client id") as info:
        connections.prepare("x")
    assert "developer.x.com" in info.value.hint


# -- tokens refresh themselves ------------------------------------------------------------------------

def test_expired_token_refreshes_rotates_and_is_saved(store, xserver):
    account = connect(store, xserver)
    old = tokens.load_token("x", account["token_key"])
    old["expires_at"] = time.time() - 10              # expired: the next call refreshes first
    tokens.save_token("x", account["token_key"], old)
    client, _ = connections.open_client(store, "x")
    assert client.me().handle == "candidate38"
    new = tokens.load_token("x", account["token_key"])
    assert new["access_token"] != old["access_token"] and new["refresh_token"] != old["refresh_token"]
    assert old["refresh_token"] not in xserver.refresh            # X rotated it
    refreshed = store_social.get_account(store, "x")
    assert refreshed["refreshed_at"] is not None and refreshed["expires_at"] > account["connected_at"]
    assert [r.path for r in xserver.requests][-2:] == ["/2/oauth2/token", "/2/users/me"]


def test_revoked_refresh_token_asks_to_reconnect(store, xserver):
    account = connect(store, xserver)
    token = tokens.load_token("x", account["token_key"])
    token["expires_at"] = time.time() - 10
    tokens.save_token("x", account["token_key"], token)
    xserver.refresh.clear()
    client, _ = connections.open_client(store, "x")
    with pytest.raises(ProviderError, match="x: could not renew the connection: refresh token revoked") as info:
        client.me()
    assert info.value.hint == "dbox connect x"


def test_token_from_environment_for_cron(store, xserver, monkeypatch):
    account = connect(store, xserver)
    token = xserver.issue_token()
    tokens.delete_token(account["token_key"])
    monkeypatch.setenv("DBOX_X_TOKEN", token["access_token"])
    client, _ = connections.open_client(store, "x")
    assert client.me().account_id == "4242"


def test_missing_token_says_reconnect(store, xserver):
    account = connect(store, xserver)
    tokens.delete_token(account["token_key"])
    with pytest.raises(NotConfiguredError, match="the x tokens are missing from the keyring"):
        connections.open_client(store, "x")


# -- followers from the API ----------------------------------------------------------------------------

def test_x_sync_pages_then_only_new_followers(store, xserver):
    connect(store, xserver)
    first = sync_followers(store, "x", sleep=Sleeper())
    assert (first.pages, first.read, first.new, first.total, first.complete) == (3, 5, 5, 5, True)
    handles = [h for (h,) in store.execute("SELECT handle FROM identities ORDER BY id")]
    assert handles == ["soutien0", "soutien1", "soutien2", "soutien3", "soutien4"]
    assert store.execute("SELECT url_key FROM identities WHERE handle = 'soutien0'").fetchone() == ("x.com/soutien0",)
    # three new followers arrive (newest first): the next run reads two pages and stops at a known one
    xserver.followers[:0] = x_followers(3, start=10)
    requests_before = len(xserver.paths("GET"))
    second = sync_followers(store, "x", sleep=Sleeper())
    assert (second.pages, second.read, second.new) == (2, 4, 3)
    assert len([p for p in xserver.paths("GET")[requests_before:] if p.endswith("/followers")]) == 2
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (8,)
    assert [r[4:6] for r in store_social.snapshots(store, "x")] == [(5, 5), (8, 3)]


def test_x_sync_waits_on_429_until_reset(store, xserver):
    connect(store, xserver)
    xserver.rate_limit(r"/2/users/\w+/followers", count=1, reset_in=40)
    sleeper = Sleeper()
    report = sync_followers(store, "x", sleep=sleeper)
    assert report.complete and report.read == 5
    assert len(sleeper.waits) == 1 and 38 <= sleeper.waits[0] <= 41


def test_x_sync_pauses_when_remaining_is_zero(store, xserver):
    connect(store, xserver)
    xserver.rate_limit(r"/2/users/\w+/followers", count=0, after=1, reset_in=20)
    sleeper = Sleeper()
    report = sync_followers(store, "x", sleep=sleeper)
    assert report.complete
    assert len(sleeper.waits) == 1 and 18 <= sleeper.waits[0] <= 21


def test_retry_after_header_is_honoured(store, xserver):
    connect(store, xserver)
    xserver.rate_limit(r"/2/users/me", count=1, style="retry-after", reset_in=7)
    sleeper = Sleeper()
    sync_followers(store, "x", sleep=sleeper)
    assert 6.9 <= sleeper.waits[0] <= 7


def test_long_wait_stops_and_the_next_run_resumes(store, xserver):
    connect(store, xserver)
    xserver.rate_limit(r"/2/users/\w+/followers", count=0, after=1, reset_in=900)
    report = sync_followers(store, "x", sleep=Sleeper(), max_wait=60)
    assert not report.complete and report.read == 2
    assert "the network asks to wait" in report.stopped_early
    assert store_social.get_account(store, "x")["sync_state"] == {"complete": False, "cursor": "p2"}
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (2,)   # the page read is kept
    resumed = sync_followers(store, "x", sleep=Sleeper(), max_wait=60)
    assert resumed.complete and resumed.read == 3
    followers_calls = [r for r in xserver.requests if r.path.endswith("/followers")]
    assert followers_calls[-2].query["pagination_token"] == ["p2"]
    assert store.execute("SELECT count(*) FROM identities").fetchone() == (5,)


def test_sync_links_followers_to_contacts_by_profile_url(store, xserver, tmp_path):
    from dbox.importing.pipeline import import_file

    from conftest import write_csv

    import_file(store, write_csv(tmp_path / "c.csv", "Nom;Prénom;Twitter\nLeroy;Max;https://twitter.com/Soutien3\n"))
    connect(store, xserver)
    report = sync_followers(store, "x", sleep=Sleeper())
    assert report.linked.by_profile_url == 1
    assert store.execute("SELECT handle FROM identities WHERE contact_id IS NOT NULL").fetchone() == ("soutien3",)


def test_mastodon_sync_follows_link_headers(store):
    people = [{"id": str(i), "username": f"ami{i}@piaille.fr"} for i in range(5)]
    with SocialServer("mastodon", followers=people, page_size=2) as server:
        connect(store, server, instance=server.url)
        server.rate_limit(r"/api/v1/accounts/\w+/followers", count=1, reset_in=12)
        sleeper = Sleeper()
        report = sync_followers(store, "mastodon", sleep=sleeper)
        assert (report.pages, report.read, report.complete) == (3, 5, True)
        assert 10 <= sleeper.waits[0] <= 13
        assert [q.query.get("max_id") for q in server.requests if q.path.endswith("/followers")][1:] == [
            None, ["2"], ["4"]]
        handles = {h for (h,) in store.execute("SELECT handle FROM identities")}
        assert "ami0@piaille.fr" in handles


def test_facebook_sync_records_the_count_only(store):
    with SocialServer("facebook", followers_count=1234) as server:
        connect(store, server)
        report = sync_followers(store, "facebook")
        assert report.total == 1234
        assert [r[1:5] for r in store_social.snapshots(store)] == [("facebook", "follower", "api", 1234)]


def test_linkedin_sync_is_refused_with_what_to_do(store):
    with pytest.raises(InputError, match="LinkedIn's API does not list connections") as info:
        sync_followers(store, "linkedin")
    assert "Connections.csv" in info.value.hint


def test_sync_without_connection(store):
    with pytest.raises(NotConfiguredError, match="no x account connected"):
        sync_followers(store, "x")


# -- publishing ------------------------------------------------------------------------------------------

def png(tmp_path):
    path = tmp_path / "affiche.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return path


def test_x_publish_with_image(store, xserver, tmp_path):
    connect(store, xserver)
    client, account = connections.open_client(store, "x")
    published = client.publish("Réunion ce soir https://dbox.fr", image=png(tmp_path), handle=account["handle"])
    assert xserver.posts == [{"id": published.post_id, "text": "Réunion ce soir https://dbox.fr",
                              "media_ids": ["1000"]}]
    assert xserver.media["1000"]["content"] == png(tmp_path).read_bytes()
    assert published.url == f"https://x.com/candidate38/status/{published.post_id}"


def test_server_error_while_publishing_is_unknown_not_retried(store, xserver):
    connect(store, xserver)
    xserver.publish_status = 503
    client, _ = connections.open_client(store, "x")
    with pytest.raises(PublishUnknown, match="server error 503 while publishing"):
        client.publish("hello")
    assert xserver.paths("POST").count("/2/tweets") == 1


def test_mastodon_publish_is_idempotent(store, tmp_path):
    with SocialServer("mastodon") as server:
        connect(store, server, instance=server.url)
        client, _ = connections.open_client(store, "mastodon")
        first = client.publish("Salut", image=png(tmp_path), key="dbox-post-1-mastodon")
        again = client.publish("Salut", image=png(tmp_path), key="dbox-post-1-mastodon")
        assert first.post_id == again.post_id and len(server.posts) == 1
        assert server.requests[-1].headers["Idempotency-Key"] == "dbox-post-1-mastodon"


def test_linkedin_publish_with_image_upload(store, tmp_path):
    with SocialServer("linkedin") as server:
        account = connect(store, server)
        client, _ = connections.open_client(store, "linkedin")
        published = client.publish("Bonjour", image=png(tmp_path), account_id=account["account_id"])
        post = server.posts[0]
        assert (post["text"], post["author"]) == ("Bonjour", "urn:li:person:4242")
        assert server.media[post["media"]]["content"] == png(tmp_path).read_bytes()
        assert published.post_id == post["id"]


def test_facebook_publish_text_and_photo(store, tmp_path):
    with SocialServer("facebook") as server:
        account = connect(store, server)
        client, _ = connections.open_client(store, "facebook")
        client.publish("Texte seul", account_id=account["account_id"])
        client.publish("Avec photo", image=png(tmp_path), account_id=account["account_id"])
        assert [p["text"] for p in server.posts] == ["Texte seul", "Avec photo"]
        assert server.posts[1]["photo"] == png(tmp_path).read_bytes()


def test_disconnect_removes_tokens(store, xserver):
    account = connect(store, xserver)
    assert connections.disconnect(store, "x")
    assert tokens.load_token("x", account["token_key"]) is None
    assert store_social.get_account(store, "x") is None
    assert json.loads("{}") == {}
