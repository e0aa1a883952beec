"""Fair share of cluster leadership (reconcile/fairshare.py) on the embedded PostgreSQL.

Replica processes (tests/support/fairshare_replica.py) compete for ten clusters: each
cluster is led by exactly one of them (pg_locks, and what each replica says it leads),
each leads its share, a new replica gets its share, and after a SIGKILL the dead
replica's clusters are led elsewhere within 15 s. The printed leadership changes of every
replica show that no cluster was ever led by two at once. In-process tests check the
lease surface the daemon uses (leader, changed, release) and a lost session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg
import pytest

from mycopod.reconcile.fairshare import FairShare
from mycopod.reconcile.leader import lock_key
from mycopod.store import replicas
from tests.support.fairshare_replica import ReplicaProcess, holders, overlaps

pytestmark = pytest.mark.timeout(240)

CLUSTERS = [f"site-{i}" for i in range(10)]
#: the defaults of FairShare, so the 15 s takeover is measured as shipped
CHECK_SECONDS = 2.0
HEARTBEAT_TIMEOUT = 10.0


def wait_for(check: Callable[[], str | None], timeout: float) -> float:
    """Poll ``check`` (None: done, else what is still wrong) until done; seconds taken."""
    start = time.monotonic()
    problem: str | None = "not checked"
    while time.monotonic() - start < timeout:
        problem = check()
        if problem is None:
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"after {timeout} s: {problem}")


def assignment(url: str, procs: list[ReplicaProcess], counts: list[int]) -> str | None:
    """None when every cluster is locked by exactly one live replica's session, each
    replica says it leads exactly the clusters it locks, and the counts are ``counts``."""
    locked = asyncio.run(holders(url, CLUSTERS))
    doubled = {c: r for c, r in locked.items() if len(r) != 1}
    if doubled:
        return f"clusters not locked by exactly one replica: {doubled}"
    for p in procs:
        mine = {c for c, r in locked.items() if r == [p.replica]}
        if p.leading() != mine:
            return f"{p.replica} says it leads {sorted(p.leading())}, locks {sorted(mine)}"
    got = sorted(len(p.leading()) for p in procs)
    return None if got == counts else f"counts per replica {got}, want {counts}"


def test_replica_processes_share_ten_clusters_and_take_over_after_sigkill(
        database_url: str) -> None:
    procs: list[ReplicaProcess] = []

    def start(name: str) -> ReplicaProcess:
        proc = ReplicaProcess(database_url, name, CLUSTERS, check_seconds=CHECK_SECONDS,
                              heartbeat_timeout=HEARTBEAT_TIMEOUT)
        procs.append(proc)
        assert proc.ready.wait(30), f"replica {name} did not start"
        return proc

    try:
        for name in ("r1", "r2", "r3"):
            start(name)
        wait_for(lambda: assignment(database_url, procs, [3, 3, 4]), 60)
        time.sleep(3 * CHECK_SECONDS)  # stable: nothing moves once shared out
        assert assignment(database_url, procs, [3, 3, 4]) is None

        start("r4")
        wait_for(lambda: assignment(database_url, procs, [2, 2, 3, 3]), 90)

        victim = max(procs, key=lambda p: (len(p.leading()), p.replica))
        orphans = victim.leading()
        victim.kill()
        alive = [p for p in procs if p is not victim]

        def orphans_led() -> str | None:
            locked = asyncio.run(holders(database_url, CLUSTERS))
            left = {c for c in orphans if not locked[c]
                    or not any(c in p.leading() for p in alive)}
            return f"not led yet: {sorted(left)}" if left else None

        takeover = wait_for(orphans_led, 15)
        wait_for(lambda: assignment(database_url, alive, [3, 3, 4]), 60)
    finally:
        for proc in procs:
            proc.stop()
    assert takeover < 15
    assert overlaps(procs, time.time()) == []
    # every replica printed changes, and the victim's clusters did change hands
    assert all(p.changes for p in procs)
    assert orphans


async def _locked(url: str) -> dict[str, list[str]]:
    names = {lock_key(c): c for c in CLUSTERS}
    conn = await asyncpg.connect(url)
    try:
        rows = await replicas.holders(conn)
    finally:
        await conn.close()
    out: dict[str, list[str]] = {}
    for key, replica in rows:
        out.setdefault(names[key], []).append(replica)
    return out


async def test_leases_have_the_leader_election_surface_and_release_at_shutdown(
        database_url: str) -> None:
    clusters = CLUSTERS[:4]
    a = FairShare(database_url, clusters, replica_id="a", check_seconds=0.2,
                  heartbeat_timeout=5)
    b = FairShare(database_url, clusters, replica_id="b", check_seconds=0.2,
                  heartbeat_timeout=5)
    try:
        for _ in range(3):  # announce, then take (each waits for the other's share)
            await a.step()
            await b.step()
        assert len(a.leading()) == 2 and len(b.leading()) == 2
        assert set(a.leading()) | set(b.leading()) == set(clusters)
        locked = await _locked(database_url)
        assert {c: r for c, r in locked.items()} == {
            **{c: ["a"] for c in a.leading()}, **{c: ["b"] for c in b.leading()}}
        lease = a.lease(a.leading()[0])
        assert lease.leader and lease.changed.is_set() and lease.key == lock_key(lease.cluster)
        lease.changed.clear()

        await lease.release()
        assert not lease.leader and lease.changed.is_set()
        assert lease.cluster not in await _locked(database_url)
        await a.step()
        assert lease.cluster not in a.leading(), "a released cluster is not taken back"

        await a.close()  # the row goes, so b's share is everything at its next round
        conn = await asyncpg.connect(database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM replicas WHERE id = 'a'") == 0
        finally:
            await conn.close()
        await b.step()
        await b.step()
        assert b.leading() == sorted(clusters)
    finally:
        await a.close()
        await b.close()


async def test_a_lost_session_gives_up_every_cluster_and_the_other_replica_takes_them(
        database_url: str) -> None:
    clusters = CLUSTERS[:4]
    a = FairShare(database_url, clusters, replica_id="a", check_seconds=0.2,
                  heartbeat_timeout=5)
    b = FairShare(database_url, clusters, replica_id="b", check_seconds=0.2,
                  heartbeat_timeout=5)
    try:
        for _ in range(3):
            await a.step()
            await b.step()
        had = a.leading()
        assert len(had) == 2
        conn = await asyncpg.connect(database_url)
        try:
            # waits (up to 5 s) until the session is gone, as a killed replica's would be
            await conn.execute("SELECT pg_terminate_backend(backend_pid, 5000) FROM replicas "
                               "WHERE id = 'a'")
        finally:
            await conn.close()
        await b.step()  # a's locks went with its session, and a is not live any more
        await b.step()
        assert b.leading() == sorted(clusters)
        await a.step()  # finds its session gone: leads nothing, connects again
        assert a.leading() == []
        assert all(not a.lease(c).leader and a.lease(c).changed.is_set() for c in had)
        for _ in range(12):  # a is back: announces, then b hands two over, one a round
            await a.step()
            await b.step()
        assert len(a.leading()) == 2 and len(b.leading()) == 2
    finally:
        await a.close()
        await b.close()


def test_bad_settings_are_refused_with_what_to_fix() -> None:
    with pytest.raises(ValueError, match="at least one cluster"):
        FairShare("postgresql:///x", [])
    with pytest.raises(ValueError, match="unique"):
        FairShare("postgresql:///x", ["a", "a"])
    with pytest.raises(ValueError, match="heartbeat_timeout .* longer than check_seconds"):
        FairShare("postgresql:///x", ["a"], check_seconds=5, heartbeat_timeout=5)
    with pytest.raises(ValueError, match="unknown cluster 'b'; this replica competes for a"):
        FairShare("postgresql:///x", ["a"]).lease("b")


async def test_the_loop_runs_while_any_lease_runs_it(database_url: str) -> None:
    """The daemon may keep one ``leader-election`` task per cluster (``lease.run``): the
    shared loop starts with the first and stops with the last."""
    share = FairShare(database_url, CLUSTERS[:2], replica_id="solo", check_seconds=0.1,
                      heartbeat_timeout=2)
    one, two = share.lease(CLUSTERS[0]), share.lease(CLUSTERS[1])
    first = asyncio.create_task(one.run())
    second = asyncio.create_task(two.run())
    try:
        await asyncio.wait_for(asyncio.gather(one.changed.wait(), two.changed.wait()), 10)
        assert one.leader and two.leader
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await asyncio.sleep(0.5)
        assert share._driver is not None and not share._driver.done(), "still driven"
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        assert share._driver is None
    finally:
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
        await share.close()
    assert not one.leader and not two.leader


async def test_a_replica_is_live_while_it_beats_and_its_lock_session_is_open(
        database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    gone = await asyncpg.connect(database_url)
    gone_pid = gone.get_server_pid()
    await gone.close()
    try:
        mine = conn.get_server_pid()
        await conn.execute(
            "INSERT INTO replicas (id, host, pid, backend_pid, leads, last_seen) VALUES "
            "('stale', 'h', 1, $1, 1, NOW() - INTERVAL '30 seconds'), "
            "('closed', 'h', 2, $2, 1, NOW()), "
            "('old', 'h', 3, $2, 0, NOW() - INTERVAL '2 hours')", mine, gone_pid)
        seen = await replicas.beat(conn, "me", leading=2, live_seconds=10)
        assert [(r.id, r.leading) for r in seen] == [("me", 2)]
        row = await conn.fetchrow("SELECT host, pid, backend_pid FROM replicas WHERE id = 'me'")
        assert row is not None and row["backend_pid"] == mine and row["pid"] > 0
        assert await conn.fetchval("SELECT count(*) FROM replicas WHERE id = 'old'") == 0
        await conn.execute("UPDATE replicas SET last_seen = NOW() WHERE id = 'stale'")
        seen = await replicas.beat(conn, "me", leading=2, live_seconds=10)
        assert sorted(r.id for r in seen) == ["me", "stale"]
        await replicas.forget(conn, "me")
        assert await conn.fetchval("SELECT count(*) FROM replicas WHERE id = 'me'") == 0
    finally:
        await conn.close()
