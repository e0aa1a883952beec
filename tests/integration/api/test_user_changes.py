"""Issue 18, items 3 and 5, through the API: who may write which declaration file, what a
User's change records, and text the database cannot store.

The attack of item 3: a User re-posted ``web.md`` (the owner's file, from git) with
"Keep them stopped" and got 201. A User may now write only files they created; the rest
answers 403 naming the file, and nothing is committed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mycopod.api import ratelimit
from mycopod.api.state import STATE
from mycopod.config import DeclarationsSettings
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.store.declarations import DeclarationStore

from .conftest import PASSWORD, Api

WEB = "Create 2 servers named web-1 through web-2, each a VM with 1 core and 1 GB of RAM.\n"
STOPPED = ("Create 2 servers named web-1 through web-2, each a VM with 1 core and 1 GB of "
           "RAM. Keep them stopped.\n")
DB = "db-1 is a VM with 2 cores and 2 GB of RAM.\n"


class Repo:
    """The declarations remote and an owner's clone that pushes to it with plain git."""

    def __init__(self, root: Path) -> None:
        self.bare, self.work = root / "remote.git", root / "work"
        self.git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=root)
        self.git("clone", "-q", str(self.bare), str(self.work), cwd=root)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Owner", "GIT_AUTHOR_EMAIL": "owner@lab",
               "GIT_COMMITTER_NAME": "Owner", "GIT_COMMITTER_EMAIL": "owner@lab"}
        return subprocess.run(["git", *args], cwd=cwd or self.work, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    def push(self, files: dict[str, str | bytes]) -> str:
        self.git("pull", "-q", "origin", "main") if self.git("ls-remote", "origin") else None
        for name, text in files.items():
            (self.work / name).write_bytes(text if isinstance(text, bytes) else text.encode())
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "owner's change")
        self.git("push", "-q", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "main", cwd=self.bare)

    def show(self, path: str) -> str:
        return self.git("show", f"main:{path}", cwd=self.bare)


@pytest.fixture
async def repo(api: Api, tmp_path: Path) -> Repo:
    """The owner pushed web.md with plain git; MycoPod recorded that commit."""
    repo = Repo(tmp_path)
    repo.push({"web.md": WEB})
    source = GitSource(DeclarationsSettings(repo=str(repo.bare)), state_dir=tmp_path / "state")
    api.ctx.source = source
    await pipeline.compile_commit(source, source.fetch(), pool=api.pool)
    return repo


async def post(api: Api, user: str, path: str, text: str, expect: int) -> Any:
    _, body = await api.call("POST", "/declarations", api.users[user], expect=expect,
                             json={"path": path, "text": text})
    return body


async def test_a_user_cannot_rewrite_a_file_that_came_from_git(api: Api, repo: Repo) -> None:
    head = repo.head()
    rows = await api.pool.fetchval("SELECT count(*) FROM declarations")
    body = await post(api, "alice", "web.md", STOPPED, 403)
    message = body["error"]["message"]
    assert body["error"]["code"] == "forbidden" and body["error"]["details"] == {
        "path": "web.md"}
    assert message.startswith("web.md already exists and came from the git repository")
    assert "only change declaration files they created" in message
    # nothing was committed or recorded
    assert repo.head() == head and repo.show("web.md") == WEB.rstrip("\n")
    assert await api.pool.fetchval("SELECT count(*) FROM declarations") == rows
    # an Admin may
    await post(api, "admin", "web.md", STOPPED, 201)


async def test_a_user_may_change_only_the_files_they_created(api: Api, repo: Repo) -> None:
    await post(api, "bob", "bob.md", DB, 201)
    body = await post(api, "alice", "bob.md", DB.replace("2 cores", "8 cores"), 403)
    assert body["error"]["message"].startswith(
        "bob.md already exists and was created by another user")
    assert "bob" not in body["error"]["message"].replace("bob.md", "")  # no other user named
    await post(api, "bob", "bob.md", DB.replace("2 cores", "4 cores"), 201)
    # an Admin's edit does not take the file away from its creator
    await post(api, "admin", "bob.md", DB.replace("2 cores", "3 cores"), 201)
    await post(api, "bob", "bob.md", DB.replace("2 cores", "5 cores"), 201)
    # nor does the owner's edit through git; a file the owner renames is the owner's
    repo.push({"bob.md": DB.replace("2 cores", "6 cores")})
    await post(api, "bob", "bob.md", DB.replace("2 cores", "7 cores"), 201)
    repo.git("pull", "-q", "origin", "main")
    repo.git("mv", "bob.md", "renamed.md")
    repo.git("commit", "-q", "-m", "rename")
    repo.git("push", "-q", "origin", "HEAD:main")
    await post(api, "bob", "renamed.md", DB, 403)
    # a file an Admin created through the API is not a User's either
    await post(api, "admin", "admin.md", "dns-1 is a container.\n", 201)
    await post(api, "alice", "admin.md", "dns-1 is a VM.\n", 403)


async def test_concurrent_submissions_of_users_all_land(api: Api, repo: Repo) -> None:
    """Each goes on top of the other under the submission lock, ownership checked again
    on the commit it lands on: no 409 between Users writing their own files."""
    bob_first = (await post(api, "bob", "b0.md", "b-0 is a VM.\n", 201))["data"]
    # [compile] per_user is 1 by default: let each user compile several at once here
    api.client.server.app[STATE].compiles = ratelimit.InFlight(5)
    results = await asyncio.gather(*(
        api.call("POST", "/declarations", api.users[user], json={"path": path, "text": text})
        for user, path, text in [("alice", "a1.md", "a-1 is a VM.\n"),
                                 ("bob", "b1.md", "b-1 is a VM.\n"),
                                 ("alice", "a2.md", "a-2 is a VM.\n"),
                                 ("bob", "b0.md", "b-0 is a VM with 2 cores.\n"),
                                 ("alice", "b0.md", "b-0 is a container.\n")]))
    assert [status for status, _ in results] == [201, 201, 201, 201, 403]
    assert len({body["data"]["github_commit_sha"] for _, body in results[:4]}) == 4
    for path in ("a1.md", "b1.md", "a2.md"):
        assert repo.show(path)
    assert repo.show("b0.md") == "b-0 is a VM with 2 cores."
    assert (bob_first["needs_approval"], bob_first["approved_at"]) == (True, None)


async def test_a_users_change_is_recorded_as_waiting_and_is_not_in_force(
        api: Api, repo: Repo) -> None:
    store = DeclarationStore(api.pool)
    in_force = await store.latest_good()
    assert in_force is not None
    alice = api.users["alice"]
    data = (await post(api, "alice", "alice.md", DB, 201))["data"]
    row = await store.get(data["id"])
    assert row is not None and row.ok
    assert (row.source, row.user_id, row.path, row.needs_approval) == (
        "api", alice.id, "alice.md", True)
    assert row.path_sha256 == pipeline.content_sha256(DB) == row.file_sha256("alice.md")
    assert await store.latest_good() == in_force
    changes = await store.unapproved_changes(row.id)
    assert [(c.declaration_id, c.path, c.username) for c in changes] == [
        (row.id, "alice.md", "alice")]

    # The owner pushes something else on top: the new commit still holds alice's file,
    # so it still carries her change and is not in force either (no laundering).
    source = api.ctx.source
    later = repo.push({"web.md": WEB.replace("1 core", "2 cores")})
    assert source is not None and source.fetch() == later
    later_row = await pipeline.compile_commit(source, later, pool=api.pool)
    assert later_row.ok and later_row.source == "git"
    assert [c.declaration_id for c in await store.unapproved_changes(later_row.id)] == [row.id]
    assert await store.latest_good() == in_force
    # an Admin's submission on top carries it too
    admin_row = await store.get((await post(api, "admin", "a.md", "a-1 is a VM.\n", 201))
                                ["data"]["id"])
    assert admin_row is not None and not admin_row.needs_approval
    assert [c.declaration_id for c in await store.unapproved_changes(admin_row.id)] == [row.id]
    assert await store.latest_good() == in_force

    # Once approved, the newest declaration is in force.
    assert await store.approve_changes([row.id], api.users["admin"].id) == [row.id]
    assert await store.latest_good() == admin_row
    approved = await store.get(row.id)
    assert approved is not None and approved.approved_by == api.users["admin"].id

    # A submission that leaves the file as it is in force changes nothing: no approval.
    same = (await post(api, "alice", "alice.md", DB, 201))["data"]
    same_row = await store.get(same["id"])
    assert same_row is not None and not same_row.needs_approval
    assert await store.latest_good() == same_row


async def test_text_the_database_cannot_store_is_refused(api: Api, repo: Repo) -> None:
    head = repo.head()
    body = await post(api, "alice", "nul.md", "db-1 is a VM.\nIt has\x00 2 cores.\n", 422)
    assert body["error"]["code"] == "compile_error"
    assert body["error"]["message"].startswith(
        "the declaration cannot be stored: nul.md:2: contains a NUL character")
    issue = body["error"]["details"][0]
    assert (issue["file"], issue["line"]) == ("nul.md", 2)
    # a lone surrogate ("\ud800") never gets that far: it is not valid JSON text
    body = await post(api, "alice", "nul.md", "db-1 is a VM \ud800.\n", 400)
    assert body["error"]["code"] == "malformed_json"
    assert repo.head() == head


async def test_a_nul_byte_in_the_branch_is_reported_and_blocks_no_submission(
        api: Api, repo: Repo) -> None:
    """The rest of item 5: the commit is a recorded compile error shown by /health, the
    spec in force stays, POST /declarations still works, and the fix is processed."""
    store = DeclarationStore(api.pool)
    in_force = await store.latest_good()
    source = api.ctx.source
    assert source is not None and in_force is not None
    bad = repo.push({"evil.md": b"db-9 is a VM.\x00\n"})
    assert source.fetch() == bad
    bad_row = await pipeline.compile_commit(source, bad, pool=api.pool)
    assert bad_row.compile_error is not None
    assert bad_row.compile_error.startswith("evil.md:1: contains a NUL character")

    # A good file of someone else is still accepted and recorded (with the branch's
    # error: nothing applies until evil.md is fixed); a bad one is still refused.
    data = (await post(api, "alice", "alice.md", DB, 201))["data"]
    assert data["compile_status"] == "error" and data["compile_error"].startswith("evil.md:1:")
    await post(api, "alice", "dup.md", WEB, 422)
    assert await store.latest_good() == in_force
    _, health = await api.call("GET", "/health", expect=200)
    assert health["data"]["repo"]["compile_error"].startswith(
        f"commit {data['github_commit_sha'][:12]}: evil.md:1: contains a NUL character")
    async with api.client.post("/ui/login", data={"username": "alice", "password": PASSWORD},
                               allow_redirects=False) as resp:
        assert resp.status == 303
    async with api.client.get("/") as resp:
        page = await resp.text()
    assert "compile error" in page and "evil.md:1: contains a NUL character" in page

    fixed = repo.push({"evil.md": "db-9 is a VM.\n"})
    await post(api, "admin", "admin.md", "a-1 is a VM.\n", 201)
    assert source.fetch() != fixed  # the Admin's commit went on top of the fix
    _, health = await api.call("GET", "/health", expect=200)
    assert health["data"]["repo"]["compile_error"] is None
    latest = await store.latest()
    assert latest is not None and latest.ok and latest.spec is not None
    assert {"a-1", "db-1", "db-9", "web-1", "web-2"} == {g.name for g in latest.spec.guests}
