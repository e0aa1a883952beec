"""The one backoff schedule of the project's long-lived loops.

A loop that retries something on its own clock (a failed run queued again, the embedded
database restarted, the declarations repository fetched again, the first connection to
PostgreSQL) counts failures in a :class:`Backoff` and asks it how long to wait: ``base``
doubling per failure up to ``cap`` seconds, optionally with "equal jitter" (at least half
the ceiling, so retries never bunch up near zero), reset by a success.

Single calls retried in place (a Proxmox API call, an LLM completion) use tenacity's
``AsyncRetrying`` with ``wait_exponential_jitter`` instead: there the retry wraps the
call. Here the loop owns the clock and needs only the delay, which tenacity's wait
strategies give only through a ``RetryCallState`` of a retrying object this code does
not have. Pure: no clock, and the random source is injectable for tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["Backoff"]


class Backoff:
    """Exponential backoff: ``base`` doubling per failure up to ``cap`` seconds."""

    def __init__(self, base: float = 1.0, cap: float = 600.0, *, jitter: bool = True,
                 rng: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.failures = 0
        self._rng = rng

    def delay(self) -> float:
        """How long to wait after the failures counted so far (0 when there are none)."""
        if not self.failures:
            return 0.0
        # (the exponent is bounded: past 2**64 every ceiling is the cap anyway)
        ceiling = min(self.cap, self.base * 2.0 ** min(self.failures - 1, 64))
        if not self.jitter:
            return float(ceiling)
        return float(max(self.base, ceiling / 2 + self._rng() * ceiling / 2))

    def failure(self) -> float:
        """Count a failure; return how long to wait before the next attempt."""
        self.failures += 1
        return self.delay()

    def success(self) -> None:
        self.failures = 0

    @property
    def failing(self) -> bool:
        return self.failures > 0
