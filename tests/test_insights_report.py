"""dbox report: the HTML page opened in headless Chromium with no network — no console error, no
request leaving the file, the map and charts drawn (screenshots checked pixel by pixel), every
number shown equal to `dbox stats --format json` — plus the PNG/PDF outputs and bad input."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, copy_store, isolate
from test_send_support import twilio_server

from dbox.insights.maps import CLASS_COLOURS, EMPTY_FILL
from dbox.store import social as store_social
from dbox.store.db import open_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# One worker takes the whole module under pytest-xdist (--dist loadgroup): the campaign store is
# built once, not once per worker.
pytestmark = pytest.mark.xdist_group("insights-report")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: "
                             "apt-get install -y chromium); the report cannot be opened in a browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")

# The map's colour classes and the grey of the areas around, and the charts' colours.
TERRITORY_GREY = EMPTY_FILL
HEADER_BLUE = "#1d3557"
DELIVERED_GREEN = "#2a9d8f"


# -- a small DevTools-protocol client over a Chromium we start ourselves ----------------------------

class Chromium:
    """Headless Chromium with a DevTools socket; commands and events through websocket-client."""

    def __init__(self, profile: Path):
        self.profile = profile
        self.log = open(profile.parent / "chromium.log", "wb")
        self.proc = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                      "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                                      "about:blank"], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.events: list[dict] = []
        self._id = 0
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().split()) == 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port: "
                                   + (profile.parent / "chromium.log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        port, path = port_file.read_text().split()
        import websocket

        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True,
                                              http_no_proxy=["127.0.0.1"])
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page(f"{domain}.enable")

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)
        raise TimeoutError(method)

    def page(self, method: str, params: dict | None = None, timeout: float = 60):
        return self.send(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression: str):
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(expression)

    def named(self, method: str) -> list[dict]:
        return [e["params"] for e in self.events if e.get("method") == method]

    def screenshot(self, selector: str, path: Path) -> tuple[Path, dict]:
        import base64

        box = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                            f".getBoundingClientRect(); return {{x: r.x + scrollX, y: r.y + scrollY, "
                            f"width: r.width, height: r.height}}; }})()")
        data = self.page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                    "clip": {**box, "scale": 1}})["data"]
        path.write_bytes(base64.b64decode(data))
        return path, box

    def close(self):
        try:
            if getattr(self, "ws", None) is not None:
                try:
                    self.send("Browser.close", timeout=10)
                except Exception:  # noqa: BLE001 - it may close before it answers
                    pass
                self.ws.close()
        finally:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the group we started, by its id
                self.proc.wait(10)
            self.log.close()


# -- a store worth a report ---------------------------------------------------------------------

def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _blend(colour: str, alpha: float, under=(255, 255, 255)) -> tuple[int, int, int]:
    return tuple(round(alpha * c + (1 - alpha) * u) for c, u in zip(_hex(colour), under))


def _near(pixel, colour, tolerance=40) -> bool:
    return sum((a - b) ** 2 for a, b in zip(pixel[:3], colour)) <= tolerance ** 2


def _count(image, colours, tolerance=40) -> int:
    return sum(n for n, pixel in image.getcolors(image.width * image.height)
               if any(_near(pixel, c, tolerance) for c in colours))


def _build_campaign_store(store, cli, twilio, examples: Path) -> None:
    """The bundled sample imported, spread over several weeks, one SMS campaign sent through the
    local Twilio server (one number refused, one undelivered), follower counts on two networks."""
    result = cli("import", examples / "contacts.csv")
    assert result.exit_code == 0, result.output
    ids = [i for (i,) in store.execute("SELECT id FROM contacts ORDER BY id")]
    for n, cid in enumerate(ids):
        store.execute("UPDATE contacts SET created_at = ? WHERE id = ?",
                      (f"2026-{9 + n % 3:02d}-{1 + n % 27:02d}T10:00:00Z", cid))
    mobiles = [m for (m,) in store.execute("SELECT mobile FROM contacts WHERE mobile IS NOT NULL ORDER BY id")]
    twilio.mark_unsubscribed(mobiles[0])
    twilio.mark_undeliverable(mobiles[1])
    # At the channel's default rate (10/s) the hundred messages would take ten seconds of waiting;
    # the report reads what was sent, not how fast.
    sent = cli("send", "--sms", "-m", "Réunion publique jeudi à 19 h, salle des fêtes", "--yes", "--rate", "1000/s")
    assert sent.exit_code == 0, sent.output
    assert cli("campaigns", "sync").exit_code == 0
    emails = [e for (e,) in store.execute("SELECT email FROM contacts WHERE email IS NOT NULL ORDER BY id LIMIT 3")]
    for args in (("action", "create", "Tractage marché Estacade", "--type", "tractage", "--date", "2026-11-07T09:00",
                  "--commune", "Grenoble"),
                 ("action", "rsvp", "1", emails[0], "yes"), ("action", "rsvp", "1", emails[1], "yes"),
                 ("action", "attend", "1", emails[0], emails[2])):
        assert cli(*args).exit_code == 0, args
    for network, totals in (("mastodon", (40, 55, 61)), ("bluesky", (12, 30, 44))):
        for day, total in zip(("2026-09-10", "2026-10-10", "2026-11-10"), totals):
            store_social.add_snapshot(store, network, "follower", None, "api", total, total // 4)
            store.execute("UPDATE follower_snapshots SET taken_at = ? WHERE id = (SELECT max(id) FROM "
                          "follower_snapshots)", (f"{day}T08:00:00Z",))


@pytest.fixture(scope="module")
def campaign_template(tmp_path_factory, template_store) -> Path:
    """The campaign store (and the config that priced its SMS), made once for the module in a
    folder of its own: a few seconds of importing and sending, which each test then copies."""
    from typer.testing import CliRunner

    from dbox.cli import app

    folder = tmp_path_factory.mktemp("campaign")
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, folder)
        store = open_store(copy_store(template_store, folder / "store" / "dbox.sqlite3"))
        try:
            with twilio_server(mp) as twilio:
                (folder / "examples").mkdir()
                shutil.copy(EXAMPLES / "contacts.csv", folder / "examples")
                _build_campaign_store(store, cli, twilio, folder / "examples")
        finally:
            store.close()
    return folder


@pytest.fixture
def campaign_store(campaign_template, tmp_path):
    """A copy of the module's campaign store at $DBOX_DB, with its config (SMS price)."""
    shutil.copytree(campaign_template / "config", tmp_path / "config")
    store = open_store(copy_store(campaign_template / "store" / "dbox.sqlite3", tmp_path / "store" / "dbox.sqlite3"))
    yield store
    store.close()


def _stats_json(cli, *args, db=None):
    result = cli(*(("--db", db) if db else ()), "stats", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    data.pop("generated_at")
    return data


def _path(data, dotted: str):
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _shown(text: str):
    """The number a cell shows: '12 345' -> 12345, '52.1 %' -> 52.1, '0.20 EUR' -> 0.2, '–' -> None."""
    text = text.replace("\u00a0", "").replace("%", "").replace("EUR", "").strip()
    if text == "–":
        return None
    return float(text) if "." in text else int(text)


# -- the page in a browser ------------------------------------------------------------------------

@pytest.mark.browser
@needs_chromium
def test_report_in_headless_chromium(campaign_store, cli, tmp_path):
    html = tmp_path / "report.html"
    result = cli("report", "--out", html, "--by", "commune", "--period", "month")
    assert result.exit_code == 0, result.output
    assert f"wrote {html}" in result.output
    expected = _stats_json(cli, "--by", "commune", "--period", "month")
    browser = Chromium(tmp_path / "profile")
    try:
        browser.page("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1,
                                                            "mobile": False})
        browser.page("Page.navigate", {"url": html.as_uri()})
        browser.wait_for("document.readyState === 'complete'")
        plots = browser.wait_for(
            "(() => { const p = document.querySelectorAll('.js-plotly-plot'); "
            "return p.length && Array.from(p).every(d => d.querySelector('.main-svg')) && p.length; })()")
        time.sleep(0.5)

        # no error of any kind, and nothing fetched from outside the file
        assert browser.named("Runtime.exceptionThrown") == []
        console = [(e["type"], e["args"]) for e in browser.named("Runtime.consoleAPICalled")
                   if e["type"] in ("error", "warning", "assert")]
        assert console == []
        assert [e["entry"] for e in browser.named("Log.entryAdded") if e["entry"]["level"] in ("error", "warning")] == []
        requests = [e["request"]["url"] for e in browser.named("Network.requestWillBeSent")]
        assert requests and all(url.startswith(LOCAL_SCHEMES) for url in requests), requests
        assert browser.named("Network.loadingFailed") == []

        # the figures: one map per territory (the sample has Martinique and La Réunion too) and four charts
        ids = browser.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => d.id)")
        assert ids == ["map-metropole", "map-972", "map-974", "chart-reach", "chart-growth", "chart-followers",
                       "chart-campaigns"] and plots == 7

        # every number shown is the one `dbox stats --format json` gives, and is written as such
        shown = browser.evaluate("Array.from(document.querySelectorAll('[data-stat]'))"
                                 ".map(e => [e.dataset.stat, e.dataset.value, e.textContent])")
        assert len(shown) > 60
        paths = {p for p, _, _ in shown}
        assert {"summary.contacts", "summary.reachable_sms", "summary.reachable_email_share",
                "areas.rows.0.contacts", "areas.rows.0.per_1000", "campaigns.0.sent", "campaigns.0.delivered",
                "campaigns.0.opted_out", "campaigns.0.cost", "growth.sources.0.new", "followers.latest.0.total",
                "actions.actions.0.yes", "actions.actions.0.came", "actions.volunteers.active"} <= paths
        for path, value, text in shown:
            assert json.loads(value) == _path(expected, path), path
            assert _shown(text) == _path(expected, path), (path, text)
        embedded = json.loads(browser.evaluate("document.getElementById('dbox-stats').textContent"))
        embedded.pop("generated_at")
        assert embedded == expected

        # the header is readable: the selection and the date, dark on light or light on dark
        contrast = browser.evaluate("""(() => {
            const lum = c => { const v = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(x => x / 255)
                .map(x => x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4));
                return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
            const bg = e => { for (; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor;
                if (b !== 'rgba(0, 0, 0, 0)') return b; } return 'rgb(255, 255, 255)'; };
            return Array.from(document.querySelectorAll('header, header *')).filter(e => e.childNodes.length
                && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())).map(e => {
                const a = lum(getComputedStyle(e).color), b = lum(bg(e));
                return [e.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; }); })()""")
        assert contrast and all(ratio >= 4.5 for _, ratio in contrast), contrast

        # the map: every metropolitan commune with contacts filled by its class, named on hover
        traces = browser.evaluate("document.getElementById('map-metropole').data.map(t => "
                                  "({name: t.name, n: t.x.length, visible: t.visible, fill: t.fillcolor || null, "
                                  "names: (t.customdata || []).map(c => c[0])}))")
        communes = [r for r in expected["areas"]["rows"] if r["lat"] is not None
                    and r["departement"] not in ("971", "972", "973", "974", "976")]
        hover_traces = [i for i, t in enumerate(traces) if t["name"] in ("Communes", "Cantons", "Départements")]
        assert [traces[i]["name"] for i in hover_traces] == ["Communes", "Cantons", "Départements"]
        points = hover_traces[0]
        assert traces[points]["visible"] is True
        assert sorted(traces[points]["names"]) == sorted(r["name"] for r in communes)
        assert all(traces[i]["visible"] is False for i in hover_traces[1:])
        filled = [t for t in traces[:points] if t["fill"] in CLASS_COLOURS]
        assert 2 <= len(filled) <= 5 and all(t["n"] > 20 for t in filled)       # polygons of each class
        assert traces[0]["fill"] is not None and traces[1]["fill"] == TERRITORY_GREY and traces[1]["n"] > 1000
        top = communes[0]
        index = traces[points]["names"].index(top["name"])
        hover = browser.evaluate(f"(() => {{ Plotly.Fx.hover('map-metropole', [{{curveNumber: {points}, "
                                 f"pointNumber: {index}}}]);"
                                 "return document.querySelector('#map-metropole .hoverlayer').textContent; })()")
        assert top["name"] in hover and f"{top['contacts']} contacts" in hover
        labels = browser.evaluate("Array.from(document.querySelectorAll('#map-metropole .annotation-text'))"
                                  ".map(e => e.textContent)")
        assert top["name"] in labels and set(labels) <= {r["name"] for r in communes}
        boxes = browser.evaluate("Array.from(document.querySelectorAll('#map-metropole .annotation'))"
                                 ".map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
        for i, a in enumerate(boxes):                                   # the names do not overlap
            for b in boxes[i + 1:]:
                assert not (a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1), (a, b)
        # the buttons switch to cantons (and their names)
        browser.evaluate("(() => { const b = document.querySelectorAll('#map-metropole .updatemenu-button')[1];"
                         "b.dispatchEvent(new MouseEvent('click', {bubbles: true})); })()")
        visible = browser.wait_for(f"(() => {{ const d = document.getElementById('map-metropole').data;"
                                   f"return d[{hover_traces[1]}].visible === true && d[{points}].visible === false "
                                   f"&& 'ok'; }})()", timeout=10)
        assert visible == "ok"
        cantons = {r["name"] for r in _stats_json(cli, "--by", "canton")["areas"]["rows"]}
        labels = browser.evaluate("Array.from(document.querySelectorAll('#map-metropole .annotation-text'))"
                                  ".map(e => e.textContent)")
        assert labels and set(labels) <= cantons
        browser.evaluate("document.querySelectorAll('#map-metropole .updatemenu-button')[0]"
                         ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        browser.wait_for(f"document.getElementById('map-metropole').data[{points}].visible === true", timeout=10)

        # what the eye sees: screenshots of the map and the charts
        from PIL import Image

        shot, box = browser.screenshot("#map-metropole", tmp_path / "map.png")
        image = Image.open(shot).convert("RGB")
        assert image.size == (round(box["width"]), round(box["height"])) and image.width > 900
        assert _count(image, [_hex(TERRITORY_GREY)], 6) > 20000           # the communes around, in grey
        assert _count(image, [_hex(c) for c in CLASS_COLOURS], 12) > 300  # the communes with contacts
        assert len(image.getcolors(image.width * image.height)) > 50
        shot, _ = browser.screenshot("#chart-campaigns", tmp_path / "campaigns.png")
        assert _count(Image.open(shot).convert("RGB"), [_hex(DELIVERED_GREEN)], 10) > 2000
        shot, _ = browser.screenshot("#chart-growth", tmp_path / "growth.png")
        assert _count(Image.open(shot).convert("RGB"), [_hex(HEADER_BLUE)], 10) > 2000
    finally:
        browser.close()


@pytest.mark.browser
@needs_chromium
def test_report_screenshot_from_the_command_line(campaign_store, cli, tmp_path):
    """The way a person would check it: chromium --screenshot, with its console on stderr."""
    html = tmp_path / "report.html"
    assert cli("report", "-o", html).exit_code == 0
    shot = tmp_path / "page.png"
    run = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--enable-logging=stderr", "--v=0", "--window-size=1280,2400",
                          "--virtual-time-budget=15000", f"--screenshot={shot}", html.as_uri()],
                         capture_output=True, timeout=180, start_new_session=True)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.decode(errors="replace").splitlines() if ":CONSOLE" in line]
    assert console == []
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    assert _count(image, [_hex(HEADER_BLUE)], 8) > 1280 * 60             # the header band
    assert _count(image, [_hex(c) for c in CLASS_COLOURS], 12) > 500     # the areas with contacts
    assert _count(image, [_hex(TERRITORY_GREY)], 6) > 10000               # the areas around


# -- without a browser ----------------------------------------------------------------------------

def test_report_holds_counts_only(campaign_store, cli, tmp_path):
    html = tmp_path / "report.html"
    assert cli("report", "--out", html, "tag:militant").exit_code == 0
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in text
    assert "<script src=" not in text and "<link" not in text            # everything inlined
    page = text[:text.index("<script>")] + text[text.index("</head>"):]   # all but plotly.js itself
    assert not re.search(r"\b(?:src|href)=[\"']https?://", page)
    personal = campaign_store.execute("SELECT email, mobile, address FROM contacts").fetchall()
    for row in personal:
        for value in row:
            if value:
                assert value not in text
    embedded = json.loads(re.search(r'<script type="application/json" id="dbox-stats">(.*?)</script>', text,
                                    re.S).group(1))
    assert embedded["selection"] == {"expression": "tag:militant", "everyone": False}
    assert oct(html.stat().st_mode & 0o777) == "0o644"


@pytest.mark.slow
def test_png_and_pdf_for_print(campaign_store, cli, tmp_path):
    from PIL import Image

    folder = tmp_path / "charts"
    pdf = tmp_path / "report.pdf"
    result = cli("report", "--png", folder, "--pdf", pdf, "--since", "2026-10-01")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["campaigns.png", "followers.png", "growth.png", "map-972.png", "map-974.png",
                     "map-metropole.png", "reach.png"]
    for name in names:
        image = Image.open(folder / name).convert("RGB")
        assert image.width >= 500 and image.height >= 300
        assert _count(image, [(255, 255, 255)], 0) < image.width * image.height * 0.99   # something is drawn
    image = Image.open(folder / "map-metropole.png").convert("RGB")
    assert image.width >= 700 and image.height >= 700
    assert _count(image, [_hex(c) for c in CLASS_COLOURS], 12) > 300
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", data)) == 1 + len(names)      # the numbers, then each chart
    assert not list(tmp_path.glob(".*.part")) and not list(folder.glob(".*.part"))


@pytest.mark.parametrize("args, message", [
    ([], "Error: say where to write the report: --out report.html (and/or --pdf FILE, --png FOLDER)"),
    (["--out", "missing/report.html"], "Error: missing: no such folder"),
    (["--out", "report.txt"], "Error: report.txt: the report is an HTML page, name it .html"),
    (["--out", "r.html", "--pdf", "r.doc"], "Error: r.doc: --pdf needs a file name ending in .pdf"),
    (["--png", "afile"], "Error: afile is a file: --png needs a folder"),
    (["--out", "r.html", "--by", "region"], "Error: --by 'region': choose departement, canton, commune or circo"),
    (["--out", "r.html", "--since", "demain"], "Error: --since 'demain': give a date"),
    (["--out", "r.html", "tag:nope"], 'Error: unknown tag "nope"'),
])
def test_bad_input_writes_nothing(store, cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("report", *args)
    assert result.exit_code == 3, result.output
    assert result.output.startswith(message), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_missing_plotly_says_which_extra(store, cli, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    monkeypatch.setitem(sys.modules, "plotly.offline", None)
    result = cli("report", "-o", tmp_path / "r.html")
    assert result.exit_code == 1
    assert "Error: the HTML report needs plotly, which is not installed" in result.output
    assert "pip install 'dbox[report]'" in result.output
    assert not (tmp_path / "r.html").exists()


def test_help_does_not_import_plotting_libraries():
    import sys

    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "dbox", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and "stats" in run.stdout and "report" in run.stdout and "browse" in run.stdout
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in ("plotly", "matplotlib", "datasette", "uvicorn")}


# -- the same figures on PostgreSQL ---------------------------------------------------------------

def _embedded(html: Path) -> dict:
    text = html.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="dbox-stats">(.*?)</script>', text,
                                re.S).group(1))
    data.pop("generated_at")
    return data


def test_stats_and_report_give_the_same_figures_on_postgresql(campaign_store, pg_database, cli, tmp_path):
    """The campaign store copied to PostgreSQL (``dbox store copy``): every section of ``dbox stats``
    (weeks and months of growth, areas, campaigns and their opt-outs, followers, actions and
    volunteers) and the report's embedded figures are the ones SQLite gives."""
    from dbox.store import copy as store_copy

    sqlite_path = campaign_store.path
    with open_store(pg_database) as pg:
        store_copy.copy_store(campaign_store, pg)
    cases = ([], ["--by", "canton", "--period", "week"], ["--by", "commune", "--period", "month", "--since", "2026-10-01"],
             ["tag:militant", "--empty", "--by", "circo"], ["--reachable", "sms", "--since", "2026-09-15"])
    for args in cases:
        on_sqlite, on_pg = (_stats_json(cli, *args, db=db) for db in (sqlite_path, pg_database))
        assert on_pg == on_sqlite, args
        assert on_sqlite["campaigns"] and on_sqlite["growth"]["sources"], args    # the sections hold rows
    pages = []
    for name, db in (("sqlite", sqlite_path), ("pg", pg_database)):
        html = tmp_path / f"report-{name}.html"
        result = cli("--db", db, "report", "--out", html, "--period", "week", "tag:militant")
        assert result.exit_code == 0, result.output
        pages.append(_embedded(html))
    assert pages[0] == pages[1]
