"""Property: whatever the sequence of imports, consent changes, opt-outs, erasures and sends, no
message ever goes to a contact whose latest SMS consent event is a withdrawal, nor to an address
that opted out or was erased. Sends go through the real pipeline (service.plan_send/start, the
ledger, the real twilio client) to the local Twilio server."""

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_send_support import twilio  # noqa: F401

from dbox.errors import InputError
from dbox.importing.pipeline import ImportOptions, import_file
from dbox.privacy import consent, optouts, rights
from dbox.sending import service
from dbox.sending.compose import Template
from dbox.store import suppressions
from dbox.store import privacy as sp
from dbox.store.contacts import find_contact
from dbox.store.db import open_store

PEOPLE = [("Alice", "Martin", "0612000001"), ("Bruno", "Durand", "0612000002"),
          ("Chloé", "Petit", "0612000003"), ("Denis", "Roux", "0612000004")]
E164 = {i: "+336120000" + f"{i + 1:02d}" for i in range(len(PEOPLE))}

person = st.integers(0, len(PEOPLE) - 1)
operation = st.one_of(
    st.tuples(st.just("import"), st.lists(st.tuples(person, st.booleans()), min_size=1, max_size=4)),
    st.tuples(st.just("withdraw"), person),
    st.tuples(st.just("grant"), person, st.booleans()),
    st.tuples(st.just("optout"), person),
    st.tuples(st.just("forget"), person),
    st.tuples(st.just("send"), st.integers(0, 3)),
)


def _contact(store, i):
    try:
        return find_contact(store, E164[i])
    except InputError:
        return None


def _apply(store, folder: Path, step: int, op) -> None:
    kind = op[0]
    if kind == "import":
        lines = ["Prénom;Nom;Portable;Accord SMS"]
        lines += [f"{PEOPLE[i][0]};{PEOPLE[i][1]};{PEOPLE[i][2]};{'oui' if yes else 'non'}" for i, yes in op[1]]
        path = folder / f"import-{step}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(store, path, ImportOptions(force=True))
    elif kind == "optout":
        path = folder / f"stop-{step}.csv"
        path.write_text(f"phone\n{PEOPLE[op[1]][2]}\n", encoding="utf-8")
        optouts.import_optouts(store, path)
    else:
        contact_id = _contact(store, op[1])
        if contact_id is None:
            return
        if kind == "withdraw":
            consent.withdraw(store, contact_id, "sms", source="stop-reply")
        elif kind == "grant":
            try:
                consent.grant(store, contact_id, "sms", source="form", wording="Formulaire", renewed=op[2])
            except InputError:
                assert not op[2]          # refused only when the person did not ask again
        elif kind == "forget":
            rights.forget(store, contact_id)


def _send(store, step: int, twilio_server) -> None:
    request = service.SendRequest(channel="sms", selection=service.Selection("1", [], ""),
                                  template=Template(f"Message {step}"), new_campaign=True)
    plan = service.plan_send(store, request)
    if not plan.planned:
        return
    before = len(twilio_server.outbound())
    campaign_id, report = service.start(store, plan)
    sent_to = [m["to"] for m in twilio_server.outbound()[before:]]
    assert len(sent_to) == report.accepted
    hasher = suppressions.Hasher(store)
    for contact_id, address in store.execute(
            "SELECT contact_id, address FROM campaign_recipients WHERE campaign_id = ? AND state IN "
            "('claimed', 'accepted', 'delivered', 'undelivered', 'in-doubt')", (campaign_id,)).fetchall():
        last = sp.last_event(store, contact_id, "sms")
        assert last is not None and last[0] == "grant", (contact_id, last)
        assert not sp.suppressed_hashes(store, [hasher(address)], "sms")
    for number in sent_to:
        holders = sp.contacts_with_point(store, "mobile", [number]).get(number, [])
        assert holders, "a message went to an address no contact holds (an erased person?)"
        for holder in holders:
            last = sp.last_event(store, holder, "sms")
            assert last is not None and last[0] == "grant"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=8))
def test_no_message_to_a_withdrawn_contact(tmp_path_factory, twilio, ops):  # noqa: F811
    folder = tmp_path_factory.mktemp("prop")
    template = tmp_path_factory.getbasetemp() / "consent-property-template.sqlite3"
    if not template.exists():
        open_store(template).close()
    path = folder / "dbox.sqlite3"
    shutil.copyfile(template, path)
    os.chmod(path, 0o600)
    store = open_store(path)
    try:
        for step, op in enumerate(ops + [("send", 9)]):
            if op[0] == "send":
                _send(store, step, twilio)
            else:
                _apply(store, folder, step, op)
    finally:
        store.close()


def test_the_property_s_pipeline_does_send(tmp_path, twilio):  # noqa: F811
    """The same steps, written out: sends happen, a withdrawal stops them, a renewal resumes them."""
    store = open_store(tmp_path / "s" / "dbox.sqlite3")
    try:
        _apply(store, tmp_path, 0, ("import", [(0, True), (1, True)]))
        _send(store, 1, twilio)
        assert sorted(m["to"] for m in twilio.outbound()) == [E164[0], E164[1]]
        _apply(store, tmp_path, 2, ("withdraw", 0))
        _apply(store, tmp_path, 3, ("optout", 1))
        _apply(store, tmp_path, 4, ("import", [(0, True), (1, True)]))     # the file says "oui" again
        _send(store, 5, twilio)
        assert len(twilio.outbound()) == 2
        _apply(store, tmp_path, 6, ("grant", 0, True))                     # Alice asked again
        _send(store, 7, twilio)
        assert [m["to"] for m in twilio.outbound()[2:]] == [E164[0]]
        _apply(store, tmp_path, 8, ("forget", 0))
        _send(store, 9, twilio)
        assert len(twilio.outbound()) == 3
    finally:
        store.close()
