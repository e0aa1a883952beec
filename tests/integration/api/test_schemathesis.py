"""schemathesis against ``/openapi.json``: as a logged-in Admin and as a plain User.

The server runs in its own thread and event loop on a real socket with its own pool, the
way the daemon runs it. Every operation gets generated requests (positive data: what the
schema allows); the checks require no 5xx, documented status codes and content types,
and bodies that match their documented schemas.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.experimental import OPEN_API_3_1
from schemathesis.runner import events
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mycopod import telemetry
from mycopod.api.app import bound_port, create_app, start_api
from mycopod.api.context import ApiContext
from mycopod.api.state import STATE
from mycopod.config import ApiSettings
from mycopod.declarations.source import GitSource
from mycopod.runtime import RuntimeStatus
from mycopod.store import db as dbmod
from mycopod.store.runs import RunStore
from mycopod.store.users import UserStore

from . import _hypothesis_compat
from .conftest import PASSWORD, make_settings

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, ignored_auth)
EXAMPLES = 25


class ServerThread:
    """The API in a background thread, as the daemon would serve it."""

    def __init__(self, database_url: str, settings: Any) -> None:
        self.database_url = database_url
        self.settings = settings
        self.ready = threading.Event()
        self.tokens: dict[str, str] = {}
        self.port = 0
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="api-under-test", daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self.ready.wait(30), "the API did not start"
        if self.error:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to the test thread
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        pool = await dbmod.create_pool(self.database_url, min_size=1, max_size=5)
        try:
            users = UserStore(pool)
            admin = await users.add("admin", PASSWORD, "admin")
            user = await users.add("plain", PASSWORD, "user")
            runs = RunStore(pool)
            for trigger in ("commit", "drift", "manual"):
                run = await runs.create(trigger=trigger, requested_by=admin.id)
            await runs.save_plan(run.id, {"actions": []}, summary={"guests": []})
            await runs.set_status(run.id, "AwaitingApproval")
            source = GitSource(self.settings.declarations, state_dir=self.settings.state_dir)
            app = create_app(ApiContext(pool=pool, settings=self.settings,
                                        runtime=RuntimeStatus(), source=source))
            runner = await start_api(app, ApiSettings(host="127.0.0.1", port=0))
            issuer = app[STATE].issuer
            self.tokens = {"Admin": issuer.issue(admin), "User": issuer.issue(user)}
            self.port = bound_port(runner)
            self.ready.set()
            await self._stop.wait()
            await runner.cleanup()
        finally:
            await pool.close()


#: operations that end the caller's own sessions: run in the middle, they would turn every
#: later request of the run into a 401 (test_auth_hardening.py covers them)
ENDS_OWN_SESSIONS = ["logoutEverywhere", "logoutUserEverywhere"]
#: operations that need a live Proxmox cluster, which this app has not: every call would be
#: the documented 503 (tests/integration/brownfield/test_import_endpoint.py covers it)
NEEDS_A_CLUSTER = ["importDeclarations"]


def _run_schemathesis(base: str, token: str) -> tuple[list[str], int]:
    schema = schemathesis.from_uri(f"{base}/openapi.json", base_url=base).exclude(
        operation_id=ENDS_OWN_SESSIONS + NEEDS_A_CLUSTER)
    runner = schemathesis.runner.from_schema(
        schema,
        checks=CHECKS,
        headers={"Authorization": f"Bearer {token}"},
        hypothesis_settings=hypothesis.settings(
            max_examples=EXAMPLES, deadline=None, derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate]),
        request_timeout=10_000,
    )
    problems: list[str] = []
    tested = 0
    for event in runner.execute():
        if isinstance(event, events.AfterExecution):
            tested += 1
            for check in event.result.checks:
                if check.value.name != "success":
                    problems.append(f"{event.verbose_name}: {check.name}: {check.message} "
                                    f"(request {check.example.method} {check.example.url} "
                                    f"{check.example.body!r:.200})")
            for error in event.result.errors:
                problems.append(f"{event.verbose_name}: error: {error.exception[:300]}")
        elif isinstance(event, events.Finished):
            for error in event.generic_errors:
                problems.append(f"generic error: {error.exception[:300]}")
    return problems, tested


@pytest.fixture(scope="module", autouse=True)
def openapi_31() -> Any:
    _hypothesis_compat.install()
    OPEN_API_3_1.enable()
    yield
    OPEN_API_3_1.disable()


@pytest.mark.timeout(240)
def test_schemathesis_as_user_then_admin(database_url: str, tmp_path) -> None:
    bare = tmp_path / "remote" / "declarations.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True,
                   capture_output=True)
    settings = make_settings(tmp_path / "state")
    settings.declarations.repo = str(bare)
    with ServerThread(database_url, settings) as server:
        base = f"http://127.0.0.1:{server.port}"
        report = {}
        for role in ("User", "Admin"):  # Admin last: it may change users and settings
            problems, tested = _run_schemathesis(base, server.tokens[role])
            report[role] = (tested, problems)
    # the generated requests really reached the handlers, bodies included
    created = sum(telemetry.REGISTRY.get_sample_value(
        "mycopod_http_requests_total", {"route": "/users", "code": code}) or 0
        for code in ("201", "409", "422"))
    assert created >= EXAMPLES // 2, created
    for role, (tested, problems) in report.items():
        assert tested >= 19, (role, tested)
        assert not problems, f"{role}:\n" + "\n".join(sorted(set(problems))[:30])
