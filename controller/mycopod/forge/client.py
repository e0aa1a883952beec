"""The forge adapter: commit statuses and pull-request comments over HTTP (aiohttp).

One :class:`ForgeClient` per daemon, one ``aiohttp.ClientSession`` in it. Every call is
retried in place when the forge says "later": a 5xx answer, a connection error or a
timeout (backoff from :class:`~mycopod.backoff.Backoff`), and a rate limit (429, or 403
with ``X-RateLimit-Remaining: 0`` or ``Retry-After``, as GitHub answers a secondary
limit), where the wait is what ``Retry-After`` or ``X-RateLimit-Reset`` asks, capped at
``forge.retry_max_seconds``. Anything else (401, 404, 422) is not retried. Whatever
happens, the caller gets a :class:`ForgeError`, never a library exception: the callers
(:mod:`.reporter`, :mod:`.pr_plans`) log it and go on, so a forge that is down never
blocks reconciling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import structlog

from mycopod.backoff import Backoff
from mycopod.config_gitops import ForgeSettings
from mycopod.errors import MycoPodError
from mycopod.forge.models import Comment, CommitStatus, RepositoryAccess

log = structlog.get_logger(__name__)

__all__ = ["ForgeClient", "ForgeError", "retry_delay"]

USER_AGENT = "mycopod"


class ForgeError(MycoPodError):
    """A forge call that did not succeed; ``status`` is the last HTTP status (if any)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def retry_delay(status: int, headers: Mapping[str, str], *, now: float) -> float | None:
    """How long the forge asks us to wait before trying again (None: do not retry, or
    no wait named). Pure: the decision of :meth:`ForgeClient._request`, table-tested."""
    retry_after = headers.get("Retry-After")
    limited = status == 429 or (status == 403 and (
        headers.get("X-RateLimit-Remaining") == "0" or retry_after is not None))
    if limited:
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        reset = headers.get("X-RateLimit-Reset")
        if reset is not None and reset.strip().isdigit():
            return max(0.0, float(reset) - now)
        return 60.0
    return None


def _retryable(status: int, headers: Mapping[str, str]) -> bool:
    return status >= 500 or retry_delay(status, headers, now=0.0) is not None


class ForgeClient:
    """GitHub REST or Gitea/Forgejo API v1, for one repository."""

    def __init__(self, settings: ForgeSettings, *, backoff_base: float = 1.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if not settings.enabled:
            raise ValueError("forge is not configured (api_url, repository, token)")
        assert settings.api_url is not None and settings.repository is not None
        assert settings.token is not None
        self.settings = settings
        self.base = settings.api_url.rstrip("/")
        self.repository = settings.repository
        self._token = settings.token.get_secret_value()
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        scheme = "Bearer" if self.settings.kind == "github" else "token"
        headers = {"Authorization": f"{scheme} {self._token}", "User-Agent": USER_AGENT,
                   "Accept": "application/json"}
        if self.settings.kind == "github":
            headers["Accept"] = "application/vnd.github+json"
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        return headers

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the operations ------------------------------------------------------------------

    async def set_status(self, sha: str, status: CommitStatus) -> None:
        """``POST /repos/{owner}/{repo}/statuses/{sha}``."""
        await self._request("POST", f"/repos/{self.repository}/statuses/{sha}",
                            status.model_dump(exclude_none=True))

    async def create_comment(self, number: int, body: str) -> Comment:
        """``POST /repos/{owner}/{repo}/issues/{number}/comments``."""
        data = await self._request("POST", f"/repos/{self.repository}/issues/{number}/comments",
                                   {"body": body})
        return Comment.model_validate(data)

    async def update_comment(self, comment_id: int, body: str) -> Comment:
        """``PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}``."""
        data = await self._request(
            "PATCH", f"/repos/{self.repository}/issues/comments/{comment_id}", {"body": body})
        return Comment.model_validate(data)

    async def repository_access(self) -> RepositoryAccess:
        """``GET /repos/{owner}/{repo}``: the repository as the token sees it."""
        data = await self._request("GET", f"/repos/{self.repository}", None)
        return RepositoryAccess.model_validate(data)

    # -- one call, retried -----------------------------------------------------------------

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        backoff = Backoff(self._backoff_base, self.settings.retry_max_seconds)
        attempts = self.settings.attempts
        last = "no attempt made"
        status: int | None = None
        for attempt in range(1, attempts + 1):
            wait: float | None = None
            try:
                async with self._open().request(method, self.base + path, json=body) as resp:
                    status = resp.status
                    if 200 <= resp.status < 300:
                        return await resp.json(content_type=None) if resp.status != 204 else {}
                    text = (await resp.text())[:300]
                    last = f"{method} {path}: HTTP {resp.status}: {text}"
                    if not _retryable(resp.status, resp.headers):
                        raise ForgeError(last, status=resp.status)
                    wait = retry_delay(resp.status, resp.headers, now=time.time())
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = f"{method} {path}: {type(exc).__name__}: {exc}"
                status = None
            delay = backoff.failure()
            if wait is not None:
                delay = wait
            delay = min(delay, self.settings.retry_max_seconds)
            if attempt < attempts:
                log.info("forge.retry", method=method, path=path, attempt=attempt,
                         status=status, retry_in=round(delay, 3))
                await self._sleep(delay)
        raise ForgeError(f"{last} (gave up after {attempts} attempts)", status=status)
