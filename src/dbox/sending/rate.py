"""Rate limits: ``10/s``, ``300/min``, ``5000/h``; a thread-safe token bucket shared by the workers."""

from __future__ import annotations

import re
import threading
import time

from dbox.errors import InputError
from dbox.i18n import _

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(text: str | float | int) -> float:
    """Messages per second from ``10/s``, ``300/min``, ``2.5`` (per second)."""
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+))?\s*", str(text).lower())
        if not m or (m.group(2) and m.group(2) not in _UNITS):
            raise InputError(_("--rate {text!r}: use a number of messages per second or minute, like 10/s or 300/min").format(
                                 text=text))
        value = float(m.group(1)) / _UNITS[m.group(2) or "s"]
    if value <= 0:
        raise InputError(_("--rate {text!r}: the rate must be above zero").format(text=text))
    return value


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, bursts of at most ``burst``."""

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic, sleep=time.sleep):
        self.rate = rate
        self.capacity = burst if burst is not None else 1.0
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self.lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a token; False if ``stop`` was set meanwhile."""
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1 - 1e-9:   # float dust must not spin forever
                    self.tokens -= 1
                    return True
                wait = max((1 - self.tokens) / self.rate, 1e-6)
            if stop is not None:
                if stop.wait(min(wait, 0.5)):
                    return False
            else:
                self.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Everyone waits (the provider said Retry-After)."""
        with self.lock:
            self.tokens = min(self.tokens, 0) - seconds * self.rate
