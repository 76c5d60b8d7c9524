"""dbox consent show|grant|withdraw: the history, the rules that protect an opposition."""

import json

import pytest

pytestmark = pytest.mark.engines

from dbox.errors import InputError
from dbox.privacy import consent
from dbox.store import privacy as sp
from dbox.store import suppressions
from dbox.store.contacts import find_contact
from tests.conftest import write_csv

PEOPLE = ("Nom;Prénom;Courriel;Tél. portable;Code postal;Ville;Étiquettes;Accord SMS;Accord e-mail\n"
          "Martin;Alice;alice@exemple.fr;0612345678;38000;Grenoble;militant;oui;oui\n"
          "Durand;Bruno;bruno@exemple.fr;0623456789;07340;Peaugres;sympathisant;oui;non\n"
          "Petit;Chloé;chloe@exemple.fr;;38100;Grenoble;militant;non;oui\n")


@pytest.fixture
def people(store, cli, tmp_path):
    path = write_csv(tmp_path / "people.csv", PEOPLE)
    assert cli("import", path).exit_code == 0
    return path


def history(store, contact_id):
    return sp.consent_history(store, contact_id)


def test_show_every_channel_and_the_history(cli, people):
    result = cli("consent", "show", "alice@exemple.fr", "--format", "json")
    data = json.loads(result.output)
    assert data["current"]["sms"]["status"] == "granted" and data["current"]["sms"]["source"] == "import"
    assert data["current"]["post"] == {"status": "none", "at": None, "source": None}
    assert [(e["channel"], e["action"], e["source"]) for e in data["history"]] == [
        ("sms", "grant", "import"), ("email", "grant", "import")]
    assert "column of the file (people.csv)" in data["history"][0]["detail"]
    text = cli("consent", "show", "+33612345678").output
    assert "Consent of contact 1" in text and "History" in text


def test_grant_needs_its_wording_and_changes_nothing_without(cli, people, store):
    before = history(store, 3)
    result = cli("consent", "grant", "chloe@exemple.fr", "--channel", "sms")
    assert result.exit_code == 3
    assert "Error: a consent needs the wording the person agreed to (or the form or campaign)" in result.output
    assert history(store, 3) == before


def test_grant_records_source_and_wording(cli, people, store):
    result = cli("consent", "grant", "3", "-C", "post,phone", "--source", "form",
                 "--wording", "Formulaire réunion publique du 12/10/2026")
    assert result.exit_code == 0 and "2 consents granted." in result.output
    events = [e for e in history(store, 3) if e[2] == "post" or e[0] in ("post", "phone")]
    assert [(ch, action, src, detail) for ch, action, _, src, detail in events] == [
        ("post", "grant", "form", "Formulaire réunion publique du 12/10/2026"),
        ("phone", "grant", "form", "Formulaire réunion publique du 12/10/2026")]
    again = cli("consent", "grant", "3", "-C", "post", "--source", "form", "--wording", "x")
    assert "0 consents granted, 1 already granted." in again.output


def test_a_withdrawal_is_only_lifted_by_the_person(cli, people, store):
    result = cli("consent", "withdraw", "alice@exemple.fr", "-C", "sms", "--source", "stop-reply",
                 "--detail", "STOP au 36111")
    assert result.exit_code == 0 and "1 consent withdrawn." in result.output
    mobile_hash = suppressions.Hasher(store)("+33612345678")
    assert sp.suppressed_hashes(store, [mobile_hash], "sms") == {mobile_hash}
    assert sp.suppressed_hashes(store, [mobile_hash], "email") == set()

    before = history(store, 1)
    refused = cli("consent", "grant", "1", "-C", "sms", "--wording", "oui")
    assert refused.exit_code == 3
    assert "Error: contact 1 withdrew sms consent on" in refused.output
    assert "(stop-reply); only the person can lift it" in refused.output
    assert "add --renewed" in refused.output
    assert history(store, 1) == before

    lifted = cli("consent", "grant", "1", "-C", "sms", "--source", "phone-call", "--renewed",
                 "--wording", "Appel du 3/11 : souhaite de nouveau recevoir les SMS")
    assert lifted.exit_code == 0
    assert sp.current_consent(store, 1, "sms")[0] == "granted"
    assert history(store, 1)[-1][4].endswith("(renewed after a withdrawal)")
    assert sp.suppressed_hashes(store, [mobile_hash], "sms") == set()


def test_an_address_that_opted_out_cannot_be_granted_in_passing(cli, people, store, tmp_path):
    optouts = write_csv(tmp_path / "unsub.csv", "email\nchloe@exemple.fr\n")
    assert cli("optouts", "import", optouts).exit_code == 0
    refused = cli("consent", "grant", "3", "-C", "email", "--wording", "oui")
    assert refused.exit_code == 3
    assert "Error: contact 3 withdrew email consent on" in refused.output


@pytest.mark.parametrize("args, message", [
    (("-C", "fax", "--wording", "x"), "Error: --channel: unknown channel 'fax' (channels: sms, email, phone, post, social)"),
    (("-C", "sms", "--source", "rumour", "--wording", "x"), "Error: --source: unknown source 'rumour'"),
])
def test_bad_channel_or_source(cli, people, store, args, message):
    before = history(store, 3)
    result = cli("consent", "grant", "3", *args)
    assert result.exit_code == 3 and message in result.output
    assert history(store, 3) == before


def test_contact_and_bulk_selection_are_exclusive(cli, people):
    result = cli("consent", "withdraw", "3", "--filter", "tag:militant", "-C", "sms")
    assert result.exit_code == 3
    assert "Error: name one contact, or a --segment, or a --filter expression (exactly one)" in result.output


def test_an_import_never_turns_a_withdrawal_back_on(cli, people, store):
    assert cli("consent", "withdraw", "alice@exemple.fr", "-C", "email").exit_code == 0
    result = cli("import", people, "--force")
    assert result.exit_code == 0 and "consents not restored (withdrawn)" in result.output
    assert sp.current_consent(store, 1, "email")[0] == "withdrawn"


def test_bulk_grant_keeps_withdrawals_and_bulk_withdraw(store, tmp_path):
    from dbox.importing.pipeline import import_file

    import_file(store, write_csv(tmp_path / "p.csv", PEOPLE))
    consent.withdraw(store, 1, "sms", source="stop-reply")
    where, params = sp.tagged_clause(["militant"])
    change = consent.bulk(store, where, params, ["sms"], "grant", source="form", wording="Fête du 14/07",
                          description="tag:militant")
    # Alice withdrew; Chloé's "non" in the file is a refusal, kept like a withdrawal (issue 12).
    assert (change.counts["changed"], change.counts["kept_withdrawn"]) == (0, 2)
    assert sp.current_consent(store, 1, "sms")[0] == "withdrawn"
    assert sp.current_consent(store, 3, "sms")[0] == "withdrawn"
    change = consent.bulk(store, where, params, ["post"], "grant", source="form", wording="Fête du 14/07",
                          description="tag:militant")
    assert (change.counts["changed"], change.counts["kept_withdrawn"]) == (2, 0)
    change = consent.bulk(store, where, params, ["sms", "email"], "withdraw", source="manual")
    assert change.counts["changed"] == 2 and change.counts["unchanged"] == 2
    with pytest.raises(InputError, match="needs the wording"):
        consent.bulk(store, where, params, ["post"], "grant", source="form", wording=" ")


def test_bulk_by_segment_through_the_cli(cli, people, store):
    pytest.importorskip("dbox.segments")
    result = cli("consent", "withdraw", "--filter", "tag:militant", "-C", "sms", "--yes")
    assert result.exit_code == 0, result.output
    assert sp.current_consent(store, 1, "sms")[0] == "withdrawn"
    assert sp.current_consent(store, 2, "sms")[0] == "granted"
    assert sp.current_consent(store, 3, "sms")[0] == "withdrawn"
    unconfirmed = cli("consent", "grant", "--filter", "tag:sympathisant", "-C", "post", "--wording", "x")
    assert unconfirmed.exit_code == 1 and "Not confirmed: no terminal to ask on" in unconfirmed.output
    assert sp.current_consent(store, 2, "post") is None


def test_every_change_is_audited(cli, people, store):
    from dbox.privacy.audit import entries

    cli("consent", "withdraw", "1", "-C", "email")
    last = next(entries(store, limit=1))
    assert last.command == "consent withdraw" and last.count == 1
    assert last.detail == {"contact_id": 1, "channels": ["email"], "source": "manual"}
    assert find_contact(store, "alice@exemple.fr") == 1
