"""Profile URLs reduced to a comparable key, so that a follower links to a contact whose custom
field holds the same profile written another way.

``https://www.LinkedIn.com/in/Jean-Dupont/?trk=x`` and ``fr.linkedin.com/in/jean-dupont`` give
the same key ``linkedin.com/in/jean-dupont``. Scheme, ``www.``/``m.``/country subdomains, query
strings, fragments and trailing slashes go; case is folded (these networks' handles ignore case);
``twitter.com`` becomes ``x.com``; the forms the exports use for one account
(``x.com/intent/user?user_id=12``, ``instagram.com/_u/name``, ``mastodon.social/users/name``)
become the profile form.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

_HOST_ALIASES = {
    "twitter.com": "x.com",
    "instagr.am": "instagram.com",
    "fb.com": "facebook.com",
    "fb.me": "facebook.com",
}
# Hosts of the networks dbox knows, after aliasing: the key of anything else is kept as is.
NETWORK_HOSTS = {"x.com": "x", "linkedin.com": "linkedin", "instagram.com": "instagram",
                 "facebook.com": "facebook"}
_STRIP_PREFIXES = ("www.", "m.", "mobile.", "web.", "touch.")
_LINKEDIN_COUNTRY = re.compile(r"^[a-z]{2}\.linkedin\.com$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
# The form every X archive entry has: a fast path (an archive holds one per follower).
_X_INTENT = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/intent/user\?user_id=(\d+)$", re.I)


def url_key(url: str | None) -> str | None:
    """The comparable key of a profile URL, or None when ``url`` is not a web address."""
    if not url:
        return None
    url = url.strip()
    if not url or " " in url:
        return None
    intent = _X_INTENT.match(url)
    if intent:
        return f"x.com/i/user/{intent.group(1)}"
    if not _SCHEME.match(url):
        if "/" not in url or "." not in url.split("/", 1)[0]:
            return None
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    for prefix in _STRIP_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    if _LINKEDIN_COUNTRY.match(host):
        host = "linkedin.com"
    host = _HOST_ALIASES.get(host, host)
    path = unquote(parts.path).lower()
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    query = parse_qs(parts.query) if parts.query else {}
    if host == "x.com":
        if path in ("/intent/user", "/intent/follow") and query.get("user_id"):
            return f"x.com/i/user/{query['user_id'][0]}"
        if path.startswith("/@"):
            path = "/" + path[2:]
    elif host == "instagram.com":
        if path.startswith("/_u/"):
            path = path[3:]
    elif host == "facebook.com":
        if path == "/profile.php" and query.get("id"):
            return f"facebook.com/profile.php?id={query['id'][0]}"
    elif host.endswith("linkedin.com"):
        pass
    elif path.startswith("/users/") and path.count("/") == 2:
        # Mastodon: https://instance/users/name is the ActivityPub id of https://instance/@name
        path = "/@" + path[len("/users/"):]
    return host + path


def mastodon_profile_url(address: str) -> str | None:
    """``user@example.social`` (or ``@user@example.social``) -> ``https://example.social/@user``."""
    address = address.strip().lstrip("@")
    if address.count("@") != 1:
        return None
    user, domain = address.split("@")
    if not user or "." not in domain:
        return None
    return f"https://{domain.lower()}/@{user}"
