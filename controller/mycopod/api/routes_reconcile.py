"""``/reconcile`` and ``/logs``: queue runs, read them, approve or reject them.

The API never reconciles by itself: ``POST /reconcile`` writes a Pending run (with the
requester, so the audit trail lands in the run row) and wakes the controller; on a
standby replica the leader picks it up from the database. Approval follows the run
lifecycle of :mod:`mycopod.store.runs`: approving sets the run back to Pending with
``approved_by``, rejecting cancels it; who may start, approve and reject is
:mod:`mycopod.reconcile.approvals` (the status page's forms follow the same rules).

A run shows the spec it planned against (its plan, summary and actions), so it follows
the visibility of its declaration (``/declarations/{id}``): a User sees runs of
git-sourced declarations, of their own submissions, and runs with no declaration; any
other run answers 404, exactly as if it did not exist.

A run's plan may hold thousands of actions: ``GET /reconcile/{id}`` shows a window of
every list in it (``offset``, ``limit``) with each list's full length in ``totals``, and
``GET /logs/{id}/actions`` pages the action rows (:mod:`mycopod.api.paging`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from pydantic import TypeAdapter

from mycopod.api import paging
from mycopod.api.errors import ApiError, conflict, from_approval, not_found, unprocessable
from mycopod.api.models import (
    ActionOut,
    ActionPage,
    LogsQuery,
    PageQuery,
    ReconcileAccepted,
    ReconcileRequest,
    RollbackAccepted,
    RollbackRequest,
    RunDetail,
    RunOut,
    RunPage,
    WindowQuery,
)
from mycopod.api.routing import Call, Endpoint
from mycopod.declarations import rollback as rollbacks
from mycopod.declarations.source import BranchMovedError, SourceError
from mycopod.reconcile import approvals
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import DeclarationStore
from mycopod.store.runs import InvalidCursor, Run, RunStore

log = structlog.get_logger(__name__)
PAGE: TypeAdapter[RunPage] = TypeAdapter(RunPage)


def duration_seconds(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return round((finished - started).total_seconds(), 3)


def run_out(run: Run) -> dict[str, Any]:
    return {**run.__dict__, "duration_seconds": duration_seconds(run.started_at,
                                                                 run.finished_at)}


async def start_reconcile(call: Call) -> ReconcileAccepted:
    body: ReconcileRequest = call.body
    user = call.me
    names = call.ctx.cluster_names()
    if body.cluster is not None and body.cluster not in names:
        raise unprocessable(f"cluster {body.cluster!r} is not configured; the clusters are: "
                            f"{', '.join(names)}", code="unknown_cluster")
    targets = [body.cluster] if body.cluster is not None else names
    try:  # the policy of each cluster it queues for (users_can_reconcile is per cluster)
        for name in targets:
            await approvals.check_may_reconcile(user, call.ctx.policy_of(name))
    except approvals.ApprovalError as exc:
        raise from_approval(exc) from None
    if not user.is_admin:
        if body.declaration_id is not None:
            declaration = await DeclarationStore(call.conn).get(body.declaration_id)
            if declaration is None or not (declaration.source == "git"
                                           or declaration.user_id == user.id):
                raise not_found("declaration")
    if body.declaration_id is not None and body.cluster is None and len(names) > 1:
        raise unprocessable("a declaration belongs to one cluster: name it (cluster)",
                            code="cluster_required")
    runs: list[Run] = []
    for name in targets:
        try:
            runs.append(await RunStore(call.conn).create(
                trigger="manual", cluster=name, declaration_id=body.declaration_id,
                requested_by=user.id, dry_run=body.dry_run))
        except asyncpg.ForeignKeyViolationError:
            raise not_found("declaration") from None
        call.ctx.runtime_of(name).wake_reconcile.set()
        log.info("reconcile.requested", user_id=user.id, run_id=runs[-1].id, cluster=name,
                 dry_run=body.dry_run, declaration_id=body.declaration_id)
    return ReconcileAccepted(run_id=runs[0].id, status=runs[0].status,
                             cluster=runs[0].cluster, runs={r.cluster: r.id for r in runs})


async def _visible_run(call: Call) -> Run:
    """The run of the path, if the caller may see it; else 404."""
    run = await RunStore(call.conn).get(call.params["runId"])
    if run is None:
        raise not_found("run")
    if call.me.is_admin or run.declaration_id is None:
        return run
    if not await DeclarationStore(call.conn).is_visible(run.declaration_id,
                                                        viewer_id=call.me.id):
        raise not_found("run")
    return run


async def get_run(call: Call) -> RunDetail:
    query: WindowQuery = call.query
    run = await _visible_run(call)
    offset, limit = query.offset, query.limit
    actions, total = await ActionStore(call.conn).page_for_run(run.id, limit=limit,
                                                                offset=offset)
    totals = {"actions": total}
    plan = paging.window_lists(run.plan, name="plan", offset=offset, limit=limit,
                               totals=totals)
    summary = paging.window_lists(run.summary, name="summary", offset=offset, limit=limit,
                                  totals=totals)
    return RunDetail.model_validate(
        {**run_out(run), "plan": plan, "summary": summary,
         "actions": [a.__dict__ for a in actions], "totals": totals,
         "truncated": paging.truncated(totals, offset, limit)})


async def approve(call: Call) -> RunOut:
    try:
        run = await approvals.approve(call.conn, call.params["runId"], user=call.me,
                                      policy=call.ctx.effective_policy)
    except approvals.ApprovalError as exc:
        raise from_approval(exc) from None
    call.ctx.runtime_of(run.cluster).wake_reconcile.set()  # the run's cluster's worker
    return RunOut.model_validate(run_out(run))


async def reject(call: Call) -> RunOut:
    try:
        run = await approvals.reject(call.conn, call.params["runId"], user=call.me)
    except approvals.ApprovalError as exc:
        raise from_approval(exc) from None
    return RunOut.model_validate(run_out(run))


async def override(call: Call) -> RunOut:
    try:
        run = await approvals.override(call.conn, call.params["runId"], user=call.me)
    except approvals.ApprovalError as exc:
        raise from_approval(exc) from None
    call.ctx.runtime_of(run.cluster).wake_reconcile.set()  # the run's cluster's worker
    return RunOut.model_validate(run_out(run))


async def rollback(call: Call) -> RollbackAccepted:
    """Commit the declarations of an earlier commit on top of the branch (a revert of
    everything after it, authored by the caller); the poller reconciles it as any commit."""
    body: RollbackRequest = call.body
    source = call.ctx.source
    if source is None:
        raise ApiError(503, "no_repository",
                       "no declarations repository is configured (declarations.repo)")
    user = call.me
    try:
        sha, target = await asyncio.to_thread(
            rollbacks.commit_rollback, source, body.commit, author_name=user.username,
            author_email=f"{user.username}@users.mycopod.invalid")
    except BranchMovedError as exc:
        raise conflict(str(exc)) from None
    except SourceError as exc:
        raise unprocessable(str(exc), code="bad_commit") from None
    call.ctx.runtime.wake_fetch.set()
    log.info("reconcile.rollback", user_id=user.id, commit=sha, rolled_back_to=target)
    return RollbackAccepted(commit=sha, rolled_back_to=target)


async def list_logs(call: Call) -> RunPage:
    query: LogsQuery = call.query
    try:
        rows, cursor = await RunStore(call.conn).list_rows(
            status=query.status, trigger=query.trigger, since=query.since, limit=query.limit,
            cursor=query.cursor, cluster=query.cluster)
    except InvalidCursor as exc:
        raise unprocessable(str(exc), code="invalid_cursor") from None
    items = [{**row, "error": paging.clip(row["error"], paging.ITEM_TEXT),
              "duration_seconds": duration_seconds(row["started_at"], row["finished_at"])}
             for row in rows]
    # one validation of the whole page against the documented type
    return PAGE.validate_python({"items": items, "next_cursor": cursor})


async def list_actions(call: Call) -> ActionPage:
    query: PageQuery = call.query
    run = await _visible_run(call)
    actions, total = await ActionStore(call.conn).page_for_run(run.id, limit=query.limit,
                                                                offset=query.offset)
    return ActionPage(items=[ActionOut.model_validate(a.__dict__) for a in actions],
                      total=total)


RUN = {"runId": "id"}
ENDPOINTS = [
    Endpoint("POST", "/reconcile", "startReconcile", "Queue a reconcile run", "reconcile",
             start_reconcile, body=ReconcileRequest, response=ReconcileAccepted, status=202,
             errors=(403, 404),
             description="Admin, or a User when the setting users_can_reconcile is true. "
             "Answers 202 with the id of the Pending run; the controller picks it up."),
    Endpoint("POST", "/reconcile/rollback", "rollback",
             "Roll the declarations back to an earlier commit", "reconcile", rollback,
             auth="admin", body=RollbackRequest, response=RollbackAccepted, status=202,
             errors=(409, 422, 503),
             description="Commits, on top of the followed branch, the declarations as they "
             "were at `commit` (a revert of everything after it), authored by the caller, "
             "and pushes it; the poller compiles and reconciles it like any commit. "
             "Nothing is force-pushed."),
    Endpoint("GET", "/reconcile/{runId}", "getRun", "A run: status, plan, actions, timings",
             "reconcile", get_run, path_params=RUN, query=WindowQuery, response=RunDetail,
             exclude_unset=True,
             errors=(404,),
             description="A User sees runs of git-sourced declarations and of their own "
             "submissions (as GET /declarations/{declarationId}); other runs answer 404. "
             "Every list embedded in plan, summary and actions shows entries "
             "offset .. offset+limit-1; totals gives each list's full length."),
    Endpoint("POST", "/reconcile/{runId}/approve", "approveRun", "Approve a waiting run",
             "reconcile", approve, auth="admin", path_params=RUN, response=RunOut,
             errors=(404, 409)),
    Endpoint("POST", "/reconcile/{runId}/reject", "rejectRun", "Reject a waiting run",
             "reconcile", reject, auth="admin", path_params=RUN, response=RunOut,
             errors=(404, 409)),
    Endpoint("POST", "/reconcile/{runId}/override", "overrideRun",
             "Run a waiting run now, whatever the windows say", "reconcile", override,
             auth="admin", path_params=RUN, response=RunOut, errors=(404, 409),
             description="For a run Waiting (suspended, or outside a maintenance window): "
             "it is queued at once with override_by and override_at recorded."),
    Endpoint("GET", "/logs", "listRuns", "Runs, newest first (keyset pagination)", "logs",
             list_logs, query=LogsQuery, response=RunPage,
             description="Pass next_cursor back as cursor for the next page."),
    Endpoint("GET", "/logs/{runId}/actions", "listRunActions",
             "The actions of a run, in order (paged)", "logs", list_actions, path_params=RUN,
             query=PageQuery, response=ActionPage, errors=(404,),
             description="Visible as GET /reconcile/{runId} is."),
]
