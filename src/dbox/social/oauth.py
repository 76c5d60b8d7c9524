"""The OAuth 2 authorization-code flow with requests-oauthlib: PKCE where the network wants it,
a local redirect on 127.0.0.1 or a pasted address/code on a server, and sessions whose tokens
refresh themselves (and are written back to the keyring when they do).

oauthlib refuses plain http. The only http URLs dbox ever uses are loopback ones (the redirect
catcher, and test servers): :func:`loopback_http` allows exactly those, for the call at hand.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from requests_oauthlib import OAuth2Session

from dbox.errors import InputError, NotConfiguredError, ProviderError
from dbox.social.networks import NetworkConfig
from dbox.i18n import _

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
REFRESH_MARGIN = 60           # refresh a token that expires within this many seconds
TIMEOUT = 30                  # seconds, for every HTTP call to a network


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


@contextlib.contextmanager
def loopback_http(url: str):
    """Let oauthlib use ``http://`` for a loopback ``url``, and only for it."""
    if not (url.startswith("http://") and is_loopback(url)):
        yield
        return
    previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous


class Session(OAuth2Session):
    """An OAuth2Session that times out, and may speak http to loopback addresses only."""

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        with loopback_http(url):
            return super().request(method, url, *args, **kwargs)


# -- authorization ------------------------------------------------------------------------------------

@dataclass
class Authorization:
    url: str
    state: str
    session: Session
    config: NetworkConfig


def begin(config: NetworkConfig) -> Authorization:
    """The address to open in a browser, and what :func:`finish` needs to check the answer."""
    if not config.client_id:
        raise NotConfiguredError(_("no {name} client id").format(name=config.name),
                                 hint=_("dbox connect {name} --client-id ID (create an app first)").format(
                                          name=config.name))
    session = Session(config.client_id, redirect_uri=config.redirect_uri, scope=config.scopes,
                      pkce="S256" if config.pkce else None)
    with loopback_http(config.authorize_url):
        url, state = session.authorization_url(config.authorize_url)
    return Authorization(url, state, session, config)


def code_from(auth: Authorization, pasted: str) -> str:
    """The authorization code in what the user pasted: the whole redirect address (checked
    against the state dbox sent) or the bare code some servers display."""
    pasted = pasted.strip()
    if not pasted:
        raise InputError(_("nothing pasted: expected the address the browser was sent to, or the code"))
    if "://" not in pasted and "?" not in pasted:
        return pasted
    query = parse_qs(urlsplit(pasted).query)
    if "error" in query:
        reason = query.get("error_description", query["error"])[0]
        raise ProviderError(_("{name} refused the authorization: {reason}").format(
                                name=auth.config.name, reason=reason))
    if query.get("state", [None])[0] != auth.state:
        raise InputError(_("the pasted address belongs to another authorization (its state differs)"),
                         hint=_("run dbox connect {name} again and paste the newest address").format(
                                  name=auth.config.name))
    if "code" not in query:
        raise InputError(_("the pasted address has no code= parameter"))
    return query["code"][0]


def finish(auth: Authorization, pasted: str) -> dict:
    """Exchange the code for tokens at the network's token endpoint."""
    config = auth.config
    code = code_from(auth, pasted)
    kwargs = {"code": code, "include_client_id": True}
    if config.client_secret:
        kwargs["client_secret"] = config.client_secret
    if config.name == "facebook":
        kwargs["method"] = "GET"
    try:
        with loopback_http(config.token_url):
            token = auth.session.fetch_token(config.token_url, timeout=TIMEOUT, **kwargs)
    except Exception as exc:  # oauthlib raises its own error family, requests its own
        raise _token_error(config.name, "exchange the authorization code", exc) from None
    return dict(token)


def _token_error(network: str, what: str, exc: Exception) -> ProviderError:
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    if isinstance(exc, OAuth2Error):
        detail = exc.description or exc.error
    else:
        detail = f"{exc.__class__.__name__}: {exc}"
    return ProviderError(_("{network}: could not {what}: {detail}").format(
                             network=network, what=what, detail=detail), hint=_("dbox connect {network}").format(
                                                                            network=network))


class RedirectCatcher:
    """A one-request HTTP server on the redirect address (127.0.0.1), started before the browser
    is opened; :meth:`wait` returns the full address the browser was sent to."""

    def __init__(self, redirect_uri: str):
        parts = urlsplit(redirect_uri)
        if parts.hostname not in LOOPBACK_HOSTS or not parts.port:
            raise InputError(_("redirect address {redirect_uri} is not http://127.0.0.1:PORT/...").format(
                                 redirect_uri=redirect_uri),
                             hint=_("use --paste on a machine without a browser"))
        self.path = parts.path or "/"
        self.received: str | None = None
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                if urlsplit(self.path).path != catcher.path:
                    self.send_error(404)
                    return
                catcher.received = f"http://{parts.netloc}{self.path}"
                body = "dbox: authorization received, you can close this window.".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        try:
            self.server = HTTPServer((parts.hostname, parts.port), Handler)
        except OSError as exc:
            raise InputError(_("cannot listen on {netloc} for the redirect: {strerror}").format(
                                 netloc=parts.netloc, strerror=exc.strerror),
                             hint=_("another dbox connect running? or use --paste")) from None
        self.server.timeout = 0.5

    def wait(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        try:
            while self.received is None and time.monotonic() < deadline:
                self.server.handle_request()
        finally:
            self.server.server_close()
        if self.received is None:
            raise InputError(_("no answer from the browser within {timeout} s").format(timeout=int(timeout)),
                             hint=_("run the command again, or use --paste"))
        return self.received

    def close(self) -> None:
        self.server.server_close()


def register_mastodon_app(config: NetworkConfig, website: str = "https://github.com/dbox") -> tuple[str, str]:
    """Mastodon servers register apps on demand: POST /api/v1/apps -> (client_id, client_secret)."""
    session = Session()
    url = f"{config.api_url}/api/v1/apps"
    try:
        response = session.post(url, data={
            "client_name": "dbox", "redirect_uris": config.redirect_uri, "scopes": " ".join(config.scopes),
            "website": website})
    except Exception as exc:
        raise ProviderError(_("mastodon: cannot reach {api_url}: {name__}").format(
                                api_url=config.api_url, name__=exc.__class__.__name__)) from None
    if response.status_code >= 400:
        raise ProviderError(_("mastodon: {api_url} refused to register dbox ({status_code})").format(
                                api_url=config.api_url, status_code=response.status_code))
    data = response.json()
    return data["client_id"], data["client_secret"]


# -- sessions for API calls ----------------------------------------------------------------------------

class TokenKeeper:
    """An API session for one connected account: its token from the keyring, refreshed before it
    expires and saved back (keyring + the store's expiry date) when it is."""

    def __init__(self, config: NetworkConfig, token: dict, on_refresh=None, clock=time.time):
        self.config = config
        self.token = token
        self.on_refresh = on_refresh
        self.clock = clock
        self.session = Session(config.client_id, token={k: v for k, v in token.items() if k != "from_env"})
        self.lock = threading.Lock()

    def fresh(self) -> Session:
        expires_at = self.token.get("expires_at")
        if expires_at and float(expires_at) - REFRESH_MARGIN < self.clock():
            self.refresh()
        return self.session

    def refresh(self) -> None:
        with self.lock:
            if not self.token.get("refresh_token"):
                raise NotConfiguredError(_("the {name} connection has expired and cannot renew itself").format(
                                             name=self.config.name),
                                         hint=_("dbox connect {name}").format(name=self.config.name))
            if self.token.get("from_env"):
                raise NotConfiguredError(
                    _("the {name} token from DBOX_{name2}_TOKEN has expired; a refreshed token cannot be written back to an environment variable").format(
                        name=self.config.name, name2=self.config.name.upper()),
                    hint=_("use a keyring (dbox connect {name}), or put a fresh token in the variable").format(
                             name=self.config.name))
            import requests

            kwargs = {"client_id": self.config.client_id}
            auth = None
            if self.config.client_secret:
                auth = requests.auth.HTTPBasicAuth(self.config.client_id, self.config.client_secret)
            try:
                with loopback_http(self.config.token_url):
                    token = self.session.refresh_token(self.config.token_url, auth=auth, timeout=TIMEOUT,
                                                       refresh_token=self.token["refresh_token"], **kwargs)
            except Exception as exc:
                raise _token_error(self.config.name, "renew the connection", exc) from None
            token = dict(token)
            token.setdefault("refresh_token", self.token["refresh_token"])
            self.token = token
            self.session.token = token
            if self.on_refresh:
                self.on_refresh(token)
