"""Reading the follower lists people download from their networks, recognised by content.

Each reader yields :class:`Follower` records. What a file is comes from its bytes, never from
its name: a renamed ``follower.js`` is still an X archive file, and a ``followers.json`` that is
really a list of blocked accounts is refused with the name of what was expected.

Formats (see docs/social.md for samples):

- X archive ``data/follower.js`` / ``data/following.js``: ``window.YTD.follower.part0 = [...]``,
  account ids and intent links only (no handle, no name).
- LinkedIn ``Connections.csv``: a ``Notes:`` preamble before the header in recent exports,
  none in older ones; UTF-8 with or without BOM, CRLF; ``Connected On`` as ``12 Oct 2023``,
  ``10/12/19``, ``2023-10-12``...; e-mail often empty.
- Instagram ``followers_1.json`` (a bare list) and ``following.json``
  (``{"relationships_following": [...]}``), entries carrying ``string_list_data``; older
  exports wrap followers too (``relationships_followers``); recent ones put the handle in
  ``title`` and an ``instagram.com/_u/name`` link in ``href``.
- Facebook ``your_friends.json`` (``friends_v2``), ``people_who_followed_you.json``
  (``followers_v3``, older ``followers_v2``), ``who_you've_followed.json`` (``following_v3``
  / ``following_v2``): names and timestamps only, names mis-encoded (UTF-8 bytes written as
  Latin-1 escapes) and repaired here.
- Mastodon ``following_accounts.csv`` (``Account address,Show boosts,...``) and the older
  header-less list of ``user@server`` addresses.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dbox.errors import InputError
from dbox.social.urls import mastodon_profile_url
from dbox.normalize import ValueRejected, normalize_email
from dbox.social.urls import url_key
from dbox.i18n import _, grouped

NETWORKS = ("x", "linkedin", "instagram", "facebook", "mastodon")
RELATIONS = ("follower", "following", "connection", "friend")
# Relations in which the person follows the campaign's account (counted as followers).
FOLLOWING_US = ("follower", "connection", "friend")

EXPECTED = ("X archive data/follower.js or following.js, LinkedIn Connections.csv, "
            "Instagram followers_1.json or following.json, Facebook your_friends.json / "
            "people_who_followed_you.json / who_you've_followed.json, or Mastodon following_accounts.csv")
MAX_BYTES = 512 * 1024 * 1024


@dataclass
class Follower:
    network: str
    relation: str
    row: int                         # entry number (JSON) or line number (CSV), for messages
    account_id: str | None = None
    handle: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    email: str | None = None
    since: str | None = None         # ISO date or UTC timestamp


@dataclass
class Export:
    """A recognised file: what it is, its records, and rows that could not be read."""

    path: Path
    kind: str                        # x-archive | linkedin-connections | instagram | facebook | mastodon-csv
    network: str
    relation: str
    description: str
    followers: list[Follower] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)     # "line 7: why"


def read_export(path: Path | str) -> Export:
    """Recognise and read one export file; InputError (naming the file) if it is not one."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(_("{path}: no such file").format(path=path)) from None
    if path.is_dir():
        raise InputError(_("{path}: is a folder; give the export file itself").format(path=path),
                         hint=_("e.g. data/follower.js inside an X archive"))
    if size == 0:
        raise InputError(_("{path}: empty file; expected {EXPECTED}").format(path=path, EXPECTED=EXPECTED))
    if size > MAX_BYTES:
        raise InputError(_("{path}: {size} bytes is too large for a followers export").format(
                             path=path, size=grouped(size)))
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise InputError(_("{path}: a ZIP archive; unzip it and give the followers file inside").format(path=path),
                         hint=_("X: data/follower.js; Instagram: connections/followers_and_following/followers_1.json"))
    text = _decode(raw, path)
    stripped = text.lstrip()
    if stripped.startswith("window.YTD."):
        return _x_archive(path, stripped)
    if stripped[:1] in ("{", "["):
        return _json_export(path, stripped)
    return _csv_export(path, text)


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:4096]:
        raise InputError(_("{path}: a binary file, not a followers export; expected {EXPECTED}").format(
                             path=path, EXPECTED=EXPECTED))
    return raw.decode("cp1252", errors="replace")


def _json_error(path: Path, what: str, exc: json.JSONDecodeError, offset_line: int = 0) -> InputError:
    return InputError(_("{path}: broken {what}: {msg} (line {value}, column {colno})").format(
                          path=path, what=what, msg=exc.msg, value=exc.lineno + offset_line, colno=exc.colno),
                      hint=_("download the export again; the file may have been cut"))


# -- X ---------------------------------------------------------------------------------------------

_YTD = re.compile(r"window\.YTD\.([A-Za-z_]+)\.part(\d+)\s*=\s*")


def _x_archive(path: Path, text: str) -> Export:
    match = _YTD.match(text)
    if not match:
        raise InputError(_("{path}: starts like an X archive file but has no 'window.YTD.<name>.partN =' line").format(
                             path=path))
    name = match.group(1)
    if name not in ("follower", "following"):
        raise InputError(_("{path}: X archive file '{name}' is not a follower list; expected data/follower.js or data/following.js").format(
                             path=path, name=name))
    try:
        data = json.loads(text[match.end():].rstrip().rstrip(";"))
    except json.JSONDecodeError as exc:
        raise _json_error(path, f"X archive {name}.js", exc) from None
    if not isinstance(data, list):
        raise InputError(_("{path}: X archive {name}.js should hold a list after '=', found {name__}").format(
                             path=path, name=name, name__=type(data).__name__))
    export = Export(path, "x-archive", "x", name, f"X archive {name}.js")
    for number, entry in enumerate(data, 1):
        inner = entry.get(name) if isinstance(entry, dict) else None
        if not isinstance(inner, dict):
            export.rejected.append(f"entry {number}: no '{name}' object")
            continue
        account_id = str(inner.get("accountId") or "").strip()
        if not account_id.isdigit():
            export.rejected.append(f"entry {number}: accountId {inner.get('accountId')!r} is not an X account id")
            continue
        export.followers.append(Follower(
            "x", name, number, account_id=account_id,
            profile_url=inner.get("userLink") or f"https://x.com/i/user/{account_id}"))
    return export


# -- Instagram and Facebook JSON --------------------------------------------------------------------

_INSTAGRAM_KEYS = {"relationships_followers": "follower", "relationships_following": "following"}
_FACEBOOK_KEYS = {
    "friends_v2": "friend", "friends": "friend",
    "followers_v3": "follower", "followers_v2": "follower", "followers": "follower",
    "following_v3": "following", "following_v2": "following", "following": "following",
}


def _json_export(path: Path, text: str) -> Export:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(path, "JSON export", exc) from None
    if isinstance(data, list):
        if not data:
            raise InputError(_("{path}: an empty JSON list: no followers in it").format(path=path))
        if isinstance(data[0], dict) and "string_list_data" in data[0]:
            return _instagram(path, data, "follower", "Instagram followers list")
        raise InputError(_("{path}: a JSON list dbox does not know; expected {EXPECTED}").format(
                             path=path, EXPECTED=EXPECTED))
    if not isinstance(data, dict):
        raise InputError(_("{path}: JSON that is not a followers export; expected {EXPECTED}").format(
                             path=path, EXPECTED=EXPECTED))
    for key, relation in _INSTAGRAM_KEYS.items():
        if key in data:
            return _instagram(path, _list_at(path, data, key), relation, f"Instagram {key}")
    for key, relation in _FACEBOOK_KEYS.items():
        if key in data:
            entries = _list_at(path, data, key)
            if entries and isinstance(entries[0], dict) and "string_list_data" in entries[0]:
                return _instagram(path, entries, relation, f"Instagram {key}")
            return _facebook(path, entries, relation, key)
    others = [k for k in data if k.startswith("relationships_")]
    if others:
        raise InputError(_("{path}: Instagram '{others}' is not a followers list; expected followers_1.json (relationships_followers) or following.json (relationships_following)").format(
                             path=path, others=others[0]))
    keys = ", ".join(list(data)[:5]) or "none"
    raise InputError(_("{path}: JSON with keys {keys} is not a followers export; expected {EXPECTED}").format(
                         path=path, keys=keys, EXPECTED=EXPECTED))


def _list_at(path: Path, data: dict, key: str) -> list:
    value = data[key]
    if not isinstance(value, list):
        raise InputError(_("{path}: '{key}' should be a list, found {name__}").format(
                             path=path, key=key, name__=type(value).__name__))
    return value


def _epoch(value) -> str | None:
    if isinstance(value, (int, float)) and value > 0:
        try:
            return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            return None
    return None


_INSTAGRAM_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$")


def _instagram(path: Path, entries: list, relation: str, description: str) -> Export:
    export = Export(path, "instagram", "instagram", relation, description)
    for number, entry in enumerate(entries, 1):
        items = entry.get("string_list_data") if isinstance(entry, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            export.rejected.append(f"entry {number}: no string_list_data")
            continue
        item = items[0]
        handle = (item.get("value") or "").strip()
        href = (item.get("href") or "").strip()
        if not handle and href:
            key = url_key(href) or ""
            if key.startswith("instagram.com/"):
                handle = key.split("/", 1)[1]
        if not handle:
            title = (entry.get("title") or "").strip()
            if _INSTAGRAM_HANDLE.match(title):
                handle = title
        if not handle or not _INSTAGRAM_HANDLE.match(handle):
            export.rejected.append(f"entry {number}: no Instagram username (value, href or title)")
            continue
        handle = handle.lower()
        export.followers.append(Follower(
            "instagram", relation, number, handle=handle,
            profile_url=f"https://www.instagram.com/{handle}", since=_epoch(item.get("timestamp"))))
    return export


def repair_mojibake(text: str) -> str:
    """Undo Facebook's encoding bug: UTF-8 bytes written as one \\u00XX escape each.

    'Ã\\x89lodie' (the two bytes of 'É' read as Latin-1) becomes 'Élodie'. A string that was
    not mis-encoded ('José', plain ASCII, real non-Latin text) does not survive the round trip
    and is returned unchanged, so the repair is exact, never a guess.
    """
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _facebook(path: Path, entries: list, relation: str, key: str) -> Export:
    export = Export(path, "facebook", "facebook", relation, f"Facebook {key}")
    for number, entry in enumerate(entries, 1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            export.rejected.append(f"entry {number}: no name")
            continue
        export.followers.append(Follower(
            "facebook", relation, number, display_name=repair_mojibake(name.strip()),
            since=_epoch(entry.get("timestamp"))))
    return export


# -- CSV: LinkedIn, Mastodon ------------------------------------------------------------------------

_MASTODON_ADDRESS = re.compile(r"^@?[A-Za-z0-9_.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_LINKEDIN_REQUIRED = ("First Name", "Last Name")


def _csv_export(path: Path, text: str) -> Export:
    lines = text.splitlines()
    # LinkedIn puts a "Notes:" paragraph (quoted, possibly over several lines) before the header.
    header_at = None
    for index, line in enumerate(lines[:40]):
        if line.lstrip('\ufeff"').startswith("First Name") and "Last Name" in line:
            header_at = index
            break
    if header_at is not None:
        return _linkedin(path, lines, header_at)
    first = next((line for line in lines if line.strip()), "")
    cells = next(csv.reader([first]))
    head = [c.strip().lower() for c in cells]
    if head and head[0] == "account address":
        if len(head) > 1 and head[1] == "hide notifications":
            raise InputError(_("{path}: a Mastodon mutes export, not follows; expected following_accounts.csv").format(
                                 path=path))
        return _mastodon(path, lines, header=True)
    if cells and _MASTODON_ADDRESS.match(cells[0].strip()) and len(cells) <= 4:
        return _mastodon(path, lines, header=False)
    if any(h in ("first name", "prénom", "email address") for h in head):
        raise InputError(_("{path}: a CSV without LinkedIn's 'First Name,Last Name' header; for a contacts file use: dbox import FILE").format(
                             path=path))
    raise InputError(_("{path}: not a followers export dbox knows; expected {EXPECTED}").format(
                         path=path, EXPECTED=EXPECTED),
                     hint=_("for a file of contacts use: dbox import FILE"))


_MONTHS_FR = {"janv": 1, "janvier": 1, "févr": 2, "fevr": 2, "février": 2, "fevrier": 2, "mars": 3, "avr": 4,
              "avril": 4, "mai": 5, "juin": 6, "juil": 7, "juillet": 7, "août": 8, "aout": 8, "sept": 9,
              "septembre": 9, "oct": 10, "octobre": 10, "nov": 11, "novembre": 11, "déc": 12, "dec": 12,
              "décembre": 12, "decembre": 12}
_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%d-%b-%y", "%d-%b-%Y", "%Y-%m-%d", "%b %d, %Y", "%B %d, %Y")


def parse_connected_on(value: str) -> str | None:
    """LinkedIn's 'Connected On' in the forms its exports have used -> 'YYYY-MM-DD'.

    ``12 Oct 2023``, ``12-Oct-23``, ``2023-10-12``, ``Oct 12, 2023``, French ``12 oct. 2023``,
    and slashed dates, which LinkedIn writes month first (``10/12/19`` is 12 October 2019)
    unless the first number cannot be a month (``25/12/2019``). Raises ValueError otherwise.
    """
    value = value.strip()
    if not value:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).strftime("%Y-%m-%d")
        except ValueError:
            continue
    slashed = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", value)
    if slashed:
        a, b, year = int(slashed.group(1)), int(slashed.group(2)), int(slashed.group(3))
        if year < 100:
            year += 2000
        month, day = (a, b) if a <= 12 else (b, a)
        return datetime(year, month, day).strftime("%Y-%m-%d")
    french = re.fullmatch(r"(\d{1,2})\s+([^\W\d_]+)\.?\s+(\d{4})", value)
    if french and french.group(2).lower() in _MONTHS_FR:
        return datetime(int(french.group(3)), _MONTHS_FR[french.group(2).lower()],
                        int(french.group(1))).strftime("%Y-%m-%d")
    raise ValueError(f"'{value}' is not a date")


def _linkedin(path: Path, lines: list[str], header_at: int) -> Export:
    export = Export(path, "linkedin-connections", "linkedin", "connection", "LinkedIn Connections.csv")
    reader = csv.reader(io.StringIO("\n".join(lines[header_at:])))
    header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    missing = [name for name in _LINKEDIN_REQUIRED if name not in header]
    if missing:
        raise InputError(_("{path}: LinkedIn header lacks {items}").format(path=path, items=', '.join(missing)))
    col = {name: header.index(name) for name in header}
    for offset, cells in enumerate(reader, 1):
        line = header_at + 1 + offset
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            export.rejected.append(f"line {line}: {len(cells)} cells for {len(header)} columns")
            continue

        def cell(name: str) -> str:
            return cells[col[name]].strip() if name in col else ""

        first, last, url = cell("First Name"), cell("Last Name"), cell("URL")
        if not (first or last or url):
            export.rejected.append(f"line {line}: no name and no profile URL")
            continue
        email = None
        if cell("Email Address"):
            try:
                email = normalize_email(cell("Email Address"))
            except ValueRejected as exc:
                export.rejected.append(f"line {line}: column Email Address: {exc}")
                continue
        try:
            since = parse_connected_on(cell("Connected On"))
        except ValueError as exc:
            export.rejected.append(f"line {line}: column Connected On: {exc}")
            continue
        handle = None
        match = re.search(r"linkedin\.com/in/([^/?#]+)", url, re.I)
        if match:
            from urllib.parse import unquote

            handle = unquote(match.group(1)).lower()
        export.followers.append(Follower(
            "linkedin", "connection", line, handle=handle,
            display_name=" ".join(p for p in (first, last) if p) or None,
            profile_url=url or None, email=email, since=since))
    return export


def _mastodon(path: Path, lines: list[str], header: bool) -> Export:
    export = Export(path, "mastodon-csv", "mastodon", "following", "Mastodon follows export")
    reader = csv.reader(io.StringIO("\n".join(lines)))
    for line, cells in enumerate(reader, 1):
        if header and line == 1:
            continue
        if not cells or not cells[0].strip():
            continue
        address = cells[0].strip().lstrip("@")
        if not _MASTODON_ADDRESS.match(address):
            export.rejected.append(f"line {line}: {cells[0]!r} is not a user@server address")
            continue
        user, domain = address.split("@")
        handle = f"{user}@{domain}".lower()
        export.followers.append(Follower("mastodon", "following", line, handle=handle,
                                         profile_url=mastodon_profile_url(handle)))
    return export


API_NETWORKS = ("x", "linkedin", "facebook", "mastodon")


def check_network(value: str, *, with_instagram: bool = False) -> str:
    """A network name as the user typed it -> its canonical name (``twitter`` is ``x``)."""
    name = value.strip().lower()
    name = {"twitter": "x"}.get(name, name)
    allowed = NETWORKS if with_instagram else API_NETWORKS
    if name not in allowed:
        raise InputError(_("unknown network {value!r}").format(value=value), hint=_("networks: {items}").format(items=", ".join(allowed)))
    return name


def check_relation(value: str) -> str:
    name = value.strip().lower()
    if name not in RELATIONS:
        raise InputError(_("unknown relation {value!r}").format(value=value), hint=_("relations: {items}").format(items=", ".join(RELATIONS)))
    return name
