"""Which notification a compile or a run gives, if any. Pure.

- a commit that does not compile: ``compile_failed``, naming the first ``file:line``;
- a run that failed: ``run_failed``, with its first error;
- a run that waits for an Admin's approval: ``awaiting_approval``, with the reasons.

Each message carries a short title, the commit (and run), and a link to the run's page.
Its ``key`` says what makes it the same news: the event, the commit and the error, so
a retried run failing the same way is not announced again, while a new error is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mycopod.store.runs import Run

__all__ = ["Message", "for_compile", "for_run"]


@dataclass(frozen=True, slots=True)
class Message:
    event: str
    title: str
    body: str
    key: str
    #: "failure" or "warning" (Apprise's notify types)
    severity: str = "failure"


def _first(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def _short(sha: str | None) -> str:
    return sha[:10] if sha else "no commit"


def for_compile(commit: str, *, ok: bool, error: str | None) -> Message | None:
    if ok:
        return None
    first = _first(error) or "unknown error"
    return Message("compile_failed", f"MycoPod: commit {_short(commit)} does not compile",
                   f"Commit {commit} does not compile: {first}\nNothing was queued; the "
                   "next commit that compiles is.", key=f"compile_failed:{commit}:{first}")


def for_run(run: Run, *, base: str) -> Message | None:
    url = f"{base.rstrip('/')}/ui/runs/{run.id}"
    commit = f"commit {run.commit_sha}" if run.commit_sha else f"a {run.trigger} run"
    if run.status == "Failed" and not run.dry_run:
        first = _first(run.error) or "see the run"
        return Message("run_failed", f"MycoPod: run {run.id} failed",
                       f"Run {run.id} ({commit}) failed: {first}\n{url}",
                       key=f"run_failed:{run.commit_sha or run.trigger}:{first}")
    if run.status == "AwaitingApproval":
        reasons = (run.plan or {}).get("approval_reasons") or []
        why = "; ".join(str(r) for r in reasons[:3]) or "see the plan"
        return Message("awaiting_approval", f"MycoPod: run {run.id} awaits approval",
                       f"Run {run.id} ({commit}) waits for an Admin's approval: {why}\n{url}",
                       key=f"awaiting_approval:{run.id}", severity="warning")
    return None
