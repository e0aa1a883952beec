"""What the API needs from the daemon, gathered in one value.

The daemon builds an :class:`ApiContext` from the resources it already owns (the pool,
the settings, the shared :class:`~mycopod.runtime.RuntimeStatus`, the declarations
source) and hands it to :func:`mycopod.api.app.create_app`. Tests build one from the
``db`` fixture. Nothing in the API opens its own pool, so a replica serving only the API
and the leader share the same code path.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg

from mycopod.config import PolicySettings, Settings
from mycopod.runtime import RuntimeStatus

if TYPE_CHECKING:
    from mycopod.declarations.workers import CompileWorkers

PolicyGetter = Callable[[], Awaitable[PolicySettings]]


@dataclass
class ClusterView:
    """What the API sees of one cluster: its settings, runtime status and source."""

    settings: Settings
    runtime: RuntimeStatus
    source: Any = None


@dataclass
class ApiContext:
    pool: asyncpg.Pool
    settings: Settings
    runtime: RuntimeStatus = field(default_factory=RuntimeStatus)
    #: a ``mycopod.declarations.source.GitSource``; None: POST /declarations answers 503
    source: Any = None
    #: the effective policy (config + settings table); None: read it from the database
    policy: PolicyGetter | None = None
    #: the daemon's compile workers (shared with its poller); None: the app opens its own
    compilers: CompileWorkers | None = None
    #: a ``mycopod.forge.pr_plans.PullRequestPlanner`` (with ``[forge]``); None: pull
    #: request webhooks are answered 202 and ignored
    pr_plans: Any = None
    #: the planners of clusters' own repositories (``[clusters.forge]``), by cluster name:
    #: their pull-request webhooks arrive at ``?cluster=NAME``
    cluster_pr_plans: dict[str, Any] = field(default_factory=dict)
    #: every cluster by name (several: [[clusters]]); empty: the one of ``runtime``
    clusters: dict[str, ClusterView] = field(default_factory=dict)

    @property
    def cluster(self) -> str:
        """The cluster the API's single-cluster parts follow (the first, or the only one):
        the settings page, POST /declarations, the overview's figures."""
        return self.settings.proxmox.cluster

    def views(self) -> dict[str, ClusterView]:
        return self.clusters or {self.runtime.cluster: ClusterView(
            settings=self.settings, runtime=self.runtime, source=self.source)}

    def cluster_names(self) -> list[str]:
        return list(self.views())

    def one_cluster(self, asked: str | None, *, what: str) -> tuple[str, ClusterView]:
        """The cluster a request names, or the only one. 422 for a name not configured,
        and, with several clusters, for none named (``what`` says what needs it)."""
        from mycopod.api.errors import unprocessable

        views = self.views()
        if asked is not None:
            if asked not in views:
                raise unprocessable(f"cluster {asked!r} is not configured; the clusters are: "
                                    f"{', '.join(views)}", code="unknown_cluster")
            return asked, views[asked]
        if len(views) > 1:
            raise unprocessable(f"{what} goes to one cluster: name it (cluster), one of: "
                                f"{', '.join(views)}", code="cluster_required")
        return next(iter(views.items()))

    def runtime_of(self, cluster: str) -> RuntimeStatus:
        view = self.views().get(cluster)
        return view.runtime if view is not None else self.runtime

    async def effective_policy(self, cluster: str | None = None) -> PolicySettings:
        """The policy of ``cluster`` (default: :attr:`cluster`): its configured policy
        (``[policy]`` with its ``[[clusters]]`` overrides) with its settings rows."""
        if self.policy is not None:
            return await self.policy()
        from mycopod.store.settings import SettingsStore

        name = cluster or self.cluster
        view = self.views().get(name)
        base = (view.settings if view is not None else self.settings).policy
        return await SettingsStore(self.pool, name).effective_policy(base)

    def policy_of(self, cluster: str) -> PolicyGetter:
        """:meth:`effective_policy` of one cluster, as a getter (``approvals``' rules)."""
        return functools.partial(self.effective_policy, cluster)
