"""Walk lists, call lists and attendance lists: one sheet per volunteer, printable (PDF or HTML)
and as a CSV that comes back filled in through ``dbox action import-results``.

Who is on the sheets (docs/organizing.md):

- walk (door-to-door, leafleting) and call (phone bank) actions: the action's target (a filter
  expression), or the selection given to ``dbox action sheet``. A call list leaves out people
  without a phone, people who withdrew phone consent, and numbers opposed for calls.
- list actions (meetings, events): the people who answered yes or maybe.

How they are shared among the volunteers assigned to the action:

1. a volunteer with a territory gets the people living in it (streets, matched by name with
   abbreviations and accents ignored, or communes); the first volunteer assigned wins an overlap;
2. the rest is shared among the volunteers without a territory: whole streets for a walk list
   (largest first, to whoever has the fewest doors), even runs of people for a call list;
3. what no one gets goes on an "unassigned" sheet.

A walk list is grouped by commune and street, in walking order (odd side up, even side down).
Files hold personal data: they are written 0600, each under a temporary name renamed when whole.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dbox.errors import InputError
from dbox.organizing.actions import Action, french_date, french_time
from dbox.streets import StreetAddress, parse_address, walking_order
from dbox.store import organizing as so
from dbox.store.db import Store
from dbox.text import fold
from dbox.config import section
from dbox.files import atomic_private
from dbox.geo import commune_key
from dbox.organizing.actions import resolve_commune
from dbox.output import write_csv
from dbox.privacy import audit
from dbox.segments import select
from dbox.store.suppressions import Hasher
from dbox.streets import street_key
from dbox.i18n import _, grouped

MAX_CONTACTS = 50_000
PRINTABLE = ("pdf", "html")


@dataclass
class Entry:
    contact: dict
    address: StreetAddress
    phone: str | None = None

    @property
    def name(self) -> str:
        c = self.contact
        return " ".join(x for x in (c.get("last_name"), c.get("first_name")) if x) or f"fiche {c['id']}"

    @property
    def commune(self) -> str:
        return self.contact.get("commune_name") or ""


@dataclass
class Sheet:
    volunteer: dict | None            # None: the unassigned sheet
    entries: list[Entry] = field(default_factory=list)
    territory: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.volunteer is None:
            return "sans bénévole"
        v = self.volunteer
        return " ".join(x for x in (v.get("first_name"), v.get("last_name")) if x) or f"bénévole {v['contact_id']}"

    @property
    def slug(self) -> str:
        if self.volunteer is None:
            return "unassigned"
        name = re.sub(r"[^a-z0-9]+", "-", fold(self.label)).strip("-") or "volunteer"
        return f"volunteer-{self.volunteer['contact_id']}-{name}"[:80]

    def streets(self) -> list[tuple[str, str, list[Entry]]]:
        """(commune, street, entries in walking order), communes and streets in alphabetical order."""
        groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        shown: dict[tuple[str, str], str] = {}
        for e in self.entries:
            key = (fold(e.commune), e.address.key)
            groups[key].append(e)
            shown.setdefault(key, e.address.street)
        out = []
        for key in sorted(groups, key=lambda k: (k[0], k[1] == "", k[1])):
            entries = sorted(groups[key], key=lambda e: (walking_order(e.address), e.name))
            out.append((groups[key][0].commune, shown[key] or "(sans adresse)", entries))
        return out


@dataclass
class SheetPlan:
    action: Action
    kind: str                                  # walk | call | list
    sheets: list[Sheet]
    selected: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    expression: str = ""

    @property
    def total(self) -> int:
        return sum(len(s.entries) for s in self.sheets)


def sort_key(text: str) -> str:
    """Alphabetical order ignoring case and accents (Émile between Durand and Fabre)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


# -- territories ----------------------------------------------------------------------------------------------

def parse_territory(store: Store, streets: str | None, communes: str | None) -> list[dict]:
    """``--streets "rue des Alpes; av. Jean-Jaurès"`` and ``--communes "Échirolles, 38185"``."""
    items = []
    for part in re.split(r"[;\n]", streets or ""):
        part = " ".join(part.split())
        if not part:
            continue
        key = street_key(part)
        if not key:
            raise InputError(_("--streets: {part!r} has no letter or digit").format(part=part))
        items.append({"kind": "street", "label": part, "key": key})
    for part in re.split(r"[;,\n]", communes or ""):
        part = " ".join(part.split())
        if not part:
            continue
        name, insee = resolve_commune(store, part)
        items.append({"kind": "commune", "label": name, "key": commune_key(name).replace(" ", ""),
                      "codes": [insee] if insee else []})
    return items


def _in_territory(entry: Entry, territory: list[dict]) -> bool:
    for item in territory:
        if item["kind"] == "street" and entry.address.key and entry.address.key == item["key"]:
            return True
        if item["kind"] == "commune":
            insee = entry.contact.get("commune_insee")
            if insee and insee in item["codes"]:
                return True
            if not insee and commune_key(entry.commune).replace(" ", "") == item["key"] and item["key"]:
                return True
    return False


# -- planning -------------------------------------------------------------------------------------------------

def plan(store: Store, action: Action, *, expression: str | None = None, segment: str | None = None,
         shortcuts: dict | None = None, volunteer_id: int | None = None, kind: str | None = None) -> SheetPlan:
    """Who goes on which volunteer's sheet (nothing written)."""
    kind = kind or action.sheet
    if action.cancelled:
        raise InputError(_("action {id} was cancelled on {cancelled_at}").format(
                             id=action.id, cancelled_at=action.cancelled_at[:10]))
    given = bool((expression or "").strip() or (segment or "").strip() or shortcuts)
    if kind == "list" and not given:
        where, params = so.answered_where(action.id)
        text = "answered yes or maybe"
    else:
        if not given and not action.target:
            raise InputError(_("action {id} has no target: whom should the {kind} list reach?").format(
                                 id=action.id, kind=kind),
                             hint=_("set one: dbox action edit {id} --target 'commune = Grenoble and support >= 3' (or give a selection to this command)").format(
                                      id=action.id))
        sel = select(store, expression if given else action.target, segment=segment, shortcuts=shortcuts)
        where, params, text = sel.where, sel.params, sel.expression or "everyone"
    hasher = Hasher(store)
    entries: list[Entry] = []
    left_out: dict[str, int] = defaultdict(int)
    selected = 0
    batch: list[dict] = []

    def flush() -> None:
        if kind == "call":
            numbers = [n for c in batch for n in (c["mobile"], c["fixed"]) if n]
            opposed = so.phone_suppressions(store, [hasher(n) for n in numbers])
        for c in batch:
            entry = Entry(c, parse_address(c["address"]))
            if kind == "call":
                if c["phone_consent"] == "withdrawn":
                    left_out["phone consent withdrawn"] += 1
                    continue
                phones = [n for n in (c["mobile"], c["fixed"]) if n]
                usable = [n for n in phones if hasher(n) not in opposed]
                if not phones:
                    left_out["no phone"] += 1
                    continue
                if not usable:
                    left_out["phone opposed"] += 1
                    continue
                entry.phone = usable[0]
                c["mobile"] = c["mobile"] if c["mobile"] in usable else None
                c["fixed"] = c["fixed"] if c["fixed"] in usable else None
            entries.append(entry)
        batch.clear()

    for contact in so.iter_sheet_contacts(store, where, params):
        selected += 1
        if selected > MAX_CONTACTS:
            raise InputError(_("the selection holds more than {MAX_CONTACTS} people: too many for one action's sheets").format(
                                 MAX_CONTACTS=grouped(MAX_CONTACTS)),
                             hint=_("narrow the target (a commune, a few streets, a support level)"))
        batch.append(contact)
        if len(batch) >= 1000:
            flush()
    flush()
    helpers = {v["contact_id"] for v in so.assignments(store, action.id)} if kind != "list" else set()
    if helpers:
        kept = [e for e in entries if e.contact["id"] not in helpers]
        if len(kept) < len(entries):
            left_out["volunteers of this action"] += len(entries) - len(kept)
        entries = kept
    sheets = _share(store, action, kind, entries, volunteer_id)
    return SheetPlan(action, kind, sheets, selected, dict(left_out), text)


def _share(store: Store, action: Action, kind: str, entries: list[Entry], only: int | None) -> list[Sheet]:
    volunteers = so.assignments(store, action.id)
    if only is not None and only not in {v["contact_id"] for v in volunteers}:
        raise InputError(_("contact {only} is not assigned to action {id}").format(only=only, id=action.id),
                         hint=_("dbox action assign {id} {only}").format(id=action.id, only=only))
    if kind == "list" or not volunteers:
        if kind != "walk":               # a walk list is ordered by street when printed
            entries.sort(key=lambda e: (sort_key(e.name), e.contact["id"]))
        return [Sheet(None, entries)]
    sheets = [Sheet(v, territory=v["territory"]) for v in volunteers]
    rest = []
    for entry in entries:
        owner = next((s for s in sheets if s.territory and _in_territory(entry, s.territory)), None)
        (owner.entries if owner else rest).append(entry)
    free = [s for s in sheets if not s.territory]
    unassigned = Sheet(None)
    if not free:
        unassigned.entries = rest
    elif kind == "walk":
        blocks: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for entry in rest:
            blocks[(fold(entry.commune), entry.address.key)].append(entry)
        for key in sorted(blocks, key=lambda k: (-len(blocks[k]), k)):
            target = min(free, key=lambda s: (len(s.entries), sheets.index(s)))
            target.entries.extend(blocks[key])
    else:
        rest.sort(key=lambda e: e.contact["id"])
        size, extra = divmod(len(rest), len(free))
        start = 0
        for i, sheet in enumerate(free):
            end = start + size + (1 if i < extra else 0)
            sheet.entries.extend(rest[start:end])
            start = end
    for sheet in sheets:
        if kind == "call":
            sheet.entries.sort(key=lambda e: (sort_key(e.name), e.contact["id"]))
    result = sheets + ([unassigned] if unassigned.entries else [])
    if only is not None:
        result = [s for s in result if s.volunteer and s.volunteer["contact_id"] == only]
    return result


# -- CSV: the sheet that comes back -----------------------------------------------------------------------------

RESULT_COLUMNS = {
    "walk": ["ouvert", "soutien", "à rappeler", "nouvel e-mail", "nouveau téléphone", "accord sms", "accord e-mail",
             "accord téléphone", "note"],
    "call": ["répondu", "soutien", "à rappeler", "nouvel e-mail", "nouveau téléphone", "accord sms", "accord e-mail",
             "accord téléphone", "note"],
    "list": ["venu", "soutien", "nouvel e-mail", "nouveau téléphone", "accord sms", "accord e-mail", "note"],
}
INFO_COLUMNS = {
    "walk": ["n° fiche", "bénévole", "nom du bénévole", "commune", "rue", "numéro", "côté", "nom", "prénom",
             "adresse", "soutien connu"],
    "call": ["n° fiche", "bénévole", "nom du bénévole", "nom", "prénom", "portable connu", "fixe connu", "commune",
             "soutien connu"],
    "list": ["n° fiche", "nom", "prénom", "commune", "réponse"],
}


def csv_rows(sheet: Sheet, kind: str, rsvps: dict[int, str]) -> tuple[list[str], list[list]]:
    columns = INFO_COLUMNS[kind] + RESULT_COLUMNS[kind]
    blank = [""] * len(RESULT_COLUMNS[kind])
    volunteer = [sheet.volunteer["contact_id"] if sheet.volunteer else "", sheet.label if sheet.volunteer else ""]
    rows = []
    if kind == "walk":
        for commune, _unused, entries in sheet.streets():
            for e in entries:
                c = e.contact
                rows.append([c["id"], *volunteer, commune, e.address.street, e.address.house, e.address.side,
                             c["last_name"] or "", c["first_name"] or "", c["address"] or "", c["support"] or "", *blank])
    elif kind == "call":
        for e in sheet.entries:
            c = e.contact
            rows.append([c["id"], *volunteer, c["last_name"] or "", c["first_name"] or "", c["mobile"] or "",
                         c["fixed"] or "", e.commune, c["support"] or "", *blank])
    else:
        answers = {"yes": "oui", "no": "non", "maybe": "peut-être"}
        for e in sheet.entries:
            c = e.contact
            rows.append([c["id"], c["last_name"] or "", c["first_name"] or "", e.commune,
                         answers.get(rsvps.get(c["id"], ""), ""), *blank])
    return columns, rows


# -- printable: HTML and PDF ------------------------------------------------------------------------------------

def _header_lines(plan_: SheetPlan, sheet: Sheet) -> list[str]:
    a = plan_.action
    lines = [f"{a.type_label.capitalize()} — {a.when_text()}"]
    if a.place:
        lines.append(f"Lieu : {a.place}")
    if sheet.volunteer is not None:
        contact = " — ".join(x for x in (sheet.volunteer.get("mobile"), sheet.volunteer.get("email")) if x)
        lines.append(f"Bénévole : {sheet.label}" + (f" ({contact})" if contact else ""))
    else:
        lines.append("Bénévole : (à attribuer)" if plan_.kind != "list" else "Liste d'émargement")
    if sheet.territory:
        lines.append("Secteur : " + ", ".join(t["label"] for t in sheet.territory))
    noun = {"walk": "porte(s)", "call": "appel(s)", "list": "personne(s)"}[plan_.kind]
    lines.append(f"{len(sheet.entries)} {noun} — action n° {a.id}, imprimé le {_today()}")
    return lines


def _today() -> str:
    from datetime import datetime

    now = datetime.now()
    return f"{now.day:02d}/{now.month:02d}/{now.year}"


_LEGEND = {
    "walk": "Fiche : numéro à recopier dans le fichier rendu. Connu : dernier niveau de soutien noté. "
            "Ouvert : oui / absent / refus / déménagé. Soutien : 5 très favorable … 1 opposé. "
            "Rappel : veut être rappelé·e. Accord : coché seulement si la personne accepte, après lecture du texte.",
    "call": "Répondu : oui / pas de réponse / répondeur / faux numéro / refus. Soutien : 5 très favorable … 1 opposé. "
            "Accord : coché seulement si la personne accepte, après lecture du texte.",
    "list": "Venu : oui / non.",
}

_HTML = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ title }} — {{ sheet_label }}</title>
<style>
@page { size: A4; margin: 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #000; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; }
p.info { margin: 0 0 2pt 0; }
.box { border: 1px solid #000; padding: 4pt; margin: 6pt 0; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; margin-top: 6pt; }
th, td { border: 1px solid #555; padding: 3pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.street td { background: #ddd; font-weight: bold; }
td.blank { min-width: 14mm; }
.legend { font-size: 8pt; margin-top: 6pt; }
</style></head><body>
<h1>{{ title }}</h1>
{% for line in header %}<p class="info">{{ line }}</p>
{% endfor %}{% if script %}<div class="box"><strong>Script</strong>
{{ script }}</div>{% endif %}{% if wording %}<div class="box"><strong>Texte à lire avant de cocher « accord »</strong>
{{ wording }}</div>{% endif %}
<table>
<thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}{% if row.street %}<tr class="street"><td colspan="{{ columns|length }}">{{ row.street }}</td></tr>
{% else %}<tr>{% for v in row.cells %}<td>{{ v }}</td>{% endfor %}{% for _ in blanks %}<td class="blank"></td>{% endfor %}</tr>
{% endif %}{% endfor %}</tbody></table>
<p class="legend">{{ legend }}</p>
</body></html>
"""

_PRINT_COLUMNS = {
    "walk": (["Fiche", "N°", "Nom", "Connu"], ["Ouvert", "Soutien", "Rappel", "E-mail / tél.", "Accord", "Note"]),
    "call": (["Fiche", "Nom", "Téléphone", "Commune", "Connu"],
             ["Répondu", "Soutien", "Rappel", "E-mail", "Accord", "Note"]),
    "list": (["Fiche", "Nom", "Commune", "Réponse"], ["Venu", "Note"]),
}


def printable_rows(plan_: SheetPlan, sheet: Sheet, rsvps: dict[int, str]) -> list[dict]:
    """Rows for the printed sheet: street headings ({'street'}) and people ({'cells'})."""
    rows: list[dict] = []
    if plan_.kind == "walk":
        for commune, street, entries in sheet.streets():
            rows.append({"street": f"{street} — {commune}" if commune else street})
            for e in entries:
                rows.append({"cells": [e.contact["id"], e.address.house, e.name, e.contact["support"] or ""]})
    elif plan_.kind == "call":
        for e in sheet.entries:
            phones = " / ".join(n for n in (e.contact["mobile"], e.contact["fixed"]) if n)
            rows.append({"cells": [e.contact["id"], e.name, phones, e.commune, e.contact["support"] or ""]})
    else:
        answers = {"yes": "oui", "no": "non", "maybe": "peut-être"}
        for e in sheet.entries:
            rows.append({"cells": [e.contact["id"], e.name, e.commune, answers.get(rsvps.get(e.contact["id"], ""), "")]})
    return rows


def render_html(plan_: SheetPlan, sheet: Sheet, rsvps: dict[int, str]) -> str:
    from jinja2 import Environment

    env = Environment(autoescape=True)
    info, blanks = _PRINT_COLUMNS[plan_.kind]
    a = plan_.action
    return env.from_string(_HTML).render(
        title=a.title, sheet_label=sheet.label, header=_header_lines(plan_, sheet),
        script=a.script if plan_.kind != "list" else None,
        wording=a.consent_wording, columns=info + blanks, blanks=blanks,
        rows=printable_rows(plan_, sheet, rsvps), legend=_LEGEND[plan_.kind])


def find_font() -> tuple[Path, Path] | None:
    """(regular, bold) TrueType fonts for the PDF: $DBOX_PDF_FONT, the config's organizing.pdf_font,
    else DejaVu Sans where systems usually keep it. None: the PDF's built-in font (Latin-1 only)."""
    configured = os.environ.get("DBOX_PDF_FONT") or section("organizing").get("pdf_font")
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise InputError(_("pdf_font {configured!r}: no such font file").format(configured=configured),
                             hint=_("a .ttf file, e.g. /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
        bold = path.with_name(path.stem + "-Bold" + path.suffix)
        return path, bold if bold.is_file() else path
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
                   "/usr/local/share/fonts", "/Library/Fonts", str(Path.home() / "Library/Fonts")):
        regular = Path(folder) / "DejaVuSans.ttf"
        if regular.is_file():
            bold = regular.with_name("DejaVuSans-Bold.ttf")
            return regular, bold if bold.is_file() else regular
    return None


_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                         "…": "...", "€": "EUR", "\u202f": " ", "\u2009": " ", "·": ".",
                         "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŀ": "L", "ŀ": "l"})


def latin1(text: str) -> str:
    """What the PDF's built-in font can print: Latin-1, the rest spelt with plain letters."""
    text = str(text).translate(_LATIN1)
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 128 and not unicodedata.combining(c))
        out.append(base or "?")
    return "".join(out)


def render_pdf(plan_: SheetPlan, sheet: Sheet, rsvps: dict[int, str], font: tuple[Path, Path] | None) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(f"{plan_.action.title} — {sheet.label}")
    pdf.set_creator("dbox")
    if font is not None:
        pdf.add_font("Sheet", "", str(font[0]))
        pdf.add_font("Sheet", "B", str(font[1]))
        family, fix = "Sheet", str
    else:
        family, fix = "Helvetica", latin1
    a = plan_.action
    pdf.add_page()
    pdf.set_font(family, "B", 14)
    pdf.multi_cell(0, 7, fix(a.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9.5)
    for line in _header_lines(plan_, sheet):
        pdf.multi_cell(0, 5, fix(line), new_x="LMARGIN", new_y="NEXT")
    for heading, text in (("Script", a.script if plan_.kind != "list" else None),
                          ("Texte à lire avant de cocher « accord »", a.consent_wording)):
        if text:
            pdf.ln(1.5)
            pdf.set_font(family, "B", 9)
            pdf.multi_cell(0, 4.5, fix(heading), border="LTR", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, "", 9)
            pdf.multi_cell(0, 4.5, fix(text), border="LBR", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    info, blanks = _PRINT_COLUMNS[plan_.kind]
    widths = {"walk": (11, 9, 42, 13, 15, 15, 15, 31, 15, 20), "call": (11, 31, 27, 20, 13, 16, 15, 15, 14, 13, 11),
              "list": (12, 70, 45, 22, 15, 22)}[plan_.kind]
    widths = widths[:len(info) + len(blanks)]
    pdf.set_font(family, "", 8.5)
    heading_style = FontFace(emphasis="BOLD", fill_color=(225, 225, 225), size_pt=7.5)
    street_style = FontFace(emphasis="BOLD", fill_color=(238, 238, 238))
    with pdf.table(col_widths=widths, line_height=6.5, headings_style=heading_style, first_row_as_headings=True,
                   repeat_headings=1) as table:
        row = table.row()
        for title in info + blanks:
            row.cell(fix(title))
        for item in printable_rows(plan_, sheet, rsvps):
            row = table.row()
            if "street" in item:
                row.cell(fix(item["street"]), colspan=len(info) + len(blanks), style=street_style)
                continue
            for value in item["cells"]:
                row.cell(fix(str(value)))
            for _unused in blanks:
                row.cell("")
    pdf.ln(2)
    pdf.set_font(family, "", 7.5)
    pdf.multi_cell(0, 4, fix(_LEGEND[plan_.kind]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# -- writing ----------------------------------------------------------------------------------------------------

@dataclass
class Written:
    sheet: Sheet
    printable: Path
    csv: Path


def write(store: Store, plan_: SheetPlan, folder: Path, *, printable: str = "pdf") -> list[Written]:
    """Write each sheet as ``<name>.pdf`` (or ``.html``) and ``<name>.csv`` in ``folder``."""
    if printable not in PRINTABLE:
        raise InputError(_("--format {printable!r}: choose pdf or html").format(printable=printable))
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(_("{folder}: not a folder").format(folder=folder))
    if not plan_.sheets or not plan_.total:
        raise InputError(_("nobody to put on the sheets") + (
                             _(" (left out: {items})").format(items=_left_out(plan_)) if plan_.left_out else ""),
                         hint=_("check the target: dbox segment count EXPR"))
    font = find_font() if printable == "pdf" else None
    rsvps = {cid: rsvp for cid, _unused, _unused, rsvp, _unused in so.action_people(store, plan_.action.id) if rsvp}
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    stem_prefix = f"action-{plan_.action.id}-"
    for sheet in plan_.sheets:
        if not sheet.entries:
            continue
        stem = stem_prefix + sheet.slug
        columns, rows = csv_rows(sheet, plan_.kind, rsvps)
        csv_path = folder / f"{stem}.csv"
        _write_private(csv_path, lambda fh: write_csv(rows, columns, fh, excel=True), text=True)
        out_path = folder / f"{stem}.{printable}"
        if printable == "pdf":
            data = render_pdf(plan_, sheet, rsvps, font)
            _write_private(out_path, lambda fh: fh.write(data), text=False)
        else:
            html = render_html(plan_, sheet, rsvps)
            _write_private(out_path, lambda fh: fh.write(html), text=True)
        written.append(Written(sheet, out_path, csv_path))

    audit.record(store, "action sheet", plan_.total, {"action": plan_.action.id, "sheets": len(written),
                                                      "format": printable})
    return written


def _left_out(plan_: SheetPlan) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(plan_.left_out.items()))


def _write_private(path: Path, writer, *, text: bool) -> None:
    if text:
        with atomic_private(path, "w", encoding="utf-8-sig" if path.suffix == ".csv" else "utf-8", newline="") as fh:
            writer(fh)
    else:
        with atomic_private(path, "wb") as fh:
            writer(fh)


__all__ = ["plan", "write", "parse_territory", "SheetPlan", "Sheet", "Entry", "french_date", "french_time"]
