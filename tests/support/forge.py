"""A local stand-in of the GitHub REST API (and Gitea's, which shares these shapes).

It serves the three operations MycoPod uses on 127.0.0.1 over real HTTP, records every
request, and checks each against GitHub's published description of the operation
(``repos/create-commit-status``, ``issues/create-comment``, ``issues/update-comment``):
the method and path, the token, the JSON body's required fields, their types and the
``state`` enum. A request that does not conform is answered 422 and recorded in
``invalid``, so a test fails on it. ``fail`` scripts answers ahead of the real one:
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

STATES = {"error", "failure", "pending", "success"}
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
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))

    def of(self, kind: str) -> list[Recorded]:
        pattern = {"status": _STATUS, "create": _CREATE, "update": _UPDATE}[kind]
        method = {"status": "POST", "create": "POST", "update": "PATCH"}[kind]
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def _check(self, request: web.Request, body: Any) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return "no or wrong token"
        if not isinstance(body, dict):
            return "the body is not a JSON object"
        path = request.path
        owner_repo = None
        if request.method == "POST" and (m := _STATUS.match(path)):
            owner_repo = f"{m.group(1)}/{m.group(2)}"
            if body.get("state") not in STATES:
                return f"state {body.get('state')!r} is not one of {sorted(STATES)}"
            for key in ("target_url", "description", "context"):
                if key in body and not isinstance(body[key], str | None):
                    return f"{key} must be a string"
            unknown = set(body) - {"state", "target_url", "description", "context"}
            if unknown:
                return f"unknown fields {sorted(unknown)}"
        elif (request.method == "POST" and (m := _CREATE.match(path))) or (
                request.method == "PATCH" and (m := _UPDATE.match(path))):
            owner_repo = f"{m.group(1)}/{m.group(2)}"
            if not isinstance(body.get("body"), str) or set(body) != {"body"}:
                return "the body must be {'body': string}"
        else:
            return f"{request.method} {path} is not an operation MycoPod uses"
        if owner_repo != self.repository:
            return f"repository {owner_repo} is not {self.repository}"
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
            self.invalid.append(f"{request.method} {request.path}: {problem}")
            return web.json_response({"message": problem}, status=422)
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
