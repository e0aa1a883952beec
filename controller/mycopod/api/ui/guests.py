"""Guests: every declared, managed, orphaned or conflicting guest, and one guest's page.

The list is the latest guest report (what the Overview shows) with its orphans and
conflicts, filtered by a search box and a status, a page at a time. A guest's page puts
the declared values (the spec in force) next to the observed ones (the report's facts),
marks where they differ, and says where the guest is declared, which of its keys wait
for a restart, which are left to the owner (not stated in the text), and its recent
actions with their runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mycopod.api.errors import not_found
from mycopod.api.routing import Call
from mycopod.api.ui import core, data
from mycopod.spec.base import stated
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import DeclarationStore
from mycopod.store.users import User

PAGE = 100
HISTORY = 20
#: the guest statuses a filter may name (the report's, plus orphan and conflict)
STATUSES = ("in-sync", "drifted", "missing", "pending-restart", "locked", "orphan",
            "conflict", "error")


def _rows(report: Any) -> list[dict[str, Any]]:
    rows = [{"name": g.name, "status": g.status, "kind": g.kind, "vmid": g.vmid,
             "node": g.node, "drift": g.drift} for g in report.guests]
    names = {r["name"] for r in rows}
    for kind, issues in (("orphan", report.orphans), ("conflict", report.conflicts)):
        for issue in issues:
            if issue.name in names and kind == "orphan":
                continue
            rows.append({"name": issue.name, "status": kind, "kind": "", "vmid": issue.vmid,
                         "node": issue.node, "drift": [issue.message]})
    return rows


@core.page("guests")
async def guests_page(call: Call, user: User) -> core.PageResult:
    cluster = data.cluster_of(call)
    report, _run_id = await data.report(call, cluster)
    q = call.request.query
    search = q.get("q", "").strip()[:100]
    status = q.get("status") if q.get("status") in STATUSES else None
    rows = _rows(report)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if search:
        needle = search.lower()
        rows = [r for r in rows if needle in r["name"].lower()
                or needle == str(r["vmid"]) or needle == (r["node"] or "").lower()]
    if status:
        rows = [r for r in rows if r["status"] == status]
    offset = max(0, int(q["offset"])) if q.get("offset", "").isdigit() and len(
        q["offset"]) < 9 else 0
    return "ui/guests.html", {
        "rows": rows[offset:offset + PAGE], "total": len(rows), "offset": offset,
        "page": PAGE, "search": search, "status": status, "statuses": STATUSES,
        "counts": counts,
        # several clusters: a selector, and links that keep the cluster
        "clusters": call.ctx.cluster_names() if call.ctx.clusters else [],
        "selected_cluster": cluster if call.ctx.clusters else None,
    }


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "—"
    if hasattr(value, "model_dump"):
        dumped = value.model_dump(mode="json", exclude_none=True)
        return ", ".join(f"{k}={v}" for k, v in dumped.items())
    return str(value)


def compare(declared: Any, report_guest: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of (key, declared, observed, differs), and the keys left to the owner."""
    facts_declared = report_guest.declared if report_guest is not None else None
    observed = report_guest.observed if report_guest is not None else None
    rows: list[dict[str, Any]] = []
    unmanaged: list[str] = []
    keys: list[str] = []
    if declared is not None:
        said = stated(declared)
        keys = [k for k in type(declared).model_fields if k in said and k != "name"]
        unmanaged = [k for k in type(declared).model_fields if k not in said]
    elif facts_declared is not None:
        keys = [f.name for f in dataclasses.fields(facts_declared)]
    fact_keys = ({f.name for f in dataclasses.fields(observed)} if observed is not None
                 else set())
    for key in keys + [k for k in sorted(fact_keys) if k not in keys]:
        want = getattr(declared, key, None) if declared is not None else getattr(
            facts_declared, key, None)
        if declared is None and facts_declared is None:
            want = None
        seen = getattr(observed, key, None) if key in fact_keys else None
        differs = (key in fact_keys and observed is not None and want is not None
                   and seen is not None and want != seen)
        rows.append({"key": key, "declared": _value(want),
                     "observed": _value(seen) if key in fact_keys else "not observed",
                     "differs": differs})
    return rows, unmanaged


@core.page("guests")
async def guest_page(call: Call, user: User) -> core.PageResult:
    name = call.request.match_info["name"][:200]
    cluster = data.cluster_of(call)
    report, run_id = await data.report(call, cluster)
    entry = next((g for g in report.guests if g.name == name), None)
    issue = next((i for i in report.conflicts if i.name == name), None)
    issue_kind = "conflict"
    if issue is None:
        issue = next((i for i in report.orphans if i.name == name), None)
        issue_kind = "orphan"
    declaration = await data.declaration_in_force(call, cluster)
    declared = None
    if declaration is not None:
        spec = await DeclarationStore(call.conn).spec_guests(declaration.id, [name])
        declared = spec.guests[0] if spec.guests else None
    if entry is None and issue is None and declared is None:
        raise not_found("guest")
    rows, unmanaged = compare(declared, entry)
    restart = next((p for p in report.pending_restart if p.name == name), None)
    # the rows of GET /guests/{name}/history, with the same visibility
    history, history_total = await ActionStore(call.conn).history(
        name, viewer=None if user.is_admin else user.id, limit=HISTORY)
    return "ui/guest.html", {
        "name": name, "entry": entry, "issue": issue, "issue_kind": issue_kind,
        "declared": declared, "rows": rows,
        "unmanaged": unmanaged, "restart": restart, "history": history,
        "history_total": history_total,
        "where": data.where_declared(declaration, name), "declaration": declaration,
        "report_run": run_id,
    }


ROUTES = [
    ("GET", "/ui/guests", guests_page),
    ("GET", "/ui/guests/{name}", guest_page),
]
