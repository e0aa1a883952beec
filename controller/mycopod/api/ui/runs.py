"""Runs, a run, and the approvals queue; the Approve, Reject and Run-now forms.

Approving and rejecting go through :mod:`mycopod.reconcile.approvals` (the one approval
service, which the JSON API and the Overview use too), and Run now through the API's own
handler for ``POST /reconcile``, so no rule is written twice: a User posting these forms
is refused by the same checks that refuse the API.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mycopod.api import routes_reconcile
from mycopod.api.errors import ApiError, from_approval
from mycopod.api.models import ReconcileRequest
from mycopod.api.routing import Call, parse_id
from mycopod.api.ui import core, data
from mycopod.declarations import render
from mycopod.reconcile import approvals
from mycopod.reconcile.plan import Plan
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import DeclarationStore
from mycopod.store.runs import STATUSES, InvalidCursor, RunStore
from mycopod.store.users import User, UserStore

PAGE = 50
WINDOW = 100
TRIGGERS = ("commit", "webhook", "drift", "manual", "api")
#: what kind of change each action is, for a reader deciding whether to approve
CHANGE_CLASSES = {
    "create": "new guest", "clone": "new guest", "delete": "destructive",
    "configure": "in place", "resize_disk": "in place (disk grows)", "start": "power",
    "stop": "power", "migrate": "placement", "tag_adopt": "ownership",
}


def change_class(action: Any, restart: set[str]) -> str:
    named = getattr(action, "change_class", None)
    if isinstance(named, str):
        return named
    label = CHANGE_CLASSES.get(action.kind, action.kind)
    if action.kind == "configure" and action.target in restart:
        label = "needs restart"
    return str(label)


def plan_rows(plan: Plan, *, offset: int = 0, limit: int = WINDOW) -> list[dict[str, Any]]:
    restart = {p.name for p in plan.pending_restart}
    return [{"target": a.target, "kind": a.kind, "reason": a.reason,
             "destructive": a.destructive, "vmid": a.vmid, "node": a.node,
             "change_class": change_class(a, restart)}
            for a in plan.actions[offset:offset + limit]]


@core.page("runs")
async def runs_page(call: Call, user: User) -> core.PageResult:
    q = call.request.query
    status = q.get("status") if q.get("status") in STATUSES else None
    trigger = q.get("trigger") if q.get("trigger") in TRIGGERS else None
    # several clusters: a selector and a column (one cluster: the page as it was)
    names = call.ctx.cluster_names()
    clusters = names if len(names) > 1 else []
    selected = q.get("cluster") if q.get("cluster") in clusters else None
    try:
        runs, next_cursor = await RunStore(call.conn).list_runs(
            status=status, trigger=trigger, limit=PAGE, cursor=q.get("cursor") or None,
            cluster=selected)
    except InvalidCursor:
        raise ApiError(422, "invalid_cursor", "That page link is not valid: start again "
                       "from the first page.") from None
    return "ui/runs.html", {"runs": runs, "next_cursor": next_cursor, "status": status,
                            "trigger": trigger, "statuses": STATUSES, "triggers": TRIGGERS,
                            "clusters": clusters, "selected_cluster": selected,
                            "first_page": not q.get("cursor"), "notice": core.notice(call)}


async def _names(call: Call, *ids: int | None) -> dict[int, str]:
    store = UserStore(call.conn)
    names: dict[int, str] = {}
    for user_id in {i for i in ids if i is not None}:
        found = await store.get(user_id)
        names[user_id] = found.username if found else f"user {user_id}"
    return names


@core.page("runs")
async def run_page(call: Call, user: User) -> core.PageResult:
    call.params["runId"] = parse_id(call.request.match_info["runId"], "run")
    run = await routes_reconcile._visible_run(call)
    offset = max(0, _int(call.request.query.get("offset"), 0))
    plan = data.plan_of(run)
    actions, total = await ActionStore(call.conn).page_for_run(run.id, limit=WINDOW,
                                                                offset=offset)
    declarations = DeclarationStore(call.conn, call.ctx.cluster)
    declaration = (await declarations.get_without_spec(run.declaration_id)
                   if run.declaration_id else None)
    understood = await _understood(declarations, declaration)
    return "ui/run.html", {
        "run": run, "plan": plan, "rows": plan_rows(plan, offset=offset),
        "plan_total": len(plan.actions), "actions": actions, "actions_total": total,
        "offset": offset, "window": WINDOW, "declaration": declaration,
        "names": await _names(call, run.requested_by, run.approved_by, run.rejected_by,
                              run.override_by),
        "understood": understood, "notice": core.notice(call),
    }


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 9 else default


async def _understood(store: DeclarationStore, declaration: Any) -> list[dict[str, Any]]:
    """The LLM-compiled paragraphs of the run's declaration and how each was understood."""
    if declaration is None or declaration.compile_status != "ok":
        return []
    llm = [f for f in declaration.files if f.compiler == "llm"][:20]
    if not llm:
        return []
    texts = data.file_texts(declaration)
    found = [(record, p) for record in llm
             for p in data.annotate(texts.get(record.path, ""), record.guests, record.error,
                                    record.ignored)]
    wanted = [n for _record, p in found for n in p.guests[:5]]
    guests = {g.name: g for g in (await store.spec_guests(declaration.id, wanted)).guests}
    return [{"path": record.path, "line": p.line, "text": p.text, "model": record.model,
             "ignored": p.ignored,
             "understood": [render.render_guest(guests[n]) for n in p.guests[:5]
                            if n in guests]}
            for record, p in found]


@core.page("approvals")
async def approvals_page(call: Call, user: User) -> core.PageResult:
    store = RunStore(call.conn)
    waiting, _ = await store.list_runs(status="AwaitingApproval", limit=PAGE)
    queue = []
    for summary in waiting[:20]:
        run = await store.get(summary.id)
        if run is None:
            continue
        plan = data.plan_of(run)
        rows = plan_rows(plan)
        rows.sort(key=lambda r: not r["destructive"])
        queue.append({"run": run, "plan": plan, "rows": rows, "total": len(plan.actions),
                      "destructive": sum(1 for a in plan.actions if a.destructive)})
    return "ui/approvals.html", {"queue": queue, "more": max(0, len(waiting) - len(queue)),
                                 "notice": core.notice(call)}


async def _decide(call: Call, user: User, *, approve: bool) -> web.Response:
    run_id = parse_id(call.request.match_info["runId"], "run")
    ctx = call.ctx
    try:
        if approve:
            run = await approvals.approve(call.conn, run_id, user=user,
                                          policy=ctx.effective_policy)
            ctx.runtime_of(run.cluster).wake_reconcile.set()  # its cluster's worker
        else:
            await approvals.reject(call.conn, run_id, user=user)
    except approvals.ApprovalError as exc:
        raise from_approval(exc) from None
    return core.redirect(f"/ui/runs/{run_id}", "approved" if approve else "rejected")


@core.action(admin=True)
async def approve_form(call: Call, user: User, form: dict[str, str]) -> web.Response:
    return await _decide(call, user, approve=True)


@core.action(admin=True)
async def reject_form(call: Call, user: User, form: dict[str, str]) -> web.Response:
    return await _decide(call, user, approve=False)


@core.action(admin=True)
async def override_form(call: Call, user: User, form: dict[str, str]) -> web.Response:
    """Run a Waiting run now, whatever the windows say (POST /reconcile/{id}/override)."""
    run_id = parse_id(call.request.match_info["runId"], "run")
    try:
        await approvals.override(call.conn, run_id, user=user,
                                 wake=call.ctx.runtime.wake_reconcile)
    except approvals.ApprovalError as exc:
        raise from_approval(exc) from None
    return core.redirect(f"/ui/runs/{run_id}", "overridden")


@core.action()
async def run_now_form(call: Call, user: User, form: dict[str, str]) -> web.Response:
    """Queue a run now (the API's POST /reconcile: an Admin, or a User if allowed)."""
    call.body = ReconcileRequest(dry_run=form.get("dry_run") == "on")
    accepted = await routes_reconcile.start_reconcile(call)
    return core.redirect(f"/ui/runs/{accepted.run_id}", "queued")


ROUTES = [
    ("GET", "/ui/runs", runs_page),
    ("GET", "/ui/runs/{runId}", run_page),
    ("GET", "/ui/approvals", approvals_page),
    ("POST", "/ui/runs/{runId}/approve-run", approve_form),
    ("POST", "/ui/runs/{runId}/reject-run", reject_form),
    ("POST", "/ui/runs/{runId}/override-run", override_form),
    ("POST", "/ui/reconcile", run_now_form),
]
