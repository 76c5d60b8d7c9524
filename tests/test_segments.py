"""dbox.segments, the library: select(), saved segments, split communes, bulk tagging, exports."""

import csv
import io
import json
import os
import stat

import pytest

pytestmark = pytest.mark.engines

from dbox import segments
from dbox.errors import InputError
from dbox.filters import FilterSyntaxError, parse
from dbox.store.contacts import count_contacts, iter_contacts
from test_segments_support import NOW, Oracle, geo, sample, sample_template, selected_ids  # noqa: F401


def count(store, expression=None, **kw):
    return segments.count(store, segments.select(store, expression, **kw))


# -- select() ------------------------------------------------------------------------------------------

def test_nothing_selects_everyone(sample):
    for selection in (segments.select(sample), segments.select(sample, ""), segments.select(sample, "  "),
                      segments.select(sample, None, segment=None, shortcuts={})):
        assert (selection.where, selection.params, selection.expression) == ("TRUE", [], "")
        assert count_contacts(sample, selection.where, selection.params) == count_contacts(sample) > 90


def test_selection_runs_with_the_store_functions(sample):
    selection = segments.select(sample, "tag:militant", shortcuts={"departement": "38"})
    assert isinstance(selection, segments.Selection)
    assert selection.expression == "tag:militant and departement = 38"
    ids = [row[0] for row in iter_contacts(sample, ["id", "email"], selection.where, selection.params)]
    assert len(ids) == count_contacts(sample, selection.where, selection.params) > 0


def test_expression_segment_and_shortcuts_combine_with_and(sample):
    segments.save_segment(sample, "militants", "tag:militant")
    selection = segments.select(sample, "consent:email or consent:sms", segment="militants",
                                shortcuts={"reachable": "sms", "tag": "élu", "departement": "38",
                                           "canton": "Meylan", "commune": "La Tronche", "circo": "38-01"})
    # The order is fixed: segment, expression, then the flags in their documented order.
    assert selection.expression == ('in:militants and (consent:email or consent:sms) and canton = Meylan and '
                                    'commune = "La Tronche" and departement = 38 and circonscription = 38-01 '
                                    'and tag:élu and reachable:sms')
    assert selection.expanded.startswith("tag:militant and (consent:email or consent:sms)")
    assert selection.segments == ["militants"]
    oracle = Oracle(sample)
    assert selected_ids(sample, selection) == oracle.matches(parse(selection.expanded))


def test_unknown_shortcut(sample):
    with pytest.raises(InputError, match="unknown shortcut 'ville'"):
        segments.select(sample, shortcuts={"ville": "Grenoble"})


def test_flag_values_are_never_read_as_language(sample):
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(sample, shortcuts={"commune": 'Grenoble" or tag:militant'})
    assert str(info.value) == '--commune: unknown commune "Grenoble" or tag:militant"'
    with pytest.raises(FilterSyntaxError, match='--tag: unknown tag "militant or tag:élu"'):
        segments.select(sample, shortcuts={"tag": "militant or tag:élu"})


def test_flag_errors_name_the_flag(sample):
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(sample, shortcuts={"canton": "Grenble-1"})
    assert str(info.value) == '--canton: unknown canton "Grenble-1" — did you mean "Grenoble-1"?'
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(sample, segment="rurall")
    assert str(info.value) == '--segment: unknown segment "rurall"'


# -- split communes ------------------------------------------------------------------------------------

def test_canton_leaves_out_communes_split_between_cantons_and_says_so(sample):
    oracle = Oracle(sample)
    in_grenoble = oracle.matches(parse("commune = Grenoble"))
    selection = segments.select(sample, "canton = Grenoble-1")
    matched = selected_ids(sample, selection)
    assert matched == oracle.matches(parse("commune = Saint-Égrève"))   # the one commune wholly in Grenoble-1
    assert not matched & in_grenoble
    notes = segments.left_out(sample, selection)
    n = len(in_grenoble)
    assert notes == [f"canton Grenoble-1: {n} more contacts live in communes split between several cantons "
                     f'(Grenoble) and are not included; add "or commune = Grenoble" to include them']


def test_left_out_counts_only_what_the_rest_of_the_filter_keeps(sample):
    oracle = Oracle(sample)
    expected = len(oracle.matches(parse("commune = Grenoble and tag:militant")))
    notes = segments.left_out(sample, segments.select(sample, "canton = Grenoble-1 and tag:militant"))
    assert notes and notes[0].startswith(f"canton Grenoble-1: {expected} more contact")
    # Under a "not", nothing is "left out": no note.
    assert segments.left_out(sample, segments.select(sample, "not canton = Grenoble-1")) == []
    # A canton of whole communes leaves nobody out.
    assert segments.left_out(sample, segments.select(sample, "canton = Meylan")) == []


def test_circonscription_split(sample):
    oracle = Oracle(sample)
    n = len(oracle.matches(parse("commune = Grenoble")))
    notes = segments.left_out(sample, segments.select(sample, "circo = 38-03"))
    assert notes == [f"circonscription 38-03: {n} more contacts live in communes split between several "
                     f'circonscriptions (Grenoble) and are not included; add "or commune = Grenoble" to include them']


# -- saved segments ------------------------------------------------------------------------------------

def test_save_list_show_and_use(sample):
    info = segments.save_segment(sample, "rural", "commune.population < 3500", description="petites communes")
    assert (info.name, info.expression, info.description) == ("rural", "commune.population < 3500", "petites communes")
    assert info.count == count(sample, "commune.population < 3500") > 0
    segments.save_segment(sample, "Élus", "tag:élu")
    segments.save_segment(sample, "elus-ruraux", "in:rural and in:elus")
    listed = segments.list_segments(sample)
    assert [i.name for i in listed] == ["Élus", "elus-ruraux", "rural"]
    assert listed[1].count == count(sample, "commune.population < 3500 and tag:élu")
    shown = segments.segment_info(sample, "ELUS-RURAUX")
    assert shown.expanded == "commune.population < 3500 and tag:élu"
    assert count(sample, segment="elus-ruraux") == shown.count
    assert count(sample, "in:Élus") == count(sample, "tag:élu")


def test_saved_segments_are_dynamic(sample):
    segments.save_segment(sample, "relance", "tag:relance")
    before = segments.segment_info(sample, "relance").count
    added, _ = segments.tag_contacts(sample, "relance", segments.select(sample, "id <= 5"))
    assert segments.segment_info(sample, "relance").count == before + added


def test_save_canonicalizes_and_checks(sample):
    info = segments.save_segment(sample, "isere", "DEPARTEMENT == 38 AND Tag:'militant'")
    assert info.expression == "departement = 38 and tag:militant"
    assert segments.save_segment(sample, "g1", shortcuts={"canton": "Grenoble-1"}).expression == "canton = Grenoble-1"
    with pytest.raises(FilterSyntaxError, match='unknown tag "militnt"'):
        segments.save_segment(sample, "bad", "tag:militnt")
    with pytest.raises(InputError, match="needs an expression"):
        segments.save_segment(sample, "vide", "  ")
    with pytest.raises(InputError, match='segment "isere" already exists: departement = 38 and tag:militant'):
        segments.save_segment(sample, "Isère", "tag:élu")
    info = segments.save_segment(sample, "isere", "departement = 38", replace=True)
    assert info.expression == "departement = 38" and info.name == "isere"
    assert [i.name for i in segments.list_segments(sample, with_counts=False)] == ["g1", "isere"]


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "-x", "and", "in", "é;", "a/b"])
def test_bad_segment_names(sample, name):
    with pytest.raises(InputError):
        segments.save_segment(sample, name, "tag:militant")
    assert segments.list_segments(sample) == []


def test_cycles_are_refused(sample):
    with pytest.raises(FilterSyntaxError) as info:
        segments.save_segment(sample, "a", "tag:militant or in:a")
    assert str(info.value).startswith('segment "a" refers to itself (in:a -> in:a) at column 20')
    segments.save_segment(sample, "a", "tag:militant")
    segments.save_segment(sample, "b", "in:a and consent:sms")
    with pytest.raises(FilterSyntaxError) as info:
        segments.save_segment(sample, "a", "in:b", replace=True)
    assert str(info.value).startswith(
        'in saved segment "b": segment "a" refers to itself (in:a -> in:b -> in:a) at column 4')
    assert segments.segment_info(sample, "a").expression == "tag:militant"


def test_errors_inside_a_saved_segment_point_into_it(sample):
    segments.save_segment(sample, "profs", "field.profession = enseignant")
    sample.execute("UPDATE segments SET expression = 'field.profesion = enseignant' WHERE name = 'profs'")
    with pytest.raises(FilterSyntaxError) as info:
        segments.select(sample, "tag:militant and in:profs")
    assert str(info.value).split("\n") == [
        'in saved segment "profs": unknown custom field "field.profesion" at column 1 — did you mean '
        '"field.profession"?',
        "  field.profesion = enseignant", "  ^^^^^^^^^^^^^^^"]
    assert segments.list_segments(sample)[0].count is None   # listed, with an unknown count


def test_delete_and_rename(sample):
    segments.save_segment(sample, "rural", "commune.population < 3500")
    segments.save_segment(sample, "militants-ruraux", "tag:militant and in:rural")
    segments.save_segment(sample, "autres", "not in:rural or in:militants-ruraux")
    with pytest.raises(InputError, match='segment "rural" is used by autres, militants-ruraux'):
        segments.delete_segment(sample, "rural")
    assert segments.rename_segment(sample, "RURAL", "campagne") == ["autres", "militants-ruraux"]
    assert segments.segment_info(sample, "autres").expression == "not in:campagne or in:militants-ruraux"
    assert segments.segment_info(sample, "militants-ruraux").expression == "tag:militant and in:campagne"
    with pytest.raises(InputError, match='no saved segment "rural" — did you mean "rural"?|no saved segment "rural"'):
        segments.segment_info(sample, "rural")
    with pytest.raises(InputError, match='segment "autres" already exists'):
        segments.rename_segment(sample, "campagne", "autres")
    segments.delete_segment(sample, "autres")
    segments.delete_segment(sample, "militants-ruraux")
    segments.delete_segment(sample, "campagne")
    assert segments.list_segments(sample) == []
    with pytest.raises(InputError, match='no saved segment "campagne"'):
        segments.delete_segment(sample, "campagne")


# -- bulk tagging --------------------------------------------------------------------------------------

def test_tag_and_untag_a_selection(sample):
    target = segments.select(sample, "departement = 38 and not tag:militant")
    n = segments.count(sample, target)
    updated_before = dict(iter_contacts(sample, ["id", "updated_at"]))
    added, already = segments.tag_contacts(sample, "Phoning 2026", target)
    assert (added, already) == (n, 0)
    tagged = selected_ids(sample, segments.select(sample, "tag:phoning-2026"))   # folded: same tag
    assert tagged == selected_ids(sample, segments.select(sample, "departement = 38 and not tag:militant"))
    after = dict(iter_contacts(sample, ["id", "updated_at"]))
    assert {i for i in after if after[i] != updated_before[i]} == tagged
    again = segments.tag_contacts(sample, "phoning 2026", segments.select(sample, "departement = 38"))
    assert again == (count(sample, "departement = 38") - n, n)
    removed = segments.untag_contacts(sample, "PHONING 2026", segments.select(sample, "tag:militant"))
    assert removed == count(sample, "departement = 38 and tag:militant")
    assert count(sample, "tag:phoning-2026") == n
    assert ("Phoning 2026", n) in segments.tag_counts(sample)


def test_tagging_reads_the_selection_before_changing_anything(sample):
    """A filter on the tag itself, or on updated_at, means what it meant when the command started."""
    n = count(sample, "updated_at < 2026-11-01", now=NOW)
    assert segments.tag_contacts(sample, "ancien", segments.select(sample, "updated_at < 2026-11-01"))[0] == n
    assert count(sample, "tag:ancien") == n
    segments.tag_contacts(sample, "x", segments.select(sample, "id = 1"))
    assert segments.tag_contacts(sample, "x", segments.select(sample, "not tag:x")) == (count_contacts(sample) - 1, 0)


def test_bad_tags_change_nothing(sample):
    before = segments.tag_counts(sample)
    for name, message in [("", "a tag needs a name"), ("a,b", "is not a tag name"), ("x" * 101, "at most 100")]:
        with pytest.raises(InputError, match=message):
            segments.tag_contacts(sample, name, segments.select(sample))
    with pytest.raises(InputError, match='unknown tag "militan" — did you mean "militant"\\?'):
        segments.untag_contacts(sample, "militan", segments.select(sample))
    assert segments.tag_counts(sample) == before


def test_tagging_is_audited_when_the_audit_log_exists(sample):
    pytest.importorskip("dbox.privacy.audit")
    from dbox.privacy.audit import entries

    segments.tag_contacts(sample, "relance", segments.select(sample, 'last_name = "Dupont" and tag:militant'))
    entry = next(entries(sample, command="tag add"))
    assert entry.detail == {"filter": 'last_name = "…" and tag:militant', "tag": "relance"}


# -- exports -------------------------------------------------------------------------------------------

def test_export_csv_is_spreadsheet_safe(sample, tmp_path):
    target = tmp_path / "out.csv"
    selection = segments.select(sample, "address ~ hyperlink")
    n = segments.export(sample, selection, ["id", "address", "mobile"], output=target)
    assert n == count(sample, "address ~ hyperlink") > 0
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == ["id", "address", "mobile"]
    for row in rows[1:]:
        assert not row[1].startswith(("=", "+", "-", "@")) and "HYPERLINK" in row[1]
        # issue 12 item 11: a phone is a number, not a formula: no quote in front (was "'+33...")
        assert row[2] == "" or row[2].startswith("+33")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_export_excel_and_json(sample, tmp_path):
    selection = segments.select(sample, "tag:militant")
    n = segments.export(sample, selection, ["id", "last_name"], output=tmp_path / "x.csv", excel=True)
    raw = (tmp_path / "x.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid;last_name\r\n") and raw.count(b"\r\n") == n + 1
    assert segments.export(sample, selection, ["id", "field.profession"], fmt="json", output=tmp_path / "x.json") == n
    data = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert len(data) == n and set(data[0]) == {"id", "field.profession"}


def test_a_failed_export_leaves_no_file(sample, tmp_path, monkeypatch, engine):
    target = tmp_path / "out.csv"
    target.write_text("previous export\n")

    def broken(*args, **kwargs):
        yield (1, "x")
        raise RuntimeError("disk full")

    monkeypatch.setattr(segments, "rows", broken)
    with pytest.raises(RuntimeError):
        segments.export(sample, segments.select(sample), ["id", "last_name"], output=target)
    assert target.read_text() == "previous export\n"
    store_folder = ["store"] if engine == "sqlite" else []     # a PostgreSQL store is no file here
    assert sorted(os.listdir(tmp_path)) == ["out.csv", *store_folder]


def test_export_refuses_bad_arguments_before_writing(sample, tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(InputError, match="unknown column 'phone'"):
        segments.export(sample, segments.select(sample), ["id", "phone"], output=target)
    with pytest.raises(InputError, match="--excel is for CSV"):
        segments.export(sample, segments.select(sample), ["id"], fmt="json", excel=True, output=target)
    with pytest.raises(InputError, match="no such folder"):
        segments.export(sample, segments.select(sample), ["id"], output=tmp_path / "nope" / "x.csv")
    assert not target.exists()


def test_a_name_taken_meanwhile_is_a_clean_error(sample, monkeypatch):
    from dbox.store import segments as store_segments

    real_get = store_segments.get
    segments.save_segment(sample, "rural", "commune.population < 3500")
    monkeypatch.setattr(store_segments, "get", lambda store, name: None)   # as if not yet saved when checked
    with pytest.raises(InputError, match='segment "Rural" already exists'):
        segments.save_segment(sample, "Rural", "tag:militant")
    monkeypatch.setattr(store_segments, "get", real_get)
    assert segments.segment_info(sample, "rural").expression == "commune.population < 3500"
