"""The send loop's ledger writes (docs/sending.md, "Speed"): claims given the address bind its
suppression hash and decide exactly as the claim that computes it in SQL; writes of several
workers that arrive together share one commit, and each worker still gets its own result or its
own error: a write that fails never costs another worker its answer."""

import threading
import time

import pytest

pytestmark = pytest.mark.engines
from test_send_support import contact_id, import_contacts, mobile, people, twilio  # noqa: F401

from dbox.sending.commits import GroupCommit
from dbox.store import ledger
from dbox.store.contacts_write import record_consent_events
from dbox.store.suppressions import add as suppress

SMS = ledger.Reach("sms", "mobile")


def _campaign(store):
    cid, _ = ledger.create_campaign(
        store, uid="u1", channel="sms", reach=SMS, fingerprint="f", expression="", segment=None, where="TRUE",
        params=[], template={"body": "x"}, status="running", due_at=None, ignore_window=False, settings={},
        created_by="test")
    return cid, {a: rid for rid, a in store.execute(
        "SELECT id, address FROM campaign_recipients WHERE campaign_id = ?", (cid,))}


def _states(store, cid):
    return {a: (s, r) for a, s, r in store.execute(
        "SELECT address, state, reason FROM campaign_recipients WHERE campaign_id = ?", (cid,))}


def _unreachable_in_every_way(store):
    """mobile(0) withdrew, mobile(1) is suppressed for SMS, mobile(2) for every channel,
    mobile(3) said "non" in the file; mobile(4) is reachable."""
    record_consent_events(store, [(contact_id(store, mobile(0)), "sms", "withdraw", "2026-01-01T00:00:00Z",
                                   "stop-reply", "x")])
    suppress(store, "phone", mobile(1), "stop-reply", channel="sms")
    suppress(store, "phone", mobile(2), "bounced")


def test_a_claim_given_the_address_decides_as_the_one_computing_its_hash(store, tmp_path):
    rows = people(5)
    rows[3]["sms"] = "non"
    import_contacts(store, tmp_path, rows)
    cid, ids = _campaign(store)
    _unreachable_in_every_way(store)
    # mobile(3)'s refusal was known at freeze time: it is skipped already; claims say "gone"
    assert _states(store, cid)[mobile(3)] == ("skipped", "consent-refused")
    got = {n: ledger.claim(store, ids[mobile(n)], SMS, mobile(n)) for n in (0, 1, 2, 4)}
    assert got == {0: "consent-withdrawn", 1: "opted-out", 2: "bounced", 4: None}
    assert ledger.claim(store, ids[mobile(4)], SMS, mobile(4)) == "gone"
    # the same rows planned again, claimed without the address (the hash computed in SQL): same answers
    store.execute("UPDATE campaign_recipients SET state = 'planned', reason = NULL WHERE campaign_id = ? "
                  "AND address <> ?", (cid, mobile(3)))
    assert {n: ledger.claim(store, ids[mobile(n)], SMS) for n in (0, 1, 2, 4)} == got
    # an address that is not the row's own is never trusted: its hash is not used for the row
    store.execute("UPDATE campaign_recipients SET state = 'planned', reason = NULL WHERE id = ?", (ids[mobile(2)],))
    assert ledger.claim(store, ids[mobile(2)], SMS, mobile(4)) == "bounced"


def _queue_together(commits, writes):
    """Start one thread per write while the connection is held, so that they all wait together;
    return the threads and their results (a result or the exception)."""
    results = [None] * len(writes)

    def run(i, fn, args):
        try:
            results[i] = commits.write(fn, *args)
        except Exception as exc:   # noqa: BLE001 - what the worker would get
            results[i] = exc

    with commits.lock:
        threads = [threading.Thread(target=run, args=(i, fn, args)) for i, (fn, args) in enumerate(writes)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(commits._queued) < len(writes):     # every write queued behind the held connection
            assert time.monotonic() < deadline, "the writes did not queue"
            time.sleep(0.001)
    for t in threads:
        t.join(10)
    return results


def test_writes_arriving_together_share_one_commit(store, tmp_path):
    import_contacts(store, tmp_path, people(5))
    cid, ids = _campaign(store)
    _unreachable_in_every_way(store)
    commits = GroupCommit(store, threading.Lock())
    claims = [(ledger.claim, (ids[mobile(n)], SMS, mobile(n))) for n in (4, 0, 2)]
    assert _queue_together(commits, claims) == [None, "consent-withdrawn", "bounced"]
    # one leader committed the three in one transaction (the unreachable ones looked up inside it)
    assert (commits.writes, commits.commits) == (3, 1)
    outcome = [(lambda s, rid: ledger.record_outcome(s, rid, "accepted", provider_id="SM1", segments=1),
                (ids[mobile(4)],))]
    assert _queue_together(commits, outcome) == [None]
    assert (commits.writes, commits.commits) == (4, 2)          # alone: its own commit, as before
    states = _states(store, cid)
    assert states[mobile(4)] == ("accepted", None)
    assert states[mobile(0)] == ("skipped", "consent-withdrawn") and states[mobile(2)] == ("skipped", "bounced")
    assert not store.in_transaction


def test_a_failing_write_does_not_cost_the_others_their_answers(store, tmp_path):
    import_contacts(store, tmp_path, people(3))
    cid, ids = _campaign(store)
    for n in range(3):
        assert ledger.claim(store, ids[mobile(n)], SMS, mobile(n)) is None

    def broken(s, rid):
        s.execute("UPDATE campaign_recipients SET no_such_column = 1 WHERE id = ?", (rid,))

    def accepted(s, rid, sid):
        ledger.record_outcome(s, rid, "accepted", provider_id=sid, segments=1)

    commits = GroupCommit(store, threading.Lock())
    results = _queue_together(commits, [(accepted, (ids[mobile(0)], "SM0")), (broken, (ids[mobile(1)],)),
                                        (accepted, (ids[mobile(2)], "SM2"))])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], store.DatabaseError) and "no_such_column" in str(results[1])
    states = _states(store, cid)
    assert states[mobile(0)] == ("accepted", None) and states[mobile(2)] == ("accepted", None)
    assert states[mobile(1)] == ("claimed", None)               # its worker got the error; nothing else moved
    assert not store.in_transaction


@pytest.mark.engine("sqlite")
def test_a_store_that_refuses_writes_fails_every_write_of_the_group(store, tmp_path):
    import sqlite3

    import_contacts(store, tmp_path, people(2))
    cid, ids = _campaign(store)
    store.execute("PRAGMA query_only = ON")
    commits = GroupCommit(store, threading.Lock())
    results = _queue_together(commits, [(ledger.claim, (ids[mobile(n)], SMS, mobile(n))) for n in range(2)])
    store.execute("PRAGMA query_only = OFF")
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)   # each worker stops (store fault)
    assert set(_states(store, cid).values()) == {("planned", None)}        # nothing claimed: nothing in doubt


@pytest.mark.engine("sqlite")
def test_the_twilio_sender_reads_the_proxy_environment_once_and_obeys_it(twilio, monkeypatch):
    """requests reads HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE... at every request unless told
    otherwise; dbox's sender reads them when it connects: the same settings, read once."""
    from test_send_support import free_port

    from dbox.channels import get_channel
    from dbox.channels.base import OutgoingMessage

    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    dead = f"http://127.0.0.1:{free_port()}"                  # a proxy nobody answers on
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("http_proxy", dead)
    channel = get_channel("sms")
    through_proxy = channel.connect(channel.settings())
    result = through_proxy.send(OutgoingMessage(mobile(0), "Réunion jeudi"))
    assert result.outcome != "accepted" and twilio.outbound() == []   # the proxy of the environment was used
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert through_proxy.send(OutgoingMessage(mobile(0), "Réunion jeudi")).outcome != "accepted"   # read once
    through_proxy.close()
    direct = channel.connect(channel.settings())                   # a new connection reads NO_PROXY
    assert direct.send(OutgoingMessage(mobile(1), "Réunion jeudi")).outcome == "accepted"
    direct.close()
    assert len(twilio.outbound()) == 1
