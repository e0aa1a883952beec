"""Users and settings stores against the real database."""

from __future__ import annotations

import asyncpg
import pytest

from mycopod.config import PolicySettings
from mycopod.store.settings import SettingError, SettingsStore
from mycopod.store.users import UserError, UserStore


async def test_users_authenticate_demote_disable(db: asyncpg.Pool) -> None:
    users = UserStore(db)
    alice = await users.add("alice", "correct horse battery", "ADMIN")
    assert alice.role == "Admin" and alice.is_admin
    assert await users.authenticate("alice", "correct horse battery") is not None
    assert await users.authenticate("alice", "wrong password!!") is None
    assert await users.authenticate("nobody", "correct horse battery") is None
    demoted = await users.update(alice.id, role="user")
    assert demoted is not None and demoted.role == "User"
    await users.set_disabled("alice")
    assert await users.authenticate("alice", "correct horse battery") is None
    fetched = await users.get(alice.id)
    assert fetched is not None and fetched.disabled
    stored = await users.password_hash("alice")
    assert stored is not None and stored.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("bob", "short", "user", "at least 10 characters"),
        ("bob", "          ", "user", "empty"),
        ("bob", "long enough password", "root", "unknown role 'root'"),
        ("Bob Smith", "long enough password", "user", "invalid username"),
        ("bob'; DROP TABLE users; --", "long enough password", "user", "invalid username"),
    ],
)
async def test_bad_users_are_refused(db: asyncpg.Pool, name: str, password: str, role: str,
                                     message: str) -> None:
    with pytest.raises(UserError, match=message):
        await UserStore(db).add(name, password, role)
    assert await db.fetchval("SELECT count(*) FROM users") == 0


async def test_settings_override_policy_and_are_validated(db: asyncpg.Pool) -> None:
    store = SettingsStore(db)
    base = PolicySettings()
    assert (await store.effective_policy(base)).prune is False
    await store.put("prune", True, user_id=None)
    await store.put("max_deletions_per_run", 3, user_id=None)
    policy = await store.effective_policy(base)
    assert policy.prune is True and policy.max_deletions_per_run == 3
    listed = {s.key: s for s in await store.list(base)}
    assert listed["prune"].source == "database" and listed["self_heal"].source == "config"
    with pytest.raises(SettingError, match="unknown setting 'prnue'"):
        await store.put("prnue", True, user_id=None)
    with pytest.raises(SettingError, match="setting prune"):
        await store.put("prune", "yes please", user_id=None)
    with pytest.raises(SettingError, match="max_deletions_per_run"):
        await store.put("max_deletions_per_run", -1, user_id=None)
    assert (await store.effective_policy(base)).prune is True
