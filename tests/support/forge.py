"""A local stand-in of the GitHub REST API (and Gitea's, which shares these shapes).

It serves the operations MycoPod uses on 127.0.0.1 over real HTTP, records every
request, and validates each against GitHub's published REST description
(:mod:`tests.support.github_openapi`: ``@octokit/openapi``, pinned and checked):
``repos/create-commit-status``, ``issues/create-comment``, ``issues/update-comment``,
``repos/get`` (``mycopod doctor``; answered with ``permissions``):
the method and path, the path parameters and the JSON body against the operation's
``requestBody`` schema (jsonschema); then the token and the repository. A request that
does not conform is answered 422 with the validator's message (404 for an operation
MycoPod does not use, 401 for a wrong token) and recorded in ``invalid``, so a test
fails on it. ``fail`` scripts answers ahead of the real one:
``[(500, {}), (403, {"X-RateLimit-Remaining": "0", "Retry-After": "0"})]``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support import github_openapi

_STATUS = re.compile(r"^/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]{40})$")
_CREATE = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
_UPDATE = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class FakeForge:
    token: str = "forge-token"
    repository: str = "lab/declarations"
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    fail: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    #: every request is answered with this status when set (a forge that is down)
    down: int | None = None
    #: what ``repos/get`` answers the token may do
    permissions: dict[str, bool] = field(
        default_factory=lambda: {"admin": False, "push": True, "pull": True})
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))

    def of(self, kind: str) -> list[Recorded]:
        pattern = {"status": _STATUS, "create": _CREATE, "update": _UPDATE}[kind]
        method = {"status": "POST", "create": "POST", "update": "PATCH"}[kind]
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def _check(self, request: web.Request, body: Any) -> tuple[int, str] | None:
        """(status, message) for a request that does not conform, else None."""
        if request.method != "GET" and not request.content_type.startswith("application/json"):
            return 415, f"content type {request.content_type!r} is not application/json"
        auth = request.headers.get("Authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, "Bad credentials (no or wrong token)"
        operation, problem = github_openapi.check(request.method, request.path, body)
        if operation is None:
            return 404, problem or "not found"
        if problem is not None:
            return 422, problem
        match = operation.pattern.match(request.path)
        assert match is not None
        owner_repo = f"{match.group('owner')}/{match.group('repo')}"
        if owner_repo != self.repository:
            return 404, f"repository {owner_repo} is not {self.repository}"
        return None

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append(Recorded(request.method, request.path, body,
                                      dict(request.headers)))
        if self.down is not None:
            return web.json_response({"message": "down"}, status=self.down)
        if self.fail:
            status, headers = self.fail.pop(0)
            return web.json_response({"message": "scripted"}, status=status, headers=headers)
        problem = self._check(request, body)
        if problem is not None:
            status, message = problem
            self.invalid.append(f"{request.method} {request.path}: {message}")
            return web.json_response({"message": message}, status=status)
        if request.method == "GET":  # repos/get
            return web.json_response({"full_name": self.repository,
                                      "permissions": self.permissions})
        if m := _STATUS.match(request.path):
            self.statuses.append((m.group(3), body))
            return web.json_response({"id": len(self.statuses), **body}, status=201)
        if m := _CREATE.match(request.path):
            cid = next(self._ids)
            self.comments[cid] = {"id": cid, "body": body["body"], "issue": int(m.group(3))}
            return web.json_response({"id": cid, "body": body["body"],
                                      "html_url": f"{self.url}/c/{cid}"}, status=201)
        m = _UPDATE.match(request.path)
        assert m is not None
        cid = int(m.group(3))
        if cid not in self.comments:
            return web.json_response({"message": "Not Found"}, status=404)
        self.comments[cid]["body"] = body["body"]
        return web.json_response({"id": cid, "body": body["body"]})


@asynccontextmanager
async def running_forge(**options: Any) -> AsyncIterator[FakeForge]:
    forge = FakeForge(**options)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forge.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    forge.url = f"http://127.0.0.1:{port}"
    try:
        yield forge
    finally:
        await runner.cleanup()
