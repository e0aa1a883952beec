"""Pure and small parts of the controller: backoff, guarded tasks, the leader lock."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import structlog

from mycopod.backoff import Backoff
from mycopod.config import load_settings
from mycopod.config_reload import reload_changes
from mycopod.reconcile import supervision
from mycopod.reconcile.leader import LeaderElection, lock_key
from mycopod.reconcile.supervision import DatabaseSupervisor, TaskGroup


def test_backoff_doubles_with_jitter_from_1s_to_10min_and_resets() -> None:
    low = Backoff(rng=lambda: 0.0)
    high = Backoff(rng=lambda: 1.0)
    lows = [low.failure() for _ in range(15)]
    highs = [high.failure() for _ in range(15)]
    assert lows[0] == 1.0 and highs[0] == 1.0
    assert highs[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert lows[4] == 8.0  # half the ceiling at least: retries never bunch up at zero
    assert max(highs) == 600.0 and highs[-1] == 600.0 and lows[-1] == 300.0
    assert high.failing
    high.success()
    assert not high.failing and high.failure() == 1.0


def test_lock_keys_differ_per_cluster_and_fit_a_bigint() -> None:
    assert lock_key("default") != lock_key("lab")
    assert -(2**63) <= lock_key("default") < 2**63
    # pinned: every replica, whatever its version or PYTHONHASHSEED, takes the same lock
    assert lock_key("default") == 655104280774691339


async def test_a_task_that_dies_stops_the_daemon() -> None:
    deaths: list[tuple[str, str | None]] = []
    group = TaskGroup(lambda name, exc: deaths.append((name, repr(exc) if exc else None)))

    async def boom() -> None:
        raise ValueError("bad")

    async def quits() -> None:
        return None

    async def forever() -> None:
        await asyncio.Event().wait()

    group.spawn("boom", boom())
    group.spawn("quits", quits())
    group.spawn("forever", forever())
    await asyncio.sleep(0.05)
    assert ("boom", "ValueError('bad')") in deaths
    assert ("quits", None) in deaths
    assert group.names() == ["forever"]
    await group.cancel_all(grace=1)
    assert group.names() == []
    assert len(deaths) == 2  # cancelling at shutdown is not a death


async def test_one_leader_per_cluster_and_takeover_when_the_session_dies(
    database_url: str,
) -> None:
    changes: list[tuple[str, bool]] = []
    a = LeaderElection(database_url, cluster="c1", check_seconds=0.2,
                       on_change=lambda v: changes.append(("a", v)))
    b = LeaderElection(database_url, cluster="c1", check_seconds=0.2,
                       on_change=lambda v: changes.append(("b", v)))
    other = LeaderElection(database_url, cluster="c2", check_seconds=0.2)
    await a.step()
    await b.step()
    await other.step()
    assert a.leader and not b.leader and other.leader

    # The leader's session is killed from outside (a dead process, a lost network).
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'mycopod-leader-c1'")
    finally:
        await admin.close()
    for _ in range(100):
        if not a.leader:
            break
        await asyncio.sleep(0.02)
    assert not a.leader  # noticed at once, without waiting for the next check
    for _ in range(50):  # the server frees the lock as the killed backend exits
        await b.step()
        if b.leader:
            break
        await asyncio.sleep(0.05)
    assert b.leader
    await a.step()
    assert not a.leader  # it came back as a standby
    assert ("a", False) in changes and ("b", True) in changes
    await b.release()
    await a.step()
    assert a.leader
    for election in (a, other):
        await election.release()


async def test_checks_and_the_release_at_the_same_time_take_turns_on_the_connection(
    database_url: str,
) -> None:
    # The election's task checks while the daemon's close releases: an asyncpg connection
    # runs one operation at a time, so overlapping uses must wait for each other rather
    # than fail ("another operation is in progress") and drop the lock by accident.
    changes: list[bool] = []
    a = LeaderElection(database_url, cluster="c3", check_seconds=0.2, on_change=changes.append)
    await a.step()
    assert a.leader
    with structlog.testing.capture_logs() as logs:
        await asyncio.gather(*(a.step() for _ in range(5)), a.release())
    assert [e for e in logs if e["event"] == "leader.check_failed"] == []
    assert [(e["event"], e["reason"]) for e in logs if e["event"].startswith("leader.")] == [
        ("leader.lost", "released at shutdown")]
    assert changes == [True, False]
    b = LeaderElection(database_url, cluster="c3", check_seconds=0.2)
    await b.step()  # the lock was given back: a standby takes it at its first check
    assert b.leader
    await b.release()


def test_sighup_reload_separates_safe_from_restart_settings() -> None:
    old = load_settings(environ={})
    new = load_settings(environ={}, overrides={
        "policy": {"prune": True}, "apply": {"drift_seconds": 5.0},
        "logging": {"level": "debug"}, "api": {"port": 9999}, "retention_days": 30})
    safe, unsafe = reload_changes(old, new)
    assert safe == {"policy.prune": (False, True), "apply.drift_seconds": (60.0, 5.0),
                    "logging.level": ("info", "debug"), "retention_days": (90, 30)}
    assert unsafe == ["api.port"]




class FakeCheck:
    """A database that is down until ``restarts_needed`` restarts have been made."""

    def __init__(self, restarts_needed: int) -> None:
        self.restarts_needed = restarts_needed
        self.error: str | None = None

    async def check(self, *, max_age: float | None = None) -> bool:
        up = self.restarts_needed <= 0
        self.error = None if up else "ConnectionRefusedError"
        return up


async def test_database_supervisor_restarts_at_once_then_with_backoff(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(supervision.time, "monotonic", lambda: clock[0])
    check = FakeCheck(restarts_needed=3)
    attempts: list[float] = []
    expired: list[bool] = []

    async def restart() -> None:
        attempts.append(clock[0])
        check.restarts_needed -= 1
        if check.restarts_needed > 0:
            raise RuntimeError("not yet")

    async def after() -> None:
        expired.append(True)

    sup = DatabaseSupervisor(check, restart=restart, after_restart=after,  # type: ignore[arg-type]
                             restart_max_seconds=60, stable_seconds=30, rng=lambda: 1.0)
    for _ in range(40):  # 20 s of checks every 0.5 s
        await sup.step()
        clock[0] += 0.5
    # at once, then 1 s, then 2 s later (doubling), and no attempt once it is up
    assert [t - 1000.0 for t in attempts] == [0.0, 1.0, 3.0]
    assert sup.up is True and expired == [True]
    assert sup.backoff.failing  # reset only once it has stayed up a while
    for _ in range(70):
        await sup.step()
        clock[0] += 0.5
    assert not sup.backoff.failing


async def test_database_supervisor_without_restart_only_reports() -> None:
    check = FakeCheck(restarts_needed=1)
    sup = DatabaseSupervisor(check)  # type: ignore[arg-type]
    await sup.step()
    assert sup.up is False and sup.restart_attempts == 0
    check.restarts_needed = 0
    await sup.step()
    assert sup.up is True
