"""Benchmark of the electoral roll: importing a 50,000-voter roll and matching it to contacts.

    .venv/bin/python bench/electoral_bench.py                   # 50,000 voters, 20,000 contacts
    .venv/bin/python bench/electoral_bench.py --voters 200000   # a large city

A synthetic roll in the REU extract's format (cp1252, ';', the mairie's French headers) is written
for Grenoble: voters in 400 streets and 40 bureaux, each street side split between one or two
bureaux by number. 20,000 contacts of Grenoble are written straight into the store (40 % of them
are voters of the roll, half with their birth date; the others live in the same streets).

Measured, best of 3, in the same process (ratios, as the project measures speed):
- reading and checking the file (``read_roll``) against a plain ``csv.reader`` pass over it;
- the whole ``import_roll`` (read, store voters, derive the address table, match voters to contacts,
  place the rest by address) against a raw ``executemany`` of the same rows into a bare table;
- matching alone (``assign_commune``).
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

HEADER = ["Code du département", "Code de la commune", "Code du bureau de vote", "Libellé du bureau de vote",
          "Numéro d'ordre dans le bureau de vote", "Nom de naissance", "Nom d'usage", "Prénoms", "Sexe",
          "Date de naissance", "Numéro de voie", "Type et libellé de voie", "1er Complément adresse",
          "Lieu-Dit", "Code postal", "Libellé de commune"]
KINDS = ["RUE", "AV", "BD", "PL", "CHE", "IMP", "ALL", "CRS"]
WORDS = ["DES ALPES", "JEAN JAURES", "DU STADE", "VICTOR HUGO", "DES LILAS", "GAMBETTA", "DE LA PAIX", "PASTEUR",
         "DES VIGNES", "DU DRAC", "LESDIGUIERES", "BERRIAT", "DE LA REPUBLIQUE", "FOCH", "CHAMPOLLION", "DES ECOLES",
         "DU TEMPLE", "MOLIERE", "VOLTAIRE", "DE STALINGRAD"]
LAST = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
        "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD"]
FIRST = ["Marie", "Jean", "Pierre", "Claire", "Louis", "Emma", "Paul", "Léa", "Hugo", "Chloé", "Lucas", "Inès",
         "Jules", "Zoé", "Arthur", "Alice", "Nathan", "Camille", "Tom", "Sarah"]


def synthetic_roll(path: Path, n: int, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    streets = [f"{rng.choice(KINDS)} {WORDS[i % 20]} {WORDS[i // 20 % 20].split()[-1]}" for i in range(400)]
    split = {s: (rng.randrange(40), rng.randrange(40), rng.randrange(10, 120)) for s in streets}
    people = []
    with path.open("w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(HEADER)
        order = {}
        for i in range(n):
            street = rng.choice(streets)
            number = rng.randrange(1, 240)
            first_b, second_b, cut = split[street]
            bureau = first_b if number < cut else second_b
            order[bureau] = order.get(bureau, 0) + 1
            last, first = rng.choice(LAST) + f"{i % 997}", rng.choice(FIRST)
            born = date(1930 + rng.randrange(75), 1 + rng.randrange(12), 1 + rng.randrange(28))
            w.writerow(["38", "185", f"{bureau + 1:04d}", f"BUREAU {bureau + 1}", order[bureau], last, "", first,
                        rng.choice("FM"), born.strftime("%d/%m/%Y"), number, street, "", "", "38000", "GRENOBLE"])
            people.append((last, first, born.isoformat(), number, street))
    return people


def fill_contacts(store, people: list[tuple], n: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    now = "2026-11-01T10:00:00Z"
    rows, fields = [], []
    for i in range(n):
        if i < n * 0.4:
            last, first, born, number, street = people[i * 2 % len(people)]
            last = last.title()
        else:
            _, _, _, number, street = rng.choice(people)
            last, first, born = f"Autre{i}", rng.choice(FIRST), None
        rows.append((i + 1, first, last, f"{number} {street.lower()}", "38000", "Grenoble", "38185", "38", now, now))
        if born and i % 2:
            fields.append((i + 1, "date_de_naissance", born))
    store.conn.execute("BEGIN")
    store.conn.executemany("INSERT INTO contacts (id, first_name, last_name, address, postal_code, commune_name, "
                           "commune_insee, departement, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    store.conn.executemany("INSERT INTO contact_fields (contact_id, name, value) VALUES (?,?,?)", fields)
    store.conn.execute("COMMIT")


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    args = parser.parse_args()

    from dbox.electoral.assign import assign_commune
    from dbox.electoral.calendar import add_election
    from dbox.electoral.roll import read_roll
    from dbox.electoral.rolls import import_roll
    from dbox.store.db import open_store

    folder = Path(tempfile.mkdtemp(prefix="dbox-electoral-bench-"))
    roll = folder / "liste_electorale.csv"
    people = synthetic_roll(roll, args.voters)
    print(f"roll: {args.voters:,} voters, {roll.stat().st_size / 1e6:.1f} MB; contacts: {args.contacts:,}")

    def plain_csv():
        with roll.open(encoding="cp1252", newline="") as fh:
            for _ in csv.reader(fh, delimiter=";"):
                pass

    t_csv = best(plain_csv)
    t_read = best(lambda: read_roll(roll, "38185"))
    print(f"read and check:    {t_read:6.2f} s  ({args.voters / t_read:9,.0f} voters/s)  "
          f"x{t_read / t_csv:.1f} a plain csv.reader pass ({t_csv:.2f} s)")

    rows = [tuple(r) for r in csv.reader(roll.open(encoding="cp1252", newline=""), delimiter=";")][1:]

    def raw_insert():
        conn = sqlite3.connect(folder / "raw.sqlite3")
        conn.execute("DROP TABLE IF EXISTS raw")
        conn.execute(f"CREATE TABLE raw ({', '.join(f'c{i}' for i in range(len(HEADER)))})")
        conn.executemany(f"INSERT INTO raw VALUES ({','.join('?' * len(HEADER))})", rows)
        conn.commit()
        conn.close()

    t_raw = best(raw_insert)
    stores = []

    def full_import():
        path = folder / f"s{len(stores)}.sqlite3"
        store = open_store(path)
        add_election(store, "municipales-2099", ["2099-03-15"], ["commune:38185"])
        fill_contacts(store, people, args.contacts)
        stores.append(store)
        t0 = time.perf_counter()
        report = import_roll(store, roll, "38185", election="municipales-2099", source="bench")
        stores.append((time.perf_counter() - t0, report))

    timings = []
    for _ in range(3):
        full_import()
        timings.append(stores[-1])
    t_import, report = min(timings, key=lambda t: t[0])
    a = report.assignment
    print(f"import_roll:       {t_import:6.2f} s  ({args.voters / t_import:9,.0f} voters/s)  "
          f"x{t_import / t_raw:.1f} a raw executemany of the rows ({t_raw:.2f} s)")
    print(f"  registered {a.registered:,} (birth date {a.matched_birth_date:,}, address {a.matched_address:,}), "
          f"ambiguous {a.ambiguous:,}, placed by address {a.by_address:,}, unsure {len(a.unsure):,}")
    store = stores[0]

    def match_only():
        with store.transaction(immediate=True):
            assign_commune(store, "38185")

    t_match = best(match_only)
    print(f"matching alone:    {t_match:6.2f} s  ({args.contacts / t_match:9,.0f} contacts/s)  "
          f"{t_match / t_import:.0%} of the import")


if __name__ == "__main__":
    main()
