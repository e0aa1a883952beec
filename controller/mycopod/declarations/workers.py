"""Compiling off the event loop: worker processes, and a time budget for every compile.

Why: the grammar is pure Python and all CPU. Run on the event loop, one large file
stops everything else the daemon does: an attack with four 256 KiB declarations held
the loop for 45 s, so ``/health`` answered late and wrongly, and the systemd watchdog
would have killed the daemon. Threads would not help (the grammar holds the GIL), so
files are compiled in a pool of processes (``[compile] workers``), which the daemon (or
the API app, when it runs alone) opens at start and closes at shutdown.

Budgets: one file may compile for ``file_seconds``, and the files of one request or one
commit together for ``request_seconds`` (a :class:`Budget`, started when the request
is). The worker keeps the budget itself: an alarm (``SIGALRM``) stops the compile and
frees the worker at once. Should a worker not answer a few seconds after its budget
(stuck in C code), its pool is killed and replaced. Either way the file gets a
:class:`~mycopod.declarations.errors.CompileInterrupted` naming it and the budget: a
compile error that is never cached, since another try may finish.

Interface: ``CompileWorkers(settings)``, ``await workers.compile(files, budget=...)`` ->
``{path: ClusterSpec | CompileError}``, ``await workers.close()``; :func:`compile_in_process`
does the same on the calling thread, with no budget, for the CLI and the tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType
from typing import Any

import structlog

from mycopod import spec as specmod
from mycopod.config import CompileSettings
from mycopod.declarations import grammar
from mycopod.declarations.errors import (
    CompileError,
    CompileInterrupted,
    CompileIssue,
    GuestLimitError,
)

__all__ = ["Budget", "CompileWorkers", "GrammarResults", "Notes", "compile_in_process"]

log = structlog.get_logger(__name__)

#: how long after its budget a worker may stay silent before its pool is killed
GRACE_SECONDS = 5.0
#: how often a worker checks that the daemon that started it is still there
PARENT_CHECK_SECONDS = 1.0

GrammarResults = dict[str, specmod.ClusterSpec | CompileError]
#: what the grammar read and deliberately did not use, per file (or key) of a compile:
#: ``(line, "ignored as context: '...'")`` and the like (``grammar.compile_text(ignored=)``)
Notes = dict[str, list[tuple[int, str]]]


@dataclass(frozen=True, slots=True)
class Budget:
    """The time one request (or one commit) may spend compiling, and one file of it.

    ``deadline`` is wall-clock time (``time.time()``), which the worker processes share.
    """

    file_seconds: float
    request_seconds: float
    deadline: float

    @classmethod
    def start(cls, settings: CompileSettings) -> Budget:
        return cls(settings.file_seconds, settings.request_seconds,
                   time.time() + settings.request_seconds)

    def remaining(self) -> float:
        return self.deadline - time.time()


# -- in the worker process ---------------------------------------------------------------


class _OutOfTime(BaseException):
    """Raised by the alarm inside a compile (a BaseException: no ``except Exception``
    in the grammar or pydantic may swallow it)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _OutOfTime


def _worker_start(parent: int) -> None:
    """Each worker: Ctrl-C in a terminal is for the daemon, which closes the pool; and a
    worker leaves with its daemon, however the daemon ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="compile-worker.parent",
                     daemon=True).start()
    # the grammar's dispatch (grammar/dispatch.py) learns which phrases start at the
    # common words here, once, not within the first file's time budget
    try:
        grammar.compile_text(_WARM_UP)
    except CompileError:  # pragma: no cover - a test keeps it compiling
        pass


#: what a worker compiles when it starts
_WARM_UP = ("web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm, on "
            "node pve1, tagged web. It should be running.\n\ndb-1 is a VM with "
            "the static IP 10.0.0.5/24 and gateway 10.0.0.1, cloned from the template "
            "base, in pool lab.\n")


def _exit_with(parent: int) -> None:
    """Exit once ``parent`` is gone (kill -9, the OOM killer): a worker waits for work on a
    queue it holds open itself, so it would otherwise wait forever."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _compile(text: str, filename: str, file_seconds: float, deadline: float,
             max_guests: int | None = None, places: grammar.Places | None = None
             ) -> tuple[str, Any]:
    """Compile one file within its budget, in a worker process.

    Returns ``("ok", (spec, [(line, note), ...]))`` with what the grammar deliberately
    did not use, ``("error", [(file, line, message), ...])`` or
    ``("limit", ...)`` for more guests than ``max_guests``, or ``("budget", "file" |
    "request")`` (plain values: they cross a process boundary).
    """
    seconds = min(file_seconds, deadline - time.time())
    which = "file" if seconds == file_seconds else "request"
    if seconds <= 0:
        return "budget", "request"
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            found: list[CompileIssue] = []
            spec = grammar.compile_text(text, filename=filename, max_guests=max_guests,
                                        places=places, ignored=found)
            return "ok", (spec, [(i.line, i.message) for i in found])
        except GuestLimitError as exc:
            return "limit", [(i.file, i.line, i.message) for i in exc.issues]
        except CompileError as exc:
            return "error", [(i.file, i.line, i.message) for i in exc.issues]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OutOfTime:  # also when the alarm rang while it was being switched off
        return "budget", which
    finally:
        signal.signal(signal.SIGALRM, previous)


def _compile_batch(texts: list[str], file_seconds: float, deadline: float,
                   places: grammar.Places | None = None) -> list[tuple[str, Any]]:
    """Compile many short texts (paragraphs) one after the other, together within one
    file's time, in a worker process: one outcome per text, as :func:`_compile` gives
    them (a text not reached in time is ``("budget", ...)``)."""
    seconds = min(file_seconds, deadline - time.time())
    which = "file" if seconds == file_seconds else "request"
    out: list[tuple[str, Any]] = []
    if seconds <= 0:
        return [("budget", "request")] * len(texts)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            for text in texts:
                try:
                    found: list[CompileIssue] = []
                    spec = grammar.compile_text(text, places=places, ignored=found)
                    out.append(("ok", (spec, [(i.line, i.message) for i in found])))
                except CompileError as exc:
                    out.append(("error", [(i.file, i.line, i.message) for i in exc.issues]))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OutOfTime:
        pass
    finally:
        signal.signal(signal.SIGALRM, previous)
    return out + [("budget", which)] * (len(texts) - len(out))


# -- in the daemon -----------------------------------------------------------------------


def _out_of_time(path: str, which: str, budget: Budget) -> CompileInterrupted:
    if which == "file":
        message = (f"compiling this file took longer than the {budget.file_seconds:g} s "
                   "allowed for one file (compile.file_seconds), so it was stopped; split "
                   "it into smaller files")
    else:
        message = (f"compiling was stopped: the files of this request took longer than the "
                   f"{budget.request_seconds:g} s allowed for them together "
                   "(compile.request_seconds); submit fewer or smaller files at once")
    return CompileInterrupted([CompileIssue(path, 0, message)])


def _decode(path: str, outcome: tuple[str, Any], budget: Budget,
            notes: Notes | None = None) -> specmod.ClusterSpec | CompileError:
    kind, value = outcome
    if kind == "ok":
        spec, said = value
        assert isinstance(spec, specmod.ClusterSpec)
        if notes is not None:
            notes[path] = [(int(line), str(message)) for line, message in said]
        return spec
    if kind == "error":
        return CompileError([CompileIssue(f, line, m) for f, line, m in value])
    if kind == "limit":
        return GuestLimitError([CompileIssue(f, line, m) for f, line, m in value])
    return _out_of_time(path, str(value), budget)


def compile_in_process(files: Mapping[str, str], *, mark: str | None = None,
                       max_guests: int | None = None, places: grammar.Places | None = None,
                       notes: Notes | None = None) -> GrammarResults:
    """The grammar on the calling thread, with no budget (the CLI, tests, benchmarks).
    ``notes``: gets, for each file that compiled, what the grammar did not use."""
    results: GrammarResults = {}
    for path in sorted(files):
        found: list[CompileIssue] = []
        try:
            results[path] = grammar.compile_text(files[path], filename=mark or path,
                                                 max_guests=max_guests, places=places,
                                                 ignored=found)
        except CompileError as exc:
            results[path] = exc
            continue
        if notes is not None:
            notes[path] = [(i.line, i.message) for i in found]
    return results


class CompileWorkers:
    """A pool of compile processes, started on first use and closed with its owner."""

    def __init__(self, settings: CompileSettings) -> None:
        self.settings = settings
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._closed = False

    def budget(self) -> Budget:
        """A new budget, for a request or a commit that starts now."""
        return Budget.start(self.settings)

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the daemon has threads (asyncpg, to_thread) a fork would copy
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.settings.workers, initializer=_worker_start,
                initargs=(os.getpid(),), mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _submit(self, files: Mapping[str, str], budget: Budget, mark: str | None,
                max_guests: int | None, places: grammar.Places | None = None
                ) -> tuple[concurrent.futures.ProcessPoolExecutor,
                           dict[str, asyncio.Future[tuple[str, Any]]]]:
        """Queue every file; a pool found broken (a worker died since) is replaced once."""
        pool = self._executor()
        try:
            return pool, _queue(pool, files, budget, mark, max_guests, places)
        except BrokenProcessPool:
            self._forget(pool)
        pool = self._executor()
        return pool, _queue(pool, files, budget, mark, max_guests, places)

    async def compile(self, files: Mapping[str, str], *, budget: Budget | None = None,
                      mark: str | None = None, max_guests: int | None = None,
                      places: grammar.Places | None = None, notes: Notes | None = None
                      ) -> GrammarResults:
        """Compile ``files`` (path -> text) with the grammar, in the workers, in parallel.

        ``mark`` is the file name the compiler puts in its messages (the pipeline caches
        them under a mark, not a path); budget errors always name the path. ``notes``:
        gets, for each file that compiled, what the grammar did not use.
        """
        budget = budget or self.budget()
        if not files:
            return {}
        if self._closed:
            return {path: _stopped(path, "compiling has stopped: MycoPod is shutting down")
                    for path in files}
        pool, futures = self._submit(files, budget, mark, max_guests, places)
        results: GrammarResults = {}
        try:
            _, late = await asyncio.wait(futures.values(),
                                         timeout=max(0.0, budget.remaining()) + GRACE_SECONDS)
            if late:
                log.error("compile.workers_stuck", files=len(late),
                          note="a worker did not stop at its time budget; its pool is "
                               "killed and replaced")
                self._kill(pool)
            for path, future in futures.items():
                if not future.done():
                    results[path] = _out_of_time(path, "request", budget)
                    continue
                try:
                    results[path] = _decode(path, future.result(), budget, notes)
                except BrokenProcessPool:
                    self._forget(pool)
                    results[path] = _stopped(path, "the compile worker stopped before it "
                                                   "finished (killed, or out of memory); "
                                                   "try again")
                except Exception as exc:  # a bug in the compiler must not stop the daemon
                    log.error("compile.crashed", path=path, error=f"{type(exc).__name__}: {exc}")
                    results[path] = _stopped(path, f"the compiler failed on this file "
                                                   f"({type(exc).__name__}); this is a bug in "
                                                   "MycoPod, please report it with the file")
        finally:
            for future in futures.values():
                future.cancel()  # files still queued when the request goes away
        for path, result in results.items():
            if isinstance(result, CompileInterrupted):
                log.warning("compile.interrupted", path=path, error=result.issues[0].message)
        return results

    async def compile_batch(self, texts: Mapping[str, str], *, budget: Budget | None = None,
                            places: grammar.Places | None = None, notes: Notes | None = None
                            ) -> GrammarResults:
        """Compile many short texts (key -> text: paragraphs) in the workers, a share of
        them in each, together within one file's time; an outcome per key. Cheaper than
        :meth:`compile` for many small texts: one call per worker, not one per text."""
        budget = budget or self.budget()
        keys = sorted(texts)
        if not keys:
            return {}
        if self._closed:
            return {k: _stopped(k, "compiling has stopped: MycoPod is shutting down")
                    for k in keys}
        share = -(-len(keys) // self.settings.workers)
        chunks = [keys[i:i + share] for i in range(0, len(keys), share)]
        loop = asyncio.get_running_loop()
        pool = self._executor()
        futures = [loop.run_in_executor(pool, _compile_batch, [texts[k] for k in chunk],
                                        budget.file_seconds, budget.deadline, places)
                   for chunk in chunks]
        results: GrammarResults = {}
        try:
            _, late = await asyncio.wait(futures, timeout=max(0.0, budget.remaining())
                                         + GRACE_SECONDS)
            if late:
                log.error("compile.workers_stuck", files=len(late),
                          note="a worker did not stop at its time budget; its pool is "
                               "killed and replaced")
                self._kill(pool)
            for chunk, future in zip(chunks, futures, strict=True):
                try:
                    outcomes = future.result() if future.done() else None
                except BrokenProcessPool:
                    self._forget(pool)
                    outcomes = None
                except Exception as exc:  # a bug in the compiler must not stop the daemon
                    log.error("compile.crashed", path=chunk[0],
                              error=f"{type(exc).__name__}: {exc}")
                    outcomes = None
                for k, key in enumerate(chunk):
                    results[key] = (_decode(key, outcomes[k], budget, notes) if outcomes is not None
                                    else _stopped(key, "the compile worker stopped"))
        finally:
            for future in futures:
                future.cancel()
        return results

    def _forget(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """A broken pool is replaced on the next compile."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _kill(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        # The executor has no public way to stop a running call: its processes (a private
        # attribute) are the only handle on a worker stuck past its alarm.
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        self._forget(pool)

    async def close(self, *, seconds: float = 10.0) -> None:
        """Stop the workers: queued compiles are cancelled, a running one gets
        ``seconds`` to finish (its budget keeps that short), then its process is
        killed with a warning. Never blocks the loop, and never leaves a thread waiting
        on the pool (a thread still waiting would hold the process at exit)."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + seconds
        while (alive := [p.sentinel for p in processes if p.is_alive()]) and (
                left := deadline - time.monotonic()) > 0:
            # a thread that returns within ``left`` seconds whatever the workers do
            await asyncio.to_thread(multiprocessing.connection.wait, alive, left)
        alive = [p.pid for p in processes if p.is_alive()]
        if alive:
            log.warning("compile.workers_close_timeout", seconds=seconds, pids=alive,
                        note="the compile processes did not stop in time; killed")
            for process in processes:
                if process.is_alive():
                    process.kill()


def _queue(pool: concurrent.futures.ProcessPoolExecutor, files: Mapping[str, str],
           budget: Budget, mark: str | None, max_guests: int | None,
           places: grammar.Places | None = None) -> dict[str, asyncio.Future[tuple[str, Any]]]:
    loop = asyncio.get_running_loop()
    futures: dict[str, asyncio.Future[tuple[str, Any]]] = {}
    try:
        for path in sorted(files):
            futures[path] = loop.run_in_executor(pool, _compile, files[path], mark or path,
                                                 budget.file_seconds, budget.deadline,
                                                 max_guests, places)
    except BaseException:
        for future in futures.values():
            future.cancel()
        raise
    return futures


def _stopped(path: str, message: str) -> CompileInterrupted:
    return CompileInterrupted([CompileIssue(path, 0, message)])
