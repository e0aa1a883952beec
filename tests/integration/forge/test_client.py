"""The forge adapter over real HTTP, against a local stand-in of GitHub's REST API."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from structlog.testing import capture_logs

from mycopod.config_gitops import ForgeSettings
from mycopod.forge.client import ForgeClient, ForgeError
from mycopod.forge.models import CommitStatus
from mycopod.forge.reporter import ForgeReporter
from tests.support.forge import running_forge

SHA = "b" * 40


def settings(url: str, **options: object) -> ForgeSettings:
    return ForgeSettings(api_url=url, repository="lab/declarations", token="forge-token",
                         retry_max_seconds=0.2, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["github", "gitea"])
async def test_status_and_comments_conform(kind: str) -> None:
    async with running_forge() as forge:
        client = ForgeClient(settings(forge.url, kind=kind), backoff_base=0.01)
        try:
            await client.set_status(SHA, CommitStatus.make("pending", "queued"))
            made = await client.create_comment(12, "first")
            updated = await client.update_comment(made.id, "second")
        finally:
            await client.aclose()
    assert forge.invalid == []
    assert updated.id == made.id and forge.comments[made.id]["body"] == "second"
    auth = forge.requests[0].headers["Authorization"]
    assert auth == ("Bearer forge-token" if kind == "github" else "token forge-token")


async def test_500_then_rate_limited_then_sent() -> None:
    async with running_forge() as forge:
        forge.fail = [(500, {}), (403, {"X-RateLimit-Remaining": "0", "Retry-After": "0"}),
                      (429, {"Retry-After": "0"})]
        client = ForgeClient(settings(forge.url), backoff_base=0.01)
        try:
            with capture_logs() as logs:
                await client.set_status(SHA, CommitStatus.make("success", "done"))
        finally:
            await client.aclose()
    assert len(forge.requests) == 4 and len(forge.statuses) == 1
    assert [e["status"] for e in logs if e["event"] == "forge.retry"] == [500, 403, 429]


async def test_a_refusal_is_not_retried_and_is_our_error() -> None:
    async with running_forge(token="another") as forge:
        client = ForgeClient(settings(forge.url), backoff_base=0.01)
        try:
            with pytest.raises(ForgeError) as caught:
                await client.set_status(SHA, CommitStatus.make("success", "done"))
        finally:
            await client.aclose()
    assert caught.value.status == 401 and len(forge.requests) == 1
    assert forge.invalid == [f"POST /repos/lab/declarations/statuses/{SHA}: "
                             "Bad credentials (no or wrong token)"]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("POST", f"/repos/lab/declarations/statuses/{SHA}", {"state": "done"}, 422,
     "repos/create-commit-status: body state: 'done' is not one of "
     "['error', 'failure', 'pending', 'success']"),
    ("POST", f"/repos/lab/declarations/statuses/{SHA}", {"description": "no state"}, 422,
     "repos/create-commit-status: body (the body): 'state' is a required property"),
    ("POST", f"/repos/lab/declarations/statuses/{SHA}", {"state": "success",
                                                         "description": 7}, 422,
     "repos/create-commit-status: body description: 7 is not of type 'string', 'null'"),
    ("POST", "/repos/lab/declarations/issues/12/comments", {"text": "hi"}, 422,
     "issues/create-comment: body (the body): 'body' is a required property"),
    ("POST", "/repos/lab/declarations/issues/twelve/comments", {"body": "hi"}, 422,
     "issues/create-comment: path parameter issue_number: 'twelve' is not of type "
     "'integer'"),
    ("PATCH", "/repos/lab/declarations/issues/comments/5", {"body": ["a"]}, 422,
     "issues/update-comment: body body: ['a'] is not of type 'string'"),
    ("PATCH", "/repos/lab/declarations/issues/comments/5", None, 422,
     "issues/update-comment: the request body is required (JSON)"),
    ("DELETE", "/repos/lab/declarations/issues/comments/5", {}, 404,
     "DELETE /repos/lab/declarations/issues/comments/5 is none of the operations"),
])
async def test_the_stand_in_refuses_what_githubs_description_refuses(
        method: str, path: str, body: object, status: int, message: str) -> None:
    """The validation bites: requests that break GitHub's published description get
    the validator's message (422), and unknown operations 404."""
    async with running_forge() as forge, aiohttp.ClientSession() as http:
        kwargs: dict[str, object] = {"headers": {"Authorization": "Bearer forge-token"}}
        if body is not None:
            kwargs["json"] = body
        else:
            kwargs["headers"] = {"Authorization": "Bearer forge-token",
                                 "Content-Type": "application/json"}
        async with http.request(method, forge.url + path, **kwargs) as resp:  # type: ignore[arg-type]
            answer = await resp.json()
            got = resp.status
    assert got == status
    assert answer["message"].startswith(message), answer
    assert len(forge.invalid) == 1 and message in forge.invalid[0]
    assert forge.statuses == [] and forge.comments == {}


async def test_a_conforming_request_with_nulls_passes() -> None:
    """``nullable`` fields of the description take null (OpenAPI 3.0 → jsonschema)."""
    async with running_forge() as forge, aiohttp.ClientSession() as http:
        async with http.post(f"{forge.url}/repos/lab/declarations/statuses/{SHA}",
                             json={"state": "success", "target_url": None,
                                   "description": None, "context": "mycopod/reconcile"},
                             headers={"Authorization": "Bearer forge-token"}) as resp:
            assert resp.status == 201, await resp.text()
    assert forge.invalid == [] and len(forge.statuses) == 1


async def test_a_forge_that_is_down_never_blocks_the_caller() -> None:
    async with running_forge(down=503) as forge:
        reporter = ForgeReporter(ForgeClient(settings(forge.url, attempts=2),
                                             backoff_base=0.01),
                                 public_url="http://mycopod", queue_size=2)
        task = asyncio.create_task(reporter.run(), name="forge-reporter")
        try:
            with capture_logs() as logs:
                loop = asyncio.get_running_loop()
                started = loop.time()
                for n in range(5):  # returns at once, whatever the forge does
                    reporter.commit_compiled(SHA, ok=True, error=None, run_id=n)
                assert loop.time() - started < 0.05
                for _ in range(200):
                    if reporter.failed + reporter.dropped == 5:
                        break
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert reporter.failed + reporter.dropped == 5 and reporter.sent == 0
    assert reporter.dropped >= 2
    events = {e["event"] for e in logs}
    assert {"forge.report_failed", "forge.report_dropped"} <= events
