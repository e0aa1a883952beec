"""Which notification a compile or a run gives, if any. Pure.

- a commit that does not compile: ``compile_failed``, naming the first ``file:line``;
- a run that failed: ``run_failed``, with its first error;
- a run that waits for an Admin's approval: ``awaiting_approval``, with the reasons;
- drift found and left alone (self_heal off): ``drift_unhealed``, naming the guests and
  their drifted settings, with a link to the guests page;
- the Proxmox connection or the leadership lost for longer than the threshold, and back:
  ``connection_lost``, with a link to the status page.

Each message carries a short title, the commit (and run) or the guests, and a link.
Its ``key`` says what makes it the same news: the event, the commit and the error, so
a retried run failing the same way is not announced again, while a new error is. Drift
and outages are told by state instead (:mod:`mycopod.notify.watch` decides what is
news): their messages are ``repeatable``, not held back by ``repeat_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mycopod.store.runs import Run

__all__ = ["Message", "for_compile", "for_drift", "for_outage", "for_run"]

#: what an outage is about, as the messages say it
LOST_WHAT = {"proxmox": "the Proxmox connection", "leadership": "the leadership"}
_MEANWHILE = {"proxmox": "nothing can be applied or observed meanwhile.",
              "leadership": "this replica applies nothing meanwhile (another may lead)."}


@dataclass(frozen=True, slots=True)
class Message:
    event: str
    title: str
    body: str
    key: str
    #: "failure" or "warning" (Apprise's notify types)
    severity: str = "failure"
    #: already deduplicated by its sender (by state): not held back by repeat_seconds
    repeatable: bool = False


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


def _link(base: str, path: str) -> str:
    return f"{base.rstrip('/')}{path}"


def for_drift(news: dict[str, tuple[str, ...]], *, base: str) -> Message | None:
    """Drift on ``news`` (guest → drifted settings) that self-heal will not correct."""
    if not news:
        return None
    names = sorted(news)
    who = names[0] if len(names) == 1 else f"{len(names)} guests"
    lines = [f"- {name}: {'; '.join(news[name]) or 'drifted'}" for name in names[:20]]
    if len(names) > 20:
        lines.append(f"- and {len(names) - 20} more")
    body = ("Drift found and not self-healed (self_heal is off); a manual or commit run "
            "corrects it:\n" + "\n".join(lines) + "\n" + _link(base, "/ui/guests"))
    key = "drift_unhealed:" + ";".join(f"{n}={'|'.join(news[n])}" for n in names)
    return Message("drift_unhealed", f"MycoPod: drift on {who} not self-healed", body,
                   key=key, severity="warning", repeatable=True)


def for_outage(what: str, news: str, *, seconds: float, cluster: str, base: str,
               error: str | None = None) -> Message:
    """``what`` ("proxmox" or "leadership") was ``news`` ("lost" or "recovered")."""
    thing = LOST_WHAT.get(what, what)
    link = _link(base, "/")
    if news == "lost":
        why = f" ({_first(error)})" if error else ""
        return Message("connection_lost", f"MycoPod: lost {thing} ({cluster})",
                       f"Cluster {cluster}: {thing} has been lost for {seconds:.0f} s{why}; "
                       f"{_MEANWHILE.get(what, '')}\n{link}",
                       key=f"connection_lost:{what}:lost", repeatable=True)
    return Message("connection_lost", f"MycoPod: {thing} recovered ({cluster})",
                   f"Cluster {cluster}: {thing} is back after {seconds:.0f} s.\n{link}",
                   key=f"connection_lost:{what}:recovered", severity="success",
                   repeatable=True)
