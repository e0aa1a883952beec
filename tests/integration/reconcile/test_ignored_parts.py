"""What the grammar read and deliberately did not use, wherever "understood as" is shown
(issue 13, "no word is ever silently ignored"): a real repository, the poller and run
worker against the simulator, the run's plan over the API, the status page's run,
overview and file views, and the pull-request comment on the stand-in forge.

The paragraph holds an e-mail quote with markup in it: every place shows it as written,
never as markup (HTML-escaped on the pages, Markdown-escaped in the comment)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from tests.integration.api.conftest import Api, api, fast_argon2  # noqa: F401
from tests.integration.reconcile.test_llm_approval_flow import Flow, settled
from tests.integration.reconcile.test_pr_plans import delivery, pr_planning, until
from tests.integration.ui.conftest import page, sign_in
from tests.support.gitrepo import Remote

QUOTE = "> Could we get a web server <b>soon</b>? `now`"
TEXT = (f"{QUOTE}\nSince the old box died, web-1 is a VM with 2 cores.\n\n"
        "db-1 is a VM with 1 core.\n")
QUOTED = f"ignored as quoted text: {QUOTE!r}"
CONTEXT = "ignored as context: 'Since the old box died'"
#: as an HTML page shows them (Jinja's escaping)
QUOTED_HTML = ("ignored as quoted text: &#39;&gt; Could we get a web server "
               "&lt;b&gt;soon&lt;/b&gt;? `now`&#39;")
CONTEXT_HTML = "ignored as context: &#39;Since the old box died&#39;"


async def test_the_run_api_and_pages_show_what_was_ignored_with_its_paragraph(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool, api: Api,  # noqa: F811
        tmp_path: Path) -> None:
    ctx = await make_ctx()
    flow = Flow(ctx, api, tmp_path, "http://127.0.0.1:9/never-asked")
    task = asyncio.create_task(flow.controller.run(), name="run-worker")
    try:
        sha = await flow.push(TEXT)
        run = await settled(db, sha, "Succeeded", "Failed", "AwaitingApproval")
        assert run.status == "Succeeded", run.error
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert direct.find_guest(sim.cluster, "web-1") is not None

    _, body = await api.call("GET", f"/reconcile/{run.id}", api.users["admin"], expect=200)
    sources = {s["guest"]: s for s in body["data"]["plan"]["sources"]}
    assert (sources["web-1"]["line"], sources["web-1"]["understood_as"],
            sources["web-1"]["ignored"]) == (1, "web-1 is a VM with 2 cores.",
                                             [QUOTED, CONTEXT])
    assert (sources["db-1"]["line"], sources["db-1"]["ignored"]) == (4, [])
    _, doc = await api.call("GET", "/openapi.json", expect=200)  # described for clients
    described = doc["components"]["schemas"]["ParagraphSource"]["properties"]["ignored"]
    assert described["type"] == "array" and "did not use" in described["description"]

    await sign_in(api, "admin")
    for path in (f"/ui/runs/{run.id}", "/"):  # the run, and the status page's latest plan
        shown = await page(api, path)
        assert QUOTED_HTML in shown and CONTEXT_HTML in shown, path
        assert "<b>soon</b>" not in shown and shown.count(CONTEXT_HTML) == 1, path
    file_page = await page(api, f"/ui/declarations/{run.declaration_id}/file?path=web.md")
    assert QUOTED_HTML in file_page and CONTEXT_HTML in file_page
    assert "<b>soon</b>" not in file_page
    db_part = file_page.split('id="line-4"', 1)[1]
    assert "ignored as" not in db_part  # db-1's paragraph dropped nothing


async def test_the_pull_request_comment_shows_what_was_ignored_escaped(
        make_ctx: Any, db: asyncpg.Pool, tmp_path: Path) -> None:
    engine = await make_ctx()
    remote = Remote(tmp_path)
    base = remote.commit({"other.md": "cache-1 is a container.\n"})
    async with pr_planning(engine, db, remote, tmp_path / "s") as planning:
        forge, planner = planning.forge, planning.planner
        head = remote.commit({"web.md": TEXT}, push=False)
        remote.git("push", "-q", "origin", "HEAD:refs/pull/8/head")
        body, headers = delivery("opened", 8, head, base)
        async with planning.client.post("/webhooks/github", data=body,
                                        headers=headers) as resp:
            assert resp.status == 200, await resp.text()
        await until(lambda: planner.done == 1, "the plan")
    (created,) = forge.of("create")
    text = created.body["body"]
    understood = text.split("How each paragraph was understood", 1)[1].split("</details>")[0]
    web, db_part = understood.split("`web.md:4`")
    ignored = [line for line in web.splitlines() if line.startswith("ignored:")]
    assert ignored == ["ignored: as quoted text: '\\> Could we get a web server "
                       "\\<b\\>soon\\</b\\>? \\`now\\`'; as context: 'Since the old box died'"]
    assert web.index("understood as: web-1 is a VM with 2 cores.") < web.index("ignored:")
    assert "ignored" not in db_part
    assert forge.invalid == []
