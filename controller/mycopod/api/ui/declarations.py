"""Declarations: the files at the current commit, one file's paragraphs, the commits.

A file's page shows every paragraph next to how it was understood: the guests it
declares, each rendered back into English from the compiled spec, and which compiler
understood it (the grammar, or the LLM and its model). A compile error is shown at the
paragraph of its line. Visibility is the API's (``GET /declarations/{id}``): a User sees
git-sourced declarations and their own submissions, an Admin all of them.
"""

from __future__ import annotations

from typing import Any

from mycopod.api.errors import not_found
from mycopod.api.routing import Call, parse_id
from mycopod.api.ui import core, data
from mycopod.declarations import render
from mycopod.store.declarations import Declaration, DeclarationStore
from mycopod.store.runs import RunStore
from mycopod.store.users import User

PAGE = 30
#: guests of one paragraph rendered back into English (a range may name 100): the others
#: are listed by name, each linking to its guest page
RENDERED = 5


def _viewer(user: User) -> int | None:
    return None if user.is_admin else user.id


def _clusters(call: Call) -> dict[str, Any]:
    """Several clusters: the selector's names and the chosen one (``?cluster=``)."""
    names = call.ctx.cluster_names() if call.ctx.clusters else []
    return {"clusters": names, "selected_cluster": data.cluster_of(call) if names else None}


async def _current(call: Call, user: User, cluster: str) -> Declaration | None:
    store = DeclarationStore(call.conn, cluster)
    latest = await store.latest_without_spec()
    if latest is not None and await store.is_visible(latest.id, viewer_id=_viewer(user)):
        return latest
    page, _ = await store.page_visible(viewer_id=_viewer(user), limit=1, cluster=cluster)
    return await store.get_without_spec(page[0].id) if page else None


@core.page("declarations")
async def declarations_page(call: Call, user: User) -> core.PageResult:
    raw = call.request.query.get("id")
    chosen = _clusters(call)
    cluster = data.cluster_of(call)
    declaration = None
    if raw:
        declaration = await _visible(call, user, parse_id(raw, "declaration"))
        cluster = declaration.cluster  # a commit of another cluster: that one's
        if chosen["clusters"]:
            chosen["selected_cluster"] = cluster
    else:
        declaration = await _current(call, user, cluster)
    in_force = await data.declaration_in_force(call, cluster)
    return "ui/declarations.html", {"declaration": declaration, "in_force": in_force,
                                    **chosen}


async def _visible(call: Call, user: User, declaration_id: int) -> Declaration:
    store = DeclarationStore(call.conn, call.ctx.cluster)
    if not await store.is_visible(declaration_id, viewer_id=_viewer(user)):
        raise not_found("declaration")
    declaration = await store.get_without_spec(declaration_id)
    if declaration is None:
        raise not_found("declaration")
    return declaration


@core.page("declarations")
async def file_page(call: Call, user: User) -> core.PageResult:
    declaration = await _visible(call, user,
                                 parse_id(call.request.match_info["declarationId"],
                                          "declaration"))
    path = call.request.query.get("path", "")
    record = next((f for f in declaration.files if f.path == path), None)
    if record is None:
        raise not_found("file")
    text = data.file_texts(declaration).get(path, "")
    found = data.annotate(text, record.guests, record.error or (
        declaration.compile_error if len(declaration.files) == 1 else None), record.ignored)
    guests: dict[str, Any] = {}
    if declaration.compile_status == "ok":
        wanted = [n for p in found for n in p.guests[:RENDERED]]
        spec = await DeclarationStore(call.conn).spec_guests(declaration.id, wanted)
        guests = {g.name: g for g in spec.guests}
    paragraphs: list[dict[str, Any]] = []
    for p in found:
        shown = list(p.guests)
        paragraphs.append({"line": p.line, "text": p.text, "errors": p.errors,
                           "ignored": p.ignored,
                           "understood": [{"name": n, "text": render.render_guest(guests[n])}
                                          for n in shown[:RENDERED] if n in guests],
                           "more": shown[RENDERED:]})
    placed = {e for p in paragraphs for e in p["errors"]}
    return "ui/file.html", {"declaration": declaration, "record": record,
                            "paragraphs": paragraphs, "unplaced": placed == set()
                            and bool(record.error), "path": path}


@core.page("declarations")
async def commits_page(call: Call, user: User) -> core.PageResult:
    q = call.request.query
    offset = int(q["offset"]) if q.get("offset", "").isdigit() and len(q["offset"]) < 9 else 0
    chosen = _clusters(call)
    page, total = await DeclarationStore(call.conn).page_visible(
        viewer_id=_viewer(user), limit=PAGE, offset=offset,
        cluster=chosen["selected_cluster"])
    shas = [d.github_commit_sha for d in page]
    runs: dict[str, list[Any]] = {sha: [] for sha in shas}
    for row in await RunStore(call.conn).for_commits(shas):
        bucket = runs.get(row["commit_sha"])
        if bucket is not None and len(bucket) < 10:
            bucket.append(row)
    return "ui/commits.html", {"commits": page, "runs": runs, "total": total,
                               "offset": offset, "page": PAGE, **chosen}


ROUTES = [
    ("GET", "/ui/declarations", declarations_page),
    ("GET", "/ui/declarations/{declarationId}/file", file_page),
    ("GET", "/ui/commits", commits_page),
]
