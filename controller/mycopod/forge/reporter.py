"""Sends commit statuses to the forge, off the reconcile path: the daemon's RunHooks.

The poller and the controller call :meth:`ForgeReporter.commit_compiled` and
:meth:`ForgeReporter.run_finished` (:mod:`mycopod.reconcile.hooks`); each only puts a
report on a bounded queue and returns. The ``forge-reporter`` task
(:meth:`ForgeReporter.run`) sends them one at a time through the
:class:`~mycopod.forge.client.ForgeClient`, which retries rate limits and 5xx answers
with backoff. A report that still fails is logged (``forge.report_failed``) and
dropped; when the queue is full the oldest report is dropped (``forge.report_dropped``),
since a newer status of the same commit supersedes it anyway. Nothing here can delay or
fail a run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from mycopod.forge import statuses
from mycopod.forge.client import ForgeClient, ForgeError
from mycopod.forge.models import CommitStatus
from mycopod.queues import put_dropping_oldest

if TYPE_CHECKING:
    from mycopod.config import ApiSettings
    from mycopod.config_gitops import ForgeSettings
    from mycopod.store.runs import Run

log = structlog.get_logger(__name__)

__all__ = ["ForgeReporter", "StatusReport"]


@dataclass(frozen=True, slots=True)
class StatusReport:
    sha: str
    status: CommitStatus


class ForgeReporter:
    """Commit statuses for compiles and runs, queued and sent by a task of its own."""

    @classmethod
    def for_forge(cls, forge: ForgeSettings, api: ApiSettings) -> ForgeReporter:
        """The reporter of ``forge``; its statuses link to ``forge.public_url``, else to
        this daemon's API address."""
        return cls(ForgeClient(forge), queue_size=forge.queue_size,
                   public_url=forge.public_url or f"http://{api.host}:{api.port}")

    def __init__(self, client: ForgeClient, *, public_url: str, queue_size: int) -> None:
        self.client = client
        self.public_url = public_url
        self.queue: asyncio.Queue[StatusReport] = asyncio.Queue(maxsize=queue_size)
        #: reports sent, failed and dropped (for tests and the logs)
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    # -- RunHooks: return at once --------------------------------------------------------

    def commit_compiled(self, commit: str, *, ok: bool, error: str | None,
                        run_id: int | None) -> None:
        self.submit(commit, statuses.for_compile(ok=ok, error=error, run_id=run_id,
                                                 base=self.public_url))

    def run_finished(self, run: Run) -> None:
        status = statuses.for_run(run, base=self.public_url)
        if status is not None and run.commit_sha:
            self.submit(run.commit_sha, status)

    def submit(self, sha: str, status: CommitStatus) -> None:
        """Queue a status; never blocks (the oldest queued report gives way)."""
        for old in put_dropping_oldest(self.queue, StatusReport(sha, status)):
            self.dropped += 1
            log.warning("forge.report_dropped", commit=old.sha, state=old.status.state,
                        note="the report queue is full")

    # -- the task --------------------------------------------------------------------------

    async def run(self) -> None:
        """Task ``forge-reporter``: send queued reports until cancelled."""
        try:
            while True:
                report = await self.queue.get()
                try:
                    await self._send(report)
                finally:
                    self.queue.task_done()
        finally:
            await self.client.aclose()

    async def _send(self, report: StatusReport) -> None:
        try:
            await self.client.set_status(report.sha, report.status)
        except ForgeError as exc:
            self.failed += 1
            log.warning("forge.report_failed", commit=report.sha, state=report.status.state,
                        context=report.status.context, status=exc.status, error=str(exc))
            return
        except Exception as exc:  # a report must never stop the task (nor the daemon)
            self.failed += 1
            log.error("forge.report_failed", commit=report.sha, error=repr(exc), exc_info=exc)
            return
        self.sent += 1
        log.info("forge.status_sent", commit=report.sha, state=report.status.state,
                 context=report.status.context)
