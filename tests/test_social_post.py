"""Posting through the campaign ledger: checks first, once per network, in doubt never twice."""

import json

import pytest
import requests

from dbox.config import update_section
from dbox.errors import InputError, NotConfiguredError
from dbox.social import connections, oauth, posting
from dbox.social.length import check_post, mastodon_length, x_length
from dbox.store import ledger
from dbox.testing.social_servers import SocialServer


def connect(store, server, **prepare):
    update_section(f"social.{server.network}", server.settings())
    if server.network in ("linkedin", "facebook"):
        prepare.setdefault("client_secret", "dbox-secret")
    auth = oauth.begin(connections.prepare(server.network, **prepare))
    location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
    return connections.complete(store, auth, location)


@pytest.fixture
def servers(store):
    with SocialServer("x") as x, SocialServer("mastodon") as mastodon, SocialServer("linkedin") as linkedin:
        connect(store, x)
        connect(store, mastodon, instance=mastodon.url)
        connect(store, linkedin)
        yield {"x": x, "mastodon": mastodon, "linkedin": linkedin}


# -- lengths -------------------------------------------------------------------------------------------

def test_x_counts_every_link_as_23():
    long_link = "https://www.grenoble.fr/" + "a" * 200
    assert x_length("Venez " + long_link) == 6 + 23
    assert x_length("Venez dbox.fr") == 6 + 23            # a bare domain is a link on X
    assert x_length("a" * 280) == 280 and x_length("a" * 281) == 281
    assert x_length("Réunion 日本") == 8 + 4               # CJK counts 2


def test_mastodon_counts_links_23_and_remote_mentions_short():
    assert mastodon_length("Merci @alice@mastodon.social ! https://example.org/" + "x" * 100) == len("Merci @alice ! ") + 23
    assert mastodon_length("dbox.fr") == 7                # without a scheme it is not a link there


def test_check_post_reports_each_network(tmp_path):
    text = "x" * 300
    checks = {c.network: c for c in check_post(text, ["x", "mastodon", "linkedin"])}
    assert checks["x"].problems == ["300 characters for 280 allowed (links count 23)"]
    assert checks["mastodon"].ok and checks["linkedin"].ok
    webp = tmp_path / "a.webp"
    webp.write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    assert check_post("hi", ["linkedin"], webp)[0].problems == ["LinkedIn does not take WebP images"]
    notimage = tmp_path / "a.png"
    notimage.write_text("hello")
    with pytest.raises(InputError, match="not a JPEG, PNG, GIF or WebP image"):
        check_post("hi", ["x"], notimage)


# -- publishing through the ledger -----------------------------------------------------------------------

def test_post_to_every_connected_network_once(store, servers):
    plan = posting.plan_post(store, "Réunion publique jeudi 18h https://dbox.fr/reunion")
    assert plan.networks == ["linkedin", "mastodon", "x"] and plan.ok
    outcomes = posting.create_posts(store, plan)
    outcomes = [posting.publish_campaign(store, o.campaign_id) for o in outcomes]
    assert [o.state for o in outcomes] == ["published"] * 3
    for network, server in servers.items():
        assert [p["text"] for p in server.posts] == ["Réunion publique jeudi 18h https://dbox.fr/reunion"]
    # the same command again: found by fingerprint, nothing published
    again = posting.create_posts(store, posting.plan_post(store, "Réunion publique jeudi 18h https://dbox.fr/reunion"))
    assert [o.state for o in again] == ["already-published"] * 3
    assert all(len(s.posts) == 1 for s in servers.values())
    campaigns = store.execute("SELECT channel, status FROM campaigns ORDER BY id").fetchall()
    assert campaigns == [("social:linkedin", "done"), ("social:mastodon", "done"), ("social:x", "done")]
    # each post is one message of the ledger, with no contact, sent by the engine (issue 13 item 4)
    messages = store.execute("SELECT campaign_id, contact_id, state, provider_id, provider_status "
                             "FROM campaign_recipients ORDER BY campaign_id").fetchall()
    assert messages == [(o.campaign_id, None, "accepted", o.post_id, o.url) for o in outcomes]
    assert all(o.post_id and o.url for o in outcomes)
    events = [e for _, e, _ in ledger.campaign_events(store, outcomes[2].campaign_id)]
    assert events == ["created", "running", "done"]


def test_too_long_for_x_publishes_nowhere(store, servers):
    plan = posting.plan_post(store, "y" * 281)
    assert not plan.ok
    with pytest.raises(InputError, match="the post does not fit: x: 281 characters for 280 allowed"):
        posting.create_posts(store, plan)
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)
    assert all(s.posts == [] for s in servers.values())


def test_unconnected_network_is_refused(store, servers):
    with pytest.raises(NotConfiguredError, match="not connected: facebook"):
        posting.plan_post(store, "hi", ["x", "facebook"])


def test_server_error_leaves_the_post_in_doubt_and_it_is_not_republished(store, servers):
    servers["x"].publish_status = 503
    plan = posting.plan_post(store, "Bonjour", ["x"])
    [created] = posting.create_posts(store, plan)
    outcome = posting.publish_campaign(store, created.campaign_id)
    assert outcome.state == "in-doubt"
    servers["x"].publish_status = None
    assert posting.publish_campaign(store, created.campaign_id).state == "in-doubt"
    assert posting.publish_due(store) == []            # stopped: not due
    assert servers["x"].posts == []
    assert posting.publish_campaign(store, created.campaign_id, retry_in_doubt=True).state == "published"
    assert len(servers["x"].posts) == 1


def test_a_process_that_died_while_publishing_leaves_it_in_doubt(store, servers):
    [created] = posting.create_posts(store, posting.plan_post(store, "Bonjour", ["x"]))
    ledger.set_status(store, created.campaign_id, "running", detail="publishing")   # as a crashed process would
    [message] = store.execute("SELECT id FROM campaign_recipients WHERE campaign_id = ?", (created.campaign_id,))
    assert ledger.claim(store, message[0], ledger.BROADCAST) is None      # its claim, committed before the call
    [outcome] = posting.publish_due(store)
    assert outcome.state == "in-doubt"
    assert servers["x"].posts == []
    assert ledger.get_campaign(store, created.campaign_id).status == "stopped"


def test_refused_post_can_be_retried(store, servers):
    servers["linkedin"].publish_status = 400
    [created] = posting.create_posts(store, posting.plan_post(store, "Bonjour", ["linkedin"]))
    assert posting.publish_campaign(store, created.campaign_id).state == "failed"
    servers["linkedin"].publish_status = None
    assert posting.publish_campaign(store, created.campaign_id).state == "published"


def test_scheduled_post_is_published_when_due(store, servers, tmp_path):
    image = tmp_path / "affiche.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 500)
    at = posting.parse_at("2099-05-01T18:30:00+02:00")
    assert at == "2099-05-01T16:30:00Z"
    plan = posting.plan_post(store, "Meeting", ["mastodon"], image, at)
    [created] = posting.create_posts(store, plan)
    assert posting.publish_due(store) == []
    [outcome] = posting.publish_due(store, now="2099-05-01T16:30:00Z")
    assert outcome.state == "published"
    post = servers["mastodon"].posts[0]
    assert post["media_ids"] and servers["mastodon"].media[post["media_ids"][0]]["content"] == image.read_bytes()
    assert servers["mastodon"].requests[-1].headers["Idempotency-Key"] == f"dbox-{ledger.get_campaign(store, created.campaign_id).uid}"


def test_changed_image_is_refused(store, servers, tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n1")
    [created] = posting.create_posts(store, posting.plan_post(store, "Hi", ["x"], image, posting.parse_at("2099-01-01T00:00Z")))
    image.write_bytes(b"\x89PNG\r\n\x1a\n2")
    with pytest.raises(InputError, match="the image changed since the post was planned"):
        posting.publish_campaign(store, created.campaign_id)


def test_past_at_is_refused():
    with pytest.raises(InputError, match="that time has passed"):
        posting.parse_at("2001-01-01T10:00")
    with pytest.raises(InputError, match="not a date and time"):
        posting.parse_at("jeudi")


# -- CLI -------------------------------------------------------------------------------------------------

def test_cli_post_preview_confirm_and_once(cli, store, servers):
    result = cli("post", "Réunion jeudi https://dbox.fr", "--network", "x,mastodon", "--yes")
    assert result.exit_code == 0, result.output
    assert "Réunion jeudi https://dbox.fr" in result.output
    assert "│ x        │ candidate38" in result.output
    assert "x: published (campaign" in result.output and "mastodon: published" in result.output
    again = cli("post", "Réunion jeudi https://dbox.fr", "--network", "x,mastodon", "--yes")
    assert "x: already published, not again" in again.output
    assert len(servers["x"].posts) == 1 and len(servers["mastodon"].posts) == 1
    listed = cli("posts", "list", "--format", "json")
    assert [(r["network"], r["status"]) for r in json.loads(listed.output)] == [("mastodon", "done"), ("x", "done")]


def test_cli_post_needs_confirmation_without_terminal(cli, store, servers):
    result = cli("post", "Bonjour", "--network", "x")
    assert result.exit_code == 1
    assert "Not confirmed: no terminal to ask on" in result.stderr
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)


def test_cli_post_too_long_names_the_network(cli, store, servers):
    result = cli("post", "z" * 290, "--yes")
    assert result.exit_code == 3
    assert ("Error: the post does not fit: x: 290 characters for 280 allowed (links count 23); nothing was published"
            in result.stderr)
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)


def test_cli_dry_run_and_schedule(cli, store, servers):
    assert "Dry run: nothing was published." in cli("post", "Hi", "--dry-run").output
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)
    result = cli("post", "Plus tard", "--network", "linkedin", "--at", "2099-01-01T09:00:00Z", "--yes")
    assert "linkedin: scheduled" in result.output and "published by dbox run-due" in result.output
    assert servers["linkedin"].posts == []


def test_cli_connect_list(cli, store, servers):
    result = cli("connect", "--list")
    assert result.exit_code == 0
    assert "candidate38" in result.output and "mastodon" in result.output and "linkedin" in result.output


def test_cli_connect_with_the_browser_and_the_local_redirect(cli, store, monkeypatch):
    import socket
    import sys
    import webbrowser

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # the "browser": a process that opens the address and follows the redirect to dbox's catcher
    monkeypatch.setenv("BROWSER", f"{sys.executable} -c \"import sys, urllib.request; urllib.request.urlopen(sys.argv[1])\" %s")
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    with SocialServer("x") as server:
        update_section("social.x", {**server.settings(), "redirect_uri": f"http://127.0.0.1:{port}/callback"})
        result = cli("connect", "x", "--timeout", "20")
        assert result.exit_code == 0, result.output + result.stderr
        assert "x: connected as candidate38 (until " in result.output
        assert ", renews itself). Tokens are in the system keyring." in result.output
    disconnected = cli("connect", "x", "--disconnect")
    assert disconnected.output.strip() == "x: disconnected; its tokens were deleted."


def test_cli_connect_paste_of_a_foreign_address_changes_nothing(cli, store):
    with SocialServer("x") as server:
        update_section("social.x", server.settings())
        result = cli("connect", "x", "--paste", input="http://127.0.0.1:8765/callback?code=abc&state=forged\n")
        assert result.exit_code == 3
        assert "Error: the pasted address belongs to another authorization (its state differs)" in result.stderr
    assert store.execute("SELECT count(*) FROM social_accounts").fetchone() == (0,)


def test_cli_connect_needs_a_network(cli):
    result = cli("connect")
    assert result.exit_code == 3 and "Error: which network? x, linkedin, facebook or mastodon" in result.stderr
    result = cli("connect", "myspace")
    assert result.exit_code == 3 and "Error: unknown network 'myspace'" in result.stderr


def test_cli_followers_from_x(cli, store):
    with SocialServer("x", followers=[{"id": "77", "username": "Voisine", "name": "La voisine"}]) as server:
        connect(store, server)
        result = cli("followers", "import", "--from", "x")
        assert result.exit_code == 0, result.output
        assert "x: 1 pages, 1 followers read, 1 new; the network counts 1 followers" in result.output
        assert "up to date." in result.output


def test_run_due_publishes_due_posts_through_the_ledger(cli, store, servers):
    [created] = posting.create_posts(store, posting.plan_post(store, "Programmé", ["x"]))
    result = cli("run-due")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"campaign {created.campaign_id}: post published on x https://x.com/candidate38/status/" in result.output
    assert [p["text"] for p in servers["x"].posts] == ["Programmé"]
    again = cli("run-due")
    assert "post published" not in again.output and len(servers["x"].posts) == 1


def test_run_due_reports_a_post_in_doubt_as_an_error(cli, store, servers):
    servers["x"].publish_status = 502
    [created] = posting.create_posts(store, posting.plan_post(store, "Programmé", ["x"]))
    result = cli("run-due")
    assert result.exit_code == 6
    assert f"campaign {created.campaign_id}: error: post on x in-doubt: x: server error 502 while publishing" in result.output
    servers["x"].publish_status = None
    assert "post published" not in cli("run-due").output        # stopped in doubt: not due, not republished
    assert servers["x"].posts == []


def test_social_networks_are_channel_plugins(cli, store, servers):
    from dbox.channels import get_channel
    from dbox.channels.base import OutgoingMessage

    channel = get_channel("social:x")
    assert type(channel).__module__ == "dbox.social.channel" and channel.broadcast
    sender = channel.connect({**channel.settings(), "store": store})
    result = sender.send(OutgoingMessage("candidate38", "Par le plugin", headers={"Idempotency-Key": "k"}))
    assert result.outcome == "accepted" and servers["x"].posts[-1]["text"] == "Par le plugin"
    listed = cli("channels", "list", "--format", "csv").output.splitlines()
    assert any(line.startswith("social:x,X (Twitter) posts,dbox.social.channel,yes") for line in listed)
    assert any(line.startswith("social:facebook,Facebook Page posts,dbox.social.channel,missing: client_id")
               for line in listed)


def test_send_to_contacts_through_a_social_channel_is_refused(cli, store, servers):
    result = cli("send", "--channel", "social:x", "-m", "Bonjour", "--yes")
    assert result.exit_code == 3
    assert "Error: channel social:x publishes posts; it does not message contacts" in result.output
    assert servers["x"].posts == []
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)


def test_a_concurrent_dbox_post_is_refused(store, servers):
    from dbox.errors import LockedError
    from dbox.sending.locks import FileLock, lock_dir

    with FileLock(lock_dir(store.path) / "post.lock", "another `dbox post`"):
        with pytest.raises(LockedError, match="another `dbox post` is already running"):
            posting.create_posts(store, posting.plan_post(store, "Bonjour", ["x"]))
    assert store.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)
