"""dbox browse refuses a Host that is not the address it serves (DNS rebinding) and requires the
random token of the URL it prints (issue 12, item 8). A real `dbox browse` process, real HTTP."""

import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_insights_browse import Browse

from dbox.insights.browse import host_allowed

_BARE = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # no cookie jar: a stranger


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict | None = None, opener=_BARE) -> tuple[int, object, str]:
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode("utf-8", "replace")


@pytest.fixture
def browser(store, cli, examples):
    assert cli("import", examples / "contacts.csv").exit_code == 0
    server = Browse(Path(os.environ["DBOX_DB"]))
    yield server
    server.stop()


def test_a_foreign_host_header_is_refused(browser):
    port = browser.url.split(":")[2].split("/")[0]
    auth = {"Authorization": f"token {browser.token}"}
    status, _, body = fetch(browser.url + "/contacts.json", {**auth, "Host": "evil.example"})
    assert status == 403 and "Martin" not in body and "@" not in body
    status, _, body = fetch(browser.url + "/contacts.json", {**auth, "Host": f"evil.example:{port}"})
    assert status == 403 and "\"rows\"" not in body
    status, _, body = fetch(browser.url + "/contacts.json", {**auth, "Host": f"localhost:{port}"})
    assert status == 200 and '"rows"' in body


def test_the_token_is_required(browser):
    status, _, body = fetch(browser.url + "/contacts.json")
    assert status == 403 and "with its token" in body and "\"rows\"" not in body
    status, _, _ = fetch(browser.url + "/contacts.json?token=wrong")
    assert status == 403
    status, _, _ = fetch(browser.url + "/contacts.json", {"Cookie": "dbox_browse_1=x; other=y"})
    assert status == 403
    # the printed URL: a redirect that drops the token from the address and sets an HttpOnly cookie
    status, headers, _ = fetch(browser.printed_url, opener=urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirect()))
    assert status == 302 and "token" not in headers["Location"]
    cookie = headers["Set-Cookie"]
    assert browser.token in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _, body = fetch(browser.url + "/contacts.json", {"Cookie": cookie.split(";")[0]})
    assert status == 200 and '"rows"' in body
    status, _, body = fetch(browser.url + "/contacts.json", {"Authorization": f"token {browser.token}"})
    assert status == 200


@pytest.mark.parametrize("header, served, ok", [
    ("127.0.0.1:8001", "127.0.0.1", True),
    ("localhost:8001", "127.0.0.1", True),
    ("[::1]:8001", "127.0.0.1", True),
    ("127.0.0.1:8002", "127.0.0.1", False),          # another port
    ("127.0.0.1", "127.0.0.1", False),
    ("evil.example:8001", "127.0.0.1", False),       # DNS rebinding
    ("localhost.evil.example:8001", "127.0.0.1", False),
    ("192.168.1.5:8001", "127.0.0.1", False),
    ("192.168.1.5:8001", "0.0.0.0", True),           # --allow-network on every interface: any IP
    ("evil.example:8001", "0.0.0.0", False),
    ("192.168.1.5:8001", "192.168.1.5", True),
    ("10.0.0.1:8001", "192.168.1.5", False),
    ("", "127.0.0.1", False),
])
def test_host_rule(header, served, ok):
    assert host_allowed(header, served, 8001) is ok
