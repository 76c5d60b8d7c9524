"""The public pages of dbox serve in real headless Chromium, on a phone-sized viewport: no console
error, no request anywhere but the server, a sign-up form and a volunteer's door filled in and sent
by clicking, and screenshots checked (the page fits the phone's width, the button is drawn in its
colour)."""

import re
import time

import pytest
from PIL import Image
from serve_support import live_server  # noqa: F401  (a fixture)
from test_insights_report import CHROMIUM, Chromium
from test_serve_forms import WORDING_SMS, _volunteers, make_form

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("serve-browser"),
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
BUTTON_BLUE = (0x1D, 0x35, 0x57)


def _open(browser: Chromium, url: str) -> None:
    browser.page("Page.navigate", {"url": url})
    browser.wait_for(f"location.href.startsWith({url!r}) && document.readyState === 'complete'")


def _clean(browser: Chromium, server_url: str) -> None:
    """No error of any kind, and nothing requested from anywhere but the server."""
    assert browser.named("Runtime.exceptionThrown") == []
    assert [(e["type"], e["args"]) for e in browser.named("Runtime.consoleAPICalled")
            if e["type"] in ("error", "warning", "assert")] == []
    assert [e["entry"] for e in browser.named("Log.entryAdded") if e["entry"]["level"] in ("error", "warning")] == []
    urls = [e["request"]["url"] for e in browser.named("Network.requestWillBeSent")]
    assert urls and all(u.startswith(server_url) or u.startswith("data:") for u in urls), urls
    assert browser.named("Network.loadingFailed") == []


def _fits_the_phone(browser: Chromium) -> None:
    width = browser.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def _has_colour(path, colour, at_least: int = 200) -> int:
    image = Image.open(path).convert("RGB")
    hits = sum(n for n, pixel in image.getcolors(1 << 24) if all(abs(a - b) <= 6 for a, b in zip(pixel, colour)))
    assert hits >= at_least, f"{path}: {hits} pixels of {colour}"
    return hits


def test_sign_up_on_a_phone(store, cli, live_server, tmp_path):
    make_form(cli, consent="sms")
    server = live_server()
    browser = Chromium(tmp_path / "profile")
    try:
        browser.page("Emulation.setDeviceMetricsOverride", PHONE)
        _open(browser, f"{server.url}/f/benevoles")
        _fits_the_phone(browser)
        # every visible field has a label tied to it, and the honeypot is out of sight
        unlabeled = browser.evaluate("Array.from(document.querySelectorAll('input:not([type=hidden])'))"
                                     ".filter(i => !document.querySelector(`label[for='${i.id}']`)).length")
        assert unlabeled == 0
        hidden = browser.evaluate("(() => { const r = document.getElementById('hp-website').getBoundingClientRect();"
                                  " return r.right <= 0 || r.width <= 1; })()")
        assert hidden
        shot, box = browser.screenshot("main", tmp_path / "signup-form.png")
        assert Image.open(shot).size[0] <= PHONE["width"] * PHONE["deviceScaleFactor"]
        _has_colour(shot, BUTTON_BLUE)
        # a person fills it in with the keyboard's values and taps the button
        browser.evaluate("""(() => {
            const set = (id, v) => { const e = document.getElementById(id); e.focus(); e.value = v;
                e.dispatchEvent(new Event('input', {bubbles: true})); };
            set('f-first_name', 'Inès'); set('f-last_name', 'Durand'); set('f-email', 'ines@exemple.fr');
            set('f-mobile', '06 22 33 44 55'); set('f-postal_code', '38000');
            document.getElementById('c-sms').click();
            document.querySelector('button[type=submit]').click(); })()""")
        browser.wait_for("location.search === '?sent=1' && document.readyState === 'complete'")
        assert "Thank you!" in browser.evaluate("document.body.innerText")
        browser.screenshot("main", tmp_path / "signup-thanks.png")
        _clean(browser, server.url)
    finally:
        browser.close()
    row = store.execute("SELECT c.id, c.first_name, c.mobile FROM contacts c").fetchall()
    assert [tuple(r[1:]) for r in row] == [("Inès", "+33622334455")]
    consent = store.execute("SELECT e.source, w.wording FROM consent_events e JOIN consent_wordings w "
                            "ON w.event_id = e.id WHERE e.contact_id = ? AND e.channel = 'sms'", (row[0][0],)).fetchone()
    assert tuple(consent) == ("form", WORDING_SMS)


def test_a_volunteer_records_a_door_on_a_phone(store, cli, live_server, tmp_path, monkeypatch):
    server = live_server()
    action, links = _volunteers(cli, tmp_path, monkeypatch, server)
    link = links["alice@exemple.fr"]
    browser = Chromium(tmp_path / "profile")
    try:
        browser.page("Emulation.setDeviceMetricsOverride", PHONE)
        _open(browser, link)
        _fits_the_phone(browser)
        doors = browser.evaluate("Array.from(document.querySelectorAll('ol.stops > li summary')).map(s => s.innerText)")
        assert len(doors) == 2 and "3 rue des Alpes" in doors[0] and "5 rue des Alpes" in doors[1]
        # open the first door, answer the form, tap "Record"
        browser.evaluate("""(() => {
            const door = document.querySelector('ol.stops > li');
            door.querySelector('summary').click();
            door.querySelector('input[name=outcome][value=answered]').click();
            door.querySelector('input[name=support][value="5"]').click();
            door.querySelector('textarea[name=note]').value = 'Prête à tracter';
            return true; })()""")
        time.sleep(0.2)
        shot, _ = browser.screenshot("ol.stops > li", tmp_path / "volunteer-door.png")
        _has_colour(shot, BUTTON_BLUE)
        browser.evaluate("document.querySelector('ol.stops > li button[type=submit]').click()")
        browser.wait_for("location.search.startsWith('?saved=') && document.readyState === 'complete'")
        text = browser.evaluate("document.querySelector('ol.stops > li summary').innerText")
        assert re.search(r"Recorded: door opened · 5/5", text), text
        browser.screenshot("main", tmp_path / "volunteer-list.png")
        _clean(browser, server.url)
    finally:
        browser.close()
    claire = store.execute("SELECT id FROM contacts WHERE first_name = 'Claire'").fetchone()[0]
    assert store.execute("SELECT outcome, support, note FROM interactions WHERE contact_id = ? AND action_id = ?",
                         (claire, action)).fetchone() == ("answered", 5, "Prête à tracter")
