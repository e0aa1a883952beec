"""In-process rate limits: failed logins, and a general per-client budget.

Both are kept in memory first, per process: failed logins in sliding windows (five
failures a minute per username *and* per client address), the general limit as a token
bucket per client address, refilled continuously. The same budgets are then spent in
PostgreSQL (:mod:`mycopod.store.ratelimits`), so they hold across replicas behind a
load balancer: a replica refuses what it alone has seen too much of without a query, and
what all replicas together have seen too much of with one.

A login attempt is counted *before* its password is checked: :class:`Attempt` reserves a
slot in every window it belongs to, in one synchronous step (no ``await`` between the
check and the reservation, so concurrent requests on the event loop cannot all pass the
check first), and the slot counts as a failure until the check says otherwise. Two
hundred simultaneous guesses therefore get at most ``limit`` password checks; the rest
are refused without reaching the password at all.

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
from types import TracebackType

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
    """At most ``limit`` failures per ``window`` seconds per key.

    Attempts still being checked (:meth:`hold`) count as failures until they are
    released, so the limit bounds failures and checks in flight together.
    """

    def __init__(self, limit: int = 5, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._held: dict[str, int] = {}

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
        settled = len(events) if events is not None else 0
        if settled + self._held.get(key, 0) < self.limit:
            return 0
        if events is None or settled < self.limit:
            return 1  # full of attempts still being checked: one of them ends soon
        return max(1, math.ceil(events[0] + self.window - now))

    def record(self, key: str) -> None:
        now = self._clock()
        if len(self._events) >= _PRUNE_AT:
            for stale in list(self._events):
                self._trim(stale, now)
        self._events.setdefault(key, deque()).append(now)

    def hold(self, key: str) -> None:
        """Count an attempt whose outcome is not known yet (see :class:`Attempt`)."""
        self._held[key] = self._held.get(key, 0) + 1

    def release(self, key: str, *, failed: bool) -> None:
        """End a :meth:`hold`: a failure stays counted for ``window`` seconds."""
        held = self._held.get(key, 0) - 1
        if held > 0:
            self._held[key] = held
        else:
            self._held.pop(key, None)
        if failed:
            self.record(key)

    def clear(self, key: str) -> None:
        """Forget the settled failures of ``key`` (attempts in flight still count)."""
        self._events.pop(key, None)


class Attempt:
    """One attempt counted in several windows at once, before its outcome is known.

    :meth:`reserve` checks every window and, only if all have room, holds a slot in
    each: synchronously, so it is atomic on the event loop. Use the attempt as a context
    manager around the check; it is released as a failure unless :meth:`succeeded` was
    called, so an exception or a cancellation never frees a slot for the next guess.
    """

    def __init__(self, slots: Iterable[tuple[FailureWindow, str]]) -> None:
        self.slots = tuple(slots)
        self._held = False
        self._ok = False

    def reserve(self) -> int:
        """0 when a slot is held in every window; else the seconds to wait (nothing held)."""
        wait = max((window.retry_after(key) for window, key in self.slots), default=0)
        if wait:
            return wait
        for window, key in self.slots:
            window.hold(key)
        self._held = True
        return 0

    def succeeded(self) -> None:
        self._ok = True

    def __enter__(self) -> Attempt:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._held:
            return
        self._held = False
        for window, key in self.slots:
            window.release(key, failed=not self._ok)


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
