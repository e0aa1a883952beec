"""POST /declarations/import: an Admin gets the cluster's guests as declarations that
compile, and can have them committed on a new branch for review; a User gets 403."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from mycopod.declarations import grammar
from mycopod.pvesim.testing import SimHandle
from tests.integration.api.conftest import Api, git, start_api, with_repository
from tests.integration.reconcile.conftest import make_settings as engine_settings
from tests.support import brownfield


async def test_an_admin_imports_and_commits_on_a_branch(db: asyncpg.Pool, sim: SimHandle,
                                                      tmp_path: Path) -> None:
    brownfield.build(sim)
    settings = engine_settings(sim).model_copy(update={"state_dir": tmp_path})
    client, ctx = await start_api(db, settings)
    api = Api(client=client, ctx=ctx, pool=db)
    try:
        await api.add_user("root-admin", "admin")
        await api.add_user("carol", "user")
        bare = await with_repository(api, tmp_path, "web-1 is a VM with 2 cores.\n")
        admin, carol = api.users["root-admin"], api.users["carol"]
        await api.call("POST", "/declarations/import", carol, json={}, expect=403)

        _, body = await api.call("POST", "/declarations/import", admin, expect=200,
                                 json={"branch": "import/review"})
        data = body["data"]
        assert data["files"] and data["guests"]
        assert data["branch"] == "import/review" and len(data["commit_sha"]) == 40
        for name, text in data["files"].items():  # each file compiles offline
            spec = grammar.compile_text(text, filename=name)
            assert all(g.adopt for g in spec.guests)
        # the branch holds the files; the followed branch did not move
        listed = git("--git-dir", str(bare), "ls-tree", "--name-only", "import/review",
                     cwd=tmp_path).split()
        assert set(data["files"]) <= set(listed)
        assert set(git("--git-dir", str(bare), "ls-tree", "--name-only", "main",
                       cwd=tmp_path).split()) == {"web.md"}
        # one name: only that guest; the same branch again: refused, not overwritten
        one = data["guests"][0]
        _, body = await api.call("POST", "/declarations/import", admin, expect=200,
                                 json={"guests": [one]})
        assert body["data"]["guests"] == [one] and body["data"]["branch"] is None
        await api.call("POST", "/declarations/import", admin, expect=409,
                       json={"branch": "import/review"})
        await api.call("POST", "/declarations/import", admin, expect=422,
                       json={"branch": "main; rm -rf /"})
    finally:
        await client.close()
