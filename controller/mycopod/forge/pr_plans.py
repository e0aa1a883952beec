"""Pull-request plans: what merging would do, said on the pull request before the merge.

A verified ``pull_request`` webhook (opened, synchronize, reopened) hands the pull
request's number and head to :meth:`PullRequestPlanner.submit`, which returns at once.
The ``pr-planner`` task then, per pull request (a newer head replaces one not yet
planned): fetches ``refs/pull/N/head`` from the declarations remote, compiles its files
through the compile cache (so a 50-file repository with one changed file compiles one),
plans the result against the live cluster with an observer of its own (never applying
anything, never touching the run queue), and writes one comment on the pull request,
created once and then updated in place with ``PATCH`` (its id is kept in the database,
:mod:`mycopod.store.forge_comments`). It also sets the ``mycopod/plan`` status on the
head. A failure is logged (``forge.pr_plan_failed``) and the next pull request planned.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg
import structlog

from mycopod.declarations import render as renderer
from mycopod.forge import comment as commentmod
from mycopod.forge import statuses
from mycopod.forge.client import ForgeClient, ForgeError
from mycopod.forge.models import CommitStatus
from mycopod.forge.pr_clusters import (
    PlanTarget,
    build_cluster_comments,
    cluster_statuses,
    read_base,
)
from mycopod.store.forge_comments import ForgeCommentStore

if TYPE_CHECKING:
    from mycopod.config import Settings
    from mycopod.declarations.facts import ClusterFacts
    from mycopod.declarations.source import GitSource
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.proxmox.cluster_facts import FactsKeeper
    from mycopod.reconcile.reconciler import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["PullRequestPlanner", "build_comment", "changed_files", "plan_status"]


def changed_files(base: dict[str, str], head: dict[str, str]) -> list[commentmod.FileChange]:
    """The declaration files that differ between ``base`` and ``head``. Pure."""
    out = []
    for path in sorted(set(base) | set(head)):
        if path not in base:
            out.append(commentmod.FileChange(path, "added"))
        elif path not in head:
            out.append(commentmod.FileChange(path, "removed"))
        elif base[path] != head[path]:
            out.append(commentmod.FileChange(path, "modified"))
    return out


async def build_comment(head: dict[str, str], base: dict[str, str], head_sha: str, *,
                        pool: asyncpg.Pool, settings: Settings, engine: EngineContext | None,
                        compilers: CompileWorkers | None = None,
                        number: int | None = None, facts: ClusterFacts | None = None
                        ) -> commentmod.PlanComment:
    """The plan comment for the declaration files ``head`` (at ``head_sha``) against
    ``base``: what changed, how it was understood, and the plan against the live cluster
    (through ``engine``; None: no cluster). The pull-request planner and
    ``mycopod plan --markdown`` both call this, so their texts are the same. ``facts``:
    the cluster's names a bare ``on pve3`` is read with."""
    from mycopod.api.ui import data
    from mycopod.declarations import pipeline
    from mycopod.reconcile import reconciler

    result = commentmod.PlanComment(head_sha=head_sha, number=number,
                                    files=changed_files(base, head))
    compiled = await pipeline.compile_files_cached(
        head, pool=pool, llm=settings.llm if settings.llm.model else None,
        max_guests=settings.declarations.max_guests, workers=compilers, facts=facts)
    result.compile_error = compiled.error
    guests = {g.name: g for g in compiled.spec.guests} if compiled.spec else {}
    records = {r.path: r for r in compiled.files}
    for change in result.files:
        if change.change == "removed":
            continue
        record = records.get(change.path)
        for p in data.annotate(head[change.path], record.guests if record else [],
                               record.error if record else None,
                               record.ignored if record else None):
            result.paragraphs.append(commentmod.Paragraph(
                change.path, p.line, p.text,
                tuple(renderer.render_guest(guests[n]) for n in p.guests if n in guests),
                tuple(p.errors), tuple(p.ignored)))
    if compiled.spec is None:
        return result
    if engine is None:
        result.plan_unavailable = "no Proxmox cluster is configured"
        return result
    try:
        await engine.refresh_policy()
        _observed, result.plan = await reconciler.observe_and_plan(
            engine, compiled.spec, origin=pipeline.unrecorded(head, compiled))
    except Exception as exc:
        result.plan_unavailable = f"the cluster could not be observed: {exc}"
    return result


class PullRequestPlanner:
    """Plans pull requests and comments on them, from a task of its own."""

    def __init__(self, *, source: GitSource, client: ForgeClient, pool: asyncpg.Pool,
                 settings: Callable[[], Settings], engine: EngineContext | None,
                 compilers: CompileWorkers | None = None, queue_size: int = 50,
                 clusters: Sequence[PlanTarget] = ()) -> None:
        """``clusters``: with ``[[clusters]]``, each cluster planned (a section and a
        status each, :mod:`mycopod.forge.pr_clusters`); empty: ``source`` and ``engine``
        are the one cluster's."""
        self.clusters = list(clusters)
        self.source = source
        self.client = client
        self.pool = pool
        self.settings = settings
        # an observer of its own: planning a pull request never disturbs a run's cache
        self.engine = (dataclasses.replace(engine, observer=None, last_observed=None)
                       if engine is not None else None)
        self.compilers = compilers
        self.queue_size = queue_size
        self._keeper: FactsKeeper | None = None
        self._pending: dict[int, str] = {}
        self._wake = asyncio.Event()
        #: pull requests planned and commented on (for tests and the logs)
        self.done = 0

    def submit(self, number: int, head_sha: str) -> bool:
        """Plan pull request ``number`` at ``head_sha`` soon; False when too many wait."""
        if number not in self._pending and len(self._pending) >= self.queue_size:
            log.warning("forge.pr_plan_failed", pr=number, error="too many pull requests "
                        "waiting to be planned; this one is skipped")
            return False
        self._pending[number] = head_sha
        self._wake.set()
        return True

    async def run(self) -> None:
        """Task ``pr-planner``: plan what is submitted until cancelled."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._pending:
                    number = next(iter(self._pending))
                    head = self._pending.pop(number)
                    try:
                        await self.plan_pull_request(number, head)
                    except Exception as exc:  # one pull request never stops the next
                        log.warning("forge.pr_plan_failed", pr=number, head=head,
                                    error=f"{type(exc).__name__}: {exc}")
        finally:
            await self.client.aclose()

    async def _facts(self) -> ClusterFacts | None:
        """The cluster's names, read as the daemon's compiles read them (no cluster: None)."""
        if self.engine is None:
            return None
        if self._keeper is None:
            from mycopod.proxmox.cluster_facts import FactsKeeper

            self._keeper = FactsKeeper(self.engine.client)
        return await self._keeper.get()

    # -- one pull request --------------------------------------------------------------------

    async def build(self, number: int, head_sha: str, *,
                    base_sha: str | None = None) -> commentmod.PlanComment:
        """Fetch, compile and plan pull request ``number``; the comment's content."""
        settings = self.settings()
        fetched = await asyncio.to_thread(self.source.fetch_ref, f"refs/pull/{number}/head",
                                          local=f"pull/{number}")
        if fetched != head_sha:
            log.info("forge.pr_head_moved", pr=number, webhook=head_sha, fetched=fetched)
        head = await asyncio.to_thread(self.source.files_at, fetched)
        base = await asyncio.to_thread(read_base, self.source, (base_sha, self.source.last_good),
                                       number=number)
        return await build_comment(head, base, fetched, number=number, pool=self.pool,
                                   settings=settings, engine=self.engine,
                                   compilers=self.compilers, facts=await self._facts())

    async def build_clusters(self, number: int, head_sha: str, *,
                             base_sha: str | None = None) -> commentmod.ClusterComments:
        """With several clusters: each cluster's files of pull request ``number``, and the
        plan of each one they touch."""
        files = []
        fetched = head_sha
        for target in self.clusters:
            fetched, part = await target.files(number, base_sha=base_sha)
            files.append(part)
        if fetched != head_sha:
            log.info("forge.pr_head_moved", pr=number, webhook=head_sha, fetched=fetched)
        return await build_cluster_comments(files, fetched, pool=self.pool,
                                            compilers=self.compilers, number=number)

    async def plan_pull_request(self, number: int, head_sha: str, *,
                                base_sha: str | None = None) -> None:
        if self.clusters:
            several = await self.build_clusters(number, head_sha, base_sha=base_sha)
            url = await self._comment(number, several.head_sha,
                                      commentmod.render_clusters(several))
            for status in cluster_statuses(several, url):
                await self.client.set_status(several.head_sha, status)
            self.done += 1
            log.info("forge.pr_planned", pr=number, head=several.head_sha,
                     clusters=[name for name, _ in several.sections])
            return
        built = await self.build(number, head_sha, base_sha=base_sha)
        body = commentmod.render(built)
        url = await self._comment(number, built.head_sha, body)
        await self.client.set_status(built.head_sha, plan_status(built, url))
        self.done += 1
        log.info("forge.pr_planned", pr=number, head=built.head_sha,
                 actions=len(built.plan.actions) if built.plan else None,
                 compiles=built.compile_error is None)

    async def _comment(self, number: int, head_sha: str, body: str) -> str | None:
        store = ForgeCommentStore(self.pool)
        repository = self.client.repository
        known = await store.get(repository, number)
        if known is not None:
            try:
                made = await self.client.update_comment(known, body)
            except ForgeError as exc:
                if exc.status != 404:
                    raise
                known = None  # deleted on the forge: write a new one
        if known is None:
            made = await self.client.create_comment(number, body)
        await store.put(repository, number, comment_id=made.id, head_sha=head_sha)
        return made.html_url


def plan_status(built: commentmod.PlanComment, url: str | None, *,
                context: str = statuses.PLAN_CONTEXT) -> CommitStatus:
    """The commit status of one cluster's plan (``context``: ``mycopod/plan``, or
    ``mycopod/plan/<name>`` with several clusters)."""
    if built.compile_error:
        first = built.compile_error.strip().splitlines()[0]
        return CommitStatus.make("failure", f"does not compile: {first}", context=context,
                                 target_url=url)
    if built.plan is None:
        return CommitStatus.make("error", f"no plan: {built.plan_unavailable}",
                                 context=context, target_url=url)
    gated = len(built.plan.approval_keys())
    what = (f"{len(built.plan.actions)} action(s), {gated} need approval"
            if built.plan.actions else "no change to the cluster")
    return CommitStatus.make("failure" if built.plan.errors else "success", f"plan: {what}",
                             context=context, target_url=url)
