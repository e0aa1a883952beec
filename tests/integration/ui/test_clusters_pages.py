"""The web pages with several clusters (issue 17): the settings page shows and changes
the chosen cluster's policy; the declarations and commits pages show its commits, the
overview its figures, latest plan and runs."""

from __future__ import annotations

import re

from mycopod.api.context import ClusterView
from mycopod.reconcile.plan import ClusterReport, GuestReport
from mycopod.runtime import RuntimeStatus
from mycopod.spec import parse_spec
from mycopod.store.declarations import DeclarationStore
from mycopod.store.runs import RunStore
from mycopod.store.settings import SettingsStore
from tests.integration.api.conftest import Api

from .conftest import csrf, page, post, sign_in


def _row(text: str, key: str) -> str:
    match = re.search(rf'<tr id="setting-{key}">(.*?)</tr>', text, re.S)
    assert match, key
    return match.group(1)


async def test_the_settings_page_is_per_cluster(api: Api) -> None:
    settings = api.ctx.settings
    strict = settings.model_copy(update={
        "policy": settings.policy.model_copy(update={"four_eyes": True})})
    api.ctx.clusters = {"a": ClusterView(settings=settings, runtime=RuntimeStatus(cluster="a")),
                        "b": ClusterView(settings=strict, runtime=RuntimeStatus(cluster="b"))}
    await sign_in(api, "admin")
    first = await page(api, "/ui/settings")
    assert "Settings of a" in first and '<option value="b">b</option>' in first
    assert '<option value="false" selected>off</option>' in _row(first, "four_eyes")
    of_b = await page(api, "/ui/settings?cluster=b")
    assert "Settings of b" in of_b
    assert '<option value="true" selected>on</option>' in _row(of_b, "four_eyes")
    assert 'action="/ui/settings/prune?cluster=b"' in of_b

    location, _ = await post(api, "/ui/settings/prune?cluster=b",
                             {"csrf": await csrf(api), "value": "false"}, expect=303)
    assert location == "/ui/settings?cluster=b&n=setting_saved"
    assert await SettingsStore(api.pool, "b").overrides() == {"prune": False}
    assert await SettingsStore(api.pool, "a").overrides() == {}
    assert "database" in _row(await page(api, "/ui/settings?cluster=b"), "prune")
    assert "database" not in _row(await page(api, "/ui/settings?cluster=a"), "prune")


async def test_the_declarations_pages_show_the_chosen_cluster(api: Api) -> None:
    settings = api.ctx.settings
    api.ctx.clusters = {n: ClusterView(settings=settings, runtime=RuntimeStatus(cluster=n))
                        for n in ("a", "b")}
    spec = parse_spec({"guests": [{"name": "web-1", "cores": 1}]})
    ids = {}
    for name in ("a", "b"):
        row = await DeclarationStore(api.pool, name).record(
            commit_sha=name * 40, content="x", files=[], spec=spec, error=None)
        ids[name] = row.id
    await sign_in(api, "admin")
    first = await page(api, "/ui/declarations")
    assert "Declarations of a" in first and "a" * 10 in first and "b" * 10 not in first
    assert 'href="/ui/commits?cluster=a"' in first
    of_b = await page(api, "/ui/declarations?cluster=b")
    assert "Declarations of b" in of_b and "b" * 10 in of_b and "a" * 10 not in of_b
    # a commit named by id shows its own cluster
    assert "Declarations of b" in await page(api, f"/ui/declarations?id={ids['b']}")
    commits = await page(api, "/ui/commits?cluster=b")
    assert "Commits of b" in commits
    assert f"/ui/declarations?id={ids['b']}" in commits
    assert f"/ui/declarations?id={ids['a']}" not in commits


async def test_the_overview_shows_the_chosen_clusters_figures(api: Api) -> None:
    settings = api.ctx.settings
    api.ctx.clusters = {n: ClusterView(settings=settings, runtime=RuntimeStatus(cluster=n))
                        for n in ("a", "b")}
    for count, name in ((1, "a"), (3, "b")):
        api.ctx.clusters[name].runtime.report = ClusterReport(managed=count, guests=[
            GuestReport(name=f"{name}-{i}", status="in-sync", kind="vm", vmid=100 + i,
                        node="pve1") for i in range(count)])
    store = RunStore(api.pool)
    run_a = await store.create(trigger="manual", cluster="a")
    run_b = await store.create(trigger="manual", cluster="b")
    await sign_in(api, "admin")
    first = await page(api, "/")
    assert "Overview of a" in first and "<b>1 / 0 / 0</b>" in first
    assert f"run #{run_a.id}" in first and f"/ui/runs/{run_b.id}\"" not in first
    of_b = await page(api, "/?cluster=b")
    assert "Overview of b" in of_b and "<b>3 / 0 / 0</b>" in of_b
    assert f"run #{run_b.id}" in of_b and f"/ui/runs/{run_a.id}\"" not in of_b
    assert 'href="/ui/declarations?cluster=b"' in of_b
    # the Suspend button suspends the cluster shown, and comes back to it
    assert 'action="/ui/settings/suspended?cluster=b"' in of_b
    location, _ = await post(api, "/ui/settings/suspended?cluster=b",
                             {"csrf": await csrf(api), "value": "true", "back": "overview"},
                             expect=303)
    assert location == "/?cluster=b&n=setting_saved"
    assert await SettingsStore(api.pool, "b").overrides() == {"suspended": True}
    assert await SettingsStore(api.pool, "a").overrides() == {}
    assert "Resume applying" in await page(api, "/?cluster=b")
    assert "Suspend applying" in await page(api, "/?cluster=a")
