"""The submission lock is per cluster (issue 17): recording one cluster's new head never
waits for another cluster's, while POST /declarations and the poller of the same cluster
still exclude each other."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from mycopod.store.declarations import SUBMISSION_LOCK_KEY, submission_key, submission_lock


async def test_one_cluster_s_lock_leaves_the_others_free(db: asyncpg.Pool) -> None:
    async with db.acquire() as api_conn, db.acquire() as poller_a, db.acquire() as poller_b:
        async with submission_lock(api_conn, cluster="site-a"):
            with pytest.raises(TimeoutError):  # the same cluster's poller waits
                async with submission_lock(poller_a, cluster="site-a", wait=0.3):
                    pass
            # another cluster's poller records at once
            async with asyncio.timeout(1.0), submission_lock(poller_b, cluster="site-b",
                                                             wait=0.3):
                pass
        async with submission_lock(poller_a, cluster="site-a", wait=0.3):
            pass


def test_keys_are_per_cluster_and_the_single_cluster_keeps_its_key() -> None:
    assert submission_key() == submission_key("default") == SUBMISSION_LOCK_KEY
    keys = {submission_key(f"c{i:02d}") for i in range(10)} | {SUBMISSION_LOCK_KEY}
    assert len(keys) == 11
    assert all(-(1 << 63) <= k < (1 << 63) for k in keys)
