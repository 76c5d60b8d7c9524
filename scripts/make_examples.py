"""Write examples/contacts.csv: ~200 fictional contacts in French-Excel form, with the usual mess.

cp1252, ';' separators, CRLF; postal codes and phones that lost their leading zero, duplicates
(same e-mail, same mobile, same name and postal code), bad e-mails, accents, upper-case names,
a custom column. Deterministic (seeded), so the README's output does not change between runs.

    python scripts/make_examples.py            # writes examples/contacts.csv
"""

import csv
import random
from pathlib import Path

FIRST = ["Jean", "Marie", "Pierre", "Claire", "Jean-Pierre", "Anne-Sophie", "Lucas", "Léa", "Hugo", "Chloé",
         "Mohamed", "Fatou", "Amadou", "Inès", "Éric", "Hélène", "François", "Zoé", "Noël", "Gaëlle",
         "Yannick", "Nathalie", "Thierry", "Sébastien", "Céline", "Jérôme", "Aurélie", "Rémi", "Maëlys", "Loïc"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "de La Tour", "N'Diaye", "Lefèvre", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry",
        "Roux", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Chevalier", "Mercier", "Boyer"]
# (postal code, commune, weight): Isère and Ardèche, towns and villages, a city split over cantons,
# and two overseas communes.
PLACES = [("38000", "Grenoble", 14), ("38100", "Grenoble", 10), ("38130", "Échirolles", 8),
          ("38400", "Saint-Martin-d'Hères", 6), ("38500", "Voiron", 6), ("38700", "La Tronche", 3),
          ("38380", "Saint-Pierre-de-Chartreuse", 3), ("38710", "Mens", 3), ("38880", "Autrans-Méaudre en Vercors", 2),
          ("38350", "La Mure", 3), ("07340", "Peaugres", 4), ("07100", "Annonay", 6), ("07000", "Privas", 4),
          ("07200", "Aubenas", 4), ("73000", "Chambéry", 5), ("69003", "Lyon", 3), ("42000", "Saint-Étienne", 3),
          ("01000", "Bourg-en-Bresse", 3), ("97200", "Fort-de-France", 2), ("97400", "Saint-Denis", 2)]
TAGS = ["militant", "sympathisant", "porte-à-porte", "élu", "bénévole", "tractage", "donateur"]
JOBS = ["enseignant", "infirmière", "agriculteur", "retraité", "étudiant", "artisan", ""]
MOBILE_PREFIX = {"97200": "0696", "97400": "0692"}


def fold_ascii(text):
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def main(out: Path = Path(__file__).resolve().parent.parent / "examples" / "contacts.csv") -> None:
    rng = random.Random(2026)
    weights = [w for *_, w in PLACES]
    rows = []
    for i in range(190):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        postal, commune, _ = rng.choices(PLACES, weights)[0]
        prefix = MOBILE_PREFIX.get(postal, rng.choice(["06", "07"]))
        mobile = prefix + "".join(rng.choice("0123456789") for _ in range(10 - len(prefix)))
        if prefix == "07":
            mobile = "07" + rng.choice("3456789") + mobile[3:]
        elif prefix == "06":
            mobile = "06" + rng.choice("0124578") + mobile[3:]  # 0639 and 069x are overseas
        email = f"{fold_ascii(first).lower().replace(' ', '')}.{fold_ascii(last).lower().replace(' ', '').replace(chr(39), '')}{i}@exemple.fr"
        civility = rng.choice(["M.", "Mme", "Monsieur", "Madame", "M", "MME", ""])
        tags = ", ".join(sorted(rng.sample(TAGS, rng.choice([0, 1, 1, 2]))))
        sms = rng.choice(["oui", "oui", "non", ""])
        mail = rng.choice(["oui", "non", "oui", ""])
        row = {"Civilité": civility, "Nom": last, "Prénom": first,
               "Tél. portable": mobile, "Courriel": email, "Adresse": f"{rng.randint(1, 120)} rue {rng.choice(['des Alpes', 'Victor Hugo', 'de la Mairie', 'du Stade', 'Jean Jaurès'])}",
               "Code postal": postal, "Ville": commune, "Étiquettes": tags, "Accord SMS": sms,
               "Accord e-mail": mail, "Profession": rng.choice(JOBS)}
        # The usual mess.
        roll = rng.random()
        if roll < 0.10:
            row["Code postal"] = postal.lstrip("0") or postal      # Excel ate the zero
        if rng.random() < 0.15:
            row["Tél. portable"] = mobile[1:]                      # Excel ate the zero
        elif rng.random() < 0.2:
            row["Tél. portable"] = " ".join(mobile[j:j + 2] for j in range(0, 10, 2))
        elif rng.random() < 0.1:
            row["Tél. portable"] = "+33 " + mobile[1:] if prefix in ("06", "07") else mobile
        if rng.random() < 0.2:
            row["Nom"] = last.upper()
        if rng.random() < 0.1:
            row["Courriel"] = " " + email.upper() + " "
        rows.append(row)
    # Duplicates: same e-mail, same mobile, same name + postal code (with more information).
    for j in range(6):
        dup = dict(rows[j * 7])
        dup["Étiquettes"] = "tractage"
        dup["Courriel"] = dup["Courriel"].upper()
        rows.append(dup)
    for j in range(3):
        dup = dict(rows[j * 11 + 1])
        dup["Courriel"] = ""
        dup["Profession"] = "bénévole associatif"
        rows.append(dup)
    # Bad values: rejected with their reason.
    bad = dict(rows[5], Courriel="jean.dupont@@exemple", Nom="Invalide", Prénom="Courriel")
    rows.append(bad)
    rows.append(dict(rows[8], **{"Tél. portable": "12 34", "Nom": "Invalide", "Prénom": "Téléphone", "Courriel": ""}))
    rows.append({k: "" for k in rows[0]} | {"Profession": "ligne sans nom ni contact"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
