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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from mycopod.cluster_unit import ClusterUnit
    from mycopod.config import Settings
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.forge.pr_plans import PullRequestPlanner

__all__ = ["own_repo_planners"]


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
