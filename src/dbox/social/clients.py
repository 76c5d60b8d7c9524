"""The networks' HTTP APIs, as dbox uses them: who am I, followers pages, image upload, posting.

Every call goes through :meth:`ApiClient.call`, which refreshes the token when it is about to
expire, honours rate limits (waits when the network says none are left, and on 429 waits until
the reset time or ``Retry-After``, a bounded number of times), and turns errors into
ProviderError / NotConfiguredError with the network's own message.

Creating a post is never retried after a request that may have reached the network (timeout,
5xx): :class:`PublishUnknown` says so, and the ledger keeps the post in doubt rather than
publishing it twice. Mastodon gets an Idempotency-Key, so a retry there is safe.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from dbox.errors import NotConfiguredError, ProviderError
from dbox.social.oauth import TokenKeeper
from dbox.social.length import image_type
from dbox.i18n import _

MAX_RATE_RETRIES = 5
DEFAULT_RETRY_AFTER = 60.0


class RateLimited(ProviderError):
    """The wait the network asks for is longer than the caller accepts (``max_wait``)."""

    def __init__(self, network: str, wait: float):
        super().__init__(f"{network}: rate limit reached; the network asks to wait {int(wait)} s")
        self.wait = wait


class PublishUnknown(ProviderError):
    """The post request may have been processed: do not send it again without checking."""


@dataclass
class Profile:
    account_id: str
    handle: str | None
    display_name: str | None
    followers_count: int | None = None
    url: str | None = None


@dataclass
class Published:
    post_id: str
    url: str | None


@dataclass
class FollowersPage:
    people: list[dict]            # account_id, handle, display_name, profile_url
    next: str | None              # cursor for the next page, None at the end


def _reset_seconds(headers, now: float) -> float | None:
    """Seconds until the rate-limit window resets, from whichever header the network sends."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("x-rate-limit-reset") or headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)                       # X: epoch seconds
        except ValueError:
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00"))   # Mastodon: ISO 8601
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                return max(0.0, when.timestamp() - now)
            except ValueError:
                return None
    return None


def _remaining(headers) -> int | None:
    value = headers.get("x-rate-limit-remaining") or headers.get("X-RateLimit-Remaining")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class ApiClient:
    network = ""

    def __init__(self, keeper: TokenKeeper, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, max_wait: float = 900.0,
                 on_wait: Callable[[float], None] | None = None):
        self.keeper = keeper
        self.config = keeper.config
        self.api = keeper.config.api_url.rstrip("/")
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.on_wait = on_wait
        self.pause_until = 0.0
        self.waited = 0.0

    def _wait(self, seconds: float) -> None:
        if seconds > self.max_wait:
            raise RateLimited(self.network, seconds)
        if seconds > 0:
            if self.on_wait:
                self.on_wait(seconds)
            self.waited += seconds
            self.sleep(seconds)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.api}{path}"

    def call(self, method: str, path: str, *, publish: bool = False, expect=(200, 201, 202), **kwargs):
        """One API call with token refresh and rate limits; returns the requests.Response."""
        import requests

        url = self.url(path)
        refreshed = False
        for _attempt in range(MAX_RATE_RETRIES + 1):
            now = self.clock()
            if self.pause_until > now:
                self._wait(self.pause_until - now)
            self.pause_until = 0.0
            session = self.keeper.fresh()
            try:
                response = session.request(method, url, **kwargs)
            except requests.Timeout:
                if publish:
                    raise PublishUnknown(f"{self.network}: no answer in time; the post may have been published",
                                         hint="check the account before publishing again") from None
                raise ProviderError(_("{network}: no answer from {api} in time").format(
                                        network=self.network, api=self.api)) from None
            except requests.ConnectionError:
                raise ProviderError(_("{network}: cannot reach {api}").format(network=self.network, api=self.api),
                                    hint=_("check the network connection")) from None
            now = self.clock()
            if _remaining(response.headers) == 0:
                wait = _reset_seconds(response.headers, now)
                self.pause_until = now + (wait if wait is not None else DEFAULT_RETRY_AFTER)
            if response.status_code == 429:
                wait = _reset_seconds(response.headers, now)
                self.pause_until = now + (wait if wait is not None else DEFAULT_RETRY_AFTER)
                continue
            if response.status_code == 401 and not refreshed and self.keeper.token.get("refresh_token"):
                self.keeper.refresh()
                refreshed = True
                continue
            if response.status_code in expect:
                return response
            raise self._error(response, publish)
        raise ProviderError(_("{network}: still rate limited after {MAX_RATE_RETRIES} waits").format(
                                network=self.network, MAX_RATE_RETRIES=MAX_RATE_RETRIES),
                            hint=_("run the command again later"))

    def _error(self, response, publish: bool) -> ProviderError:
        detail = _error_text(response)
        status = response.status_code
        if status in (401, 403):
            return NotConfiguredError(_("{network} refused the connection ({status}: {detail})").format(
                                          network=self.network, status=status, detail=detail),
                                      hint=_("dbox connect {network}").format(network=self.network))
        if publish and status >= 500:
            return PublishUnknown(f"{self.network}: server error {status} while publishing; the post may exist",
                                  hint="check the account before publishing again")
        return ProviderError(f"{self.network}: {status} {detail}")

    def json(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ProviderError(_("{network}: answer to {path} is not JSON").format(network=self.network, path=path)) from None


def _error_text(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return (response.text or response.reason or "")[:200]
    if isinstance(data, dict):
        for key in ("detail", "error_description", "message", "error", "title"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return str(value)[:200]
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0])[:200]
    return str(data)[:200]


def _image(path: Path) -> tuple[str, bytes, str]:
    return path.name, path.read_bytes(), image_type(path) or mimetypes.guess_type(path.name)[0]


# -- X ----------------------------------------------------------------------------------------------

class XClient(ApiClient):
    network = "x"

    def me(self) -> Profile:
        data = self.json("GET", "/2/users/me", params={"user.fields": "public_metrics"})["data"]
        return Profile(data["id"], data.get("username"), data.get("name"),
                       (data.get("public_metrics") or {}).get("followers_count"),
                       f"https://x.com/{data.get('username')}")

    def followers_page(self, account_id: str, cursor: str | None) -> FollowersPage:
        params = {"max_results": 1000, "user.fields": "username,name"}
        if cursor:
            params["pagination_token"] = cursor
        data = self.json("GET", f"/2/users/{account_id}/followers", params=params)
        people = [{"account_id": u["id"], "handle": (u.get("username") or "").lower() or None,
                   "display_name": u.get("name"), "profile_url": f"https://x.com/{u.get('username') or 'i/user/' + u['id']}"}
                  for u in data.get("data") or []]
        return FollowersPage(people, (data.get("meta") or {}).get("next_token"))

    def upload_image(self, path: Path) -> str:
        name, content, mime = _image(path)
        data = self.json("POST", "/2/media/upload", files={"media": (name, content, mime)},
                         data={"media_category": "tweet_image", "media_type": mime})
        return str(data["data"]["id"])

    def publish(self, text: str, image: Path | None = None, key: str | None = None,
                handle: str | None = None) -> Published:
        body: dict = {"text": text}
        if image:
            body["media"] = {"media_ids": [self.upload_image(image)]}
        data = self.json("POST", "/2/tweets", json=body, publish=True)["data"]
        return Published(data["id"], f"https://x.com/{handle or 'i/web'}/status/{data['id']}")


# -- Mastodon -----------------------------------------------------------------------------------------

class MastodonClient(ApiClient):
    network = "mastodon"

    def me(self) -> Profile:
        data = self.json("GET", "/api/v1/accounts/verify_credentials")
        from urllib.parse import urlsplit

        host = urlsplit(self.config.instance or self.api).netloc
        return Profile(str(data["id"]), f"{data['username']}@{host}".lower(), data.get("display_name"),
                       data.get("followers_count"), data.get("url"))

    def limits(self) -> dict:
        try:
            data = self.json("GET", "/api/v2/instance")
        except ProviderError:
            return {}
        statuses = ((data.get("configuration") or {}).get("statuses") or {})
        return {k: statuses[k] for k in ("max_characters", "characters_reserved_per_url") if k in statuses}

    def followers_page(self, account_id: str, cursor: str | None) -> FollowersPage:
        from urllib.parse import urlsplit

        host = urlsplit(self.config.instance or self.api).netloc
        response = self.call("GET", cursor or f"/api/v1/accounts/{account_id}/followers", params=None if cursor
                             else {"limit": 80})
        people = []
        for account in response.json():
            acct = account.get("acct") or account.get("username")
            handle = (acct if "@" in acct else f"{acct}@{host}").lower()
            people.append({"account_id": str(account["id"]), "handle": handle,
                           "display_name": account.get("display_name") or None, "profile_url": account.get("url")})
        next_url = (response.links.get("next") or {}).get("url")
        return FollowersPage(people, next_url if people else None)

    def upload_image(self, path: Path) -> str:
        name, content, mime = _image(path)
        response = self.call("POST", "/api/v2/media", files={"file": (name, content, mime)})
        data = response.json()
        media_id = str(data["id"])
        for _unused in range(30):                 # 202: still processing; bounded polling
            if response.status_code == 200 and data.get("url"):
                break
            self.sleep(1)
            response = self.call("GET", f"/api/v1/media/{media_id}", expect=(200, 206))
            data = response.json()
        return media_id

    def publish(self, text: str, image: Path | None = None, key: str | None = None,
                handle: str | None = None) -> Published:
        body: dict = {"status": text, "visibility": "public"}
        if image:
            body["media_ids"] = [self.upload_image(image)]
        headers = {"Idempotency-Key": key} if key else {}
        data = self.json("POST", "/api/v1/statuses", json=body, headers=headers, publish=True)
        return Published(str(data["id"]), data.get("url"))


# -- LinkedIn -----------------------------------------------------------------------------------------

LINKEDIN_VERSION = "202410"


class LinkedInClient(ApiClient):
    network = "linkedin"

    def _headers(self) -> dict:
        return {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": "2.0.0"}

    def me(self) -> Profile:
        data = self.json("GET", "/v2/userinfo")
        return Profile(data["sub"], None, data.get("name"), None, None)

    def upload_image(self, path: Path, owner: str) -> str:
        name, content, mime = _image(path)
        value = self.json("POST", "/rest/images", params={"action": "initializeUpload"}, headers=self._headers(),
                          json={"initializeUploadRequest": {"owner": owner}})["value"]
        self.call("PUT", value["uploadUrl"], data=content, headers={"Content-Type": mime}, expect=(200, 201))
        return value["image"]

    def publish(self, text: str, image: Path | None = None, key: str | None = None, handle: str | None = None,
                account_id: str | None = None) -> Published:
        author = f"urn:li:person:{account_id}"
        body: dict = {
            "author": author, "commentary": text, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
        }
        if image:
            body["content"] = {"media": {"id": self.upload_image(image, author)}}
        response = self.call("POST", "/rest/posts", json=body, headers=self._headers(), publish=True, expect=(201,))
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or ""
        return Published(urn, f"https://www.linkedin.com/feed/update/{urn}" if urn else None)


# -- Facebook (a Page) --------------------------------------------------------------------------------

class FacebookClient(ApiClient):
    network = "facebook"

    def pages(self) -> list[dict]:
        return self.json("GET", "/me/accounts", params={"fields": "id,name,access_token"}).get("data") or []

    def page(self, page_id: str) -> Profile:
        data = self.json("GET", f"/{page_id}", params={"fields": "id,name,followers_count,link"})
        return Profile(data["id"], None, data.get("name"), data.get("followers_count"), data.get("link"))

    def publish(self, text: str, image: Path | None = None, key: str | None = None, handle: str | None = None,
                account_id: str | None = None) -> Published:
        if image:
            name, content, mime = _image(image)
            data = self.json("POST", f"/{account_id}/photos", data={"caption": text, "published": "true"},
                             files={"source": (name, content, mime)}, publish=True)
            post_id = data.get("post_id") or data["id"]
        else:
            post_id = self.json("POST", f"/{account_id}/feed", data={"message": text}, publish=True)["id"]
        return Published(post_id, f"https://www.facebook.com/{post_id}")


CLIENTS = {"x": XClient, "mastodon": MastodonClient, "linkedin": LinkedInClient, "facebook": FacebookClient}
