"""Local HTTP servers on 127.0.0.1 speaking the social-network endpoints dbox uses.

One :class:`SocialServer` per network (``x``, ``mastodon``, ``linkedin``, ``facebook``):
OAuth authorization (approved at once, or denied), token exchange with PKCE checked, refresh
(with rotation, as X does), who-am-I, followers pages (X ``next_token``, Mastodon ``Link``
headers), image upload, post creation (Mastodon honours ``Idempotency-Key``), and rate-limit
answers (429 with ``x-rate-limit-reset`` / ``X-RateLimit-Reset`` / ``Retry-After``, or a last
request with ``remaining: 0``). For tests and rehearsals; it never talks to a real network::

    with SocialServer("x") as server:
        update_section("social.x", server.settings())
        ...
        assert server.posts[0]["text"] == "..."
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

POLL_INTERVAL = 0.01   # seconds between two looks for a shutdown request (see __post_init__)


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    held: bool = False          # a post was made by it (hold_next_post may hold its answer)


@dataclass
class RateRule:
    """Answer 429 to the next ``count`` matching requests, or mark the ``after``-th one as the last
    allowed (``remaining: 0``); either way the window resets ``reset_in`` seconds later."""

    path: str
    count: int = 0
    after: int | None = None
    reset_in: float = 30.0
    style: str = "reset"          # reset (the network's header) | retry-after
    seen: int = 0


@dataclass
class SocialServer:
    network: str
    account_id: str = "4242"
    username: str = "candidate38"
    display_name: str = "Candidate 38"
    token_lifetime: int | None = 7200
    rotate_refresh: bool = True
    page_size: int = 2
    followers: list[dict] = field(default_factory=list)   # newest first: id, username, name
    followers_count: int | None = None
    deny: bool = False
    publish_status: int | None = None       # answer post creation with this error status
    pages: list[dict] = field(default_factory=list)        # Facebook Pages the user manages
    max_characters: int = 500

    def __post_init__(self):
        self.clients: dict[str, str | None] = {"dbox-client": "dbox-secret"}
        self.codes: dict[str, dict] = {}
        self.access: dict[str, float | None] = {}
        self.refresh: set[str] = set()
        self.posts: list[dict] = []
        self.media: dict[str, dict] = {}
        self.idempotency: dict[str, dict] = {}
        self.requests: list[Request] = []
        self.rate_rules: list[RateRule] = []
        self.held_posts: list[tuple[threading.Event, float]] = []
        self.lock = threading.Lock()
        if self.network == "facebook" and not self.pages:
            self.pages = [{"id": "5550001", "name": "Liste Grenoble en commun", "access_token": "page-token-1"}]
        for page in self.pages:
            self.access[page["access_token"]] = None          # Page tokens do not expire
        if self.network == "mastodon":
            self.token_lifetime = None                         # nor do Mastodon's
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # serve_forever looks for a shutdown request between two polls: at the default 0.5 s, every
        # stop (every test) waited up to half a second; 10 ms costs nothing while idle.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                                       daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> "SocialServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def hold_next_post(self, seconds: float = 60.0) -> threading.Event:
        """The next post is made, then answered only once the returned event is set (or after
        ``seconds``): a publisher killed meanwhile never learns that it was published."""
        release = threading.Event()
        with self.lock:
            self.held_posts.append((release, seconds))
        return release

    def settings(self) -> dict:
        """The ``[social.<network>]`` config.toml values that point dbox here."""
        paths = {
            "x": ("/i/oauth2/authorize", "/2/oauth2/token", ""),
            "linkedin": ("/oauth/v2/authorization", "/oauth/v2/accessToken", ""),
            "facebook": ("/dialog/oauth", "/oauth/access_token", ""),
        }
        if self.network == "mastodon":
            return {"instance": self.url}
        authorize, token, api = paths[self.network]
        return {"authorize_url": self.url + authorize, "token_url": self.url + token, "api_url": self.url + api,
                "client_id": "dbox-client"}

    def issue_token(self, lifetime: int | None = None, refresh: bool = True, scope: str = "") -> dict:
        """A token as the server would issue it (tests use it to seed the keyring)."""
        lifetime = self.token_lifetime if lifetime is None else lifetime
        access = "at-" + secrets.token_hex(8)
        token = {"access_token": access, "token_type": "bearer", "scope": scope}
        expires = None
        if lifetime is not None:
            expires = time.time() + lifetime
            token["expires_in"] = lifetime
            token["expires_at"] = expires
        self.access[access] = expires
        if refresh and self.network in ("x", "linkedin"):
            token["refresh_token"] = "rt-" + secrets.token_hex(8)
            self.refresh.add(token["refresh_token"])
        return token

    def rate_limit(self, path: str, count: int = 1, reset_in: float = 30.0, style: str = "reset",
                   after: int | None = None) -> None:
        self.rate_rules.append(RateRule(path, count, after, reset_in, style))

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    # -- HTTP ---------------------------------------------------------------------------------------
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _go(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                with server.lock:
                    server.requests.append(request)
                    status, headers, payload = server._route(request)
                    hold = server.held_posts.pop(0) if server.held_posts and request.held else None
                if hold is not None:            # the post exists; its answer waits (outside the lock)
                    hold[0].wait(hold[1])
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                if not isinstance(payload, bytes):
                    self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _go

            def log_message(self, *args):
                pass

        return Handler

    def _route(self, r: Request):
        routes = _ROUTES[self.network]
        for method, pattern, name in routes:
            match = re.fullmatch(pattern, r.path)
            if match and method == r.method:
                limited = self._rate(r)
                if limited:
                    return limited
                handler = getattr(self, name)
                result = handler(r, *match.groups())
                return self._with_rate_headers(r, result)
        return 404, {}, {"error": f"no route {r.method} {r.path}"}

    def _rate(self, r: Request):
        for rule in self.rate_rules:
            if re.fullmatch(rule.path, r.path) and rule.count > 0:
                rule.count -= 1
                return 429, self._reset_headers(rule, 0), {"title": "Too Many Requests", "detail": "Too Many Requests"}
        return None

    def _with_rate_headers(self, r: Request, result):
        status, headers, payload = result
        for rule in self.rate_rules:
            if rule.after is not None and re.fullmatch(rule.path, r.path):
                rule.seen += 1
                if rule.seen == rule.after:
                    headers = {**headers, **self._reset_headers(rule, 0)}
        return status, headers, payload

    def _reset_headers(self, rule: RateRule, remaining: int) -> dict:
        reset = time.time() + rule.reset_in
        if rule.style == "retry-after":
            return {"Retry-After": str(int(rule.reset_in))}
        if self.network == "mastodon":
            when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reset)) + ".000Z"
            return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": when}
        return {"x-rate-limit-limit": "15", "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(int(reset + 0.999))}

    # -- OAuth ---------------------------------------------------------------------------------------
    def authorize(self, r: Request):
        q = {k: v[0] for k, v in r.query.items()}
        if q.get("client_id") not in self.clients or q.get("response_type") != "code":
            return 400, {}, {"error": "invalid_request"}
        redirect = q.get("redirect_uri", "")
        if self.deny:
            return 302, {"Location": f"{redirect}?{urlencode({'error': 'access_denied', 'state': q.get('state', '')})}"}, b""
        code = "code-" + secrets.token_hex(6)
        self.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect,
                            "challenge": q.get("code_challenge"), "method": q.get("code_challenge_method"),
                            "scope": q.get("scope", "")}
        location = f"{redirect}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        return 302, {"Location": location}, b""

    def _client_auth(self, r: Request, form: dict) -> str | None:
        auth = r.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        if client_id not in self.clients:
            return None
        expected = self.clients[client_id]
        # public clients (X native apps, PKCE) send no secret; confidential ones must send the right one
        if secret is not None and expected is not None and secret != expected:
            return None
        if secret is None and self.network in ("linkedin", "facebook"):
            return None
        return client_id

    def token(self, r: Request):
        form = {k: v[0] for k, v in parse_qs(r.body.decode() or "").items()}
        form.update({k: v[0] for k, v in r.query.items()})
        if form.get("grant_type") == "fb_exchange_token":
            if form.get("fb_exchange_token") not in self.access:
                return 400, {}, {"error": {"message": "Invalid OAuth access token"}}
            token = self.issue_token(lifetime=5184000, refresh=False)
            return 200, {}, {k: token[k] for k in ("access_token", "token_type", "expires_in")}
        client_id = self._client_auth(r, form)
        if client_id is None:
            return 401, {}, {"error": "invalid_client", "error_description": "client authentication failed"}
        grant = form.get("grant_type") or ("authorization_code" if "code" in form else None)
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code["client_id"] != client_id:
                return 400, {}, {"error": "invalid_grant", "error_description": "unknown or used code"}
            if form.get("redirect_uri") != code["redirect_uri"]:
                return 400, {}, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
            if code["challenge"]:
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if digest != code["challenge"]:
                    return 400, {}, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
            token = self.issue_token(scope=code["scope"])
        elif grant == "refresh_token":
            old = form.get("refresh_token")
            if old not in self.refresh:
                return 400, {}, {"error": "invalid_grant", "error_description": "refresh token revoked"}
            if self.rotate_refresh:
                self.refresh.discard(old)
            token = self.issue_token()
            if not self.rotate_refresh:
                self.refresh.discard(token.pop("refresh_token"))
        else:
            return 400, {}, {"error": "unsupported_grant_type"}
        token.pop("expires_at", None)
        return 200, {}, token

    def register_app(self, r: Request):
        form = {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
        client_id, secret = "app-" + secrets.token_hex(4), secrets.token_hex(8)
        self.clients[client_id] = secret
        return 200, {}, {"id": "1", "name": form.get("client_name"), "client_id": client_id,
                         "client_secret": secret, "redirect_uri": form.get("redirect_uris")}

    def _bearer(self, r: Request):
        auth = r.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else (r.query.get("access_token") or [""])[0]
        if token not in self.access:
            return 401, {}, {"title": "Unauthorized", "detail": "Unauthorized", "error": "invalid token"}
        expires = self.access[token]
        if expires is not None and expires < time.time():
            return 401, {}, {"title": "Unauthorized", "detail": "token expired", "error": "expired token"}
        return None

    # -- API: who am I ---------------------------------------------------------------------------------
    def me(self, r: Request):
        if (denied := self._bearer(r)):
            return denied
        count = self.followers_count if self.followers_count is not None else len(self.followers)
        if self.network == "x":
            return 200, {}, {"data": {"id": self.account_id, "username": self.username, "name": self.display_name,
                                      "public_metrics": {"followers_count": count}}}
        if self.network == "mastodon":
            return 200, {}, {"id": self.account_id, "username": self.username, "acct": self.username,
                             "display_name": self.display_name, "url": f"{self.url}/@{self.username}",
                             "followers_count": count}
        return 200, {}, {"sub": self.account_id, "name": self.display_name}

    def instance(self, r: Request):
        return 200, {}, {"domain": "127.0.0.1", "configuration": {"statuses": {
            "max_characters": self.max_characters, "characters_reserved_per_url": 23}}}

    # -- API: followers --------------------------------------------------------------------------------
    def x_followers(self, r: Request, account_id: str):
        if (denied := self._bearer(r)):
            return denied
        start = int((r.query.get("pagination_token") or ["0"])[0].removeprefix("p") or 0)
        size = min(int((r.query.get("max_results") or ["100"])[0]), self.page_size)
        chunk = self.followers[start:start + size]
        meta = {"result_count": len(chunk)}
        if start + size < len(self.followers):
            meta["next_token"] = f"p{start + size}"
        return 200, {}, {"data": [{"id": f["id"], "username": f["username"], "name": f.get("name", "")}
                                  for f in chunk], "meta": meta} if chunk else {"meta": meta}

    def mastodon_followers(self, r: Request, account_id: str):
        if (denied := self._bearer(r)):
            return denied
        start = int((r.query.get("max_id") or ["0"])[0])
        chunk = self.followers[start:start + self.page_size]
        headers = {}
        if start + self.page_size < len(self.followers):
            headers["Link"] = (f'<{self.url}/api/v1/accounts/{account_id}/followers?max_id={start + self.page_size}>; '
                               f'rel="next", <{self.url}/api/v1/accounts/{account_id}/followers?min_id=0>; rel="prev"')
        return 200, headers, [{"id": f["id"], "username": f["username"].split("@")[0], "acct": f["username"],
                               "display_name": f.get("name", ""),
                               "url": f.get("url") or f"https://{f['username'].split('@')[-1]}/@{f['username'].split('@')[0]}"}
                              for f in chunk]

    def fb_page(self, r: Request, page_id: str):
        if (denied := self._bearer(r)):
            return denied
        if r.path == "/me/accounts":
            return 200, {}, {"data": self.pages}
        page = next((p for p in self.pages if p["id"] == page_id), None)
        if page is None:
            return 404, {}, {"error": {"message": f"Unsupported get request. Object with ID '{page_id}' does not exist"}}
        count = self.followers_count if self.followers_count is not None else 0
        return 200, {}, {"id": page["id"], "name": page["name"], "followers_count": count,
                         "link": f"https://www.facebook.com/{page['id']}"}

    # -- API: media and posts --------------------------------------------------------------------------
    def _multipart(self, r: Request) -> dict:
        raw = b"Content-Type: " + r.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + r.body
        message = BytesParser(policy=HTTP).parsebytes(raw)
        parts = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            parts[name] = {"filename": part.get_filename(), "content": part.get_payload(decode=True),
                           "type": part.get_content_type()}
        return parts

    def upload(self, r: Request, *ignored):
        if (denied := self._bearer(r)):
            return denied
        if self.network == "linkedin":
            owner = json.loads(r.body)["initializeUploadRequest"]["owner"]
            image = "urn:li:image:" + secrets.token_hex(5)
            self.media[image] = {"owner": owner, "content": None}
            return 200, {}, {"value": {"uploadUrl": f"{self.url}/upload/{image}", "image": image,
                                       "uploadUrlExpiresAt": int(time.time() * 1000) + 3600000}}
        parts = self._multipart(r)
        media = parts.get("media") or parts.get("file")
        media_id = str(1000 + len(self.media))
        self.media[media_id] = {"content": media["content"], "type": media["type"], "filename": media["filename"]}
        if self.network == "x":
            return 200, {}, {"data": {"id": media_id, "media_key": "3_" + media_id, "expires_after_secs": 86400}}
        return 200, {}, {"id": media_id, "type": "image", "url": f"{self.url}/media/{media_id}"}

    def linkedin_put(self, r: Request, image: str):
        if (denied := self._bearer(r)):
            return denied
        if image not in self.media:
            return 404, {}, {"message": "unknown upload"}
        self.media[image]["content"] = r.body
        return 201, {}, b""

    def create_post(self, r: Request, *groups):
        made = len(self.posts)
        answer = self._create_post(r, *groups)
        r.held = len(self.posts) > made
        return answer

    def _create_post(self, r: Request, *groups):
        if (denied := self._bearer(r)):
            return denied
        if self.publish_status:
            return self.publish_status, {}, {"title": "Service Unavailable", "detail": "try later",
                                             "message": "try later", "error": {"message": "try later"}}
        if self.network == "x":
            body = json.loads(r.body)
            post = {"id": str(1800000000000000000 + len(self.posts)), "text": body["text"],
                    "media_ids": (body.get("media") or {}).get("media_ids", [])}
            self.posts.append(post)
            return 201, {}, {"data": {"id": post["id"], "text": post["text"]}}
        if self.network == "mastodon":
            key = r.headers.get("Idempotency-Key")
            if key and key in self.idempotency:
                return 200, {}, self.idempotency[key]
            body = json.loads(r.body)
            post = {"id": str(110000000000 + len(self.posts)), "text": body["status"],
                    "media_ids": body.get("media_ids", []), "url": f"{self.url}/@{self.username}/{len(self.posts)}"}
            self.posts.append(post)
            answer = {"id": post["id"], "content": post["text"], "url": post["url"]}
            if key:
                self.idempotency[key] = answer
            return 200, {}, answer
        if self.network == "linkedin":
            body = json.loads(r.body)
            if r.headers.get("X-Restli-Protocol-Version") != "2.0.0" or not r.headers.get("LinkedIn-Version"):
                return 400, {}, {"message": "missing LinkedIn-Version / X-Restli-Protocol-Version headers"}
            urn = f"urn:li:share:{7000000000000000000 + len(self.posts)}"
            self.posts.append({"id": urn, "text": body["commentary"], "author": body["author"],
                               "media": ((body.get("content") or {}).get("media") or {}).get("id")})
            return 201, {"x-restli-id": urn}, b""
        # facebook: /{page}/feed (form) or /{page}/photos (multipart)
        page_id, kind = groups
        if r.headers.get("Authorization") != "Bearer " + next((p["access_token"] for p in self.pages
                                                               if p["id"] == page_id), ""):
            return 403, {}, {"error": {"message": "(#200) requires a Page access token"}}
        post_id = f"{page_id}_{900 + len(self.posts)}"
        if kind == "photos":
            parts = self._multipart(r)
            self.posts.append({"id": post_id, "text": parts["caption"]["content"].decode(),
                               "photo": parts["source"]["content"]})
            return 200, {}, {"id": str(700 + len(self.posts)), "post_id": post_id}
        form = {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
        self.posts.append({"id": post_id, "text": form["message"]})
        return 200, {}, {"id": post_id}


_ROUTES = {
    "x": [
        ("GET", r"/i/oauth2/authorize", "authorize"),
        ("POST", r"/2/oauth2/token", "token"),
        ("GET", r"/2/users/me", "me"),
        ("GET", r"/2/users/(\w+)/followers", "x_followers"),
        ("POST", r"/2/media/upload", "upload"),
        ("POST", r"/2/tweets", "create_post"),
    ],
    "mastodon": [
        ("POST", r"/api/v1/apps", "register_app"),
        ("GET", r"/oauth/authorize", "authorize"),
        ("POST", r"/oauth/token", "token"),
        ("GET", r"/api/v1/accounts/verify_credentials", "me"),
        ("GET", r"/api/v2/instance", "instance"),
        ("GET", r"/api/v1/accounts/(\w+)/followers", "mastodon_followers"),
        ("POST", r"/api/v2/media", "upload"),
        ("POST", r"/api/v1/statuses", "create_post"),
    ],
    "linkedin": [
        ("GET", r"/oauth/v2/authorization", "authorize"),
        ("POST", r"/oauth/v2/accessToken", "token"),
        ("GET", r"/v2/userinfo", "me"),
        ("POST", r"/rest/images", "upload"),
        ("PUT", r"/upload/(urn:li:image:\w+)", "linkedin_put"),
        ("POST", r"/rest/posts", "create_post"),
    ],
    "facebook": [
        ("GET", r"/dialog/oauth", "authorize"),
        ("GET", r"/oauth/access_token", "token"),
        ("POST", r"/oauth/access_token", "token"),
        ("GET", r"/me/accounts()", "fb_page"),
        ("GET", r"/(\d+)", "fb_page"),
        ("POST", r"/(\d+)/(feed|photos)", "create_post"),
    ],
}
