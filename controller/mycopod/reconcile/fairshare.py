"""Leadership of many clusters spread over the replicas: each holds its fair share.

Every replica competes for every cluster's advisory lock (the same key as
:class:`~mycopod.reconcile.leader.LeaderElection`, :func:`~mycopod.reconcile.leader.lock_key`),
but holds no more than its share of them, ``ceil(clusters / live replicas)``; live
replicas are counted from heartbeat rows (:mod:`mycopod.store.replicas`). What a replica
does in a round is the pure rule of :mod:`mycopod.reconcile.fairshare_rules`.

**One connection per replica.** :class:`FairShare` holds all of this replica's cluster
locks, and writes its heartbeat, on one connection of its own (session advisory locks
belong to the session that took them; a pooled connection would hand them to whoever
borrows it next). So a replica costs PostgreSQL one connection for leadership whatever
the number of clusters, and when that session ends (the replica is killed, its machine
vanishes, the connection breaks) all its locks are freed at once and its row stops
counting as live, so the others take its clusters at their next round. An asyncpg
connection runs one operation at a time: every use of it (a round, a release, the
close) holds :attr:`FairShare._busy`, as in ``leader.py``.

**A round** (every ``check_seconds``): give back the clusters stepped down from last
round, beat (which reads every live replica and its count), decide, then either step
down from one cluster or try free ones. Stepping down is done in two rounds: first the
cluster's lease stops leading (``changed`` is set, so the daemon cancels its leader-only
tasks), one round later its lock is given back. A replica that just started only beats
in its first round, so replicas started together see each other before taking anything.

**The daemon's surface.** :meth:`FairShare.lease` gives one :class:`ClusterLease` per
cluster with what the daemon reads of a ``LeaderElection``: ``leader``, ``changed``,
``cluster``, ``key``, ``run()``, ``step()`` and ``release()``. ``run()`` of every lease
drives the one shared loop (it runs while any lease's ``run()`` does), so the daemon can
keep one ``leader-election`` task per cluster, or run :meth:`FairShare.run` once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import structlog

from mycopod.reconcile import fairshare_rules as rules
from mycopod.reconcile.leader import lock_key
from mycopod.store import locks, replicas

log = structlog.get_logger(__name__)

__all__ = ["ClusterLease", "FairShare"]

ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
           asyncpg.InternalClientError)


class ClusterLease:
    """One cluster's leadership inside a :class:`FairShare`, shaped like a
    ``LeaderElection``: read :attr:`leader`, wait on :attr:`changed`."""

    def __init__(self, share: FairShare, cluster: str,
                 on_change: Callable[[bool], None] | None = None) -> None:
        self.share = share
        self.cluster = cluster
        self.key = lock_key(cluster)
        self.check_seconds = share.check_seconds
        self.leader = False
        self.changed = asyncio.Event()
        self._on_change = on_change

    def _set(self, leader: bool, reason: str) -> None:
        if leader == self.leader:
            return
        self.leader = leader
        log.info("fairshare.acquired" if leader else "fairshare.lost", cluster=self.cluster,
                 replica=self.share.replica, reason=reason)
        self.changed.set()
        if self._on_change is not None:
            self._on_change(leader)

    async def run(self) -> None:
        """Keep the replica's shared election running while this task runs."""
        await self.share.run_shared()

    async def step(self) -> None:
        await self.share.step()

    async def release(self) -> None:
        """Give this cluster's lock back (at shutdown) and stop competing for it."""
        await self.share.release_cluster(self.cluster)


class FairShare:
    """This replica's competition for every cluster, on one connection."""

    def __init__(self, url: str, clusters: Sequence[str], *, password: str | None = None,
                 replica_id: str | None = None, check_seconds: float = 2.0,
                 heartbeat_timeout: float = 10.0) -> None:
        if not clusters:
            raise ValueError("FairShare needs at least one cluster name")
        if len(set(clusters)) != len(clusters):
            raise ValueError(f"cluster names must be unique, got {list(clusters)}")
        if heartbeat_timeout <= check_seconds:
            raise ValueError(f"heartbeat_timeout ({heartbeat_timeout}) must be longer than "
                             f"check_seconds ({check_seconds}), or live replicas time out")
        self.url = url
        self.password = password
        self.clusters = tuple(clusters)
        self.replica = replica_id or uuid.uuid4().hex[:12]
        self.check_seconds = check_seconds
        self.heartbeat_timeout = heartbeat_timeout
        self.leases = {name: ClusterLease(self, name) for name in self.clusters}
        #: what the last beat saw: live replicas, and the share (floor, ceil)
        self.live = 0
        self.low = self.high = 0
        self._conn: asyncpg.Connection | None = None
        self._busy = asyncio.Lock()
        self._held: set[str] = set()  # locks held and leading
        self._stepping: set[str] = set()  # locks held, no longer leading: unlock next round
        self._cooling: dict[str, int] = {}  # given up: rounds left before taking it again
        self._withdrawn: set[str] = set()
        self._rounds = 0
        self._driver: asyncio.Task[None] | None = None
        self._drivers = 0

    def lease(self, cluster: str, on_change: Callable[[bool], None] | None = None
              ) -> ClusterLease:
        """The lease of one of this share's clusters."""
        try:
            lease = self.leases[cluster]
        except KeyError:
            raise ValueError(f"unknown cluster {cluster!r}; this replica competes for "
                             f"{', '.join(self.clusters)}") from None
        if on_change is not None:
            lease._on_change = on_change
        return lease

    def leading(self) -> list[str]:
        """The clusters this replica leads now, sorted."""
        return sorted(name for name, lease in self.leases.items() if lease.leader)

    # -- the loop --------------------------------------------------------------------------

    async def step(self) -> None:
        """One round (see the module docstring)."""
        async with self._busy:
            await self._round()

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.check_seconds)

    async def run_shared(self) -> None:
        """Run the loop while at least one caller does: the first starts it, the last one
        cancelled stops it."""
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self.run(), name=f"fairshare-{self.replica}")
        self._drivers += 1
        try:
            await asyncio.shield(self._driver)
        finally:
            self._drivers -= 1
            if self._drivers == 0 and self._driver is not None:
                driver, self._driver = self._driver, None
                driver.cancel()
                await asyncio.gather(driver, return_exceptions=True)

    async def _round(self) -> None:
        if self._withdrawn >= set(self.clusters):
            return  # closed: no more competing, no heartbeat
        timeout = max(self.check_seconds * 2, 5.0)
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await self._connect()
            await asyncio.wait_for(self._round_on(self._conn), timeout)
        except ERRORS as exc:
            log.warning("fairshare.check_failed", replica=self.replica,
                        error=str(exc) or type(exc).__name__)
            self._lose_all(f"{type(exc).__name__}: {exc}")
            await self._drop_connection()

    async def _round_on(self, conn: asyncpg.Connection) -> None:
        for name in sorted(self._stepping):
            await locks.unlock(conn, lock_key(name))
            self._stepping.discard(name)
        self._cooling = {c: n - 1 for c, n in self._cooling.items() if n > 1}
        # withdrawn clusters count as this replica's (it gave them up for good, so it is
        # not short of its share: the others must not leave free clusters for it)
        seen = await replicas.beat(conn, self.replica,
                                   leading=len(self._held | self._withdrawn),
                                   live_seconds=self.heartbeat_timeout)
        self._rounds += 1
        others = {r.id: r.leading for r in seen if r.id != self.replica}
        decision = rules.decide(me=self.replica, clusters=self.clusters, held=self._held,
                                others=others, cooling=self._cooling,
                                withdrawn=self._withdrawn)
        if (decision.live, decision.low, decision.high) != (self.live, self.low, self.high):
            self.live, self.low, self.high = decision.live, decision.low, decision.high
            log.info("fairshare.share", replica=self.replica, live=self.live,
                     clusters=len(self.clusters), low=self.low, high=self.high)
        if self._rounds == 1:
            return  # announce first: replicas started together see each other
        if decision.release is not None:
            self._step_down(decision.release, f"handed over to even out the shares "
                            f"({len(self._held)} held, {decision.low}-{decision.high} each "
                            f"for {decision.live} live replicas)")
            return
        taken = 0
        for name in decision.take:
            if taken >= decision.want:
                break
            if await locks.try_lock(conn, lock_key(name)):
                self._held.add(name)
                taken += 1
                self.leases[name]._set(True, "lock acquired")

    def _step_down(self, name: str, reason: str) -> None:
        self._held.discard(name)
        self._stepping.add(name)
        self._cooling[name] = rules.COOL_ROUNDS
        self.leases[name]._set(False, reason)

    def _lose_all(self, reason: str) -> None:
        self._held.clear()
        self._stepping.clear()
        for lease in self.leases.values():
            lease._set(False, reason)

    def _terminated(self, _conn: Any) -> None:
        # asyncpg calls this when the connection closes under us: no more locks.
        self._lose_all("database connection closed")

    async def _connect(self) -> asyncpg.Connection:
        conn = await locks.connect(self.url, password=self.password,
                                   connect_timeout=max(self.check_seconds, 5.0),
                                   application_name=f"mycopod-fairshare-{self.replica}")
        conn.add_termination_listener(self._terminated)
        self._rounds = 0  # a new session: announce again before taking
        return conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._terminated)
            conn.terminate()

    # -- giving back -----------------------------------------------------------------------

    async def release_cluster(self, cluster: str) -> None:
        """Stop leading and competing for ``cluster`` and give its lock back now; the last
        cluster released closes the connection (as :meth:`close`)."""
        async with self._busy:
            self._withdrawn.add(cluster)
            lease = self.leases[cluster]
            held = cluster in self._held or cluster in self._stepping
            self._held.discard(cluster)
            self._stepping.discard(cluster)
            lease._set(False, "released at shutdown")
            if self._withdrawn >= set(self.clusters):
                await self._close()
                return
            if held and self._conn is not None and not self._conn.is_closed():
                try:
                    await asyncio.wait_for(locks.unlock(self._conn, lease.key), 2)
                except ERRORS:
                    self._lose_all("database connection failed at release")
                    await self._drop_connection()

    async def close(self) -> None:
        """Give every lock back, remove the heartbeat row and close the connection (at
        shutdown), so the other replicas take the clusters at their next round."""
        async with self._busy:
            self._withdrawn = set(self.clusters)
            await self._close()

    async def _close(self) -> None:
        self._lose_all("released at shutdown")
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.remove_termination_listener(self._terminated)
        try:
            if not conn.is_closed():
                await asyncio.wait_for(replicas.forget(conn, self.replica), 2)
                await asyncio.wait_for(conn.close(), 2)  # the session's locks go with it
        except ERRORS:
            conn.terminate()
