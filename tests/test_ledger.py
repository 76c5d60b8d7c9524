"""The ledger's SQL on its own: reachability at freeze and claim time, the state machine, the
constraints that make a double send impossible, opt-outs and invalid numbers."""


import pytest

pytestmark = pytest.mark.engines
from test_send_support import contact_id, import_contacts, mobile, people, share_number  # noqa: F401

from dbox.store import ledger
from dbox.store.contacts_write import record_consent_events
from dbox.store.suppressions import add as suppress

SMS = ledger.Reach("sms", "mobile")
EMAIL = ledger.Reach("email", "email")


def _campaign(store, reach=SMS, where="TRUE", params=()):
    return ledger.create_campaign(
        store, uid="u1", channel=reach.consent_channel, reach=reach, fingerprint="f", expression="", segment=None,
        where=where, params=list(params), template={"body": "x"}, status="running", due_at=None,
        ignore_window=False, settings={}, created_by="test")


def _states(store, campaign_id):
    return {(a, s, r) for a, s, r in store.execute(
        "SELECT address, state, reason FROM campaign_recipients WHERE campaign_id = ?", (campaign_id,))}


def test_freeze_keeps_only_reachable_contacts_with_reasons(store, tmp_path):
    rows = people(8)
    rows[1]["sms"] = "non"
    rows[2]["mobile"] = ""
    rows[3]["mobile"] = "0476000000"                 # a fixed line: not for SMS
    import_contacts(store, tmp_path, rows)
    record_consent_events(store, [(contact_id(store, mobile(4)), "sms", "withdraw", "2026-01-01T00:00:00Z",
                                   "manual", "test")])
    suppress(store, "phone", mobile(5), "erasure")                       # every channel
    suppress(store, "phone", mobile(6), "stop-reply", channel="sms")     # SMS only
    store.execute("UPDATE contact_points SET status = 'invalid' WHERE value = ?", (mobile(7),))
    share_number(store, mobile(0))
    counts = ledger.audience_counts(store, SMS, "TRUE", [])
    # rows[1] said "non": a refusal since issue 12, not "no consent recorded"
    assert counts == {"planned": 1, "consent-refused": 1, "no-address": 2, "consent-withdrawn": 1, "opted-out": 2,
                      "invalid-address": 1, "duplicate-address": 1}
    cid, frozen = _campaign(store)
    assert frozen == counts
    planned = [a for a, s, _r in _states(store, cid) if s == "planned"]
    assert planned == [mobile(0)]
    # an e-mail-only suppression or consent does not matter for SMS, and the reverse
    suppress(store, "email", "p0@example.org", "unsubscribe", channel="email")
    assert ledger.audience_counts(store, SMS, "TRUE", [])["planned"] == 1
    assert ledger.audience_counts(store, EMAIL, "TRUE", [])["opted-out"] == 1


def test_selection_where_and_params_are_applied(store, tmp_path):
    import_contacts(store, tmp_path, people(4))
    counts = ledger.audience_counts(store, SMS, "c.first_name IN (?, ?)", ["Prénom1", "Prénom3"])
    assert counts == {"planned": 2}
    rows = list(ledger.iter_audience(store, SMS, "c.first_name = ?", ["Prénom2"], ["first_name", "commune"]))
    assert rows == [(contact_id(store, mobile(2)), mobile(2), "Prénom2", "Grenoble", None)]


def test_claim_rechecks_consent_and_suppression(store, tmp_path):
    import_contacts(store, tmp_path, people(3))
    cid, _ = _campaign(store)
    ids = {a: rid for rid, a in store.execute("SELECT id, address FROM campaign_recipients")}
    record_consent_events(store, [(contact_id(store, mobile(0)), "sms", "withdraw", "2026-01-01T00:00:00Z",
                                   "stop-reply", "x")])
    suppress(store, "phone", mobile(1), "stop-reply", channel="sms")
    assert ledger.claim(store, ids[mobile(0)], SMS) == "consent-withdrawn"
    assert ledger.claim(store, ids[mobile(1)], SMS) == "opted-out"
    assert ledger.claim(store, ids[mobile(2)], SMS) is None
    assert ledger.claim(store, ids[mobile(2)], SMS) == "gone"          # never claimed twice
    assert _states(store, cid) == {(mobile(0), "skipped", "consent-withdrawn"),
                                   (mobile(1), "skipped", "opted-out"), (mobile(2), "claimed", None)}


def test_state_machine_moves_only_from_the_right_states(store, tmp_path):
    import_contacts(store, tmp_path, people(2))
    cid, _ = _campaign(store)
    r1, r2 = [r for (r,) in store.execute("SELECT id FROM campaign_recipients ORDER BY id")]
    ledger.record_outcome(store, r1, "accepted", provider_id="SM1")             # not claimed: no effect
    assert ledger.state_counts(store, cid)["planned"] == 2
    ledger.claim(store, r1, SMS)
    ledger.record_outcome(store, r1, "accepted", provider_id="SM1", provider_status="queued", segments=2)
    ledger.claim(store, r2, SMS)
    assert ledger.mark_stale_claims(store, cid) == 1
    assert ledger.claim(store, r2, SMS) == "gone"                                # in-doubt is never claimed
    assert ledger.update_delivery(store, [("SM1", "delivered", "delivered", None)]) == 1
    assert ledger.update_delivery(store, [("SM1", "failed", "failed", "30003")]) == 0   # final stays final
    assert ledger.requeue_in_doubt(store, cid) == 1
    counts = ledger.state_counts(store, cid)
    assert counts["delivered"] == 1 and counts["planned"] == 1
    assert ledger.segment_total(store, cid) == 2
    with pytest.raises(ValueError):
        ledger.record_outcome(store, r2, "delivered")


def test_the_schema_forbids_two_rows_per_contact_or_per_address(store, tmp_path):
    import_contacts(store, tmp_path, people(1))
    cid, _ = _campaign(store)
    c0 = contact_id(store, mobile(0))
    other = share_number(store, mobile(0))
    with pytest.raises(store.IntegrityError):
        store.execute("INSERT INTO campaign_recipients (campaign_id, contact_id, address, state, updated_at) "
                      "VALUES (?, ?, ?, 'planned', 'now')", (cid, c0, mobile(0)))
    with pytest.raises(store.IntegrityError):
        store.execute("INSERT INTO campaign_recipients (campaign_id, contact_id, address, state, updated_at) "
                      "VALUES (?, ?, ?, 'planned', 'now')", (cid, other, mobile(0)))
    with pytest.raises(store.IntegrityError):
        store.execute("UPDATE campaign_recipients SET state = 'sent'")


def test_record_optout_reaches_every_contact_holding_the_number(store, tmp_path):
    from dbox.store.suppressions import Hasher

    import_contacts(store, tmp_path, people(2))
    other = share_number(store, mobile(0))
    n = ledger.record_optout(store, SMS, mobile(0), source="stop-reply", detail="reply STOP", reason="stop-reply")
    assert n == 2
    rows = store.execute("SELECT contact_id, status, source FROM consents WHERE channel = 'sms' AND status = "
                         "'withdrawn' ORDER BY contact_id").fetchall()
    assert rows == [(contact_id(store, mobile(0)), "withdrawn", "stop-reply"), (other, "withdrawn", "stop-reply")]
    assert store.execute("SELECT count(*) FROM consent_events WHERE action = 'withdraw' AND source = "
                         "'stop-reply'").fetchone()[0] == 2
    assert store.execute("SELECT channel FROM suppressions WHERE value_hash = ?",
                         (Hasher(store)(mobile(0)),)).fetchone() == ("sms",)
    assert ledger.record_optout(store, SMS, mobile(0), source="stop-reply", detail="again", reason="stop-reply") == 0


def test_invalidate_address(store, tmp_path):
    import_contacts(store, tmp_path, people(2))
    assert ledger.invalidate_address(store, "mobile", mobile(1)) == 1
    assert ledger.audience_counts(store, SMS, "TRUE", []) == {"planned": 1, "invalid-address": 1}


def test_due_campaigns(store, tmp_path):
    import_contacts(store, tmp_path, people(1))
    cid, _ = _campaign(store)
    ledger.set_status(store, cid, "scheduled", due_at="2026-12-01T09:00:00Z")
    assert ledger.due_campaigns(store, "2026-12-01T08:59:59Z") == []
    assert ledger.due_campaigns(store, "2026-12-01T09:00:00Z") == [cid]
    ledger.set_status(store, cid, "stopped", error="--limit")
    assert ledger.due_campaigns(store, "2027-01-01T00:00:00Z") == []
    ledger.set_status(store, cid, "running")
    assert ledger.due_campaigns(store, "2020-01-01T00:00:00Z") == [cid]      # the caller checks the lock
    events = [e for _at, e, _d in ledger.campaign_events(store, cid)]
    assert events == ["created", "scheduled", "stopped", "running"]


def test_a_second_channel_widens_a_suppression_never_loses_it(store, tmp_path):
    from dbox.store.suppressions import Hasher

    import_contacts(store, tmp_path, people(1))
    suppress(store, "phone", mobile(0), "manual", channel="phone")          # no calls
    ledger.suppress(store, "phone", mobile(0), "stop-reply", "sms")         # then STOP to an SMS
    row = store.execute("SELECT channel FROM suppressions WHERE value_hash = ?", (Hasher(store)(mobile(0)),)).fetchone()
    assert row == (None,)
    assert ledger.audience_counts(store, SMS, "TRUE", []) == {"opted-out": 1}
    ledger.suppress(store, "phone", mobile(0), "stop-reply", "sms")         # idempotent
    assert store.execute("SELECT count(*) FROM suppressions").fetchone()[0] == 1
