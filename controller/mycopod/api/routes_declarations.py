"""``/declarations``: read compiled declarations, submit new ones through git.

``POST /declarations`` never writes the database first: it compiles the text (422 with
the compiler's messages if it does not compile, alone or together with the other files
of the branch), then commits it to the declarations repository as the calling user
through :class:`~mycopod.declarations.source.GitSource`, and records that commit through
the same pipeline the poller uses. Git stays the single source of truth; the controller
is woken to fetch the new head.

Visibility: a User sees their own submissions and every declaration that came from git;
an Admin sees all. Anything else answers 404, exactly as if it did not exist.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog

from mycopod.api.errors import ApiError, not_found, unprocessable
from mycopod.api.models import (
    MAX_DECLARATION_BYTES,
    CompileIssueOut,
    DeclarationCreate,
    DeclarationDetail,
    DeclarationPage,
    DeclarationsQuery,
    DeclarationSummary,
)
from mycopod.api.routing import Call, Endpoint
from mycopod.declarations import compiler, pipeline, render
from mycopod.declarations.errors import CompileError
from mycopod.declarations.source import SourceError, glob_regex
from mycopod.declarations.workers import Budget
from mycopod.store.declarations import Declaration, DeclarationStore
from mycopod.store.users import User

log = structlog.get_logger(__name__)


def _visible(declaration: Declaration, user: User) -> bool:
    return user.is_admin or declaration.source == "git" or declaration.user_id == user.id


def detail(declaration: Declaration) -> DeclarationDetail:
    summary = None
    if declaration.spec is not None:
        kinds = Counter(g.kind for g in declaration.spec.guests)
        summary = DeclarationSummary(guest_count=len(declaration.spec.guests),
                                     kinds=dict(sorted(kinds.items())),
                                     rendering=render.render(declaration.spec))
    data = declaration.__dict__ | {"files": [f.__dict__ for f in declaration.files],
                                   "summary": summary}
    return DeclarationDetail.model_validate(data)


async def list_declarations(call: Call) -> DeclarationPage:
    query: DeclarationsQuery = call.query
    viewer = None if call.me.is_admin else call.me.id
    rows, total = await DeclarationStore(call.conn).page_visible(
        viewer_id=viewer, limit=query.limit, offset=query.offset)
    items = [r.__dict__ | {"files": [f.__dict__ for f in r.files]} for r in rows]
    return DeclarationPage.model_validate({"items": items, "total": total})


async def get_declaration(call: Call) -> DeclarationDetail:
    declaration = await DeclarationStore(call.conn).get(call.params["declarationId"])
    if declaration is None or not _visible(declaration, call.me):
        raise not_found("declaration")
    return detail(declaration)


def _compile_failed(issues: list[CompileIssueOut], summary: str) -> ApiError:
    return unprocessable(summary, code="compile_error",
                         details=[i.model_dump() for i in issues])


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
    if len(body.text.encode("utf-8")) > MAX_DECLARATION_BYTES:
        raise ApiError(413, "too_large",
                       f"the declaration is larger than {MAX_DECLARATION_BYTES // 1024} KiB")
    settings = call.ctx.settings
    source = call.ctx.source
    if source is None:
        raise ApiError(503, "no_repository",
                       "no declarations repository is configured (declarations.repo)")
    if not glob_regex(settings.declarations.glob).match(body.path) or (
            body.path.rsplit("/", 1)[-1].lower() == "readme.md"):
        raise unprocessable(f"path {body.path!r} is not a declaration file: it must match "
                            f"{settings.declarations.glob!r} and not be README.md")
    llm = settings.llm if settings.llm.model else None
    workers = call.ctx.compilers
    budget = Budget.start(settings.compile)  # one budget for every compile of the request
    try:
        await compiler.compile_file(body.path, body.text, llm=llm, workers=workers,
                                    budget=budget)
    except CompileError as exc:
        issues = [CompileIssueOut(file=i.file, line=i.line, message=i.message)
                  for i in exc.issues]
        raise _compile_failed(issues, f"the declaration does not compile: {exc.issues[0]}"
                              if exc.issues else "the declaration does not compile") from None
    try:
        head = await asyncio.to_thread(source.fetch)
        files = await asyncio.to_thread(source.files_at, head)
    except SourceError as exc:
        if "is empty" not in str(exc):
            raise ApiError(503, "repository_unavailable",
                           f"the declarations repository is unavailable: {exc}") from None
        files = {}
    files[body.path] = body.text
    together = await pipeline.compile_files_cached(files, pool=call.ctx.pool, llm=llm,
                                                   workers=workers, budget=budget)
    if together.error:
        issues = [CompileIssueOut(file=body.path, line=0, message=line)
                  for line in together.error.splitlines() if line.strip()]
        raise _compile_failed(issues, "the declaration conflicts with the other files of "
                              f"the branch: {issues[0].message if issues else together.error}")
    try:
        sha = await asyncio.to_thread(
            source.commit_declaration, body.path, body.text, author_name=user.username,
            author_email=f"{user.username}@users.mycopod.invalid",
            message=f"Declare {body.path} (submitted by {user.username} through the API)")
    except SourceError as exc:
        raise ApiError(503, "repository_unavailable",
                       f"the commit could not be pushed: {exc}") from None
    row = await pipeline.compile_commit(source, sha, pool=call.ctx.pool, settings=settings,
                                        origin="api", user_id=user.id, path=body.path,
                                        workers=workers)
    call.ctx.runtime.wake_fetch.set()
    log.info("declarations.submitted", user_id=user.id, path=body.path, commit=sha,
             declaration_id=row.id, compile_status=row.compile_status)
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
             response=DeclarationDetail, errors=(404,)),
    Endpoint("POST", "/declarations", "submitDeclaration",
             "Compile a declaration and commit it to the declarations repository",
             "declarations", submit_declaration, body=DeclarationCreate,
             response=DeclarationDetail, status=201, errors=(413, 422, 429, 503),
             description="Compiled first: 422 with the compiler's messages (details: file, "
             "line, message) when it does not compile. Then committed as the calling user "
             "and recorded; the controller is woken to fetch it. A user may have "
             "[compile] per_user declarations compiling at once; more answer 429 with "
             "Retry-After."),
]
