"""Shared pieces of the organizing tests: a small Grenoble neighbourhood imported through the real
import pipeline, actions on a given day, moving the clock to the action's day, reading PDFs back."""

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from test_send_support import store, template_store, twilio  # noqa: F401  (fixtures)

HEADER = "Prénom;Nom;Portable;Fixe;Courriel;Adresse;Code postal;Commune;Accord SMS;Étiquettes"
# first, last, mobile, fixed, email, address, sms consent, tags
PEOPLE = [
    ("Alice", "Martin", "0611000001", "", "alice@example.org", "12 rue des Alpes", "oui", "militant"),
    ("Bruno", "Durand", "0611000002", "", "bruno@example.org", "15 rue des Alpes", "oui", "militant"),
    ("Chloé", "Petit", "0611000003", "", "", "3 av. Jean Jaurès", "oui", "militant"),
    ("David", "Leroy", "", "0476000004", "", "8 avenue Jean-Jaurès", "", ""),
    ("Emma", "Roux", "0611000005", "", "emma@example.org", "14 rue des Alpes", "non", "militant"),
    ("Farid", "Benali", "0611000006", "", "", "1 rue des Alpes", "oui", ""),
    ("Gaëlle", "Nguyen", "0611000007", "", "", "5 bis avenue Jean Jaurès", "oui", "militant"),
    ("Hugo", "Blanc", "0611000008", "", "", "", "oui", ""),
]


def import_people(store, folder: Path, rows=PEOPLE) -> dict[str, int]:
    """Import the neighbourhood; returns first name -> contact id."""
    from dbox.importing.pipeline import ImportOptions, import_file

    lines = [HEADER] + [";".join([f, l, m, x, e, a, "38100", "Grenoble", s, t]) for f, l, m, x, e, a, s, t in rows]
    path = Path(folder) / "quartier.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_file(store, path, ImportOptions(force=True))
    return {first: cid for cid, first in store.execute("SELECT id, first_name FROM contacts")}


PARIS = ZoneInfo("Europe/Paris")


def day_after(days: int = 1, hour: int = 10) -> datetime:
    """A local (Europe/Paris) date and time ``days`` from today."""
    today = datetime.now(PARIS).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, 0, tzinfo=PARIS)


def local_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M}"


@pytest.fixture
def travel(monkeypatch):
    """travel(moment): dbox.organizing believes it is ``moment`` (an aware datetime)."""
    from dbox.organizing import actions

    def go(moment: datetime) -> None:
        monkeypatch.setattr(actions, "clock", lambda: moment.astimezone(timezone.utc))

    return go


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([header, *rows])
    return path


def fill(header: list[str], row: list[str], **values) -> list[str]:
    """Set cells of a sheet row by column title (keys with _ for spaces)."""
    row = list(row)
    for key, value in values.items():
        row[header.index(key.replace("_", " "))] = value
    return row


def table_snapshot(store) -> dict[str, list]:
    """Every row of the tables organizing writes (and those it touches), to check nothing changed."""
    tables = ("actions", "action_people", "action_invitations", "action_assignments", "interactions",
              "contact_points", "consent_events", "consents", "contacts", "contact_exchanges", "campaigns",
              "campaign_recipients", "imports")
    return {t: store.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
