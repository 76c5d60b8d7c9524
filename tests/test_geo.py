"""Geography from the shipped reference table: communes, cantons, circonscriptions, offline."""

from dbox.geo import resolve
from dbox.importing.pipeline import import_file
from dbox.store.contacts import contact_details, find_contact
from dbox.store.geo import load_index, reference_size
from tests.conftest import write_csv


def test_reference_is_loaded_into_a_new_store(store):
    assert reference_size(store) > 34000


def test_resolve(store):
    index = load_index(store)
    peaugres = resolve(index, "07340", "Peaugres")
    assert (peaugres.status, peaugres.insee, peaugres.departement) == ("resolved", "07172", "07")
    assert peaugres.canton_code and peaugres.circonscription == "07-02"
    grenoble = resolve(index, "38000", "GRENOBLE")
    assert grenoble.insee == "38185" and grenoble.canton_code is None
    assert len(grenoble.canton_candidates) == 4
    # A postal code shared by several communes: the town name decides, abbreviations included.
    assert resolve(index, "07340", None).status == "ambiguous"
    assert resolve(index, "42000", "ST ETIENNE").commune_name == "Saint-Étienne"
    assert resolve(index, None, "saint-etienne").insee == "42218"
    assert resolve(index, "69003", "Lyon 3e").insee == "69383"
    assert resolve(index, "69003", "Lyon").commune_name == "Lyon 3e Arrondissement"
    assert resolve(index, "75015", "PARIS").circonscription is None  # the 15th spans several
    assert resolve(index, None, "Lyon 3e").insee == "69383"
    assert resolve(index, "99999", "Nulle Part").status == "unknown"
    assert resolve(index, None, None).status == "missing"
    reunion = resolve(index, "97400", "Saint-Denis")
    assert (reunion.insee, reunion.departement) == ("97411", "974")


def test_import_places_contacts_and_reports_split_communes(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Prénom;Portable;CP;Ville\n"
                     "A;Anne;0612345671;07340;Peaugres\n"
                     "B;Bruno;0612345672;38000;Grenoble\n"
                     "C;Chloé;0692123456;97400;Saint-Denis\n"
                     "D;Denis;0612345674;07340;\n")
    report = import_file(store, path)
    assert report.geo["resolved"] == 3 and report.geo["ambiguous"] == 1
    assert report.geo["canton_ambiguous"] == 2
    assert report.split_communes == {"Grenoble": 1, "Saint-Denis": 1}
    a = contact_details(store, find_contact(store, "0612345671"))
    assert (a["commune_insee"], a["departement"], a["geo_status"]) == ("07172", "07", "resolved")
    assert a["canton"] and a["circonscription"] == "07-02"
    b = contact_details(store, find_contact(store, "0612345672"))
    assert b["canton_code"] is None and len(b["canton_candidates"]) == 4
    c = contact_details(store, find_contact(store, "+262692123456"))
    assert (c["phone_region"], c["departement"]) == ("RE", "974")
    d = contact_details(store, find_contact(store, "0612345674"))
    assert (d["geo_status"], d["departement"], d["commune_insee"]) == ("ambiguous", "07", None)


def test_cli_report_names_split_communes(store, cli, tmp_path):
    path = write_csv(tmp_path / "c.csv", "Nom;Portable;CP;Ville\nB;0612345672;38100;Grenoble\n")
    result = cli("import", path)
    assert "Canton left empty for 1 contacts in communes split over several cantons: Grenoble (1)" in result.output
