"""Rate limits shared by every replica: ``rate_buckets`` and ``login_failures``.

The API limits in memory first (:mod:`mycopod.api.ratelimit`); these tables make the
same budgets hold across replicas, so that adding a replica behind a load balancer does
not multiply a password guesser's budget or a client's request budget. Every change is
one upsert on one row (or, for a login, two upserts in one transaction), so concurrent
replicas serialise on the row lock and never both spend the last unit.

- ``rate_buckets``: the general per-client budget, an exact token bucket (``per_minute``
  tokens, refilled continuously), the same rule as the in-memory one.
- ``login_failures``: failed logins per username and per client address, counted in
  fixed windows of ``window`` seconds (a documented equivalent of the in-memory sliding
  window: a fixed window never holds more failures than the sliding one ending at the
  same moment, so on one replica it never refuses what the in-memory limit allows; across
  replicas a guesser gets at most ``limit`` failures per window, twice that across a
  window boundary). As in memory, an attempt is counted *before* its password is checked
  and stays a failure unless it succeeded.

Rows of past windows and idle buckets are removed by :meth:`RateLimitStore.prune`
(nightly retention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = ["LoginReservation", "RateLimitStore"]

TAKE = """
INSERT INTO rate_buckets AS b (key, tokens, taken, stamp)
VALUES ($1, $2::float8 - 1, TRUE, NOW())
ON CONFLICT (key) DO UPDATE SET
    taken = LEAST($2::float8, b.tokens + EXTRACT(EPOCH FROM NOW() - b.stamp)::float8 * $3::float8)
            >= 1,
    tokens = LEAST($2::float8, b.tokens + EXTRACT(EPOCH FROM NOW() - b.stamp)::float8 * $3::float8)
             - CASE WHEN LEAST($2::float8, b.tokens
                               + EXTRACT(EPOCH FROM NOW() - b.stamp)::float8 * $3::float8) >= 1
                    THEN 1 ELSE 0 END,
    stamp = NOW()
RETURNING taken, tokens"""
COUNT_FAILURE = """
INSERT INTO login_failures AS f (scope, key, window_start, count)
VALUES ($1, $2, TO_TIMESTAMP(FLOOR(EXTRACT(EPOCH FROM NOW()) / $3::float8) * $3::float8), 1)
ON CONFLICT (scope, key, window_start) DO UPDATE SET count = f.count + 1
RETURNING count, window_start,
    EXTRACT(EPOCH FROM window_start + MAKE_INTERVAL(secs => $3::float8) - NOW())::float8
        AS seconds_left"""
UNCOUNT = """
UPDATE login_failures SET count = GREATEST(count - 1, 0)
WHERE scope = $1 AND key = $2 AND window_start = $3"""
CLEAR = "DELETE FROM login_failures WHERE scope = $1 AND key = $2"
PRUNE_FAILURES = "DELETE FROM login_failures WHERE window_start < NOW() - INTERVAL '1 hour'"
PRUNE_BUCKETS = "DELETE FROM rate_buckets WHERE stamp < NOW() - INTERVAL '1 hour'"


@dataclass(frozen=True)
class LoginReservation:
    """The failure slots one login attempt holds (``wait`` > 0: refused, none held)."""

    wait: int
    slots: tuple[tuple[str, str, datetime], ...] = ()


class RateLimitStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    async def take(self, key: str, *, per_minute: int) -> int:
        """Spend one request of ``key``'s budget: 0, or the seconds to wait (nothing spent)."""
        row = await self.db.fetchrow(TAKE, key, float(per_minute), per_minute / 60.0)
        assert row is not None
        if row["taken"]:
            return 0
        return max(1, math.ceil((1.0 - float(row["tokens"])) / (per_minute / 60.0)))

    async def reserve_login(self, keys: list[tuple[str, str]], *, limit: int,
                            window: float) -> LoginReservation:
        """Count an attempt as a failure under every ``(scope, key)`` at once, if each has
        room; else count nothing and say how long to wait."""
        slots: list[tuple[str, str, datetime]] = []
        try:
            async with _connection(self.db) as conn, conn.transaction():
                wait = 0
                for scope, key in keys:
                    row = await conn.fetchrow(COUNT_FAILURE, scope, key, window)
                    assert row is not None
                    slots.append((scope, key, row["window_start"]))
                    if row["count"] > limit:
                        wait = max(wait, max(1, math.ceil(float(row["seconds_left"]))))
                if wait:
                    raise _Refused(wait)  # rolls the counts back
        except _Refused as refused:
            return LoginReservation(wait=refused.wait)
        return LoginReservation(wait=0, slots=tuple(slots))

    async def release_login(self, reservation: LoginReservation, *, clear: tuple[str, str]
                            | None = None) -> None:
        """The attempt succeeded: its slots are given back, and ``clear``'s failures
        forgotten (a user who logged in starts over)."""
        async with _connection(self.db) as conn, conn.transaction():
            for scope, key, window_start in reservation.slots:
                await conn.execute(UNCOUNT, scope, key, window_start)
            if clear is not None:
                await conn.execute(CLEAR, *clear)

    async def prune(self) -> None:
        await self.db.execute(PRUNE_FAILURES)
        await self.db.execute(PRUNE_BUCKETS)


class _Refused(Exception):
    def __init__(self, wait: int) -> None:
        self.wait = wait


class _connection:
    """A connection for a transaction: ``db`` itself, or one acquired from the pool."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db
        self._acquired: object = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self.db, asyncpg.Pool):
            self._acquired = self.db.acquire()
            return await self._acquired.__aenter__()  # type: ignore[attr-defined]
        return self.db

    async def __aexit__(self, *exc: object) -> None:
        if self._acquired is not None:
            await self._acquired.__aexit__(*exc)  # type: ignore[attr-defined]
