"""What the reconcile path tells the outside world: a small interface, wired by the root.

The poller calls :meth:`RunHooks.commit_compiled` once it has compiled a new head (and
queued its run, or not when it does not compile); the controller calls
:meth:`RunHooks.run_finished` when a run comes to rest (Succeeded, Failed, waiting for
approval or for a window, ...). The composition root (:mod:`mycopod.daemon`) passes an
implementation (the forge reporter, :mod:`mycopod.forge.reporter`); without one, nothing
is told; with several listeners (the forge reporter, the notifier) :class:`AllHooks`
tells each. Implementations must return at once and never raise: they queue their work
and send it from a task of their own, so a slow or dead listener never delays a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mycopod.store.runs import Run

__all__ = ["NO_HOOKS", "AllHooks", "NoHooks", "RunHooks"]


class RunHooks(Protocol):
    def commit_compiled(self, commit: str, *, ok: bool, error: str | None,
                        run_id: int | None) -> None:
        """``commit`` compiled (``ok``) and was queued as ``run_id``, or did not."""

    def run_finished(self, run: Run) -> None:
        """``run`` came to rest (its row as stored)."""


class NoHooks:
    def commit_compiled(self, commit: str, *, ok: bool, error: str | None,
                        run_id: int | None) -> None:
        return None

    def run_finished(self, run: Run) -> None:
        return None


NO_HOOKS = NoHooks()


class AllHooks:
    """Tells every listener, in order."""

    def __init__(self, *hooks: RunHooks) -> None:
        self.hooks = hooks

    def commit_compiled(self, commit: str, *, ok: bool, error: str | None,
                        run_id: int | None) -> None:
        for hook in self.hooks:
            hook.commit_compiled(commit, ok=ok, error=error, run_id=run_id)

    def run_finished(self, run: Run) -> None:
        for hook in self.hooks:
            hook.run_finished(run)
