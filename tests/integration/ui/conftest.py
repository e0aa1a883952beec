"""The UI's tests use the API's harness (the real app on a real socket) with a seeded
database, and sign in through the login form as a browser does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from tests.integration.api.conftest import PASSWORD, Api, api, fast_argon2  # noqa: F401
from tests.support import ui_seed


@pytest.fixture
async def seeded(api: Api) -> AsyncIterator[ui_seed.Seeded]:  # noqa: F811
    yield await ui_seed.seed(api.pool, guests=5, runs=60)


def origin(api: Api) -> str:  # noqa: F811
    return f"http://{api.client.host}:{api.client.port}"


async def sign_in(api: Api, username: str) -> None:  # noqa: F811
    api.client.session.cookie_jar.clear()
    async with api.client.post("/ui/login", data={"username": username, "password": PASSWORD},
                               headers={"Origin": origin(api)},
                               allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()


async def page(api: Api, path: str, expect: int = 200) -> str:  # noqa: F811
    async with api.client.get(path, allow_redirects=False) as resp:
        text = await resp.text()
        assert resp.status == expect, (path, resp.status, text[:2000])
        return text


async def csrf(api: Api, path: str = "/ui/runs") -> str:  # noqa: F811
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', await page(api, path))
    assert match
    return match.group(1)


async def post(api: Api, path: str, data: dict[str, str], expect: int  # noqa: F811
               ) -> tuple[str, str]:
    async with api.client.post(path, data=data, headers={"Origin": origin(api)},
                               allow_redirects=False) as resp:
        text = await resp.text()
        assert resp.status == expect, (path, resp.status, text[:2000])
        return resp.headers.get("Location", ""), text
