"""Compile workers: the grammar in other processes, within a time budget per file and per
request, through the pipeline and its cache (real PostgreSQL, real git)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.config import CompileSettings, DeclarationsSettings
from mycopod.declarations import grammar, pipeline
from mycopod.declarations.errors import CompileError, CompileInterrupted
from mycopod.declarations.source import GitSource
from mycopod.declarations.workers import CompileWorkers, compile_in_process
from mycopod.store.compile_cache import CompileCacheStore
from tests.support.gitrepo import Remote

CONTROLLER = Path(__file__).resolve().parents[3] / "controller"
GOOD = "web-1 is a VM with 2 cores and 4 GB of RAM, tagged web.\n\ndns is a container.\n"
BAD = "web-1 is a VM with purple unicorns.\n"


def slow_text(sentences: int = 2000) -> str:
    """Valid text that takes the grammar about a second (~110 KiB)."""
    return "\n\n".join(f"g{i} is a VM with 2 cores and 4 GB of RAM, tagged web."
                       for i in range(sentences)) + "\n"


@pytest.fixture
async def workers() -> AsyncIterator[CompileWorkers]:
    pool = CompileWorkers(CompileSettings(workers=2))
    try:
        yield pool
    finally:
        await pool.close()


async def test_workers_compile_exactly_what_the_grammar_compiles(
        workers: CompileWorkers) -> None:
    results = await workers.compile({"good.md": GOOD, "bad.md": BAD})
    spec = results["good.md"]
    assert spec == grammar.compile_text(GOOD, filename="good.md")
    assert not isinstance(spec, CompileError)
    # what the text stated survives the trip between processes (stored specs keep it)
    assert [g.model_fields_set for g in spec.guests] == [
        g.model_fields_set for g in grammar.compile_text(GOOD).guests]
    error = results["bad.md"]
    assert isinstance(error, CompileError) and not isinstance(error, CompileInterrupted)
    assert error.issues == compile_in_process({"bad.md": BAD})["bad.md"].issues  # type: ignore[union-attr]


@pytest.fixture
async def unhurried_workers() -> AsyncIterator[CompileWorkers]:
    """Workers whose budgets a loaded machine cannot exhaust: the test below is about the
    event loop, and a compile stopped at the default 10 s would fail it for another reason."""
    pool = CompileWorkers(CompileSettings(workers=2, file_seconds=600, request_seconds=600))
    try:
        yield pool
    finally:
        await pool.close()


async def test_the_event_loop_stays_free_while_a_file_compiles(
        unhurried_workers: CompileWorkers) -> None:
    workers = unhurried_workers
    await workers.compile({"warm.md": GOOD})  # the workers are started
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - started - 0.01)

    tick = asyncio.create_task(ticker(), name="test.ticker")
    started = time.perf_counter()
    results = await workers.compile({f"s{n}.md": slow_text() for n in range(2)})
    seconds = time.perf_counter() - started
    done.set()
    await tick
    assert all(not isinstance(r, CompileError) for r in results.values()), results
    # it took a while, and the loop ticked meanwhile; compiled on the loop, one stall
    # would have lasted the whole compile (a busy machine may still delay a tick a bit)
    assert seconds > 0.3 and len(lags) > 10, (seconds, len(lags))
    assert max(lags) < max(0.5, seconds / 3), (max(lags), seconds)


async def test_a_file_over_its_budget_is_stopped_with_an_error_naming_it() -> None:
    workers = CompileWorkers(CompileSettings(workers=1, file_seconds=0.1))
    try:
        await workers.compile({"warm.md": GOOD})
        started = time.perf_counter()
        results = await workers.compile({"big.md": slow_text(20_000)})  # ~10 s of work
        seconds = time.perf_counter() - started
        error = results["big.md"]
        assert isinstance(error, CompileInterrupted)
        assert str(error) == (
            "big.md: compiling this file took longer than the 0.1 s allowed for one file "
            "(compile.file_seconds), so it was stopped; split it into smaller files")
        # stopped by its worker, not left to run its ~10 s (the bound leaves room for a
        # loaded machine: a clean-clone CI runs beside other work)
        assert seconds < 5.0, seconds
        # the worker is free again
        again = await asyncio.wait_for(workers.compile({"good.md": GOOD}), 10.0)
        assert not isinstance(again["good.md"], CompileError)
    finally:
        await workers.close()


async def test_the_files_of_one_request_share_one_budget() -> None:
    workers = CompileWorkers(CompileSettings(workers=2, file_seconds=30,
                                             request_seconds=0.3))
    try:
        await workers.compile({"warm.md": GOOD})  # the workers are started
        started = time.perf_counter()
        results = await workers.compile({f"f{n}.md": slow_text(20_000) for n in range(4)})
        # stopped, not left to run: the four files are ~40 s of work for two workers (the
        # bound leaves room for a loaded machine, where this took 5.4 s at load 5)
        assert time.perf_counter() - started < 12.0
        for path, error in results.items():
            assert isinstance(error, CompileInterrupted), path
            assert error.issues[0].file == path
            assert "(compile.request_seconds)" in error.issues[0].message
            assert "0.3 s allowed for them together" in error.issues[0].message
    finally:
        await workers.close()


async def test_the_pipeline_records_a_stopped_compile_and_never_caches_it(
        db: asyncpg.Pool, tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    sha = remote.commit({"web.md": GOOD, "slow.md": slow_text(4000)})  # under 256 KiB
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    source.fetch()
    strict = CompileWorkers(CompileSettings(workers=2, file_seconds=0.1))
    try:
        row = await pipeline.compile_commit(source, sha, pool=db, workers=strict)
    finally:
        await strict.close()
    assert row.compile_status == "error" and row.spec is None
    assert row.compile_error is not None
    assert row.compile_error.startswith("slow.md: compiling this file took longer than the "
                                        "0.1 s allowed for one file")
    # web.md compiled and is cached; slow.md is not: another try may finish
    assert await CompileCacheStore(db).count() == 1


def worker_processes(workers: CompileWorkers) -> list[Any]:
    pool = workers._pool
    assert pool is not None
    return list(pool._processes.values())  # type: ignore[attr-defined]


async def test_a_worker_killed_mid_compile_is_an_error_and_the_pool_is_replaced(
        workers: CompileWorkers) -> None:
    await workers.compile({"warm.md": GOOD})
    running = asyncio.ensure_future(workers.compile({"big.md": slow_text(20_000)}))
    await asyncio.sleep(0.5)
    for process in worker_processes(workers):
        process.kill()  # as the kernel's OOM killer would
    error = (await running)["big.md"]
    assert isinstance(error, CompileInterrupted)
    assert str(error) == ("big.md: the compile worker stopped before it finished (killed, or "
                          "out of memory); try again")
    again = await workers.compile({"good.md": GOOD})
    assert not isinstance(again["good.md"], CompileError)


async def test_a_pool_whose_workers_died_while_idle_is_replaced(
        workers: CompileWorkers) -> None:
    await workers.compile({"warm.md": GOOD})
    for process in worker_processes(workers):
        process.kill()
        process.join()
    await asyncio.sleep(0.5)  # the executor notices and breaks
    results = await workers.compile({"good.md": GOOD, "bad.md": BAD})
    assert not isinstance(results["good.md"], CompileError)
    assert isinstance(results["bad.md"], CompileError)


async def test_after_close_compiles_are_refused_not_started() -> None:
    workers = CompileWorkers(CompileSettings(workers=1))
    await workers.compile({"warm.md": GOOD})
    await workers.close()
    error = (await workers.compile({"late.md": GOOD}))["late.md"]
    assert isinstance(error, CompileInterrupted)
    assert "shutting down" in str(error)
    assert workers._pool is None


OWNER = """
import asyncio, sys
from mycopod.config import CompileSettings
from mycopod.declarations.workers import CompileWorkers

async def main():
    workers = CompileWorkers(CompileSettings(workers=2))
    await workers.compile({"a.md": "web-1 is a VM.", "b.md": "web-2 is a VM."})
    print(" ".join(str(p) for p in workers._pool._processes), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited; its new parent may not reap it


def test_workers_leave_with_a_daemon_killed_by_sigkill() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(CONTROLLER)})
    try:
        assert owner.stdout is not None
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 2 and not any(gone(p) for p in pids)
    finally:
        owner.kill()  # SIGKILL: the daemon closes nothing
        owner.wait()
    deadline = time.monotonic() + 10
    while not all(gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(gone(p) for p in pids), pids
