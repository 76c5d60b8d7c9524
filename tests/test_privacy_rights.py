"""Rights requests through the CLI: export, forget (and staying forgotten), rectify."""

import json
import os
import shutil
import stat

import pytest

pytestmark = pytest.mark.engines

from dbox.privacy import rights
from dbox.store import privacy as sp
from dbox.store.contacts import count_contacts
from tests.conftest import write_csv

PEOPLE = ("Nom;Prénom;Courriel;Tél. portable;Code postal;Ville;Étiquettes;Accord SMS;Profession\n"
          "Martin;Alice;alice@exemple.fr;0612345678;38000;Grenoble;militant;oui;infirmière\n"
          "Durand;Bruno;bruno@exemple.fr;0623456789;07340;Peaugres;sympathisant;oui;\n"
          "Petit;Chloé;chloe@exemple.fr;;38100;Grenoble;;non;\n")


@pytest.fixture
def people(store, cli, tmp_path):
    path = write_csv(tmp_path / "people.csv", PEOPLE)
    assert cli("import", path).exit_code == 0
    return path


def everything(store):
    tables = ["contacts", "contact_points", "contact_tags", "contact_fields", "consents", "consent_events",
              "contact_sources", "suppressions", "rectifications"]
    return {t: store.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


def send_one(store, contact_id):
    """A real ledger row for the contact: a campaign frozen by the sending ledger, claimed and accepted."""
    from dbox.store import ledger

    reach = ledger.Reach("sms", "mobile")
    campaign_id, counts = ledger.create_campaign(
        store, uid="t1", channel="sms", reach=reach, fingerprint="f1", expression="", segment=None,
        where="c.id = ?", params=[contact_id], template={"message": "Réunion jeudi 19h"}, status="running",
        due_at=None, ignore_window=True, settings={}, created_by="test")
    assert counts == {"planned": 1}
    recipient_id = store.execute("SELECT id FROM campaign_recipients WHERE campaign_id = ?", (campaign_id,)).fetchone()[0]
    assert ledger.claim(store, recipient_id, reach) is None   # None: claimed
    ledger.record_outcome(store, recipient_id, "accepted", provider_id="SM123", provider_status="queued", segments=1)
    return campaign_id


# -- export ----------------------------------------------------------------------------------------

def test_export_text_holds_everything(cli, people, store):
    send_one(store, 1)
    result = cli("privacy", "export", "alice@exemple.fr")
    assert result.exit_code == 0
    text = result.output
    for expected in ("Données personnelles détenues — fiche n° 1", "Prénom : Alice", "Nom : Martin",
                     "mobile : +33612345678 (valid)", "Étiquettes\n----------\nmilitant", "profession : infirmière",
                     "sms : accordé le", "fichier people.csv, ligne 2, importé le", "sms campagne 1 à +33612345678 envoyé"):
        assert expected in text, expected


def test_export_json_and_files_are_private(cli, people, store, tmp_path):
    send_one(store, 1)
    data = json.loads(cli("privacy", "export", "1", "--format", "json").output)
    assert data["identity"]["email"] == "alice@exemple.fr"
    assert data["tags"] == ["militant"] and data["fields"] == {"profession": "infirmière"}
    assert [e["action"] for e in data["consent_history"]] == ["grant"]
    assert data["sources"][0]["file"] == "people.csv" and data["sources"][0]["row"] == 2
    assert data["messages"][0]["state"] == "accepted"
    assert data["messages"][0]["campaign_channel"] == "sms"
    assert json.loads(data["messages"][0]["campaign_template"]) == {"message": "Réunion jeudi 19h"}

    old = os.umask(0o022)
    try:
        result = cli("privacy", "export", "1", "--output", tmp_path / "out")
    finally:
        os.umask(old)
    assert result.exit_code == 0
    files = sorted((tmp_path / "out").iterdir())
    assert [f.suffix for f in files] == [".json", ".txt"]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert json.loads(files[0].read_text())["contact_id"] == 1
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700


def test_export_unknown_person(cli, people):
    result = cli("privacy", "export", "nobody@exemple.fr")
    assert result.exit_code == 3 and "Error: no contact with email nobody@exemple.fr" in result.output


# -- forget ----------------------------------------------------------------------------------------

def test_forget_dry_run_changes_nothing(cli, people, store):
    before = everything(store)
    result = cli("privacy", "forget", "bruno@exemple.fr", "--dry-run")
    assert result.exit_code == 0
    assert ("Dry run: erasing contact 2 would remove: contacts 1, consent_events 1, consents 1, contact_points 2, "
            "contact_sources 1, contact_tags 1; hashes kept: 1 email, 1 name, 1 phone.") in result.output
    assert everything(store) == before


def test_forget_needs_confirmation(cli, people, store):
    before = everything(store)
    result = cli("privacy", "forget", "2")
    assert result.exit_code == 1
    assert "Not confirmed: no terminal to ask on" in result.output
    assert everything(store) == before


def test_forget_erases_everywhere_and_keeps_them_out(cli, people, store, tmp_path):
    campaign_id = send_one(store, 2)
    result = cli("privacy", "forget", "bruno@exemple.fr", "--yes")
    assert result.exit_code == 0 and "Contact 2 erased" in result.output
    assert count_contacts(store) == 2
    for table in sp.tables_with_contact_id(store):
        assert store.execute(f"SELECT count(*) FROM {table} WHERE contact_id = 2").fetchone()[0] == 0, table
    # the campaign keeps its outcome, nothing that leads back to Bruno
    assert sp.erased_recipient_counts(store, campaign_id) == {"accepted": 1}
    tomb = store.execute("SELECT * FROM erased_recipients").fetchone()
    assert "+33623456789" not in repr(tomb) and "SM123" not in repr(tomb)
    # no clear-text trace in the audit log either
    assert "bruno" not in repr(store.execute("SELECT * FROM audit_log").fetchall()).lower()

    again = cli("import", people, "--force")
    assert again.exit_code == 0 and "suppressed (erased or opposed)" in again.output
    assert count_contacts(store) == 2
    copy = shutil.copy(people, tmp_path / "copie-du-fichier.csv")
    assert cli("import", copy).exit_code == 0
    # same person, new e-mail, same mobile
    other = write_csv(tmp_path / "autre.csv", "Nom;Prénom;Courriel;Tél. portable\nDurand;Bruno;b.durand@exemple.fr;06 23 45 67 89\n")
    assert "suppressed" in cli("import", other).output
    assert count_contacts(store) == 2
    assert cli("contacts", "show", "bruno@exemple.fr").exit_code == 3


def test_forget_removes_social_identities_and_hashes_them(store, tmp_path):
    from dbox.importing.pipeline import import_file
    from dbox.store import suppressions

    import_file(store, write_csv(tmp_path / "p.csv", PEOPLE))
    store.execute("INSERT INTO identities (contact_id, network, account_id, handle) VALUES (1, 'mastodon', '42', "
                  "'@alice@mastodon.social')")
    report = rights.forget(store, 1)
    assert report.removed["identities"] == 1 and report.hashes["social"] == 2
    assert store.execute("SELECT count(*) FROM identities").fetchone()[0] == 0
    hasher = suppressions.Hasher(store)
    assert suppressions.suppressed(store, [hasher("mastodon:id:42")]) == {hasher("mastodon:id:42")}


def test_forget_unknown_contact(cli, people):
    result = cli("privacy", "forget", "99", "--yes")
    assert result.exit_code == 3 and "Error: no contact with id 99" in result.output


# -- rectify ---------------------------------------------------------------------------------------

def test_rectify_records_who_changed_what(cli, people, store):
    result = cli("privacy", "rectify", "alice@exemple.fr", "--set", "first_name=alice-marie",
                 "--set", "email=Alice.Martin@Exemple.fr", "--set", "field.profession=", "--reason", "courrier du 2/11")
    assert result.exit_code == 0, result.output
    row = sp.contact_row(store, 1)
    assert (row["first_name"], row["email"]) == ("Alice-Marie", "alice.martin@exemple.fr")
    assert sp.contact_points(store, 1) == [("email", "alice.martin@exemple.fr"), ("mobile", "+33612345678")]
    assert sp.custom_field(store, 1, "profession") is None
    history = sp.rectification_history(store, 1)
    assert [(f, old, new, reason) for _, _, f, old, new, reason in history] == [
        ("first_name", "Alice", "Alice-Marie", "courrier du 2/11"),
        ("email", "alice@exemple.fr", "alice.martin@exemple.fr", "courrier du 2/11"),
        ("field.profession", "infirmière", None, "courrier du 2/11")]
    assert all(who for _, who, *_ in history)
    shown = cli("privacy", "rectify", "1", "--history", "--format", "csv").output.splitlines()
    assert shown[0] == "at,by,field,old,new,reason"
    assert shown[1].endswith(",first_name,Alice,Alice-Marie,courrier du 2/11")
    assert "alice.martin@exemple.fr" in cli("contacts", "show", "alice.martin@exemple.fr").output


def test_rectify_moves_the_contact(cli, people, store):
    result = cli("privacy", "rectify", "3", "--set", "postal_code=7340", "--set", "commune=Peaugres")
    assert result.exit_code == 0
    row = sp.contact_row(store, 3)
    assert (row["postal_code"], row["commune_name"]) == ("07340", "Peaugres")
    if store.execute("SELECT count(*) FROM geo_communes").fetchone()[0]:
        assert row["departement"] == "07" and row["geo_status"] == "resolved"


@pytest.mark.parametrize("spec, message", [
    ("name=Bob", "Error: --set 'name=Bob': unknown field 'name'"),
    ("first_name", "Error: --set 'first_name': expected FIELD=VALUE (an empty value clears the field)"),
    ("email=pas-un-mail", "Error: --set: 'pas-un-mail' is not a valid e-mail"),
    ("mobile=04 76 00 00 01", "Error: --set mobile=04 76 00 00 01: +33476000001 is a fixed number, not a mobile one"),
])
def test_rectify_bad_input_changes_nothing(cli, people, store, spec, message):
    before = everything(store)
    result = cli("privacy", "rectify", "1", "--set", spec)
    assert result.exit_code == 3 and message in result.output
    assert everything(store) == before
