"""Rate limits, owned by the app: declared by name, counted per visitor and per address.

A plugin declares a :class:`RateLimit` at module level (a value, no state) and asks
``pt.limit(LIMIT)`` in its route; the counters live in the platform, so they are
dropped with it (tests start clean) and never shared between apps in one process.

Two keys are counted: the visitor's cookie session, because a whole school class
shares one address, and the client address, because a new cookie per request would
reset a per-visitor count. The address is the socket peer, or the first address
before the trusted proxies in ``X-Forwarded-For`` when the peer is a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Iterable

import msgspec
from litestar.exceptions import HTTPException

__all__ = ["RateLimit", "RateLimits", "SlidingWindow", "TooManyRequests", "client_address"]


class TooManyRequests(HTTPException):
    status_code = 429


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """``per_visitor`` and ``per_address`` actions per ``window`` seconds (0: no limit)."""

    name: str
    per_visitor: int = 0
    per_address: int = 0
    window: float = 60.0


class SlidingWindow:
    """At most ``limit`` hits per ``window`` seconds per key, in memory."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._sweep(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def _sweep(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]


class RateLimits:
    """The counters of every declared limit, one set per platform."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], SlidingWindow] = {}

    def _window(self, limit: RateLimit, kind: str, count: int) -> SlidingWindow:
        key = (limit.name, kind)
        window = self._windows.get(key)
        if window is None or window.limit != count or window.window != limit.window:
            window = self._windows[key] = SlidingWindow(count, limit.window)
        return window

    def allow(self, limit: RateLimit, *, visitor: str = "", address: str = "") -> bool:
        """Count one action; False if the visitor or the address is over its limit."""
        ok = True
        if limit.per_address and address:
            ok = self._window(limit, "address", limit.per_address).allow(address)
        if ok and limit.per_visitor and visitor:
            ok = self._window(limit, "visitor", limit.per_visitor).allow(visitor)
        return ok


def _networks(trusted: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(t, strict=False) for t in trusted]


def client_address(peer: str, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The client's address: ``peer``, or, when ``peer`` is a trusted proxy, the last
    address in ``X-Forwarded-For`` that is not one (a client can prepend anything)."""
    networks = _networks(trusted)
    if not networks or not forwarded_for:
        return peer

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in networks)

    if not is_trusted(peer):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop):
            return hop
    return peer
