"""An async facade over proxmoxer: bounded threads, classified errors, retries, task waits.

proxmoxer is blocking, so every write runs in a thread pool of ``[proxmox] max_workers``
threads (and as many pooled HTTPS connections). Reads (``GET``) take a faster path by
default: an aiohttp session on the event loop, authenticated with proxmoxer's own
ticket or API token and verifying TLS the same way. A full resync reads one config per
guest, and requests' per-call cost in threads (a few milliseconds under the GIL) made a
1,000-guest resync take over 4 s where aiohttp takes under 1 s; writes, which are few,
stay on proxmoxer. ``fast_reads=False`` sends everything through proxmoxer.

Limits: at most ``[proxmox] max_workers`` requests are in flight at once, reads and
writes together, and at most ``per_node`` of them (half of that, rounded up, unless
given) on one node's paths (``/nodes/{node}/...``), so a full resync that reads
10,000 configs spreads over the nodes instead of piling onto one
(:class:`~mycopod.proxmox.limits.RequestLimits`, ``client.limits``).

Every request is counted and timed in
``mycopod_proxmox_requests_total`` / ``..._duration_seconds`` under its path *template*
(``/nodes/{node}/qemu/{vmid}/config``), so the metric's cardinality stays bounded.

Errors are classified by status and message (:mod:`mycopod.proxmox.errors`); transient
ones are retried with exponential backoff and jitter (tenacity). Tickets (password
auth) are renewed by proxmoxer before they expire, and once more on a 401.

``request_hook`` (a callable ``(method, path, params)``) sees every request before it is
sent; the schema-conformance test records through it. ``on_outcome`` (a callable
``(reached, error)``) hears how every call ended: Proxmox answered (whatever it said),
or it could not be reached (refused, reset, timed out, TLS failed). The daemon's
``/health`` reports Proxmox reachability from it, so a run failing with ECONNREFUSED
shows at once, not at the next drift check.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import structlog
import tenacity
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from mycopod.config import ProxmoxSettings
from mycopod.errors import ConfigError
from mycopod.proxmox.errors import (
    AuthError,
    NotFoundError,
    PermanentError,
    ProxmoxError,
    TaskFailed,
    TaskTimeout,
    TlsError,
    TransientError,
    UnreachableError,
    classify,
    upid_node,
)
from mycopod.proxmox.fast_reads import FastReads, count_request, path_template, with_field_errors
from mycopod.proxmox.limits import RequestLimits

__all__ = ["TASK_TIMEOUTS", "ProxmoxClient", "path_template"]

log = structlog.get_logger(__name__)

RequestHook = Callable[[str, str, dict[str, Any]], None]
OutcomeListener = Callable[[bool, str | None], None]

#: seconds a task of this type may take before we stop waiting (default: the setting)
TASK_TIMEOUTS = {
    "qmstart": 300, "vzstart": 300, "qmstop": 300, "vzstop": 300, "qmshutdown": 600,
    "qmconfig": 300, "vzconfig": 300, "resize": 600,
}


def _message(exc: ResourceException) -> str:
    """Proxmox's own text: the reason phrase, plus field errors when it sent them."""
    text = str(exc.content or exc.status_message or "").strip()
    return with_field_errors(text, getattr(exc, "errors", None)) or f"HTTP {exc.status_code}"


class ProxmoxClient:
    """One connection to one Proxmox VE cluster. Create it with :meth:`from_settings`;
    close it with ``await client.aclose()``."""

    def __init__(self, settings: ProxmoxSettings, *, retries: int = 5,
                 retry_initial: float = 0.2, retry_max: float = 5.0,
                 task_poll: float = 0.05, task_timeout: float = 900.0,
                 request_hook: RequestHook | None = None, fast_reads: bool = True,
                 on_outcome: OutcomeListener | None = None,
                 per_node: int | None = None) -> None:
        if not settings.url:
            raise ConfigError("proxmox.url is not set; point it at https://HOST:8006")
        self.settings = settings
        self.retries = retries
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.task_poll = task_poll
        self.task_timeout = task_timeout
        self.request_hook = request_hook
        self.on_outcome = on_outcome
        self.request_count = 0
        #: how many requests may be in flight at once, and how many are (RequestLimits)
        self.limits = RequestLimits(settings.max_workers, per_node)
        self._executor = ThreadPoolExecutor(settings.max_workers,
                                            thread_name_prefix="proxmox")
        self._api: ProxmoxAPI | None = None
        self._login_lock = asyncio.Lock()
        self.fast_reads = fast_reads
        self._reads = FastReads(self)
        self._base_url = ""

    @classmethod
    def from_settings(cls, settings: ProxmoxSettings, **options: Any) -> ProxmoxClient:
        return cls(settings, **options)

    async def aclose(self) -> None:
        await self._reads.aclose()
        api, self._api = self._api, None
        if api is not None:
            session = api._store.get("session")
            if session is not None:
                session.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- connection ----------------------------------------------------------------------

    def _connect(self) -> ProxmoxAPI:
        s = self.settings
        assert s.url is not None
        url = s.url.removeprefix("https://").removeprefix("http://").rstrip("/")
        host = url.split("/", 1)[0]
        verify: bool | str = s.verify_tls
        if s.verify_tls and s.ca_file is not None:
            verify = str(s.ca_file)
        options: dict[str, Any] = {"verify_ssl": verify, "timeout": s.timeout}
        if s.token_id:
            user, _, token_name = s.token_id.partition("!")
            assert s.token_secret is not None
            options.update(user=user, token_name=token_name,
                           token_value=s.token_secret.get_secret_value())
        else:
            options.update(user=s.user,
                           password=s.password.get_secret_value() if s.password else None)
        try:
            api = ProxmoxAPI(host, backend="https", **options)
        except ResourceException as exc:
            cls = classify(exc.status_code, _message(exc))
            if exc.status_code == 401 or cls is AuthError:
                raise AuthError(f"Proxmox refused the login for {s.user or s.token_id}: "
                                f"{_message(exc)}", status=exc.status_code) from None
            raise cls(_message(exc), status=exc.status_code) from None
        except requests.exceptions.SSLError as exc:
            raise TlsError(f"TLS verification of {s.url} failed: {exc}; set "
                           "proxmox.ca_file, or verify_tls = false for a test "
                           "cluster") from None
        except requests.exceptions.RequestException as exc:
            raise UnreachableError(f"cannot reach Proxmox at {s.url}: {exc}") from None
        except Exception as exc:  # proxmoxer raises AuthenticationError for bad logins
            code = re.search(r"code: (\d+)", str(exc))
            status = int(code.group(1)) if code else None
            # proxmoxer keeps only the status: a wrong password is 401, a 5xx is the
            # server struggling (worth retrying)
            if status is not None and status >= 500:
                raise TransientError(f"Proxmox login: {exc}", status=status) from None
            raise AuthError(f"Proxmox login failed for {s.user or s.token_id}: "
                            f"{exc}", status=status) from None
        session = api._store["session"]
        adapter = requests.adapters.HTTPAdapter(pool_connections=4,
                                                pool_maxsize=s.max_workers)
        session.mount("https://", adapter)
        # requests re-reads the proxy variables from the whole environment on every
        # request (milliseconds each, more than the call itself on a fast link). TLS is
        # configured explicitly above, so read the proxies once, here, and stop there.
        session.proxies.update(requests.utils.get_environ_proxies(f"https://{host}"))
        session.trust_env = False
        self._base_url = str(api._store["base_url"])
        return api

    async def _ensure(self) -> ProxmoxAPI:
        if self._api is None:
            async with self._login_lock:
                if self._api is None:
                    loop = asyncio.get_running_loop()
                    self._api = await loop.run_in_executor(self._executor, self._connect)
        return self._api

    # -- requests ------------------------------------------------------------------------

    def _call(self, api: ProxmoxAPI, method: str, path: str,
              params: dict[str, Any]) -> Any:
        template = path_template(path)
        resource = api(path.lstrip("/"))
        started = time.perf_counter()
        code = "error"
        try:
            if method == "GET":
                result = resource.get(**params)
            elif method == "POST":
                result = resource.post(**params)
            elif method == "PUT":
                result = resource.put(**params)
            else:
                result = resource.delete(**params)
            code = "200"
            return result
        except ResourceException as exc:
            code = str(exc.status_code)
            message = _message(exc)
            cls = classify(exc.status_code, message)
            raise cls(message, status=exc.status_code, method=method, path=path) from None
        except requests.exceptions.RequestException as exc:
            raise UnreachableError(f"{method} {path}: {type(exc).__name__}: {exc}",
                                   method=method, path=path) from None
        finally:
            self.request_count += 1
            count_request(method, template, code, time.perf_counter() - started)

    @property
    def base_url(self) -> str:
        """``https://host:8006/api2/json``, once logged in."""
        return self._base_url

    async def run_blocking(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` in the client's thread pool (proxmoxer is blocking)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      *, retry: bool = True) -> Any:
        """One API call; transient failures are retried with backoff and jitter."""
        data = {k: v for k, v in (params or {}).items() if v is not None}
        loop = asyncio.get_running_loop()

        async def send(api: ProxmoxAPI) -> Any:
            async with self.limits.slot(path):
                if method == "GET" and self.fast_reads:
                    return await self._reads.get(api, path, data)
                return await loop.run_in_executor(
                    self._executor, self._call, api, method, path, dict(data))

        async def attempt() -> Any:
            api = await self._ensure()
            if self.request_hook is not None:
                self.request_hook(method, path, dict(data))
            try:
                return await send(api)
            except AuthError as exc:
                if exc.status == 401 and self.settings.password is not None:
                    self._api = None  # ticket expired or revoked: log in again once
                    return await send(await self._ensure())
                raise

        async def once() -> Any:
            try:
                result = await attempt()
            except ProxmoxError as exc:
                self._outcome(exc.reached, None if exc.reached else exc.message)
                raise
            self._outcome(True, None)
            return result

        if not retry:
            return await once()
        # The first attempt outside tenacity (its machinery costs more than a fast read
        # itself); a transient failure of it is handed to tenacity as its first attempt,
        # so the waits, the log lines and the number of attempts are tenacity's.
        try:
            return await once()
        except TransientError as exc:
            first: list[TransientError] = [exc]

        async def replay_then_once() -> Any:
            if first:
                raise first.pop()
            return await once()

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(TransientError),
            wait=tenacity.wait_exponential_jitter(multiplier=self.retry_initial,
                                                  max=self.retry_max),
            stop=tenacity.stop_after_attempt(self.retries),
            reraise=True,
            before_sleep=lambda state: log.info(
                "proxmox.retry", method=method, path=path_template(path),
                attempt=state.attempt_number,
                error=str(state.outcome.exception()) if state.outcome else None),
        )
        return await retrying(replay_then_once)

    def _outcome(self, reached: bool, error: str | None) -> None:
        if self.on_outcome is not None:
            try:
                self.on_outcome(reached, error)
            except Exception:  # a listener must never fail a call
                log.exception("proxmox.outcome_listener_failed")

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request("GET", path, params)

    async def post(self, path: str, **params: Any) -> Any:
        return await self.request("POST", path, params)

    async def put(self, path: str, **params: Any) -> Any:
        return await self.request("PUT", path, params)

    async def delete(self, path: str, **params: Any) -> Any:
        return await self.request("DELETE", path, params)

    # -- tasks -------------------------------------------------------------------------

    async def wait_task(self, upid: Any) -> str | None:
        """Wait for a task; return its exit status (None when there was no task).

        ``upid`` may be None or a non-UPID value: some endpoints (``POST config``,
        ``resize`` on older versions) answer synchronously. A brief 400 "no such task"
        right after the call is tolerated. ``OK`` and ``WARNINGS: N`` are success; any
        other exit status raises TaskFailed carrying the task log's last lines.
        """
        if not isinstance(upid, str) or not upid.startswith("UPID:"):
            return None
        node = upid_node(upid)
        task_type = upid.split(":")[5] if upid.count(":") >= 6 else ""
        limit = TASK_TIMEOUTS.get(task_type) or self.task_timeout
        deadline = time.monotonic() + limit
        unknown_until = time.monotonic() + 5.0
        path = f"/nodes/{node}/tasks/{upid}/status"
        started = time.monotonic()
        while True:
            try:
                status = await self.get(path)
            except (PermanentError, NotFoundError) as exc:
                if "no such task" in exc.message.lower() and time.monotonic() < unknown_until:
                    await asyncio.sleep(self.task_poll)
                    continue
                raise
            if status.get("status") == "stopped":
                exitstatus = str(status.get("exitstatus", ""))
                if exitstatus == "OK" or exitstatus.startswith("WARNINGS"):
                    return exitstatus
                tail = await self._log_tail(node, upid)
                detail = f"; last log lines: {' | '.join(tail)}" if tail else ""
                raise TaskFailed(f"task {task_type or upid} failed: {exitstatus}{detail}",
                                 upid=upid, exitstatus=exitstatus, log_tail=tail)
            if time.monotonic() > deadline:
                raise TaskTimeout(f"task {task_type} on {node} still running after "
                                  f"{limit:g}s ({upid})")
            # fast polls for short tasks, slower for long ones
            elapsed = time.monotonic() - started
            await asyncio.sleep(self.task_poll if elapsed < 3 else min(1.0, elapsed / 10))

    async def _log_tail(self, node: str, upid: str, lines: int = 5) -> list[str]:
        try:
            entries = await self.get(f"/nodes/{node}/tasks/{upid}/log", start=0, limit=500)
        except ProxmoxError:
            return []
        texts = [str(e.get("t", "")) for e in entries if isinstance(e, dict)]
        return [t for t in texts if t.strip()][-lines:]
