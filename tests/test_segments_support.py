"""Shared fixtures for the segment and filter tests: a small geography, a store filled through the
real import pipeline, and a plain-Python evaluation of filter trees to check the SQL against.

(It holds no tests itself; the other test_filters_* / test_segments* modules import from it.)
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dbox.store import geo as store_geo

# A slice of the reference table, in its own format (see scripts/build_geo.py): Grenoble spans
# four cantons and two circonscriptions; Peaugres has one canton; "Saint-Denis" is two communes,
# and "Saint-Denis-1" two cantons, in 93 and 974; Lyon has arrondissements.
GEO_ROWS = [
    ("38185", "Grenoble", "38", "158000", "38000 38100",
     "3806:Grenoble-1|3807:Grenoble-2|3808:Grenoble-3|3809:Grenoble-4", "38-01|38-03"),
    ("38516", "La Tronche", "38", "6600", "38700", "3815:Meylan", "38-01"),
    ("38442", "Saint-Pierre-de-Chartreuse", "38", "1000", "38380", "3804:Chartreuse-Guiers", "38-04"),
    ("38563", "Voiron", "38", "20000", "38500", "3821:Voiron", "38-09"),
    ("38269", "La Mure", "38", "5000", "38350", "3814:Matheysine-Trièves", "38-04"),
    ("38382", "Saint-Égrève", "38", "16000", "38120", "3806:Grenoble-1", "38-01"),
    ("07010", "Annonay", "07", "16000", "07100", "0701:Annonay-1|0702:Annonay-2", "07-02"),
    ("07172", "Peaugres", "07", "2200", "07340", "0702:Annonay-2", "07-02"),
    ("07019", "Aubenas", "07", "12000", "07200", "0703:Aubenas-1|0704:Aubenas-2", "07-03"),
    ("73065", "Chambéry", "73", "59000", "73000", "7305:Chambéry-1|7306:Chambéry-2", "73-01|73-04"),
    ("69123", "Lyon", "69", "520000", "", "", "69-01|69-02|69-03"),
    ("69381", "Lyon 1er Arrondissement", "69", "30000", "69001", "", "69-01"),
    ("69383", "Lyon 3e Arrondissement", "69", "100000", "69003", "", "69-03"),
    ("97209", "Fort-de-France", "972", "76000", "97200", "97206:Fort-de-France-1|97207:Fort-de-France-2",
     "972-03"),
    ("97411", "Saint-Denis", "974", "150000", "97400", "97409:Saint-Denis-1|97410:Saint-Denis-2", "974-01"),
    ("93066", "Saint-Denis", "93", "113000", "93200 93210", "9318:Saint-Denis-1", "93-02"),
    ("01001", "L'Abergement-Clémenciat", "01", "", "01400", "0110:Châtillon-sur-Chalaronne", "01-04"),
]


def geo_reference_rows():
    for insee, name, dep, pop, postal, cantons, circos in GEO_ROWS:
        yield {"insee": insee, "name": name, "departement": dep, "population": pop, "lat": "", "lon": "",
               "postal_codes": postal, "cantons": cantons, "circonscriptions": circos}


@pytest.fixture
def geo(monkeypatch):
    """New stores get the small reference above (whatever the shipped table holds)."""
    monkeypatch.setattr(store_geo, "_reference_rows", geo_reference_rows)


# -- a small store filled through the real import pipeline ------------------------------------------

HEADER = ["Civilité", "Nom", "Prénom", "Tél. portable", "Fixe", "Courriel", "Adresse", "Code postal", "Ville",
          "Étiquettes", "Accord SMS", "Accord e-mail", "Profession", "Âge"]
PLACES = [("38000", "Grenoble"), ("38100", "Grenoble"), ("38700", "La Tronche"),
          ("38380", "Saint-Pierre-de-Chartreuse"), ("38500", "Voiron"), ("38350", "La Mure"),
          ("38120", "St Égrève"), ("07100", "Annonay"), ("07340", "Peaugres"), ("07200", "Aubenas"),
          ("73000", "Chambéry"), ("69003", "Lyon 3e Arrondissement"), ("69001", "Lyon"), ("97200", "Fort-de-France"),
          ("97400", "Saint-Denis"), ("93200", "Saint-Denis"), ("01400", "L'Abergement-Clémenciat"),
          ("99999", "Trifouilly-les-Oies"), ("", "Pétaouchnok"), ("", "")]
LAST = ["Dupont", "DUPONT-MOREAU", "N'Diaye", "de La Tour", "Lefèvre", "Martin", "Muller", "Garnier", "Blanc",
        "Roux", "Dubois", "Faure", "Mercier", "Guérin", ""]
FIRST = ["Éléonore", "Hélène", "Jean-Pierre", "Loïc", "Zoé", "Marc", "Inès", "François", "Fatou", "Rémi", ""]
TAGS = ["militant", "sympathisant", "élu", "porte-à-porte", "Bénévole", "donateur"]
PROFESSIONS = ["enseignant", "Enseignante", "retraité", "infirmière", "artisan", "étudiant", ""]
AGES = ["34", "67", "18", "45", "12,5", "", "NC", "-3", "101"]
STREETS = ["rue du Stade", "place de l'Église", "avenue Jean-Jaurès", "chemin des Écoliers", "=HYPERLINK(\"x\")"]


def sample_rows(count: int, seed: int, first_index: int = 0) -> list[list[str]]:
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(first_index, first_index + count):
        postal, town = rng.choice(PLACES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        overseas = postal.startswith("97")
        mobile = "" if rng.random() < 0.2 else (
            f"+33 6 1{rng.randint(0, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            if overseas else f"06 1{rng.randint(0, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} {i % 100:02d}")
        fixed = f"04 76 {rng.randint(10, 99)} {rng.randint(10, 99)} {i % 100:02d}" if rng.random() < 0.3 and not overseas else ""
        email = "" if rng.random() < 0.15 else f"contact{i}@exemple.fr"
        if not (first or last or mobile or email):
            email = f"contact{i}@exemple.fr"
        tags = ", ".join(sorted({rng.choice(TAGS) for _ in range(rng.randint(0, 3))}))
        rows.append([rng.choice(["M.", "Mme", ""]), last, first, mobile, fixed, email,
                     _address(rng) if rng.random() < 0.8 else "", postal, town,
                     tags, rng.choice(["oui", "non", ""]), rng.choice(["oui", "non", ""]),
                     rng.choice(PROFESSIONS), rng.choice(AGES)])
    return rows


def _address(rng) -> str:
    street = rng.choice(STREETS)
    return street if street.startswith("=") else f"{rng.randint(1, 99)} {street}"


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


NOW = datetime(2026, 11, 23, 17, 0, 0, tzinfo=timezone.utc)


def build_sample_store(path: Path, work: Path) -> None:
    """Two imports at different dates (the second adds and updates contacts), then consents
    withdrawn, an address found invalid and suppressions, all through dbox's own functions."""
    from dbox.importing.pipeline import ImportOptions, import_file
    from dbox.store import contacts_write, ledger, suppressions
    from dbox.store.db import open_store

    mp = pytest.MonkeyPatch()
    mp.setattr(store_geo, "_reference_rows", geo_reference_rows)
    try:
        store = open_store(path)
        first = sample_rows(70, seed=1)
        mp.setattr(contacts_write, "utcnow", lambda: "2026-01-15T09:30:00Z")
        import_file(store, write_rows(work / "first.csv", first), ImportOptions(workers=0))
        second = sample_rows(30, seed=2, first_index=70)
        for row in first[:12]:   # the same people again, with a new tag: merged, updated_at moves
            second.append([*row[:9], "relance", *row[10:]])
        mp.setattr(contacts_write, "utcnow", lambda: "2026-11-10T14:00:00Z")
        import_file(store, write_rows(work / "second.csv", second), ImportOptions(workers=0))
        mp.setattr(contacts_write, "utcnow", lambda: "2026-11-20T08:00:00Z")
        granted_sms = [cid for (cid,) in store.execute(
            "SELECT contact_id FROM consents WHERE channel = 'sms' AND status = 'granted' ORDER BY 1")]
        with store.transaction():
            contacts_write.record_consent_events(
                store, [(cid, "sms", "withdraw", "2026-11-20T08:00:00Z", "stop-reply", "STOP")
                        for cid in granted_sms[:3]])
        mobiles = [m for (m,) in store.execute(
            "SELECT c.mobile FROM contacts c JOIN consents k ON k.contact_id = c.id AND k.channel = 'sms' "
            "AND k.status = 'granted' WHERE c.mobile IS NOT NULL ORDER BY c.id")]
        ledger.invalidate_address(store, "mobile", mobiles[0])
        suppressions.add(store, "phone", mobiles[1], "manual")                 # every channel
        suppressions.add(store, "phone", mobiles[2], "manual", channel="email")  # another channel: no effect
        emails = [e for (e,) in store.execute(
            "SELECT c.email FROM contacts c JOIN consents k ON k.contact_id = c.id AND k.channel = 'email' "
            "AND k.status = 'granted' WHERE c.email IS NOT NULL ORDER BY c.id")]
        suppressions.add(store, "email", emails[0], "unsubscribe", channel="email")
        store.close()
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory):
    """Built once per session: each module that imports this fixture shares the one file."""
    folder = tmp_path_factory.getbasetemp() / "sample-template"
    path = folder / "template.sqlite3"
    if not path.exists():
        folder.mkdir(mode=0o700, exist_ok=True)
        partial = folder / "building.sqlite3"      # a build that fails leaves no template behind
        partial.unlink(missing_ok=True)
        build_sample_store(partial, folder)
        partial.replace(path)
    return path


@pytest.fixture
def sample(request, engine, tmp_path, pg_sample):
    """An open store (at $DBOX_DB, so the CLI sees it too) holding the sample contacts, on the
    test's engine."""
    import os
    import shutil

    from dbox.store.db import open_store

    if engine == "postgresql":
        url = request.getfixturevalue("pg_clone")(request.getfixturevalue("pg_sample_template"))
        store = open_store(url)
        yield store
        store.close()
        return
    sample_template = request.getfixturevalue("sample_template")
    target = tmp_path / "store" / "dbox.sqlite3"
    target.parent.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(sample_template, target)
    os.chmod(target, 0o600)
    store = open_store(target)
    yield store
    store.close()


_SAMPLE_ORACLES: dict = {}


@pytest.fixture
def sample_oracle(request, engine, sample):
    """``Oracle(sample)`` as the test begins. Every ``sample`` is a fresh copy of one template per
    engine (and worker), so the Oracle is read once per template — 1,600 store reads, a fifth of a
    second on PostgreSQL — and each test gets its own copy of the contacts it holds."""
    import copy

    template = request.getfixturevalue("pg_sample_template" if engine == "postgresql" else "sample_template")
    key = (engine, str(template))
    if key not in _SAMPLE_ORACLES:
        _SAMPLE_ORACLES[key] = Oracle(sample)
    oracle = copy.copy(_SAMPLE_ORACLES[key])
    oracle.contacts = copy.deepcopy(oracle.contacts)
    return oracle


# -- a plain-Python evaluation of a filter, to check the SQL against -------------------------------

_LEADING_NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_PLM = {"75056": "751", "69123": "6938", "13055": "132"}


def _key(text) -> str:
    from dbox.text import fold_key

    return fold_key(text)


def _commune_key(text) -> str:
    from dbox.geo import commune_key

    return commune_key(text).replace(" ", "") if text else ""


class Oracle:
    """Reads every contact back with ``contact_details`` and decides, contact by contact and in
    plain Python, whether a filter tree matches (the rules of docs/filters.md, written again)."""

    def __init__(self, store, now: datetime = NOW):
        from dbox.store import segments as saved
        from dbox.store.contacts import contact_details, iter_contacts
        from dbox.store.suppressions import Hasher

        self.now = now
        self.contacts = {cid: contact_details(store, cid) for (cid,) in iter_contacts(store, ["id"])}
        self.geo = store_geo.load_index(store)
        self.cantons = {code: name for c in self.geo.communes.values() for code, name in c.cantons}
        hasher = Hasher(store)
        self.hash = hasher
        self.suppressed = store.execute("SELECT value_hash, channel FROM suppressions").fetchall()
        from dbox.filters import Source, parse
        from dbox.text import fold

        self.saved = {fold(s.name): parse(Source(s.expression, kind="segment", name=s.name))
                      for s in saved.list_all(store)}

    def matches(self, tree) -> set[int]:
        if tree is None:
            return set(self.contacts)
        return {cid for cid, c in self.contacts.items() if self.test(tree, c)}

    # -- logic ---------------------------------------------------------------------------------

    def test(self, node, c) -> bool:
        from dbox.filters import nodes as N
        from dbox.text import fold

        if isinstance(node, N.And):
            return all(self.test(i, c) for i in node.items)
        if isinstance(node, N.Or):
            return any(self.test(i, c) for i in node.items)
        if isinstance(node, N.Not):
            return not self.test(node.item, c)
        if isinstance(node, N.Tag):
            return fold(node.name) in {fold(t) for t in c["tags"]}
        if isinstance(node, N.Consent):
            return any(k["channel"] == node.channel and k["status"] == "granted" for k in c["consents"])
        if isinstance(node, N.Reachable):
            kind = "mobile" if node.channel == "sms" else "email"
            address = c[kind]
            return (any(k["channel"] == node.channel and k["status"] == "granted" for k in c["consents"])
                    and address is not None
                    and any(p["kind"] == kind and p["value"] == address and p["status"] == "valid" for p in c["points"])
                    and not any(h == self.hash(address) and ch in (None, node.channel) for h, ch in self.suppressed))
        if isinstance(node, N.SegmentRef):
            return self.test(self.saved[fold(node.name)], c)
        if isinstance(node, N.IsEmpty):
            value = self.raw(node.field, c)
            empty = value is None or value == ""
            return not empty if node.negated else empty
        if isinstance(node, N.InList):
            found = any(self.compare(node.field, "=", v, c) for v in node.values)
            return not found if node.negated else found
        if isinstance(node, N.Compare):
            if node.op == "!=":
                return not self.compare(node.field, "=", node.value, c)
            if node.op == "!~":
                return not self.compare(node.field, "~", node.value, c)
            return self.compare(node.field, node.op, node.value, c)
        raise TypeError(node)

    def raw(self, name: str, c):
        if name.startswith("field."):
            return c["fields"].get(name[6:])
        if name == "commune":
            return c["commune_name"]
        if name == "canton":
            return c["canton_code"]
        if name == "commune.population":
            commune = self.geo.communes.get(c["commune_insee"] or "")
            return commune.population if commune else None
        return c[name]

    # -- comparisons -----------------------------------------------------------------------------

    def compare(self, name: str, op: str, value, c) -> bool:
        raw = self.raw(name, c)
        text = getattr(value, "text", None)
        if name in ("first_name", "last_name", "address"):
            return _text_op(_key(raw), op, _key(text))
        if name == "email":
            return raw is not None and _text_op(raw, op, text.strip().lower())
        if name in ("mobile", "fixed"):
            if raw is None:
                return False
            if op == "=":
                from dbox.normalize import normalize_phone

                return raw == normalize_phone(text).e164
            digits = re.sub(r"[\s.\-/()\u00a0]", "", text)
            if digits.startswith("00"):
                digits = "+" + digits[2:]
            if digits.startswith("0"):
                digits = "+33" + digits[1:] if op == "^=" else digits.lstrip("0")
            return _text_op(raw, op, digits)
        if name in ("postal_code", "commune_insee", "phone_region", "geo_status", "departement"):
            wanted = text.upper() if name in ("commune_insee", "phone_region") else text
            return raw is not None and _text_op(raw, op, wanted)
        if name == "civility":
            from dbox.normalize import normalize_civility

            return raw is not None and raw == (normalize_civility(text) or text.strip())
        if name == "circonscription":
            return raw is not None and _text_op(raw, op, text.upper())
        if name == "canton":
            codes = {code for code, cname in self.cantons.items()
                     if (op == "=" and (code == text.upper() or _key(cname) == _key(text)))
                     or (op != "=" and _text_op(_key(cname), op, _key(text)))}
            return raw in codes
        if name == "commune":
            if op != "=":
                return _text_op(_commune_key(raw), op, _commune_key(text))
            insee = c["commune_insee"]
            if re.fullmatch(r"\d[\dAB]\d{3}", text.upper()):
                codes = {text.upper()}
                keys = set()
            else:
                codes = {i for i, commune in self.geo.communes.items()
                         if _commune_key(commune.name) == _commune_key(text)}
                keys = {_commune_key(text)}
            for code in list(codes):
                if code in _PLM:
                    codes |= {i for i in self.geo.communes if i.startswith(_PLM[code])}
            return insee in codes or (insee is None and _commune_key(raw) in keys)
        if name in ("created_at", "updated_at"):
            moment = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            start, end = self.bounds(value)
            return {"=": start <= moment < end, "<": moment < start, "<=": moment < end,
                    ">": moment >= end, ">=": moment >= start}[op]
        if name in ("id", "commune.population"):
            return raw is not None and _number_op(raw, op, float(text))
        if name.startswith("field."):
            if raw is None:
                return False
            if op in ("<", "<=", ">", ">=") and value.kind == "number":
                match = _LEADING_NUMBER.match(raw.replace(",", "."))
                if not re.match(r"-?\d", raw) or not match:
                    return False
                return _number_op(float(match.group()), op, float(text))
            return _text_op(_key(raw), op, _key(text))
        raise AssertionError(f"no oracle for {name}")

    def bounds(self, value) -> tuple[datetime, datetime]:
        from dbox.filters import nodes as N

        now = self.now.replace(microsecond=0)
        second = timedelta(seconds=1)
        if isinstance(value, N.DateWord):
            if value.word == "now":
                return now, now + second
            day = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
            if value.word == "yesterday":
                day -= timedelta(days=1)
            return day, day + timedelta(days=1)
        if isinstance(value, N.RelativeDate):
            if value.unit in ("month", "year"):
                months = value.amount * (12 if value.unit == "year" else 1)
                index = now.year * 12 + now.month - 1 - months
                year, month = divmod(index, 12)
                moment = now.replace(year=year, month=month + 1,
                                     day=min(now.day, calendar.monthrange(year, month + 1)[1]))
            else:
                moment = now - {"minute": timedelta(minutes=1), "hour": timedelta(hours=1),
                                "day": timedelta(days=1), "week": timedelta(weeks=1)}[value.unit] * value.amount
            if value.unit in ("minute", "hour"):
                return moment, moment + second
            day = datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)
            return day, day + timedelta(days=1)
        if "T" in value.text:
            moment = datetime.strptime(value.text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            return moment, moment + second
        day = datetime.strptime(value.text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return day, day + timedelta(days=1)


def _text_op(raw, op: str, wanted: str) -> bool:
    if raw is None:
        return False
    if op == "=":
        return raw == wanted
    if op == "^=":
        return raw.startswith(wanted)
    if op == "~":
        return wanted in raw
    return {"<": raw < wanted, "<=": raw <= wanted, ">": raw > wanted, ">=": raw >= wanted}[op]


def _number_op(raw, op: str, wanted: float) -> bool:
    return {"=": raw == wanted, "<": raw < wanted, "<=": raw <= wanted, ">": raw > wanted,
            ">=": raw >= wanted}[op]


def selected_ids(store, selection) -> set[int]:
    from dbox.store.contacts import iter_contacts

    return {cid for (cid,) in iter_contacts(store, ["id"], selection.where, selection.params)}
