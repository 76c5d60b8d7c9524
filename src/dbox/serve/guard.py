"""What protects the public forms of ``dbox serve`` (sign-ups, event answers, volunteers' doors):

- **CSRF**: every form carries a token signed with a key that lives in the server's memory only
  (HMAC-SHA256 over the form's path, the time it was drawn and a random nonce). A POST without a
  valid token under two hours old, or whose ``Origin`` is another site, is refused (403) and writes
  nothing; each token is taken once. No cookie is needed, so a form embedded in the campaign's
  website (an iframe, where browsers drop third-party cookies) works. A restart makes open pages
  ask to send again.
- **Honeypot**: a field people never see (``website``); a submission that fills it is answered as
  if it had worked and records nothing.
- **Rate limit**: submissions per client and per minute window, counted in memory under a salted
  hash of the client's address; the salt is random per process and never written, and neither is
  the address (nor its hash): nothing stored, nothing logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from dbox.serve.app import context

CSRF_FIELD = "csrf_token"
HONEYPOT_FIELD = "website"
TOKEN_AGE = 2 * 3600          # seconds a drawn form may wait before it is sent
RATE_LIMIT = 5                # submissions per client ...
RATE_WINDOW = 600             # ... in this many seconds


class Guard:
    """One per server (kept in ``ServeContext.extra``)."""

    def __init__(self, rate_limit: int = RATE_LIMIT, rate_window: float = RATE_WINDOW):
        self._key = secrets.token_bytes(32)
        self._salt = secrets.token_bytes(16)
        self._used: dict[str, float] = {}
        self._hits: dict[bytes, deque] = {}
        self._lock = threading.Lock()
        self.rate_limit = rate_limit
        self.rate_window = rate_window

    # -- CSRF -------------------------------------------------------------------------------------
    def token(self, scope: str) -> str:
        issued = str(int(time.time()))
        nonce = secrets.token_urlsafe(12)
        return f"{issued}.{nonce}.{self._sign(scope, issued, nonce)}"

    def _sign(self, scope: str, issued: str, nonce: str) -> str:
        return hmac.new(self._key, f"{scope}|{issued}|{nonce}".encode(), hashlib.sha256).hexdigest()[:32]

    def check_token(self, scope: str, token: str | None) -> bool:
        """Whether ``token`` was drawn by this server for ``scope``, is fresh and not used yet; a
        good token is used up."""
        try:
            issued, nonce, signature = (token or "").split(".")
            age = time.time() - int(issued)
        except ValueError:
            return False
        if not 0 <= age <= TOKEN_AGE or not hmac.compare_digest(signature, self._sign(scope, issued, nonce)):
            return False
        with self._lock:
            now = time.time()
            for old in [k for k, at in self._used.items() if now - at > TOKEN_AGE]:
                del self._used[old]
            if nonce in self._used:
                return False
            self._used[nonce] = now
        return True

    # -- rate limit -------------------------------------------------------------------------------
    def allow(self, client: str, scope: str, limit: int | None = None) -> bool:
        """Count one submission of ``client`` on ``scope``; False once over the limit (``limit``
        submissions in the window; the guard's own by default)."""
        key = hashlib.sha256(self._salt + f"{scope}|{client}".encode()).digest()
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.rate_window:
                hits.popleft()
            if len(hits) >= (limit or self.rate_limit):
                return False
            hits.append(now)
            if len(self._hits) > 100_000:      # a flood of distinct clients: forget the quiet ones
                for k in [k for k, h in self._hits.items() if not h or now - h[-1] > self.rate_window]:
                    del self._hits[k]
        return True


def guard_of(request) -> Guard:
    extra = context(request).extra
    if "guard" not in extra:
        extra.setdefault("guard", Guard())
    return extra["guard"]


def client_of(request) -> str:
    """The client's address, only to count its submissions: behind the reverse proxy (a loopback
    peer) the last address the proxy added to X-Forwarded-For, else the peer's."""
    peer = request.client.host if request.client else ""
    if peer in ("127.0.0.1", "::1"):
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return peer


def same_origin(request) -> bool:
    """False when the browser says the POST comes from another site (``Origin``); a missing
    ``Origin`` (an old browser, a privacy extension) is left to the token."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    base = context(request).public_url
    if base:
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        own.add(f"{parts.scheme}://{parts.netloc}")
    return origin in own
