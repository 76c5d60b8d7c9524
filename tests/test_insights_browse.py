"""dbox browse: Datasette over the store, started as a real process on a free loopback port and
queried over HTTP (its JSON API), then stopped."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from dbox import segments

# loopback only, never a proxy; the cookie jar keeps the token cookie as a web browser does
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor())


def _get(url: str, *, raw: bool = False):
    try:
        with _OPENER.open(url, timeout=30) as response:
            body = response.read().decode("utf-8")
            return response.status, body if raw else json.loads(body)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", errors="replace")
        try:
            return exc.code, body if raw else json.loads(body)
        except ValueError:
            return exc.code, body


def _ctrl_c_as_at_a_terminal() -> None:
    """The child gets SIGINT's default disposition, as a command typed at a terminal does: a test
    runner started in the background (``nohup``, ``cmd &`` in a script) ignores SIGINT, its
    children inherit that, and Python keeps ignoring a SIGINT its parent ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Browse:
    """`dbox browse --port 0 --no-open` in its own process; the URL it prints; stopped with Ctrl+C."""

    def __init__(self, db: Path, *args: str):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DBOX_DB": str(db)}
        self.proc = subprocess.Popen([sys.executable, "-m", "dbox", "browse", "--port", "0", "--no-open", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     preexec_fn=_ctrl_c_as_at_a_terminal)
        deadline = time.monotonic() + 60
        self.url = None
        while time.monotonic() < deadline and self.url is None:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("dbox browse exited: " + self.proc.stderr.read())
            if " at http://" in line:
                self.url = line.split(" at ", 1)[1].split()[0]
        assert self.url and self.url.startswith("http://127.0.0.1:"), self.url
        # issue 12 item 8: the printed URL carries a token; opening it once sets the cookie that
        # the other requests carry (as a web browser does), and self.url is the page without it
        self.printed_url = self.url
        self.url, _, token = self.url.partition("?token=")
        self.token = token
        assert token and _get(self.printed_url, raw=True)[0] == 200

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)          # Ctrl+C, to the process we started
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise
        return self.proc.returncode


@pytest.fixture
def sample(store, cli, examples):
    result = cli("import", examples / "contacts.csv")
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture
def browser(sample):
    server = Browse(Path(os.environ["DBOX_DB"]))
    yield server
    server.stop()


def _count(store, expression):
    return segments.count(store, segments.select(store, expression))


def test_tables_facets_and_labels(sample, browser):
    status, db = _get(browser.url + ".json")
    assert status == 200 and db["database"] == "store"
    tables = {t["name"]: t for t in db["tables"]}
    # 191 since issue 12: the row with a bad phone keeps its person (the value alone is rejected)
    assert tables["contacts"]["count"] == _count(sample, None) == 191
    assert "meta" not in tables                                           # hidden and forbidden
    status, page = _get(browser.url + "/contacts.json?_size=3")
    assert status == 200 and len(page["rows"]) == 3
    facets = page["facet_results"]
    assert set(facets) == {"commune_name", "canton", "tags", "consent", "departement"}
    tags = {r["label"]: r for r in facets["tags"]["results"]}
    assert tags["militant"]["count"] == _count(sample, "tag:militant")
    consent = {r["label"]: r["count"] for r in facets["consent"]["results"]}
    assert consent["sms granted"] == _count(sample, "consent:sms")
    assert consent["email granted"] == _count(sample, "consent:email")
    cantons = facets["canton"]["results"]
    code = cantons[0]["value"]
    name = sample.execute("SELECT name FROM geo_cantons WHERE code = ?", (code,)).fetchone()[0]
    assert cantons[0]["label"] == f"{name} ({code})"
    assert cantons[0]["count"] == sample.execute("SELECT count(*) FROM contacts WHERE canton_code = ?",
                                                 (code,)).fetchone()[0]
    communes = {r["value"]: r["count"] for r in facets["commune_name"]["results"]}
    assert communes["Grenoble"] == _count(sample, "commune = Grenoble")
    # choosing a facet value filters the rows, and the value shows as selected
    toggle = urllib.parse.urlsplit(tags["militant"]["toggle_url"])
    status, filtered = _get(browser.url + "/contacts.json?" + toggle.query)
    assert filtered["filtered_table_rows_count"] == _count(sample, "tag:militant")
    chosen = [r for r in filtered["facet_results"]["tags"]["results"] if r["label"] == "militant"]
    assert chosen[0]["selected"] is True
    # two facets together: tag and consent
    both = urllib.parse.urlsplit([r for r in filtered["facet_results"]["consent"]["results"]
                                  if r["label"] == "sms granted"][0]["toggle_url"])
    status, filtered = _get(browser.url + "/contacts.json?" + both.query)
    assert filtered["filtered_table_rows_count"] == _count(sample, "tag:militant and consent:sms")
    # labelled columns
    status, html = _get(browser.url + "/contacts", raw=True)
    assert status == 200 and "Code postal (5 digits)" in html and "INSEE code of the commune" in html


def test_map_of_contacts_by_commune(sample, browser):
    status, rows = _get(browser.url + "/contacts_by_commune.json?_shape=array")
    assert status == 200
    grenoble = next(r for r in rows if r["commune"] == "Grenoble")
    lat, lon = sample.execute("SELECT lat, lon FROM geo_communes WHERE insee = '38185'").fetchone()
    assert (grenoble["latitude"], grenoble["longitude"]) == (lat, lon)
    assert grenoble["contacts"] == _count(sample, "commune = Grenoble")
    assert json.loads(grenoble["popup"])["title"] == "Grenoble (38)"
    assert sum(r["contacts"] for r in rows) == sample.execute(
        "SELECT count(*) FROM contacts WHERE commune_insee IS NOT NULL").fetchone()[0]
    status, html = _get(browser.url + "/contacts_by_commune", raw=True)
    assert "datasette-cluster-map.js" in html and 'DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "latitude"' in html
    status, script = _get(browser.url.rsplit("/", 1)[0] + "/-/static-plugins/datasette-cluster-map/"
                          "datasette-cluster-map.js", raw=True)
    assert status == 200 and "addClusterMap" in script


def test_read_only_and_secrets_kept(sample, browser, cli, examples):
    status, body = _get(browser.url + "/meta.json")
    assert status == 403
    status, result = _get(browser.url + ".json?" + urllib.parse.urlencode({"sql": "select key, value from meta"}))
    assert result["ok"] is False and result["error"] == "access to meta.key is prohibited"
    status, result = _get(browser.url + ".json?" + urllib.parse.urlencode(
        {"sql": "select c.id from contacts c where exists (select 1 from meta where value like 'a%')"}))
    assert result["ok"] is False and "prohibited" in result["error"]
    status, result = _get(browser.url + ".json?" + urllib.parse.urlencode({"sql": "delete from contacts"}))
    assert status == 400 and "Statement must be a SELECT" in json.dumps(result)
    before = _count(sample, None)
    assert before == 191
    # the browser shows what dbox writes meanwhile: the store is read live, not frozen at startup
    added = cli("import", examples / "contacts.csv", "--force")
    assert added.exit_code == 0
    sample.execute("INSERT INTO tags (name, key) VALUES ('nouveau', 'nouveau')")
    status, page = _get(browser.url + "/tags.json?_shape=array&name=nouveau")
    assert status == 200 and [r["name"] for r in page] == ["nouveau"]
    from dbox.privacy.audit import entries

    (logged,) = list(entries(sample, command="browse"))
    assert logged.count == 191 and logged.detail == {"host": "127.0.0.1"}


def test_stops_on_ctrl_c(sample):
    server = Browse(Path(os.environ["DBOX_DB"]))
    assert _get(server.url + ".json")[0] == 200
    assert server.stop() == 0
    port = int(urllib.parse.urlsplit(server.url).port)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0                      # nobody listens any more


def test_public_host_needs_allow_network(store, cli):
    result = cli("browse", "--host", "0.0.0.0", "--no-open")
    assert result.exit_code == 3
    assert result.output.startswith("Error: --host 0.0.0.0: the browser has no password and shows every contact")
    assert "add --allow-network" in result.output
    bad = cli("browse", "--host", "example.org", "--no-open")
    assert bad.exit_code == 3 and "Error: --host 'example.org': give an IP address (127.0.0.1)" in bad.output


def test_port_in_use_is_a_clear_error(store, cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("browse", "--port", port, "--no-open")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    assert "choose another --port (0: any free one)" in result.output


def test_missing_datasette_says_which_extra(store, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasette.app", None)
    result = cli("browse", "--no-open")
    assert result.exit_code == 1
    assert "Error: dbox browse needs Datasette, which is not installed" in result.output
    assert "pip install 'dbox[browse]'" in result.output


def test_a_file_that_is_not_a_store_is_refused(tmp_path, cli):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not an sqlite file at all, or an encrypted one" * 100)
    from dbox.insights.browse import Browser

    with pytest.raises(Exception) as err:
        Browser(junk).start()
    assert str(err.value).startswith(f"{junk}: cannot be read by the browser (file is not a database)")
    assert err.value.exit_code == 4
