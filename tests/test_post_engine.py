"""Posts through the send engine (issue 13 item 4): a post is one ledger message with no contact,
claimed, recorded, found in doubt and resumed by the same code as SMS and e-mail, on both engines."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from dbox.config import update_section
from dbox.social import connections, oauth, posting
from dbox.store import ledger
from dbox.store.db import open_store
from dbox.testing.social_servers import SocialServer

pytestmark = pytest.mark.engines


def _connect(store, server, **prepare):
    update_section(f"social.{server.network}", server.settings())
    auth = oauth.begin(connections.prepare(server.network, **prepare))
    location = requests.get(auth.url, allow_redirects=False, timeout=5).headers["Location"]
    return connections.complete(store, auth, location)


@pytest.fixture
def x(store):
    with SocialServer("x") as server:
        _connect(store, server)
        yield server


def _message(store, campaign_id):
    return store.execute("SELECT contact_id, address, state, attempts, provider_id, error FROM campaign_recipients "
                         "WHERE campaign_id = ?", (campaign_id,)).fetchall()


def _post(store, text="Bonjour", at=None):
    [created] = posting.create_posts(store, posting.plan_post(store, text, ["x"], None, at))
    return created.campaign_id


# -- the ledger --------------------------------------------------------------------------------------

def test_a_broadcast_message_has_no_contact_and_is_claimed_once(store):
    cid, counts = ledger.create_campaign(
        store, uid="b1", channel="social:x", reach=ledger.BROADCAST, fingerprint="f", expression="", segment=None,
        where="FALSE", params=[], template={"body": "Hi"}, status="scheduled", due_at=None, ignore_window=True,
        settings={}, created_by="t", broadcast="4242")
    assert counts == {"planned": 1}
    [(rid, contact_id, address, attempts, *fields)] = ledger.planned_page(store, cid, 0, 10, ["first_name"])
    assert (contact_id, address, attempts, fields) == (None, "4242", 0, [None, None])
    assert ledger.claim(store, rid, ledger.BROADCAST) is None          # no consent nor address to re-check
    assert ledger.claim(store, rid, ledger.BROADCAST) == "gone"        # claimed once
    assert ledger.mark_stale_claims(store, cid) == 1                   # its process ended: in doubt
    assert _message(store, cid) == [(None, "4242", "in-doubt", 1, None, "process ended during the provider call")]
    assert ledger.requeue_in_doubt(store, cid) == 1 and ledger.claim(store, rid, ledger.BROADCAST) is None
    ledger.record_outcome(store, rid, "failed", error="refused")
    assert ledger.requeue_failed(store, cid) == 1
    assert ledger.broadcast_message(store, cid)[1] == "planned"


def test_posts_made_before_get_their_message_from_the_migration(store):
    def old_post(uid, status, error=None, control=None, published=None):
        cid, _ = ledger.create_campaign(
            store, uid=uid, channel="social:x", reach=ledger.Reach("sms", "mobile"), fingerprint=uid, expression="",
            segment=None, where="FALSE", params=[], template={"body": uid, "account_id": "4242"}, status="scheduled",
            due_at="2099-01-01T00:00:00Z", ignore_window=True, settings={}, created_by="t")
        if published:
            ledger.add_event(store, cid, "published", json.dumps(published))
        if status != "scheduled":
            ledger.set_status(store, cid, status, error=error)
        if control:
            ledger.set_control(store, cid, control, "t")
        return cid

    made = {
        old_post("due", "scheduled"): ("planned", None, None, None),
        old_post("done", "done", published={"post_id": "p1", "url": "https://x.com/p1"}):
            ("accepted", None, "p1", "https://x.com/p1"),
        old_post("doubt", "stopped", error="in-doubt: x: server error 502"):
            ("in-doubt", None, None, None),
        old_post("dead", "running"): ("claimed", None, None, None),
        old_post("refused", "stopped", error="x: refused"): ("failed", None, None, None),
        old_post("cancelled", "scheduled", control="cancelled"): ("skipped", "cancelled", None, None),
    }
    store.execute("DELETE FROM campaign_recipients")                      # as before migration 0011
    store.execute("DELETE FROM schema_migrations WHERE name = '0011_broadcast_messages.sql'")
    store.close()
    again = open_store(os.environ["DBOX_DB"])                              # migrates: 0011 runs
    try:
        rows = {cid: tuple(row) for cid, *row in again.execute(
            "SELECT campaign_id, state, reason, provider_id, provider_status FROM campaign_recipients "
            "WHERE contact_id IS NULL AND address = '4242' ORDER BY campaign_id")}
        assert rows == made
        assert again.execute("SELECT count(*) FROM campaign_recipients").fetchone() == (len(made),)
    finally:
        again.close()


# -- the engine --------------------------------------------------------------------------------------

def test_a_post_runs_through_the_engine_and_its_audit(store, x):
    cid = _post(store)
    outcome = posting.publish_campaign(store, cid)
    assert outcome.state == "published" and [p["text"] for p in x.posts] == ["Bonjour"]
    [(contact_id, address, state, attempts, post_id, _error)] = _message(store, cid)
    assert (contact_id, address, state, attempts, post_id) == (None, "4242", "accepted", 1, outcome.post_id)
    [(count, detail)] = store.execute("SELECT count, detail FROM audit_log WHERE command = 'send'").fetchall()
    assert count == 1 and json.loads(detail)["channel"] == "social:x" and json.loads(detail)["accepted"] == 1
    assert posting.publish_campaign(store, cid).state == "already-published" and len(x.posts) == 1


def test_a_post_claimed_by_a_process_that_died_is_in_doubt_and_never_posted_again(store, x, cli):
    cid = _post(store)
    [(rid,)] = store.execute("SELECT id FROM campaign_recipients WHERE campaign_id = ?", (cid,)).fetchall()
    ledger.set_status(store, cid, "running")
    assert ledger.claim(store, rid, ledger.BROADCAST) is None      # the engine's claim, then the process died
    result = cli("run-due")
    assert result.exit_code == 6, result.output
    assert f"campaign {cid}: error: post on x in-doubt: process ended during the provider call" in result.output
    assert x.posts == [] and _message(store, cid)[0][2] == "in-doubt"
    assert ledger.get_campaign(store, cid).status == "stopped"
    for _ in range(2):                                             # resumed again and again: never re-sent
        assert "post published" not in cli("run-due").output
        assert posting.publish_campaign(store, cid).state == "in-doubt"
    assert x.posts == [] and _message(store, cid)[0][3] == 1          # one claim ever
    assert posting.publish_campaign(store, cid, retry_in_doubt=True).state == "published"   # the user's call
    assert len(x.posts) == 1


def test_a_cancelled_post_is_never_published(store, x, cli):
    cid = _post(store, "Plus tard", posting.parse_at("2099-01-01T09:00:00Z"))
    result = cli("posts", "cancel", str(cid), "--yes")
    assert result.exit_code == 0, result.output
    assert _message(store, cid)[0][2:4] == ("skipped", 0)
    assert ledger.due_campaigns(store, "2999-01-01T00:00:00Z") == []
    listed = json.loads(cli("posts", "list", "--format", "json").output)
    assert [(r["campaign"], r["status"]) for r in listed] == [(cid, "scheduled")]
    assert x.posts == []


def _dbox(*args):
    return subprocess.Popen([sys.executable, "-m", "dbox", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigkill_while_publishing_then_resume_posts_exactly_once(store, x, cli):
    """A real `dbox post` killed after the network made the post but before it answered: the claim
    was committed, the outcome never was. Every resume finds it in doubt; nothing posts it twice."""
    release = x.hold_next_post(seconds=60)
    proc = _dbox("post", "Réunion jeudi", "--network", "x", "--yes")
    try:
        deadline = time.monotonic() + 60
        while not x.posts and proc.poll() is None:
            assert time.monotonic() < deadline, "the post never reached the network"
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL and len(x.posts) == 1
    [(cid, status)] = store.execute("SELECT id, status FROM campaigns").fetchall()
    assert status == "running" and _message(store, cid)[0][2:4] == ("claimed", 1)   # claimed, committed

    resumed = cli("run-due")                     # cron finds the campaign its dead process left running
    assert resumed.exit_code == 6, resumed.output
    assert f"campaign {cid}: error: post on x in-doubt" in resumed.output
    assert _message(store, cid)[0][2:4] == ("in-doubt", 1)
    again = cli("post", "Réunion jeudi", "--network", "x", "--yes")          # the user runs it again
    assert again.exit_code == 0 and "x: IN DOUBT" in again.output, again.output
    retried = cli("posts", "retry", str(cid), "--yes")                      # without --retry-in-doubt
    assert "x: IN DOUBT" in retried.output
    assert "post published" not in cli("run-due").output
    assert len(x.posts) == 1 and _message(store, cid)[0][3] == 1
    listed = json.loads(cli("posts", "list", "--format", "json").output)
    assert [(r["status"], r["post_or_error"]) for r in listed] == [
        ("stopped", "in-doubt: process ended during the provider call")]


def test_send_resume_of_a_post_is_refused_with_the_command_to_use(store, x, cli):
    cid = _post(store)
    result = cli("send", "--resume", str(cid), "--yes")
    assert result.exit_code == 3
    assert f"Error: campaign {cid} is a post" in result.output and f"dbox posts retry {cid}" in result.output
    assert x.posts == [] and _message(store, cid)[0][2:4] == ("planned", 0)


def test_a_post_due_in_an_electoral_silence_is_held_by_the_engine_then_published(store, x):
    from datetime import datetime, timezone

    from dbox.electoral.calendar import add_election
    from dbox.sending import service

    add_election(store, "legislatives-2027", ["2027-06-13"], ["circo:38-01"])
    cid = _post(store)
    silence = datetime(2027, 6, 12, 12, tzinfo=timezone.utc)
    results = service.run_due(store, clock=lambda: silence)
    assert [(c, r.split(":")[0]) for c, r in results] == [(cid, "held")]
    assert x.posts == [] and _message(store, cid)[0][2:4] == ("planned", 0)
    assert ledger.get_campaign(store, cid).status == "waiting"
    after = datetime(2027, 6, 13, 20, tzinfo=timezone.utc)
    [(done, line)] = service.run_due(store, clock=lambda: after)
    assert done == cid and line.startswith("post published on x https://x.com/candidate38/status/")
    assert [p["text"] for p in x.posts] == ["Bonjour"]
