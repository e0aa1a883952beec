"""Pull-request plans on a cluster's own repository (issue 17).

A ``[[clusters]]`` entry with its own ``repo`` and a ``[clusters.forge]`` ``repository``
has its pull requests planned as the ``[declarations]`` repository's are
(:mod:`mycopod.forge.pr_clusters`): its ``pull_request`` webhook, delivered to
``/webhooks/github?cluster=NAME`` and checked with that cluster's webhook secret, is
handed to a planner of its own, which fetches ``refs/pull/N/head`` through the cluster's
clone (so with its git token), plans against its Proxmox, writes the comment on that
repository (through the forge of :func:`mycopod.config_clusters.cluster_forge`: the
table's ``api_url`` and ``token``, else ``[forge]``'s) and sets ``mycopod/plan/<name>``.
Clusters naming the same forge repository share one planner (one comment, a section
each), as clusters sharing the ``[declarations]`` repository do.

Likewise the commit statuses of its compiles and runs (:func:`own_repo_hooks`) go to that
repository, not to ``[forge]``'s, which does not hold its commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from mycopod.cluster_unit import ClusterUnit, Runnable
    from mycopod.config import Settings
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.forge.pr_plans import PullRequestPlanner
    from mycopod.reconcile.hooks import RunHooks

__all__ = ["own_repo_hooks", "own_repo_planners"]


def own_repo_planners(settings: Settings, units: Sequence[ClusterUnit], *,
                      pool: asyncpg.Pool, compilers: CompileWorkers | None = None,
                      ) -> dict[str, PullRequestPlanner]:
    """The planner of each cluster whose own repository's pull requests are planned, by
    cluster name (clusters on one forge repository share theirs)."""
    from mycopod.forge.client import ForgeClient
    from mycopod.forge.pr_clusters import PlanTarget
    from mycopod.forge.pr_plans import PullRequestPlanner

    own = {c.name for c in settings.clusters if c.repo is not None}
    groups: dict[tuple[str | None, str | None], list[ClusterUnit]] = {}
    for unit in units:
        forge = unit.settings.forge
        if unit.name in own and forge.enabled and unit.source is not None:
            groups.setdefault((forge.api_url, forge.repository), []).append(unit)
    planners: dict[str, PullRequestPlanner] = {}
    for members in groups.values():
        first = members[0]
        assert first.source is not None
        planner = PullRequestPlanner(
            source=first.source, client=ForgeClient(first.settings.forge), pool=pool,
            settings=first.current, engine=first.engine, compilers=compilers,
            clusters=[PlanTarget(u.name, u.source, u.current, u.engine) for u in members
                      if u.source is not None])
        planners.update((u.name, planner) for u in members)
    return planners


def own_repo_hooks(settings: Settings, units: Sequence[ClusterUnit], *,
                   notify: RunHooks | None, add: Callable[[str, Runnable], None],
                   ) -> dict[str, RunHooks]:
    """The run hooks of each cluster with its own repository, by name: its commits'
    statuses (``mycopod/compile``, ``mycopod/reconcile``) go to its ``[clusters.forge]``
    repository (none without one), never to ``[forge]``'s, which does not hold those
    commits; the notifier hears it as every cluster. Each reporter's task is ``add``-ed
    (``forge-reporter[<name>]``). A cluster missing here keeps the daemon's hooks."""
    from mycopod.forge.reporter import ForgeReporter
    from mycopod.reconcile.hooks import NO_HOOKS, AllHooks

    own = {c.name for c in settings.clusters if c.repo is not None}
    reporters: dict[tuple[str | None, str | None], ForgeReporter] = {}
    result: dict[str, RunHooks] = {}
    for unit in units:
        if unit.name not in own:
            continue
        forge = unit.settings.forge
        parts: list[RunHooks] = []
        if forge.enabled:
            key = (forge.api_url, forge.repository)
            if key not in reporters:
                reporters[key] = ForgeReporter.for_forge(forge, settings.api)
                add(f"forge-reporter[{unit.name}]", reporters[key].run)
            parts.append(reporters[key])
        if notify is not None:
            parts.append(notify)
        result[unit.name] = AllHooks(*parts) if parts else NO_HOOKS
    return result
