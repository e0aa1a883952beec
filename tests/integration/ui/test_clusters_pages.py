"""The web pages with several clusters (issue 17): the settings page shows and changes
the chosen cluster's policy."""

from __future__ import annotations

import re

from mycopod.api.context import ClusterView
from mycopod.runtime import RuntimeStatus
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
