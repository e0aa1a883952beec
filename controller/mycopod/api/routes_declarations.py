"""``/declarations``: read compiled declarations, submit new ones through git.

``POST /declarations`` never writes the database first: it compiles the text (422 with
the compiler's messages if it does not compile, alone or together with the other files
of the branch), then commits it to the declarations repository as the calling user
through :class:`~mycopod.declarations.source.GitSource`, and records that commit through
the same pipeline the poller uses. Git stays the single source of truth; the controller
is woken to fetch the new head.

Visibility: a User sees their own submissions and every declaration that came from git;
an Admin sees all. Anything else answers 404, exactly as if it did not exist.

A User may write only files they created (403 naming the file otherwise), and what a
User changes does not apply until an Admin approves it, unless the policy
``users_can_reconcile`` lets Users reconcile (the rule is in
:mod:`mycopod.store.declarations`; the run of the commit, trigger ``api`` with the
submitter as ``requested_by``, waits in AwaitingApproval). Text the database cannot
store (a NUL character, a lone surrogate) is refused before anything is committed.

Bounds (:mod:`mycopod.api.paging`): a declaration's detail shows a window of its spec's
guests and of its files (``offset``, ``limit``, full lengths in ``totals``), a page of
declarations cuts each item's files and guest names to their first entries, long texts
are clipped, and a 422 lists at most the first :data:`~mycopod.api.paging.MAX_ISSUES`
compile problems. A declaration holds at most ``declarations.max_guests`` guests.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog

from mycopod.api import paging
from mycopod.api.errors import ApiError, conflict, not_found, unavailable, unprocessable
from mycopod.api.models import (
    MAX_DECLARATION_BYTES,
    CompileIssueOut,
    DeclarationCreate,
    DeclarationDetail,
    DeclarationPage,
    DeclarationsQuery,
    DeclarationSummary,
    WindowQuery,
)
from mycopod.api.routing import Call, Endpoint
from mycopod.declarations import compiler, pipeline, render
from mycopod.declarations.errors import CompileError
from mycopod.declarations.source import (
    BranchMovedError,
    GitSource,
    SourceError,
    SourceFilesError,
    glob_regex,
)
from mycopod.declarations.workers import Budget
from mycopod.store import declarations as declarations_store
from mycopod.store import pgtext, wakeups
from mycopod.store.compile_cache import CompileCacheStore
from mycopod.store.declarations import Declaration, DeclarationStore, FileRecord
from mycopod.store.users import User

log = structlog.get_logger(__name__)


def _visible(declaration: Declaration, user: User) -> bool:
    return user.is_admin or declaration.source == "git" or declaration.user_id == user.id


def _file(record: FileRecord, *, offset: int, limit: int, text: int) -> dict[str, object]:
    return record.__dict__ | {"guests": paging.window(record.guests, offset, limit),
                              "guest_count": len(record.guests),
                              "error": paging.clip(record.error, text)}


def detail(declaration: Declaration, window: WindowQuery | None = None) -> DeclarationDetail:
    """The declaration with a window (default: the first entries) of its embedded lists."""
    offset, limit = (window.offset, window.limit) if window else (0, paging.DEFAULT_WINDOW)
    totals = {"files": len(declaration.files)}
    spec = summary = None
    if declaration.spec is not None:
        guests = declaration.spec.guests
        totals["spec.guests"] = len(guests)
        spec = declaration.spec.model_copy(update={"guests": paging.window(guests, offset,
                                                                           limit)})
        kinds = Counter(g.kind for g in guests)
        summary = DeclarationSummary(guest_count=len(guests), kinds=dict(sorted(kinds.items())),
                                     rendering=render.render(spec))
    # each file's error is clipped like a page item's: compile_error has them all
    files = [_file(f, offset=offset, limit=limit, text=paging.ITEM_TEXT)
             for f in paging.window(declaration.files, offset, limit)]
    data = declaration.__dict__ | {
        "content": paging.clip(declaration.content, paging.MAX_TEXT),
        "compile_error": paging.clip(declaration.compile_error, paging.MAX_TEXT),
        "spec": spec, "summary": summary, "files": files, "files_total": len(declaration.files),
        "totals": totals, "truncated": paging.truncated(totals, offset, limit)}
    return DeclarationDetail.model_validate(data)


def _item(declaration: Declaration) -> dict[str, object]:
    """A declaration in a page: the first files and guest names, a clipped error."""
    files = [_file(f, offset=0, limit=paging.ITEM_WINDOW, text=paging.ITEM_TEXT)
             for f in declaration.files[:paging.ITEM_WINDOW]]
    return declaration.__dict__ | {
        "files": files, "files_total": len(declaration.files),
        "compile_error": paging.clip(declaration.compile_error, paging.ITEM_TEXT)}


async def list_declarations(call: Call) -> DeclarationPage:
    query: DeclarationsQuery = call.query
    viewer = None if call.me.is_admin else call.me.id
    rows, total = await DeclarationStore(call.conn).page_visible(
        viewer_id=viewer, limit=query.limit, offset=query.offset, cluster=query.cluster)
    return DeclarationPage.model_validate({"items": [_item(r) for r in rows], "total": total})


async def get_declaration(call: Call) -> DeclarationDetail:
    declaration = await DeclarationStore(call.conn).get(call.params["declarationId"])
    if declaration is None or not _visible(declaration, call.me):
        raise not_found("declaration")
    return detail(declaration, call.query)


def _compile_failed(issues: list[CompileIssueOut], summary: str) -> ApiError:
    """A 422 listing the first MAX_ISSUES problems; the message says how many there were."""
    if len(issues) > paging.MAX_ISSUES:
        summary += (f" ({len(issues)} problems in all; the first {paging.MAX_ISSUES} are "
                    "listed)")
    shown = [i.model_copy(update={"message": paging.clip(i.message, paging.ITEM_TEXT)})
             for i in issues[:paging.MAX_ISSUES]]
    return unprocessable(paging.clip(summary, paging.ITEM_TEXT), code="compile_error",
                         details=[i.model_dump() for i in shown])


async def _check_owner(call: Call, *, path: str, head: str) -> None:
    """A User may change only a file they created: 403 naming the file otherwise.

    Who created ``path`` is read from git (the commit that last added it) and from the
    declarations store (was that commit this User's API submission of this path?).
    """
    name, view = call.ctx.one_cluster(call.body.cluster, what="a declaration")
    assert view.source is not None
    created = await asyncio.to_thread(view.source.created_in, path, head)
    if created is None:
        return  # a new file
    row = await DeclarationStore(call.conn, name).get_by_commit(created)
    if row is not None and row.source == "api" and row.user_id == call.me.id and (
            row.path == path):
        return
    origin = ("was created by another user" if row is not None and row.source == "api"
              else "came from the git repository, not from you")
    raise ApiError(403, "forbidden", f"{path} already exists and {origin}: a User may only "
                   "change declaration files they created. Submit yours under a new path, or "
                   f"ask an Admin to change {path}.", details={"path": path})


async def _fetch_head(source: GitSource) -> str | None:
    """The branch head, fetched; None while the repository is empty."""
    try:
        return await asyncio.to_thread(source.fetch)
    except SourceError as exc:
        if "is empty" in str(exc):
            return None
        raise


#: seconds a client is asked to wait when its user already has a declaration compiling
RETRY_COMPILE_SECONDS = 2


async def submit_declaration(call: Call) -> DeclarationDetail:
    """One user's compiles are limited (``[compile] per_user``): more answer 429."""
    user = call.me
    if not call.state.compiles.enter(user.id):
        raise ApiError(429, "too_many_compiles",
                       f"you already have {call.state.compiles.limit} declaration(s) "
                       "compiling; wait for the answer, then submit the next one",
                       headers={"Retry-After": str(RETRY_COMPILE_SECONDS)})
    try:
        return await _submit(call)
    finally:
        call.state.compiles.leave(user.id)


async def _submit(call: Call) -> DeclarationDetail:
    body: DeclarationCreate = call.body
    user = call.me
    problem = pgtext.problem(body.text)
    if problem is not None:
        issue = CompileIssueOut(file=body.path, line=problem.line, message=problem.message())
        raise _compile_failed([issue], f"the declaration cannot be stored: {body.path}:"
                              f"{problem.line}: {problem.message()}")
    if len(body.text.encode("utf-8")) > MAX_DECLARATION_BYTES:
        raise ApiError(413, "too_large",
                       f"the declaration is larger than {MAX_DECLARATION_BYTES // 1024} KiB")
    cluster, view = call.ctx.one_cluster(body.cluster, what="a declaration")
    settings, source, runtime = view.settings, view.source, view.runtime
    if source is None:
        raise ApiError(503, "no_repository",
                       "no declarations repository is configured (declarations.repo)")
    if not glob_regex(settings.declarations.glob).match(body.path) or (
            body.path.rsplit("/", 1)[-1].lower() == "readme.md"):
        raise unprocessable(f"path {body.path!r} is not a declaration file: it must match "
                            f"{settings.declarations.glob!r} and not be README.md")
    folder = source.prefix
    if not body.path.startswith(folder):
        raise unprocessable(f"path {body.path!r} is not in cluster {cluster!r}'s folder "
                            f"{folder!r}: name it {folder}{body.path}", code="wrong_folder")
    llm = settings.llm if settings.llm.model else None
    max_guests = settings.declarations.max_guests
    workers = call.ctx.compilers
    budget = Budget.start(settings.compile)  # one budget for every compile of the request
    facts = await runtime.cluster_facts()  # a bare "on pve3" reads through them
    # the call's own connection, never a second one from the pool: with every connection
    # held by a submission waiting for another, the API would wait for ever (it did, with
    # five submissions at once on a pool of five)
    db = call.conn
    # compiled once: alone first, for its own messages; then cached (the grammar's
    # result, or the LLM's paragraphs) for the compile with the branch's other files
    try:
        done = await compiler.compile_file(body.path, body.text, llm=llm,
                                           max_guests=max_guests, workers=workers,
                                           budget=budget, facts=facts,
                                           cache=CompileCacheStore(db))
    except CompileError as exc:
        issues = [CompileIssueOut(file=i.file, line=i.line, message=i.message)
                  for i in exc.issues]
        raise _compile_failed(issues, f"the declaration does not compile: {exc.issues[0]}"
                              if exc.issues else "the declaration does not compile") from None
    await pipeline.remember_compiled(body.text, done, pool=db, facts=facts)
    files: dict[str, str] = {}
    try:
        head = await _fetch_head(source)
        if head is not None:
            files = await asyncio.to_thread(source.files_at, head)
    except SourceFilesError as exc:  # the branch's problem, not this submission's
        files = dict(exc.files)
    except SourceError as exc:
        raise unavailable("repository_unavailable", "the declarations repository is "
                          "unavailable; try again later", cause=exc) from None
    if not user.is_admin and head is not None:
        await _check_owner(call, path=body.path, head=head)
    files[body.path] = body.text
    together = await pipeline.compile_files_cached(files, pool=db, llm=llm,
                                                   max_guests=max_guests, workers=workers,
                                                   budget=budget, facts=facts)
    broken = {r.path for r in together.files if r.error and r.path != body.path}
    if together.error and broken:
        # Other files that fail on their own (a bad push, a NUL byte) would fail any
        # commit: they must not refuse this one. It is checked against the rest; the
        # commit is then recorded with their error until they are fixed.
        together = await pipeline.compile_files_cached(
            {p: t for p, t in files.items() if p not in broken}, pool=db, llm=llm,
            max_guests=max_guests, workers=workers, budget=budget, facts=facts)
    if together.error:
        issues = [CompileIssueOut(file=body.path, line=0, message=line)
                  for line in together.error.splitlines() if line.strip()]
        raise _compile_failed(issues, "the declaration conflicts with the other files of "
                              f"the branch: {issues[0].message if issues else together.error}")
    written = pipeline.content_sha256(body.text)
    try:
        # Pushed and recorded under the submission lock, so the poller (on any replica)
        # finds this commit already recorded as this user's submission.
        async with declarations_store.submission_lock(call.conn, cluster=cluster):
            if not user.is_admin:
                # Other submissions may have moved the branch while this one waited for
                # the lock: who owns the file is decided on the commit it goes on top of
                # (and a push from elsewhere meanwhile makes commit_declaration refuse).
                current = await _fetch_head(source)
                if current is not None and current != head:
                    await _check_owner(call, path=body.path, head=current)
                head = current
            # A User's change waits for an Admin unless it leaves the file as in force.
            in_force = await DeclarationStore(call.conn, cluster).latest_good()
            needs_approval = not user.is_admin and (
                in_force is None or in_force.file_sha256(body.path) != written)
            sha = await asyncio.to_thread(
                source.commit_declaration, body.path, body.text, author_name=user.username,
                author_email=f"{user.username}@users.mycopod.invalid",
                message=f"Declare {body.path} (submitted by {user.username} through the API)",
                parent=None if user.is_admin else head)
            row = await pipeline.compile_commit(
                source, sha, pool=call.conn, settings=settings, origin="api",
                user_id=user.id, path=body.path, path_sha256=written,
                needs_approval=needs_approval, workers=workers, facts=facts)
    except BranchMovedError as exc:
        raise conflict(str(exc)) from None
    except SourceError as exc:
        raise unavailable("repository_unavailable", "the declaration could not be "
                          "committed to the declarations repository; try again later",
                          cause=exc) from None
    except TimeoutError:
        raise ApiError(503, "busy", "the declarations repository is busy recording "
                       "another change; submit again in a minute") from None
    first_error = next(iter((row.compile_error or "").splitlines()), "")
    runtime.compile_error = None if row.ok else f"commit {sha[:12]}: {first_error}"
    runtime.wake_fetch.set()
    await wakeups.notify(call.conn, wakeups.FETCH, cluster)
    log.info("declarations.submitted", user_id=user.id, path=body.path, commit=sha,
             cluster=cluster,
             declaration_id=row.id, compile_status=row.compile_status,
             needs_approval=row.needs_approval)
    return detail(row)


ENDPOINTS = [
    Endpoint("GET", "/declarations", "listDeclarations", "Declarations visible to the caller",
             "declarations", list_declarations, query=DeclarationsQuery,
             response=DeclarationPage,
             description="A User sees their own submissions and every git-sourced "
             "declaration; an Admin sees all. Newest first."),
    Endpoint("GET", "/declarations/{declarationId}", "getDeclaration",
             "A declaration: text, files, compiled spec or compile error, summary",
             "declarations", get_declaration, path_params={"declarationId": "id"},
             query=WindowQuery, response=DeclarationDetail, errors=(404,),
             description="The spec's guests and the files show entries offset .. "
             "offset+limit-1; totals gives their full lengths."),
    Endpoint("POST", "/declarations", "submitDeclaration",
             "Compile a declaration and commit it to the declarations repository",
             "declarations", submit_declaration, body=DeclarationCreate,
             response=DeclarationDetail, status=201, errors=(403, 409, 413, 422, 429, 503),
             description="Compiled first: 422 with the compiler's messages (details: file, "
             "line, message; at most 100) when it does not compile, or when the "
             "declarations would hold more guests than the setting declarations.max_guests. "
             "Then committed as the calling user and recorded; the controller is woken to "
             "fetch it. A User may change only files they created (403), and their change "
             "applies only after an Admin approves its run, unless users_can_reconcile is "
             "on. 409: the branch moved meanwhile; submit again. A user may have "
             "[compile] per_user declarations compiling at once; more answer 429 with "
             "Retry-After. The answer shows the first guests and files, like "
             "GET /declarations/{id}. With several clusters, cluster names the one it goes "
             "to (422 when missing or unknown): the path must be in that cluster's folder, "
             "and it is compiled with that cluster's facts."),
]
