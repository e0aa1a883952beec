"""Pull-request plans with several clusters (issue 17): a plan per cluster touched.

With ``[[clusters]]``, a pull request on the ``[declarations]`` repository may change the
folders of several clusters. Each cluster planned for it (every cluster reading that
repository and branch, :func:`targets`) reads the pull request's head through its own
clone, so only the files under its ``path``; a cluster whose files do not change is not
touched. Each touched cluster is compiled with its facts and planned against its own
Proxmox (:func:`mycopod.forge.pr_plans.build_comment`), and the comment has one section
per touched cluster (:func:`mycopod.forge.comment.render_clusters`). Each cluster
planned gets a commit status of its own, ``mycopod/plan/<name>`` (a cluster not touched:
``success``, nothing changes there), so branch protection can require any of them.
``mycopod plan --markdown`` builds the same comment with :func:`build_cluster_comments`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
import structlog

from mycopod.declarations.source import SourceError
from mycopod.forge import comment as commentmod
from mycopod.forge import statuses
from mycopod.forge.models import CommitStatus

if TYPE_CHECKING:
    from mycopod.config import Settings
    from mycopod.declarations.facts import ClusterFacts
    from mycopod.declarations.source import GitSource
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.proxmox.cluster_facts import FactsKeeper
    from mycopod.reconcile.reconciler import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["ClusterFiles", "PlanTarget", "build_cluster_comments", "cluster_statuses",
           "read_base", "targets"]


def targets(settings: Settings) -> list[Settings]:
    """The per-cluster settings of the clusters a pull request on the ``[declarations]``
    repository is planned for: those reading that repository and branch."""
    main = (settings.declarations.repo, settings.declarations.branch)
    return [s for s in settings.per_cluster()
            if (s.declarations.repo, s.declarations.branch) == main]


@dataclass
class ClusterFiles:
    """One cluster's side of a pull request: its files at the head and at the base."""

    name: str
    #: its folder ("site-a/"; "": the whole repository)
    folder: str
    head: dict[str, str]
    base: dict[str, str]
    settings: Settings
    engine: EngineContext | None
    #: the cluster's names a bare ``on pve3`` is read with (read only when touched)
    facts: Callable[[], Awaitable[ClusterFacts | None]]


async def build_cluster_comments(clusters: Sequence[ClusterFiles], head_sha: str, *,
                                 pool: asyncpg.Pool, compilers: CompileWorkers | None = None,
                                 number: int | None = None) -> commentmod.ClusterComments:
    """The comment with several clusters: :func:`build_comment` for each cluster whose
    files change, in the order given."""
    from mycopod.forge.pr_plans import build_comment, changed_files

    result = commentmod.ClusterComments(head_sha=head_sha, number=number,
                                        folders={c.name: c.folder for c in clusters})
    for cluster in clusters:
        if not changed_files(cluster.base, cluster.head):
            continue
        built = await build_comment(cluster.head, cluster.base, head_sha, pool=pool,
                                    settings=cluster.settings, engine=cluster.engine,
                                    compilers=compilers, number=number,
                                    facts=await cluster.facts())
        result.sections.append((cluster.name, built))
    return result


def cluster_statuses(comment: commentmod.ClusterComments,
                     url: str | None) -> list[CommitStatus]:
    """``mycopod/plan/<name>`` for every cluster planned: a touched one's as with one
    cluster, an untouched one ``success``."""
    from mycopod.forge.pr_plans import plan_status

    built = dict(comment.sections)
    out = []
    for name, folder in comment.folders.items():
        context = f"{statuses.PLAN_CONTEXT}/{name}"
        if name in built:
            out.append(plan_status(built[name], url, context=context))
        else:
            where = folder or "the repository"
            out.append(CommitStatus.make("success", f"no change in {where}",
                                         context=context, target_url=url))
    return out


def read_base(source: GitSource, candidates: Sequence[str | None], *,
              number: int | None = None) -> dict[str, str]:
    """The files of the first of ``candidates`` (a pull request's base, the branch head)
    this clone can read; none: no file (blocking)."""
    for candidate in candidates:
        if candidate:
            try:
                return source.files_at(candidate)
            except SourceError as exc:  # not fetched here: try the next one
                log.info("forge.pr_base_unread", pr=number, base=candidate, error=str(exc))
    return {}


@dataclass
class PlanTarget:
    """A cluster the pull-request planner plans for: its clone, settings and engine."""

    name: str
    source: GitSource
    settings: Callable[[], Settings]
    engine: EngineContext | None
    _keeper: FactsKeeper | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # an observer of its own: planning a pull request never disturbs a run's cache
        if self.engine is not None:
            self.engine = dataclasses.replace(self.engine, observer=None, last_observed=None)

    async def facts(self) -> ClusterFacts | None:
        if self.engine is None:
            return None
        if self._keeper is None:
            from mycopod.proxmox.cluster_facts import FactsKeeper

            self._keeper = FactsKeeper(self.engine.client)
        return await self._keeper.get()

    async def files(self, number: int, *, base_sha: str | None) -> tuple[str, ClusterFiles]:
        """Fetch pull request ``number`` into this cluster's clone: its head commit and
        this cluster's files at the head and at the base."""
        source = self.source
        fetched = await asyncio.to_thread(source.fetch_ref, f"refs/pull/{number}/head",
                                          local=f"pull/{number}")
        head = await asyncio.to_thread(source.files_at, fetched)
        base = await asyncio.to_thread(read_base, source, (base_sha, source.last_good),
                                       number=number)
        settings = self.settings()
        return fetched, ClusterFiles(self.name, settings.declarations.path or "", head, base,
                                     settings, self.engine, self.facts)
