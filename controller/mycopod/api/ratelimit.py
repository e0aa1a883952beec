"""In-process rate limits: failed logins, and a general per-client budget.

Both are sliding windows kept in memory, per process: a replica behind a load balancer
limits what it sees, which is enough to make password guessing slow (five failures a
minute per username *and* per client address) without a shared store. The general limit
is a token bucket per client address, refilled continuously.

The client address is the TCP peer, unless that peer is one of ``trusted_proxies``: then
the right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy is the
client. A header sent by anyone else is ignored, or a client could pick its own bucket.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable, Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: how many keys a table keeps before it drops idle ones
_PRUNE_AT = 10_000


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


def in_networks(address: str | None, networks: list[IPNetwork]) -> bool:
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: list[IPNetwork]) -> str:
    """The client's address, believing X-Forwarded-For only from trusted proxies."""
    peer = peer or "unknown"
    if not forwarded_for or not in_networks(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: fall back to the proxy itself
        if not in_networks(hop, trusted):
            return hop
    return hops[0] if hops else peer


class FailureWindow:
    """At most ``limit`` failures per ``window`` seconds per key."""

    def __init__(self, limit: int = 5, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def _trim(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> int:
        """Seconds to wait before ``key`` may try again (0: it may try now)."""
        now = self._clock()
        events = self._trim(key, now)
        if events is None or len(events) < self.limit:
            return 0
        return max(1, math.ceil(events[0] + self.window - now))

    def record(self, key: str) -> None:
        now = self._clock()
        if len(self._events) >= _PRUNE_AT:
            for stale in list(self._events):
                self._trim(stale, now)
        self._events.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)


class TokenBucket:
    """``per_minute`` requests a minute per key, with bursts up to that many."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> int:
        """0 when the request may go ahead, else the seconds to wait."""
        now = self._clock()
        tokens, stamp = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            if len(self._buckets) >= _PRUNE_AT and key not in self._buckets:
                self._prune(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        for key, (_tokens, stamp) in list(self._buckets.items()):
            if now - stamp >= full_after:
                del self._buckets[key]


class InFlight:
    """At most ``limit`` requests at once per key (a user's compiles, say).

    Not a rate: a request holds its place while it runs and gives it back when it ends,
    however it ends. Keys with nothing in flight are not kept.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._count: dict[object, int] = {}

    def enter(self, key: object) -> bool:
        """Take a place for ``key``; False (nothing taken) when all are in use."""
        count = self._count.get(key, 0)
        if count >= self.limit:
            return False
        self._count[key] = count + 1
        return True

    def leave(self, key: object) -> None:
        count = self._count.get(key, 0) - 1
        if count > 0:
            self._count[key] = count
        else:
            self._count.pop(key, None)

    def count(self, key: object) -> int:
        return self._count.get(key, 0)
