"""Property: whatever the consents, suppressions, invalid numbers and changes made after the
audience was frozen, a contact without consent or opted out is never sent anything, and every
reachable number gets exactly one message (counted at the local Twilio server)."""

import itertools
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_send_support import twilio  # noqa: F401

from dbox.sending import service
from dbox.sending.compose import Template
from dbox.store import ledger
from dbox.store.contacts_write import record_consent_events
from dbox.store.suppressions import add as suppress

NUMBERS = itertools.count(1)
NOW = "2026-01-01T00:00:00Z"

person = st.fixed_dictionaries({
    "consent": st.sampled_from(["granted", "withdrawn", "none"]),
    "suppressed": st.sampled_from([None, "all", "sms", "email"]),
    "invalid": st.booleans(),
    "has_mobile": st.booleans(),
    "shares_previous": st.booleans(),
    "withdraw_later": st.booleans(),          # consent withdrawn after the freeze, before the claim
    "suppress_later": st.booleans(),          # a STOP recorded after the freeze
})


def _insert(store, p, number):
    cid = store.execute("INSERT INTO contacts (first_name, mobile, phone_region, created_at, updated_at) "
                        "VALUES ('X', ?, 'FR', ?, ?)", (number if p["has_mobile"] else None, NOW, NOW)).lastrowid
    if p["has_mobile"]:
        store.execute("INSERT INTO contact_points (contact_id, kind, value, status) VALUES (?, 'mobile', ?, ?)",
                      (cid, number, "invalid" if p["invalid"] else "valid"))
    if p["consent"] != "none":
        record_consent_events(store, [(cid, "sms", "grant", NOW, "form", "t")])
        if p["consent"] == "withdrawn":
            record_consent_events(store, [(cid, "sms", "withdraw", NOW, "manual", "t")])
    if p["suppressed"] and p["has_mobile"]:
        suppress(store, "phone", number, "manual", channel=None if p["suppressed"] == "all" else p["suppressed"])
    return cid


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(person, min_size=1, max_size=8))
def test_never_sent_to_the_unreachable_exactly_once_to_the_reachable(store, twilio, people):
    number = None
    contacts = []
    for p in people:
        if number is None or not p["shares_previous"]:
            number = f"+3367{next(NUMBERS):07d}"
        contacts.append((p, number, _insert(store, p, number)))
    ids = ",".join(str(cid) for _p, _n, cid in contacts)
    request = service.SendRequest("sms", service.Selection(f"c.id IN ({ids})", [], f"ids {ids}"),
                                  Template("Info"), new_campaign=True, now=True,
                                  at=(datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    plan = service.plan_send(store, request)
    if plan.planned == 0:
        return
    campaign_id, report = service.start(store, plan)
    assert report is None                                          # scheduled: frozen, nothing sent yet
    for p, num, cid in contacts:                                   # changes after the freeze
        if p["withdraw_later"]:
            record_consent_events(store, [(cid, "sms", "withdraw", NOW, "stop-reply", "later")])
        if p["suppress_later"] and p["has_mobile"]:
            ledger.suppress(store, "phone", num, "stop-reply", "sms")
    before = twilio.counts_by_number()
    service.resume(store, campaign_id, now=True)
    after = twilio.counts_by_number()
    received = {n: after.get(n, 0) - before.get(n, 0) for n in after if after.get(n, 0) - before.get(n, 0)}

    blocked_numbers = {num for p, num, _c in contacts if p["has_mobile"] and (
        p["suppressed"] in ("all", "sms") or p["suppress_later"])}
    assert set(received.values()) <= {1}                            # never twice
    assert not set(received) & blocked_numbers                      # never an opted-out number
    # the contact chosen for a number at freeze time: the first one reachable then
    frozen_first = {}
    for p, num, cid in contacts:                                     # the contact chosen at freeze time
        if p["has_mobile"] and p["consent"] == "granted" and not p["invalid"] and p["suppressed"] not in ("all", "sms"):
            frozen_first.setdefault(num, (p, cid))
    expected = {num for num, (p, _cid) in frozen_first.items()
                if not p["withdraw_later"] and num not in blocked_numbers}
    assert set(received) == expected                               # exactly the reachable ones
    for p, num, cid in contacts:                                    # no consent now: not this contact's message
        sent_for = {c for (c,) in store.execute(
            "SELECT contact_id FROM campaign_recipients WHERE campaign_id = ? AND state = 'accepted'", (campaign_id,))}
        if p["consent"] != "granted" or p["withdraw_later"]:
            assert cid not in sent_for
