"""dbox privacy retention and sources; the information mention owed to third-party contacts."""

import json
from datetime import date, timedelta

import pytest

from dbox.config import update_section
from dbox.errors import InputError
from dbox.privacy import notice, retention
from dbox.store import privacy as sp
from dbox.store import suppressions
from dbox.store.contacts import count_contacts
from tests.conftest import write_csv

OWN = ("Nom;Prénom;Courriel;Tél. portable;Étiquettes;Accord SMS\n"
       "Martin;Alice;alice@exemple.fr;0612345678;militant;oui\n"           # 1: consented: stays
       "Durand;Bruno;bruno@exemple.fr;0623456789;adhérent;non\n"          # 2: member (keep tag)
       "Petit;Chloé;chloe@exemple.fr;0634567890;prospects 2027;non\n")    # 3: election prospect
PUBLIC = ("Nom;Prénom;Courriel;Tél. portable\n"
          "Roux;Denis;denis@exemple.fr;0645678901\n"                        # 4: third party
          "Blanc;Emma;emma@exemple.fr;0656789012\n")                        # 5: third party

TODAY = date.today()

pytestmark = pytest.mark.engines


def in_days(n):
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture
def imported(store, cli, tmp_path):
    assert cli("import", write_csv(tmp_path / "own.csv", OWN)).exit_code == 0
    assert cli("import", write_csv(tmp_path / "parrainages.csv", PUBLIC)).exit_code == 0
    update_section("privacy.retention", {"keep_tags": ["adhérent"]})


def due(cli, *args):
    rows = json.loads(cli("privacy", "retention", "--list", "--format", "json", *args).output)
    return [(r["rule"], r["contact_id"]) for r in rows]


def test_nothing_is_due_today(cli, imported):
    result = cli("privacy", "retention")
    assert result.exit_code == 0 and "Retention as of" in result.output
    assert due(cli) == []


def test_inactive_contacts_fall_due_after_three_years_unless_they_consented_or_are_kept(cli, imported, store):
    retention.record_exchange(store, 5, "reply", at=f"{in_days(3 * 365)}T10:00:00Z")   # Emma answered later on
    assert due(cli, "--as-of", in_days(365 * 3 + 10)) == [("inactive", 3), ("inactive", 4)]


def test_third_party_prospects_go_after_two_months(cli, imported, store):
    marked = cli("privacy", "sources", "2", "--third-party", "liste publique des parrainages")
    assert marked.exit_code == 0 and "third-party data (liste publique des parrainages)" in marked.output
    listing = cli("privacy", "sources", "--format", "csv").output.splitlines()
    assert listing[0] == "import,file,kind,finished,contacts,origin"
    assert listing[1].startswith("1,own.csv,contacts,") and listing[1].endswith(",3,own")
    assert listing[2].endswith(",2,liste publique des parrainages")
    assert due(cli, "--as-of", in_days(40)) == []
    assert due(cli, "--as-of", in_days(75)) == [("third-party", 4), ("third-party", 5)]
    # Denis said STOP: he goes, his opposition stays as a hash
    assert cli("consent", "withdraw", "denis@exemple.fr", "-C", "sms", "--source", "stop-reply").exit_code == 0
    unconfirmed = cli("privacy", "retention", "--as-of", in_days(75), "--purge")
    assert unconfirmed.exit_code == 1 and count_contacts(store) == 5
    result = cli("privacy", "retention", "--as-of", in_days(75), "--purge", "--yes")
    assert result.exit_code == 0, result.output
    assert "Erased 2 contacts (third-party 2)" in result.output
    assert count_contacts(store) == 3
    hasher = suppressions.Hasher(store)
    assert sp.suppressed_hashes(store, [hasher("+33645678901")], "sms") == {hasher("+33645678901")}
    assert suppressions.suppressed(store, [hasher("emma@exemple.fr")]) == set()   # purged, not opposed
    from dbox.privacy.audit import entries

    last = next(entries(store, limit=1))
    assert last.command == "privacy retention purge" and last.count == 2
    assert last.detail["by_rule"] == {"third-party": 2}


def test_an_election_prospect_list_goes_after_the_vote(cli, imported):
    vote = in_days(30)
    assert due(cli, "--election-date", vote, "--election-tag", "prospects 2027", "--as-of", in_days(29)) == []
    assert due(cli, "--election-date", vote, "--election-tag", "Prospects 2027", "--as-of", in_days(31)) == [
        ("election", 3)]
    update_section("privacy.retention", {"election_date": vote, "election_tags": ["prospects 2027"]})
    assert due(cli, "--as-of", in_days(31)) == [("election", 3)]


def test_opposition_hashes_are_kept_at_least_three_years(cli, imported, store):
    update_section("privacy.retention", {"opposition_years": 2})
    result = cli("privacy", "retention")
    assert result.exit_code == 3
    assert ("Error: config [privacy.retention] opposition_years = 2: oppositions must be kept at least 3 years"
            in result.output)
    update_section("privacy.retention", {"opposition_years": 3})
    cli("privacy", "forget", "5", "--yes")
    plan = retention.plan(store, retention.load_rules(), date.fromisoformat(in_days(3 * 366)))
    assert plan.oppositions_due == 2          # her e-mail and her mobile
    assert retention.plan(store, retention.load_rules(), TODAY).oppositions_due == 0


@pytest.mark.parametrize("values, message", [
    ({"inactive_years": "trois"}, "config [privacy.retention] inactive_years: expected a whole number >= 1, got 'trois'"),
    ({"election_date": "20/06/2027"}, "config [privacy.retention] election_date: expected a date like 2027-06-20, "
                                      "got '20/06/2027'"),
    ({"keep_tags": "adhérent"}, None),
])
def test_rule_config_errors(values, message):
    config = {"privacy": {"retention": values}}
    if message is None:
        assert retention.load_rules(config).keep_tags == ("adhérent",)
        return
    with pytest.raises(InputError) as exc:
        retention.load_rules(config)
    assert str(exc.value) == message


def test_mark_unknown_import(cli, imported):
    result = cli("privacy", "sources", "9", "--third-party", "x")
    assert result.exit_code == 3 and "Error: no import with id 9" in result.output
    both = cli("privacy", "sources", "2")
    assert both.exit_code == 3 and 'Error: say --third-party "origin" or --own' in both.output


def test_send_warns_about_the_information_mention(cli, imported, store):
    cli("privacy", "sources", "2", "--third-party", "liste publique des parrainages")
    cli("consent", "grant", "4", "-C", "sms", "--source", "form", "--wording", "Formulaire web")
    everyone = ("TRUE", [])                                     # every contact, on either engine
    check = notice.check_send(store, *everyone, "sms", "Réunion publique jeudi")
    assert check.third_party_first == 1
    assert "no information mention is configured" in check.warning
    update_section("privacy", {"information_mention": "Équipe M. Curie — vos données viennent de la liste "
                                                      "publique des parrainages ; STOP pour vous opposer"})
    assert "lacks the configured information mention" in notice.send_warning(store, *everyone, "sms", "Réunion jeudi")
    text = ("Réunion jeudi. équipe m curie vos données viennent de la liste publique des parrainages, "
            "STOP pour vous opposer")
    assert notice.send_warning(store, *everyone, "sms", text) is None
    # e-mail: Denis has no e-mail consent, so an e-mail campaign does not reach him
    assert notice.check_send(store, *everyone, "email", "Bonjour").third_party_first == 0
