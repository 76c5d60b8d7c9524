"""``dbox browse``: Datasette over the store, read-only, on this computer.

- The store is opened by Datasette as a *mutable* database, which it reads through ``?mode=ro``
  connections: SQLite refuses every write on them. ``--immutable`` is not used on purpose: dbox
  keeps its store in WAL mode, and an immutable open ignores the ``-wal`` file, so the newest
  imports and sends would be missing (or a half-checkpointed file misread) while dbox works beside
  the browser. The caller keeps a dbox connection open so the ``-wal``/``-shm`` files exist.
- Metadata labels the columns, names the tables, sets facets (commune, canton, tags, consent,
  département) and canned queries; the datasette-cluster-map plugin draws the contacts by commune
  (its map tiles come from OpenStreetMap, fetched by the user's browser).
- The ``meta`` table (suppression salt, unsubscribe key) is hidden, forbidden, and unreadable even
  from custom SQL (see dbox.insights.datasette_plugin).
- It listens on 127.0.0.1 unless told otherwise with ``--allow-network``: Datasette has no
  passwords, and the store holds personal data.
- Two locks in front of Datasette (``Guard``), as Jupyter does: a request whose ``Host`` is not the
  address served is refused (a web page could otherwise read the store through DNS rebinding:
  its own name, re-pointed at 127.0.0.1, is a same-origin request for the browser), and every
  request needs the random token of the URL ``dbox browse`` prints (another user of this computer
  can reach the port, but cannot read the 0600 store it serves). The token is taken from
  ``?token=``, then kept in an HttpOnly, SameSite=Strict cookie so Datasette's own links work;
  scripts can send ``Authorization: token <token>``.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from dbox.errors import DboxError, InputError, StoreError
from dbox.store import insights as sql
from dbox.store.db import check_readable
from dbox.i18n import _
from dbox.privacy.audit import record
from dbox.store.contacts import count_contacts

DATABASE = "store"

_CONTACT_COLUMNS = {
    "id": "dbox contact id",
    "civility": "Civilité (M., Mme)",
    "first_name": "Prénom",
    "last_name": "Nom",
    "name_key": "Accent-free 'last first' key, for deduplication",
    "email": "Primary e-mail (lower-case)",
    "mobile": "Primary mobile, E.164 (+33612345678)",
    "fixed": "Primary fixed line, E.164",
    "address": "Postal address",
    "postal_code": "Code postal (5 digits)",
    "commune_name": "Commune, as given or its INSEE name when located",
    "commune_insee": "INSEE code of the commune (empty when not located)",
    "departement": "Département code (38, 2A, 971)",
    "canton_code": "INSEE canton code; empty when the commune is split between cantons",
    "circonscription": "Circonscription législative (38-01); empty when the commune is split",
    "geo_status": "resolved, ambiguous, unknown or missing",
    "phone_region": "Region used to read local phone numbers",
    "created_at": "When the contact entered the store (UTC)",
    "updated_at": "Last change (UTC)",
    "first_name_key": "Search key (internal)",
    "last_name_key": "Search key (internal)",
    "address_key": "Search key (internal)",
    "commune_key": "Search key (internal)",
}

_TABLES = {
    "contacts": {
        "title": "Contacts",
        "description": "One row per person. Facets: commune, canton, tags, consent, département. "
                       "Click a contact's id for their tags, consent history, sources and messages.",
        "label_column": "last_name",
        "columns": _CONTACT_COLUMNS,
        "facets": ["commune_name", {"dbox_canton": "canton"}, {"dbox_tag": "tags"},
                   {"dbox_consent": "consent"}, "departement"],
        "sort_desc": "id",
    },
    "contact_points": {"title": "E-mails and phones", "description": "Every address a contact has; "
                       "invalid: the provider said it does not exist.", "facets": ["kind", "status"],
                       "columns": {"value_hash": "Salted hash, to match suppressions (internal)"}},
    "tags": {"title": "Tags", "label_column": "name"},
    "contact_tags": {"title": "Tags of contacts", "facets": ["tag_id"]},
    "contact_fields": {"title": "Custom fields", "facets": ["name"]},
    "consents": {"title": "Consent (current state)", "facets": ["channel", "status", "source"]},
    "consent_events": {"title": "Consent history", "facets": ["channel", "action", "source"]},
    "contact_sources": {"title": "Where contacts came from", "facets": ["import_id"]},
    "imports": {"title": "Imports", "label_column": "filename", "sort_desc": "id"},
    "suppressions": {"title": "Suppressions", "description": "Hashed addresses never to be messaged or "
                     "re-imported (no clear text).", "facets": ["kind", "reason", "channel"]},
    "campaigns": {"title": "Campaigns", "facets": ["channel", "status"], "sort_desc": "id"},
    "campaign_recipients": {"title": "Campaign recipients", "facets": ["campaign_id", "state", "reason"]},
    "geo_communes": {"title": "Communes (reference)", "label_column": "name",
                     "columns": {"population": "INSEE municipal population", "lat": "Latitude of a point in the "
                                 "commune", "lon": "Longitude"}},
    "geo_cantons": {"title": "Cantons (reference)", "label_column": "name"},
    "identities": {"title": "Social identities", "facets": ["network", "relation"]},
    "follower_snapshots": {"title": "Follower counts", "facets": ["network"]},
    "segments": {"title": "Saved segments", "label_column": "name"},
    "audit_log": {"title": "Audit log", "sort_desc": "id"},
}


def metadata(store_name: str) -> dict:
    tables = {name: dict(spec) for name, spec in _TABLES.items()}
    for secret in sql.BROWSE_SECRET_TABLES:
        tables[secret] = {"hidden": True, "allow": False}
    return {
        "title": f"dbox — {store_name}",
        "description": "The contact store, read-only. Nothing done here changes it.",
        "databases": {DATABASE: {"tables": tables, "queries": sql.BROWSE_QUERIES}},
        "plugins": {"datasette-cluster-map": {"latitude_column": "latitude", "longitude_column": "longitude"}},
    }


def check_host(host: str, allow_network: bool) -> str:
    host = host.strip()
    if host == "localhost":
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise InputError(_("--host {host!r}: give an IP address (127.0.0.1)").format(host=host)) from None
    if not address.is_loopback and not allow_network:
        raise InputError(_("--host {host}: the browser has no password and shows every contact").format(host=host),
                         hint=_("keep 127.0.0.1, or add --allow-network if that is really meant"))
    return host


def _datasette():
    try:
        from datasette.app import Datasette
        from datasette.database import Database
        from datasette.plugins import pm
    except ImportError:
        raise DboxError(_("dbox browse needs Datasette, which is not installed"),
                        hint=_("pip install 'dbox[browse]'")) from None
    from dbox.insights import datasette_plugin   # deferred: it imports datasette (an optional extra)

    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="dbox")
    return Datasette, Database


def make_app(store_path: Path):
    """The Datasette instance over the store (read-only), with dbox's metadata."""
    Datasette, Database = _datasette()
    store_path = Path(store_path).resolve()
    ds = Datasette(metadata=metadata(store_path.name),
                   settings={"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000, "num_sql_threads": 2,
                             "allow_download": False, "max_returned_rows": 5000, "default_facet_size": 15})
    ds.add_database(Database(ds, path=str(store_path), is_mutable=True), name=DATABASE)
    return ds


def host_allowed(header: str, served_host: str, port: int) -> bool:
    """Is ``Host: header`` the address served? The port must match; the name must be the served
    address, or a loopback name when serving loopback, or any IP address when serving every
    interface (0.0.0.0, ``--allow-network``). A domain name never passes: that is DNS rebinding."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _unused, rest = header[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        name, _unused, port_text = header.rpartition(":") if ":" in header else (header, "", "")
    if port_text != str(port):
        return False
    if name == served_host.lower():
        return True
    try:
        served = ipaddress.ip_address("127.0.0.1" if served_host == "localhost" else served_host)
    except ValueError:
        return False
    if name == "localhost":
        return served.is_loopback
    try:
        asked = ipaddress.ip_address(name)
    except ValueError:
        return False
    if served.is_unspecified:
        return True
    return served.is_loopback and asked.is_loopback


class Guard:
    """ASGI middleware: the Host check and the token (see the module's docstring)."""

    def __init__(self, app, token: str, served_host: str, port_of):
        self.app = app
        self.token = token
        self.served_host = served_host
        self.port_of = port_of              # the port is known once the socket is bound
        self.cookie = "dbox_browse"

    def _cookie_name(self) -> str:
        return f"{self.cookie}_{self.port_of()}"   # two browsers on one machine: one cookie each

    def _has_token(self, headers: dict[bytes, bytes], query: list[tuple[str, str]]) -> tuple[bool, bool]:
        """(authorized, by the query string)."""
        given = dict(query).get("token")
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            return True, True
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("token ") and hmac.compare_digest(auth[6:].strip().encode(), self.token.encode()):
            return True, False
        jar = SimpleCookie()
        try:
            jar.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # noqa: BLE001 - a malformed cookie header is no token
            return False, False
        morsel = jar.get(self._cookie_name())
        if morsel is not None and hmac.compare_digest(morsel.value.encode(), self.token.encode()):
            return True, False
        return False, False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host_allowed(host, self.served_host, self.port_of()):
            return await _answer(send, 403, "dbox browse: this address is not the one it serves "
                                            "(open the URL dbox browse printed).\n")
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        allowed, by_query = self._has_token(headers, query)
        if not allowed:
            return await _answer(send, 403, "dbox browse: open the URL dbox browse printed, with its "
                                            "token.\n")
        if by_query and scope.get("method") in ("GET", "HEAD"):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            location = (scope.get("root_path", "") + scope["path"]) + (f"?{rest}" if rest else "")
            cookie = (f"{self._cookie_name()}={self.token}; Path=/; HttpOnly; SameSite=Strict")
            return await _answer(send, 302, "", [(b"location", location.encode("latin-1")),
                                                 (b"set-cookie", cookie.encode("latin-1"))])
        return await self.app(scope, receive, send)


async def _answer(send, status: int, text: str, extra=()) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store"),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


class Browser:
    """Datasette served by uvicorn in a background thread; ``start()`` returns the URL (with its
    token)."""

    def __init__(self, store_path: Path, *, host: str = "127.0.0.1", port: int = 8001, allow_network: bool = False):
        self.store_path = Path(store_path)
        if not self.store_path.exists():
            raise InputError(_("{store_path}: no such store").format(store_path=self.store_path), hint=_("dbox init creates one"))
        self.host = check_host(host, allow_network)
        if not 0 <= port <= 65535:
            raise InputError(_("--port {port}: give a port between 1 and 65535 (0: any free one)").format(port=port))
        self.port = port
        self.token = secrets.token_urlsafe(24)
        self.datasette = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "localhost") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/{DATABASE}?token={self.token}"

    def _check_readable(self) -> None:
        """Datasette reads with the plain sqlite3 module: a store it cannot read (encrypted with
        SQLCipher, or not a store) is refused here with a clear message."""
        try:
            check_readable(self.store_path)
        except StoreError as exc:
            raise StoreError(_("{store_path}: cannot be read by the browser ({exc}); an encrypted store cannot be browsed").format(
                                 store_path=self.store_path, exc=exc)) from None

    def start(self, timeout: float = 30.0) -> str:
        import uvicorn

        self._check_readable()
        self.datasette = make_app(self.store_path)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise DboxError(_("cannot listen on {host}:{port}: {value}").format(
                                host=self.host, port=self.port, value=exc.strerror or exc),
                            hint=_("choose another --port (0: any free one)")) from None
        sock.listen(128)
        self._socket = sock
        self.port = sock.getsockname()[1]
        app = Guard(self.datasette.app(), self.token, "127.0.0.1" if self.host == "localhost" else self.host,
                    lambda: self.port)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)

        def run():
            try:
                self._server.run(sockets=[sock])
            except BaseException as exc:  # noqa: BLE001 - reported by start()/wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="dbox-browse", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise DboxError(_("the browser did not start: {error}").format(error=self._error))
            if time.monotonic() > deadline:
                self.stop()
                raise DboxError(_("the browser did not start in time"))
            time.sleep(0.05)
        return self.url

    def wait(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.datasette is not None:
            for db in self.datasette.databases.values():
                db.close()


def refuse_engine(store) -> None:
    """``dbox browse`` serves a store file through Datasette, which reads SQLite only."""
    if store.engine != "sqlite":
        raise InputError(_("dbox browse reads a SQLite store file; {location} is on PostgreSQL").format(
                             location=store.location),
                         hint=_("browse a copy (dbox store copy SRC file.sqlite3), or use psql (docs/team.md)"))


def record_browse(store, host: str) -> None:
    """The audit log keeps who opened the store in a browser (every contact can be read there)."""
    record(store, "browse", count_contacts(store), {"host": host})


def open_in_browser(url: str) -> None:
    import webbrowser

    try:
        webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is fine: the URL is printed
        pass
