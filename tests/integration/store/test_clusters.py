"""Rows of several clusters in one database (issue 17): each cluster sees its own
declarations and policy settings; one commit may be recorded once per cluster."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg

from mycopod.config import PolicySettings
from mycopod.spec import ClusterSpec, parse_spec
from mycopod.store import migrate
from mycopod.store.db import init_connection
from mycopod.store.declarations import DeclarationStore
from mycopod.store.settings import SettingsStore


def spec(*names: str) -> ClusterSpec:
    return parse_spec({"guests": [{"name": n, "cores": 2} for n in names]})


async def test_one_commit_recorded_per_cluster_and_read_back_per_cluster(
        db: asyncpg.Pool) -> None:
    a, b = DeclarationStore(db, "a"), DeclarationStore(db, "b")
    sha = "1" * 40
    row_a = await a.record(commit_sha=sha, content="a", files=[], spec=spec("web"), error=None)
    row_b = await b.record(commit_sha=sha, content="b", files=[], spec=spec("web", "db"),
                           error=None)
    assert row_a.id != row_b.id and (row_a.cluster, row_b.cluster) == ("a", "b")
    # recording it again replaces that cluster's row only
    again = await a.record(commit_sha=sha, content="a2", files=[], spec=spec("web"), error=None)
    assert again.id == row_a.id
    got_a, got_b = await a.get_by_commit(sha), await b.get_by_commit(sha)
    assert got_a is not None and got_a.content == "a2"
    assert got_b is not None and got_b.content == "b"
    good_a, good_b = await a.latest_good(), await b.latest_good()
    assert good_a is not None and good_a.spec is not None
    assert good_b is not None and good_b.spec is not None
    # the same guest name in both clusters is fine
    assert [g.name for g in good_a.spec.guests] == ["web"]
    assert sorted(g.name for g in good_b.spec.guests) == ["db", "web"]
    assert await DeclarationStore(db, "c").latest() is None
    page, total = await a.page_visible(viewer_id=None, cluster="b")
    assert total == 1 and [d.cluster for d in page] == ["b"]
    _page, everything = await a.page_visible(viewer_id=None)
    assert everything == 2


async def test_policy_settings_are_per_cluster(db: asyncpg.Pool) -> None:
    base = PolicySettings()
    await SettingsStore(db, "a").put("suspended", True, user_id=None)
    assert (await SettingsStore(db, "a").effective_policy(base)).suspended is True
    assert (await SettingsStore(db, "b").effective_policy(base)).suspended is False
    await SettingsStore(db, "b").put("suspended", False, user_id=None)
    await SettingsStore(db, "a").delete("suspended")
    assert (await SettingsStore(db, "a").effective_policy(base)).suspended is False
    assert await SettingsStore(db, "b").overrides() == {"suspended": False}


MIGRATIONS = Path(__file__).resolve().parents[3] / "controller" / "mycopod" / "migrations"


async def test_the_upgrade_keeps_a_named_clusters_declarations_and_settings(
        empty_database_url: str, tmp_path: Path) -> None:
    """Before 0009 one deployment was one cluster, maybe named ("prod"): after the upgrade
    its spec in force and its settings (a suspension) are still that cluster's."""
    before = tmp_path / "before"
    before.mkdir()
    for path in sorted(MIGRATIONS.glob("000[1-8]_*.sql")):
        shutil.copy(path, before / path.name)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate.up(conn, directory=before)
        await conn.execute(
            "INSERT INTO declarations (github_commit_sha, content, spec) "
            "VALUES ($1, '', '{\"guests\": []}'::jsonb)", "a" * 40)
        await conn.execute("INSERT INTO settings (key, value) VALUES ('suspended', 'true')")
        await conn.execute("INSERT INTO reconciliation_runs (trigger, cluster) "
                           "VALUES ('manual', 'prod')")
        await migrate.up(conn)
        await init_connection(conn)  # JSON codecs, as the pool's connections have
        assert (await DeclarationStore(conn, "prod").latest_good()) is not None
        assert (await DeclarationStore(conn, "default").latest_good()) is None
        policy = await SettingsStore(conn, "prod").effective_policy(PolicySettings())
        assert policy.suspended is True
        # and back down: the one cluster's rows stay
        await migrate.down(conn, 1)
        assert await conn.fetchval("SELECT count(*) FROM declarations") == 1
        assert await conn.fetchval("SELECT value FROM settings WHERE key = 'suspended'") == "true"
    finally:
        await conn.close()
