"""Each network's rules for a post, checked before anything is sent.

- X: 280 in X's weighted count (twitter-text, the rules X publishes): every link, with or
  without ``https://`` (``dbox.fr`` is a link), counts 23; most CJK characters and emoji count 2.
- Mastodon: 500 characters unless the server says otherwise (learned at ``dbox connect``);
  every ``http(s)://`` link counts 23 and ``@user@server`` counts as ``@user``.
- LinkedIn: 3,000 characters. Facebook: 63,206 characters.

Images: JPEG, PNG, GIF or WebP, recognised by their bytes, under each network's size limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dbox.errors import InputError
from dbox.i18n import _

LIMITS = {"x": 280, "mastodon": 500, "linkedin": 3000, "facebook": 63206}
URL_WEIGHT = 23
IMAGE_LIMITS = {"x": 5 * 1024 * 1024, "mastodon": 16 * 1024 * 1024, "linkedin": 10 * 1024 * 1024,
                "facebook": 10 * 1024 * 1024}
_MASTODON_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w", re.UNICODE)


@dataclass
class Check:
    network: str
    length: int
    limit: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def x_length(text: str) -> int:
    from twitter_text import parse_tweet

    return parse_tweet(text).weightedLength


def mastodon_length(text: str) -> int:
    from twitter_text.extract_urls import extract_urls_with_indices

    urls = extract_urls_with_indices(text, extract_urls_without_protocol=False)
    length, last = 0, 0
    for url in urls:
        start, end = url["indices"]
        length += len(_MASTODON_MENTION.sub(r"@\1", text[last:start])) + URL_WEIGHT
        last = end
    return length + len(_MASTODON_MENTION.sub(r"@\1", text[last:]))


def length_for(network: str, text: str) -> int:
    if network == "x":
        return x_length(text)
    if network == "mastodon":
        return mastodon_length(text)
    return len(text)


_IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF87a", "image/gif"),
                (b"GIF89a", "image/gif"))


def image_type(path: Path) -> str:
    """The MIME type of an image file from its first bytes; InputError when it is not an image
    every network takes."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        raise InputError(_("--image {path}: no such file").format(path=path)) from None
    for magic, mime in _IMAGE_TYPES:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise InputError(_("--image {path}: not a JPEG, PNG, GIF or WebP image").format(path=path))


def check_post(text: str, networks: list[str], image: Path | None = None,
               limits: dict[str, int] | None = None) -> list[Check]:
    """One :class:`Check` per network; a post goes nowhere unless every check is ok."""
    limits = {**LIMITS, **(limits or {})}
    image_size = image.stat().st_size if image else None
    mime = image_type(image) if image else None
    checks = []
    for network in networks:
        length = length_for(network, text)
        check = Check(network, length, limits[network])
        if not text.strip() and image is None:
            check.problems.append("empty post")
        if length > check.limit:
            check.problems.append(f"{length} characters for {check.limit} allowed"
                                  + (" (links count 23)" if network in ("x", "mastodon") else ""))
        if image_size is not None and image_size > IMAGE_LIMITS[network]:
            check.problems.append(f"image of {image_size / 1048576:.1f} MB for {IMAGE_LIMITS[network] // 1048576} MB "
                                  "allowed")
        if mime == "image/webp" and network == "linkedin":
            check.problems.append("LinkedIn does not take WebP images")
        checks.append(check)
    return checks
