"""``/guests/{name}/history``: every action MycoPod took on a guest, newest first.

Each entry is one attempt (``reconciliation_actions``) with its run's status and
trigger, the commit the run applied and its author, who requested it (the run's
requester, or the User whose submitted declaration the action applies), who approved
it and who overrode its window. Paged like the other lists (``limit``, ``offset``,
``total``). A name MycoPod never acted on and never recorded in its inventory answers
404 (a typo should not look like a quiet guest); a known guest without actions answers
an empty page. A User sees the actions of runs they may see (``GET /reconcile/{id}``):
git-sourced ones, their own submissions' and runs without a declaration.
"""

from __future__ import annotations

from mycopod.api.errors import not_found
from mycopod.api.models import GuestHistoryEntry, GuestHistoryPage, PageQuery
from mycopod.api.routing import Call, Endpoint
from mycopod.store.actions import ActionStore


async def guest_history(call: Call) -> GuestHistoryPage:
    query: PageQuery = call.query
    name = call.params["name"]
    store = ActionStore(call.conn)
    rows, total = await store.history(name, viewer=None if call.me.is_admin else call.me.id,
                                      limit=query.limit, offset=query.offset)
    if total == 0 and not await store.known_target(name):
        raise not_found("guest")
    return GuestHistoryPage(items=[GuestHistoryEntry.model_validate(dict(r)) for r in rows],
                            total=total)


ENDPOINTS = [
    Endpoint("GET", "/guests/{name}/history", "getGuestHistory",
             "Every action on a guest, newest first (paged)", "guests", guest_history,
             path_params={"name": {"type": "string", "minLength": 1, "maxLength": 200}},
             query=PageQuery, response=GuestHistoryPage, errors=(401, 404),
             description="Each attempt with its run (status, trigger), the commit applied "
             "and its author, the requester, the approver and who overrode its window. "
             "404 for a name MycoPod never acted on nor recorded; a known guest without "
             "actions gives an empty page. A User sees the actions of runs visible to "
             "them, as GET /reconcile/{runId}."),
]
