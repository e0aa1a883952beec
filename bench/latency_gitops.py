"""bench/latency.py's figures for issue 14: pull-request plans and notifications.

- ``pr_plan_*``: a 50-file declarations repository (one guest per file) converged by a
  real ``mycopod run`` (subprocess, with the simulator as a subprocess and the embedded
  PostgreSQL), with ``[forge]`` pointing at the local GitHub stand-in
  (tests/support/forge.py, which validates every request against GitHub's published
  REST description). A pull request changes one file; the figure is the seconds from
  the signed ``pull_request`` webhook (opened, then synchronize for each new head) to
  the plan comment posted (created, then updated) on the stand-in. Target: under 3 s.
- ``notify_apply_*``: a run's apply phase (first action started to last action done,
  from the action rows; ten guests' cores changed) with no notifier, and with the
  notifier sending to a receiver that sleeps 2 s per notification (news queued just
  before each run, so a send is in flight while it applies; ``..._while_receiver_slept``
  counts the runs that were at rest while a send was still waiting). A third series,
  without a notifier again, gives ``..._control_difference_s``: the noise of the
  machine, against which ``..._added_s`` is to be read. In-process: the engine and the run
  worker against the simulator over HTTPS and the embedded PostgreSQL.

Run alone: ``.venv/bin/python bench/latency.py --only gitops``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

import latency as base  # bench/latency.py (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support.forge: the stand-in the tests use

FILES = 50
FORGE_TOKEN = "bench-forge-token"


def guest_file(n: int, cores: int = 1) -> str:
    return f"pr-{n:02d} is a VM with {cores} core{'s' if cores > 1 else ''} and 512 MB of RAM.\n"


class ForgeThread:
    """The GitHub stand-in, served from a thread of its own (its own event loop)."""

    def __init__(self) -> None:
        from tests.support.forge import FakeForge

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.forge: FakeForge | None = None
        self._stop: asyncio.Event | None = None
        self._task: Any = None

    def start(self) -> Any:
        from tests.support.forge import running_forge

        ready = threading.Event()

        async def serve() -> None:
            self._stop = asyncio.Event()
            async with running_forge(token=FORGE_TOKEN,
                                     repository="lab/declarations") as forge:
                self.forge = forge
                ready.set()
                await self._stop.wait()

        self.thread.start()
        self._task = asyncio.run_coroutine_threadsafe(serve(), self.loop)
        if not ready.wait(60):
            raise SystemExit("bench: the forge stand-in did not start")
        return self.forge

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
            self._task.result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def pr_plan(root: Path, *, plans: int = 6) -> dict[str, Any]:
    """The PR-plan figure (see the module docstring)."""
    from mycopod.store import embedded

    procs: list[subprocess.Popen[bytes]] = []
    db_state = root / "pg"
    forge_thread = ForgeThread()
    forge = forge_thread.start()
    try:
        db_url = embedded.start(db_state)
        sim_port = base.free_port()
        sim_log = open(root / "sim.log", "wb")
        procs.append(subprocess.Popen([base.MYCOPOD, "sim", "--port", str(sim_port),
                                       "--task-seconds", "0.05"],
                                      stdout=sim_log, stderr=subprocess.STDOUT))
        pve = base.Pve(f"https://127.0.0.1:{sim_port}")
        base.wait(pve.resources, 30, "the simulator", interval=0.1)
        bare, work = root / "declarations.git", root / "work"
        base.git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=root)
        base.git("clone", "--quiet", str(bare), str(work), cwd=root)
        base.git("checkout", "--quiet", "-B", "main", cwd=work)
        for n in range(1, FILES + 1):
            (work / f"pr-{n:02d}.md").write_text(guest_file(n))
        base.git("add", "--all", cwd=work)
        base.git("commit", "--quiet", "-m", "fifty files", cwd=work)
        base.git("push", "--quiet", "origin", "main", cwd=work)
        main_sha = base.git("rev-parse", "HEAD", cwd=work)
        api_port = base.free_port()
        env = {
            **os.environ,
            "MYCOPOD_STATE_DIR": str(root / "state"),
            "MYCOPOD_DATABASE__URL": db_url,
            "MYCOPOD_PROXMOX__URL": pve.url,
            "MYCOPOD_PROXMOX__TOKEN_ID": base.TOKEN_ID,
            "MYCOPOD_PROXMOX__TOKEN_SECRET": base.TOKEN_SECRET,
            "MYCOPOD_PROXMOX__VERIFY_TLS": "false",
            "MYCOPOD_DECLARATIONS__REPO": str(bare),
            "MYCOPOD_DECLARATIONS__POLL_SECONDS": "600",
            "MYCOPOD_DECLARATIONS__WEBHOOK_SECRET": base.SECRET,
            "MYCOPOD_API__PORT": str(api_port),
            "MYCOPOD_FORGE__API_URL": forge.url,
            "MYCOPOD_FORGE__REPOSITORY": "lab/declarations",
            "MYCOPOD_FORGE__TOKEN": FORGE_TOKEN,
            "MYCOPOD_LOGGING__LEVEL": "warning",
            "MYCOPOD_LOGGING__FORMAT": "json",
        }
        daemon_log = open(root / "daemon.log", "wb")
        procs.append(subprocess.Popen([base.MYCOPOD, "run"], env=env, stdout=daemon_log,
                                      stderr=subprocess.STDOUT))
        api = f"http://127.0.0.1:{api_port}"
        base.wait(lambda: requests.get(f"{api}/health", timeout=2).status_code == 200, 60,
                  "the daemon", interval=0.1)

        def converged() -> bool:
            names = [r.get("name", "") for r in pve.resources()]
            return sum(1 for n in names if n.startswith("pr-")) >= FILES

        base.wait(converged, 300, f"the {FILES} guests of main", interval=0.5)
        time.sleep(2)  # the run's commit status and the first drift check settle

        def comments() -> int:
            return len(forge.of("create")) + len(forge.of("update"))

        seconds = []
        for i in range(plans):
            base.git("checkout", "--quiet", "-B", "feature", main_sha, cwd=work)
            (work / "pr-07.md").write_text(guest_file(7, cores=2 + i))
            base.git("commit", "--quiet", "-am", f"pr-07: {2 + i} cores", cwd=work)
            head = base.git("rev-parse", "HEAD", cwd=work)
            base.git("push", "--quiet", "--force", "origin", "HEAD:refs/pull/7/head", cwd=work)
            before = comments()
            body = json.dumps({
                "action": "opened" if i == 0 else "synchronize", "number": 7,
                "pull_request": {"number": 7, "state": "open", "title": "pr-07 cores",
                                 "head": {"sha": head, "ref": "feature"},
                                 "base": {"sha": main_sha, "ref": "main"}},
                "repository": {"full_name": "lab/declarations"},
                "sender": {"login": "bench"}}).encode()
            signature = "sha256=" + hmac.new(base.SECRET.encode(), body,
                                             hashlib.sha256).hexdigest()
            started = time.monotonic()
            resp = requests.post(f"{api}/webhooks/github", data=body, timeout=10, headers={
                "Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": f"pr-{i}", "X-Hub-Signature-256": signature})
            if resp.status_code >= 300:
                raise SystemExit(f"bench: webhook answered {resp.status_code}: {resp.text}")
            base.wait(lambda before=before: comments() > before, 60,
                      f"the plan comment {i + 1}", interval=0.005)
            seconds.append(time.monotonic() - started)
        text = (forge.of("update") or forge.of("create"))[-1].body["body"]
        if "| pr-07 |" not in text:
            raise SystemExit(f"bench: the plan comment does not name pr-07:\n{text}")
        return {
            "pr_plan_files": FILES,
            "pr_plan_changed_files": 1,
            "pr_plan_seconds_first": round(seconds[0], 3),
            "pr_plan_seconds_median": round(statistics.median(seconds), 3),
            "pr_plan_seconds_max": round(max(seconds), 3),
            "pr_plan_plans": len(seconds),
            "pr_plan_target_s": 3.0,
            "pr_plan_forge_invalid_requests": len(forge.invalid),
        }
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
        embedded.stop(db_state)
        forge_thread.stop()


async def _notify_apply(root: Path, runs: int) -> dict[str, Any]:
    from aiohttp import web

    from mycopod.config import DatabaseSettings, load_settings
    from mycopod.config_gitops import NotifySettings
    from mycopod.notify.notifier import Notifier
    from mycopod.pvesim.testing import running_simulator
    from mycopod.reconcile import reconciler
    from mycopod.reconcile.controller import Controller
    from mycopod.reconcile.hooks import NO_HOOKS, RunHooks
    from mycopod.reconcile.queue import RunQueue
    from mycopod.runtime import RuntimeStatus
    from mycopod.spec import ClusterSpec, GuestSpec
    from mycopod.store import db as dbmod
    from mycopod.store import migrate
    from mycopod.store.actions import ActionStore
    from mycopod.store.runs import RunStore

    in_flight = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight
        in_flight += 1
        try:
            await asyncio.sleep(2.0)
            await request.read()
            return web.json_response({})
        finally:
            in_flight -= 1

    app = web.Application()
    app.router.add_post("/notify", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    config = NotifySettings.model_validate({"urls": f"json://127.0.0.1:{port}/notify",
                                            "timeout": 5, "max_per_hour": 10_000})
    notifier = Notifier(lambda: config, public_url="http://bench")
    sender = asyncio.create_task(notifier.run())

    def spec(cores: int) -> ClusterSpec:
        return ClusterSpec(guests=[GuestSpec.model_validate(
            {"name": f"nb-{n}", "cores": cores, "memory_mib": 512, "state": "stopped"})
            for n in range(1, 11)])

    result: dict[str, Any] = {}
    try:
        with running_simulator(task_seconds=0.02, seed=3) as sim:
            async with dbmod.open_database(DatabaseSettings(), state_dir=root / "db",
                                           min_size=2) as database:
                pool = database.pool
                async with pool.acquire() as conn:
                    await migrate.up(conn)
                settings = load_settings(environ={}, overrides={
                    "proxmox": {"url": sim.url, "user": sim.user, "password": sim.password,
                                "verify_tls": False},
                    "apply": {"max_parallel": 8, "per_node_parallel": 4}})
                ctx = reconciler.EngineContext.create(pool, settings)
                current = {"cores": 1, "news": 0}

                async def loader(run: Any) -> reconciler.LoadedSpec:
                    return reconciler.LoadedSpec(spec=spec(current["cores"]))

                ctx.spec_loader = loader
                runtime = RuntimeStatus()
                queue = RunQueue(pool, ctx.cluster, wake=runtime.wake_reconcile)

                async def apply_phase(hooks: RunHooks, news: bool) -> tuple[float, bool]:
                    controller = Controller(ctx, queue, runtime=runtime,
                                            settings=lambda: settings,
                                            stopping=lambda: False, hooks=hooks)
                    worker = asyncio.create_task(controller.run())
                    try:
                        current["cores"] = 2 if current["cores"] == 1 else 1
                        if news:  # new drift each time (the same would not be news)
                            current["news"] += 1
                            notifier.drift_checked(
                                {"nb-1": (f"memory {current['news']} MiB → 512 MiB",)}, True)
                        await asyncio.sleep(0.05)  # the send is under way (the same pause
                        # for every series, so they differ only by the notifier)
                        run_id = await queue.enqueue("manual")
                        for _ in range(3000):
                            row = await RunStore(pool).get(run_id)
                            if row is not None and row.status in ("Succeeded", "Failed"):
                                break
                            await asyncio.sleep(0.01)
                        overlapped = in_flight > 0
                        assert row is not None and row.status == "Succeeded", row
                        actions = await ActionStore(pool).list_for_run(run_id)
                        begun = min(a.started_at for a in actions if a.started_at)
                        ended = max(a.finished_at for a in actions if a.finished_at)
                        return (ended - begun).total_seconds(), overlapped
                    finally:
                        worker.cancel()
                        await asyncio.gather(worker, return_exceptions=True)

                await apply_phase(NO_HOOKS, False)  # create the guests: not measured
                plain, noisy, control, overlapped = [], [], [], 0
                for _ in range(runs):  # interleaved, so load on the machine hits all three
                    plain.append((await apply_phase(NO_HOOKS, False))[0])
                    seconds, during = await apply_phase(notifier, True)
                    noisy.append(seconds)
                    overlapped += during
                    control.append((await apply_phase(NO_HOOKS, False))[0])
                await ctx.client.aclose()
        result = {
            "notify_apply_runs": runs,
            "notify_apply_actions_per_run": 10,
            "notify_apply_median_s_no_notifier": round(statistics.median(plain), 3),
            "notify_apply_median_s_slow_receiver": round(statistics.median(noisy), 3),
            "notify_apply_added_s": round(statistics.median(noisy)
                                          - statistics.median(plain), 3),
            # the same difference between two series without a notifier: the noise
            "notify_apply_control_difference_s": round(statistics.median(control)
                                                       - statistics.median(plain), 3),
            "notify_apply_runs_done_while_receiver_slept": overlapped,
            "notify_receiver_sleep_s": 2.0,
            "notify_sent": notifier.sent, "notify_failed": notifier.failed,
            "notify_queued_left": notifier.queue.qsize(),
        }
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await runner.cleanup()
    return result


def figures(*, plans: int = 6, runs: int = 8) -> dict[str, Any]:
    import logging
    import warnings

    import structlog

    # the in-process part logs through structlog: keep stdout for the JSON
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    root = Path(tempfile.mkdtemp(prefix="mycopod-bench-gitops-"))
    try:
        (root / "pr").mkdir()
        (root / "notify").mkdir()
        out = pr_plan(root / "pr", plans=plans)
        out.update(asyncio.run(_notify_apply(root / "notify", runs)))
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(figures(), indent=2))
