"""Declarations through the API: visibility, compile-first submission, commit through git."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mycopod.api.state import STATE
from mycopod.declarations.workers import CompileWorkers
from tests.support.grammar import count_compiles

from .conftest import Api, git, make_settings, start_api, with_repository

WEB = "web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm. " \
      "It should be running.\n"
DB = "db-1 is a VM with 4 cores, 8 GB of RAM and a 64 GB disk on local-lvm. " \
     "It should be running.\n"



@pytest.fixture
async def repo_api(api: Api, tmp_path: Path) -> Api:
    """The API with a declarations repository holding web.md (pushed by the owner)."""
    api.bare = await with_repository(api, tmp_path, WEB)  # type: ignore[attr-defined]
    return api


async def test_submit_compiles_commits_and_records(repo_api: Api) -> None:
    alice = repo_api.users["alice"]
    _, body = await repo_api.call("POST", "/declarations", alice, expect=201,
                                  json={"path": "alice/db.md", "text": DB})
    data = body["data"]
    assert data["source"] == "api" and data["user_id"] == alice.id
    assert data["path"] == "alice/db.md" and data["compile_status"] == "ok"
    assert data["summary"]["guest_count"] == 2  # the whole commit: web-1 and db-1
    assert data["summary"]["kinds"] == {"vm": 2}
    assert "db-1" in data["summary"]["rendering"]
    assert [g["name"] for g in data["spec"]["guests"]] == ["db-1", "web-1"]
    bare = repo_api.bare  # type: ignore[attr-defined]
    assert git("log", "-1", "--format=%an", "main", cwd=bare) == "alice"
    assert git("show", "main:alice/db.md", cwd=bare) == DB.strip()
    assert repo_api.ctx.runtime.wake_fetch.is_set()


async def test_visibility_of_declarations(repo_api: Api) -> None:
    admin, alice, bob = (repo_api.users[n] for n in ("admin", "alice", "bob"))
    _, body = await repo_api.call("POST", "/declarations", alice, expect=201,
                                  json={"path": "db.md", "text": DB})
    mine = body["data"]["id"]
    _, body = await repo_api.call("GET", "/declarations", bob, expect=200)
    assert [d["source"] for d in body["data"]["items"]] == ["git"]
    git_id = body["data"]["items"][0]["id"]
    _, body = await repo_api.call("GET", "/declarations", alice, expect=200)
    assert {d["id"] for d in body["data"]["items"]} == {mine, git_id}
    _, body = await repo_api.call("GET", "/declarations", admin, expect=200)
    assert body["data"]["total"] == 2
    # user A reading user B's declaration: 404, as if it did not exist
    _, body = await repo_api.call("GET", f"/declarations/{mine}", bob, expect=404)
    assert body["error"]["code"] == "not_found"
    _, body = await repo_api.call("GET", f"/declarations/{mine}", alice, expect=200)
    assert "db-1" in body["data"]["content"]
    await repo_api.call("GET", f"/declarations/{mine}", admin, expect=200)
    _, body = await repo_api.call("GET", f"/declarations/{git_id}", bob, expect=200)
    assert body["data"]["summary"]["guest_count"] == 1
    await repo_api.call("GET", "/declarations/99999", admin, expect=404)


async def test_compile_errors_are_422_with_messages_and_nothing_committed(
        repo_api: Api) -> None:
    alice = repo_api.users["alice"]
    bare = repo_api.bare  # type: ignore[attr-defined]
    head = git("rev-parse", "main", cwd=bare)
    _, body = await repo_api.call("POST", "/declarations", alice, expect=422,
                                  json={"path": "bad.md",
                                        "text": "db-2 is a VM with purple unicorns.\n"})
    assert body["error"]["code"] == "compile_error"
    issue = body["error"]["details"][0]
    assert issue["file"] == "bad.md" and issue["line"] == 1 and "unicorn" in issue["message"]
    # a name already declared in another file of the branch
    _, body = await repo_api.call("POST", "/declarations", alice, expect=422,
                                  json={"path": "dup.md", "text": WEB})
    assert "web-1" in body["error"]["message"]
    await repo_api.call("POST", "/declarations", alice, expect=422,
                        json={"path": "../escape.md", "text": DB})
    await repo_api.call("POST", "/declarations", alice, expect=422,
                        json={"path": "notes.txt", "text": DB})
    await repo_api.call("POST", "/declarations", alice, expect=422,
                        json={"path": "x.md", "text": DB, "branch": "prod"})
    assert git("rev-parse", "main", cwd=bare) == head


async def test_declaration_size_limit(repo_api: Api) -> None:
    alice = repo_api.users["alice"]
    text = DB + ("\n" + "x" * 1000) * 300  # ~300 KiB
    status, body = await repo_api.call("POST", "/declarations", alice,
                                       json={"path": "big.md", "text": text})
    assert status == 413, body
    assert body["error"]["code"] == "too_large"


async def test_no_repository_is_503(db, tmp_path: Path) -> None:
    from mycopod.store.users import UserStore

    client, ctx = await start_api(db, make_settings(tmp_path))
    try:
        user = await UserStore(db).add("carol", "long enough pw", "user")
        token = client.server.app[STATE].issuer.issue(user)
        async with client.post("/declarations", json={"path": "a.md", "text": DB},
                               headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 503
    finally:
        await client.close()


async def test_injection_payloads_in_declaration_parameters_are_harmless(repo_api: Api) -> None:
    from .test_security import INJECTIONS

    alice = repo_api.users["alice"]
    before = await repo_api.pool.fetchval("SELECT count(*) FROM declarations")
    for payload in INJECTIONS:
        status, _ = await repo_api.call("POST", "/declarations", alice,
                                        json={"path": payload, "text": DB})
        assert status == 422
        status, _ = await repo_api.call("POST", "/declarations", alice,
                                        json={"path": "ok.md", "text": payload})
        assert status == 422
        for param in ("limit", "offset"):
            status, _ = await repo_api.call("GET", "/declarations", alice,
                                            params={param: payload})
            assert status == 422
        status, _ = await repo_api.call("GET", f"/declarations/{payload}", alice)
        assert status == 404
    assert await repo_api.pool.fetchval("SELECT count(*) FROM declarations") == before


async def test_user_cannot_reconcile_another_users_declaration(repo_api: Api) -> None:
    admin, alice, bob = (repo_api.users[n] for n in ("admin", "alice", "bob"))
    _, body = await repo_api.call("POST", "/declarations", alice, expect=201,
                                  json={"path": "db.md", "text": DB})
    mine = body["data"]["id"]
    await repo_api.call("PUT", "/settings/users_can_reconcile", admin, expect=200,
                        json={"value": True})
    await repo_api.call("POST", "/reconcile", bob, expect=404, json={"declaration_id": mine})
    await repo_api.call("POST", "/reconcile", alice, expect=202, json={"declaration_id": mine})
    await repo_api.call("POST", "/reconcile", admin, expect=202, json={"declaration_id": mine})


async def test_a_submitted_file_is_compiled_once(repo_api: Api,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Alone (for its own messages) and then with the branch's other files, the
    submitted text is compiled once: the second compile reads the first one's result
    from the compile cache; "understood as" is rendered from it, not compiled again.
    Counted where the API hands texts to the grammar: the compile workers (the real
    ones) and ``grammar.compile_text`` in the API's own process."""
    handed: list[str] = []
    real_compile = CompileWorkers.compile

    async def counting(self: CompileWorkers, files: Any, **kwargs: Any) -> Any:
        handed.extend(files.values())
        return await real_compile(self, files, **kwargs)

    monkeypatch.setattr(CompileWorkers, "compile", counting)
    in_process = count_compiles(monkeypatch)
    text = DB + "\ncache-1 is a container with 1 core.\n"
    alice = repo_api.users["alice"]
    _, body = await repo_api.call("POST", "/declarations", alice, expect=201,
                                  json={"path": "alice/db.md", "text": text})
    assert body["data"]["summary"]["guest_count"] == 3  # web-1, db-1 and cache-1
    assert handed.count(text) == 1
    assert set(handed) <= {text, WEB}  # and the branch's file, when not cached yet
    assert in_process == []
