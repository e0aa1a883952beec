"""From a commit to a stored declaration: read, compile (cached), merge, record.

Interface: ``await compile_commit(source, commit, *, pool, settings=None, llm=None,
facts=None, ...) -> Declaration`` where ``source`` is a GitSource (files and commit
info are read from it) or a mapping path -> text. The returned row (see
:mod:`mycopod.store.declarations`) has ``.spec`` (a ClusterSpec, or None) and
``.compile_status`` / ``.compile_error``. The spec in force is
``DeclarationStore(pool).latest_good()``: a failed compile is recorded with its error
and changes nothing else, so nothing is ever applied from it.

Per file, the compile cache is looked up by (sha256 of the content, compiler, model,
prompt version): the grammar's entry; when the grammar rejected the file and an LLM is
configured, the file goes paragraph by paragraph (:mod:`.hybrid`): the grammar keeps the
paragraphs it reads, and each refused paragraph's LLM answer is cached under the
paragraph's own text. A paragraph neither compiler understands is reported on the file's
record (``FileRecord.error`` with a spec) while the rest of the commit applies. Only
misses are compiled, and their results stored, so an unchanged file is never compiled
twice and a commit that changes one file of fifty compiles one. A changed file whose
paragraphs cannot lean on each other (plain paragraphs, no Markdown structure) is
compiled paragraph by paragraph through a cache of its own (:mod:`.paragraph_cache`), so
a commit that changes one paragraph of a 1,000-paragraph file compiles one paragraph.
The grammar's "prompt version" is a hash of the grammar's own source
(:func:`grammar_version`: the grammar sub-package, ``spec.py`` and the error text,
nothing else), so a new grammar never reuses an old result, and an edit elsewhere does
not throw the cache away. A file that says "on" is keyed by the cluster's names too
(``facts``: a bare ``on pve3`` is read through them), so a changed cluster never gets an
old reading. LLM failures that may be transient (timeouts, connection errors) are not
cached, and neither is a refusal for holding more guests than
``declarations.max_guests``: that verdict depends on the setting, not on the content,
and the LLM is not asked to retry it.

What the grammar read and deliberately did not use (``ignored as context: '...'`` ...)
is recorded on the file's record (``FileRecord.ignored``, (line, note) each; an LLM file's
paragraph records carry their own) and kept with the grammar's cache entry (and each
paragraph's), so a file from the cache shows the same notes as one compiled now.

A file whose text PostgreSQL cannot hold (a NUL character, a lone surrogate: see
:mod:`mycopod.store.pgtext`) is that file's compile error, with its line, before any of
it is compiled or cached; the commit is recorded like any other that fails to compile.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from mycopod import spec as specmod
from mycopod import telemetry
from mycopod.config import DEFAULT_MAX_GUESTS, LlmSettings, Settings
from mycopod.declarations import facts as factsmod
from mycopod.declarations import grammar, hybrid, merge, paragraph_cache
from mycopod.declarations.compiler import FileResult
from mycopod.declarations.errors import CompileError, CompileInterrupted, GuestLimitError
from mycopod.declarations.facts import ClusterFacts
from mycopod.declarations.source import GitSource, SourceError, SourceFilesError
from mycopod.declarations.workers import Budget, CompileWorkers, Notes, compile_in_process
from mycopod.store import pgtext
from mycopod.store.compile_cache import CacheKey, CacheRow, CompileCacheStore
from mycopod.store.declarations import Declaration, DeclarationStore, FileRecord

__all__ = ["GRAMMAR_SOURCES", "CommitCompile", "Prepared", "compile_commit", "compile_files_cached",
           "content_sha256", "grammar_version", "prepare_commit", "source_version",
           "unrecorded"]

log = structlog.get_logger(__name__)

#: a file a bare "on NAME" may be in (its grammar cache key holds the cluster's names)
_SAYS_ON = re.compile(r"\bon\b", re.IGNORECASE)
#: stands for the file's path in cached error messages (the cache is keyed by content)
FILE_MARK = "\u2063file\u2063"


#: what decides a grammar result, relative to the ``mycopod`` package: the grammar
#: sub-package, the model it validates into and the error text the cache stores
GRAMMAR_SOURCES = ("declarations/grammar/*.py", "declarations/errors.py", "spec/*.py")


def source_version(root: Path) -> str:
    """A hash of the :data:`GRAMMAR_SOURCES` under ``root`` (a ``mycopod`` directory).

    Paths are hashed with the content, so moving a module changes the version too. A
    pattern that matches nothing is an error, not a hash that quietly covers less."""
    digest = hashlib.sha256()
    paths: list[Path] = []
    for pattern in GRAMMAR_SOURCES:
        found = sorted(root.glob(pattern))
        if not found:
            raise FileNotFoundError(f"grammar_version: nothing matches {pattern} under {root}")
        paths.extend(found)
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return "g-" + digest.hexdigest()[:16]


@cache
def grammar_version() -> str:
    """A hash of the grammar compiler's source: the cache key part for grammar results.

    An edit to the grammar sub-package, ``spec.py`` or ``declarations/errors.py`` must
    not let an old cached result stand, so they are hashed; an edit anywhere else (this
    module, the webhook, the LLM compiler) keeps every cached compile."""
    return source_version(Path(str(specmod.__file__)).parent.parent)


def places_digest(places: grammar.Places) -> str:
    """A short stable hash of the cluster's names (part of the grammar's cache key)."""
    text = json.dumps([sorted(places.nodes), sorted(places.storages), sorted(places.bridges),
                       sorted(places.pools)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class CommitCompile:
    """The result of compiling a set of files (before it is stored)."""

    files: list[FileRecord] = field(default_factory=list)
    spec: specmod.ClusterSpec | None = None
    error: str | None = None
    hits: int = 0
    compiled: int = 0
    #: files with paragraphs that neither compiler understood (left out of ``spec``)
    incomplete: list[str] = field(default_factory=list)
    #: of the files compiled paragraph by paragraph (:mod:`.paragraph_cache`): the
    #: paragraphs compiled now, and those whose cached result was used
    paragraphs_compiled: int = 0
    paragraphs_reused: int = 0


def content_sha256(text: str) -> str:
    """The hash a file is cached and recorded under (``FileRecord.sha256``)."""
    return hashlib.sha256(pgtext.sha256_bytes(text)).hexdigest()


def _content(files: Mapping[str, str]) -> str:
    return "\n".join(f"<!-- file: {path} -->\n{files[path]}" for path in sorted(files))


def _placed(places: grammar.Places | None) -> str:
    return grammar_version() if places is None else \
        f"{grammar_version()}:{places_digest(places)}"


def _grammar_key(text: str, places: grammar.Places | None, *, sha: str | None = None
                 ) -> CacheKey:
    """A file's key for the grammar's result: the cluster's names are part of it only
    when the file says "on" (one that never does reads the same in any cluster)."""
    return CacheKey(content_sha256=sha or content_sha256(text), compiler="grammar",
                    prompt_version=_placed(places) if _SAYS_ON.search(text)
                    else grammar_version())


async def remember_compiled(text: str, result: FileResult, *,
                            pool: asyncpg.Pool | asyncpg.Connection,
                            facts: ClusterFacts | None = None) -> None:
    """Cache a file the grammar compiled outside :func:`compile_files_cached` (the API
    compiles a submitted file alone first, for its own messages), so that compiling it
    with the branch's other files reads that result instead of compiling it again."""
    if result.compiler != "grammar":
        return  # an LLM's paragraphs are cached by the paragraph (compile_file's cache)
    key = _grammar_key(text, factsmod.places(facts))
    await CompileCacheStore(pool).put_many(
        [(key, specmod.spec_dict(result.spec), None, list(result.notes))])


async def compile_files_cached(
    files: Mapping[str, str], *, pool: asyncpg.Pool | asyncpg.Connection,
    llm: LlmSettings | None = None, facts: ClusterFacts | None = None,
    max_guests: int | None = DEFAULT_MAX_GUESTS,
    workers: CompileWorkers | None = None, budget: Budget | None = None,
) -> CommitCompile:
    """Compile every file through the cache, then merge; never raises CompileError.

    More than ``max_guests`` guests, in one file or in all, is a compile error.
    The grammar runs in ``workers`` (off the event loop, within ``budget``: a new one
    when None), or on the calling thread without a budget when there are none (CLI).
    """
    cache_store = CompileCacheStore(pool)
    model = llm.model if llm is not None and llm.model else ""
    result = CommitCompile()
    specs: dict[str, specmod.ClusterSpec] = {}
    errors: list[str] = []
    need_llm: list[str] = []
    records: dict[str, FileRecord] = {}
    new_entries: list[CacheRow] = []
    shas = {p: content_sha256(files[p]) for p in files}
    # A file the database cannot hold (a NUL character, a lone surrogate, in its text or
    # in its name: git hands a name that is not UTF-8 over with surrogates) is this
    # file's compile error, found before anything of it is compiled, cached or stored:
    # the commit is then recorded as failing, naming the file, like any other bad file.
    for path in sorted(files):
        shown = pgtext.scrub(path)
        if pgtext.problem(path) is not None:
            error = (f"{shown}: the file name is not valid UTF-8 text; rename the file "
                     "(the character shown as \ufffd)")
        elif (problem := pgtext.problem(files[path])) is not None:
            error = f"{path}:{problem.line}: {problem.message()}"
        else:
            continue
        records[path] = FileRecord(path=shown, sha256=shas[path], error=error)
        errors.append(error)
    paths = sorted(p for p in files if p not in records)
    # the cluster's names change what a bare "on pve3" means: they are part of the key
    # of a file that says "on" (one that never does reads the same in any cluster)
    places = factsmod.places(facts)
    placed = _placed(places)
    gkey = {p: _grammar_key(files[p], places, sha=shas[p]) for p in paths}
    found = await cache_store.hit_many(list(set(gkey.values())))
    misses = {p: files[p] for p in paths if gkey[p] not in found}
    if workers is not None and budget is None:
        budget = workers.budget()  # one budget for the whole commit
    # a file whose paragraphs cannot lean on each other: only its changed paragraphs
    by_paragraph = await paragraph_cache.compile_by_paragraphs(
        misses, cache=cache_store, version=grammar_version(), placed=placed, places=places,
        max_guests=max_guests, workers=workers, budget=budget)
    for path in by_paragraph:
        del misses[path]
    notes: Notes = {}  # what the grammar did not use, of each file compiled now
    if workers is not None:
        outcomes = await workers.compile(misses, budget=budget, mark=FILE_MARK,
                                         max_guests=max_guests, places=places, notes=notes)
    else:
        outcomes = compile_in_process(misses, mark=FILE_MARK, max_guests=max_guests,
                                      places=places, notes=notes)
    for path in paths:
        record = FileRecord(path=path, sha256=shas[path], compiler="grammar")
        records[path] = record
        entry = found.get(gkey[path])
        if (pieces := by_paragraph.get(path)) is not None:
            result.compiled += 1
            result.paragraphs_compiled += pieces.compiled
            result.paragraphs_reused += pieces.reused
            specs[path] = pieces.spec
            record.ignored = list(pieces.notes)
            new_entries.append((gkey[path], specmod.spec_dict(pieces.spec), None,
                                pieces.notes))
            continue
        if entry is not None:
            record.cached = True
            if entry.spec is not None:
                specs[path] = specmod.parse_spec(entry.spec)
                record.ignored = [(int(line), str(note)) for line, note in entry.ignored or []]
                continue
            error = (entry.error or "unknown error").replace(FILE_MARK, path)
        else:
            result.compiled += 1
            outcome = outcomes[path]
            if isinstance(outcome, GuestLimitError):
                # depends on a setting, not on the text alone: never cached
                record.error = str(outcome).replace(FILE_MARK, path)
                errors.append(record.error)
                continue
            if not isinstance(outcome, CompileError):
                specs[path] = outcome
                record.ignored = notes.get(path, [])
                new_entries.append((gkey[path], specmod.spec_dict(outcome), None,
                                    record.ignored))
                continue
            if isinstance(outcome, CompileInterrupted):
                # stopped, not rejected: never cached (another try may finish), and
                # nothing for the LLM to fix
                record.error = str(outcome)
                errors.append(record.error)
                continue
            # cached without the path: the same content may live under another name
            new_entries.append((gkey[path], None, str(outcome)))
            error = str(outcome).replace(FILE_MARK, path)
        record.error = error
        if model:
            need_llm.append(path)
        else:
            errors.append(error)
    await cache_store.put_many(new_entries)
    if need_llm:
        assert llm is not None
        await _compile_with_llm(need_llm, files, records=records, specs=specs,
                                errors=errors, result=result, llm=llm, facts=facts,
                                cache=cache_store, max_guests=max_guests, workers=workers,
                                budget=budget)
    for path, spec in specs.items():
        records[path].guests = [g.name for g in spec.guests]
    result.files = [records[p] for p in sorted(records)]
    result.hits = sum(1 for r in result.files if r.cached)
    telemetry.COMPILE_CACHE_HITS.inc(result.hits)
    telemetry.COMPILE_CACHE_MISSES.inc(result.compiled)
    if errors:
        result.error = "\n".join(errors)
        return result
    try:
        result.spec = merge.merge(specs, max_guests=max_guests)
    except CompileError as exc:
        result.error = str(exc)
    return result


async def _compile_with_llm(
    paths: list[str], files: Mapping[str, str], *, records: dict[str, FileRecord],
    specs: dict[str, specmod.ClusterSpec], errors: list[str], result: CommitCompile,
    llm: LlmSettings, facts: ClusterFacts | None, cache: CompileCacheStore,
    max_guests: int | None, workers: CompileWorkers | None, budget: Budget | None,
) -> None:
    """The files the grammar refused, paragraph by paragraph (:mod:`.hybrid`).

    A paragraph neither compiler understood is reported on its file's record, and the
    file's other paragraphs still make the spec; an error the grammar cannot pin on a
    paragraph keeps the whole file (and so the commit) failing."""
    for path in paths:
        record = records[path]
        grammar_error = record.error or ""
        try:
            done = await hybrid.compile_refused(
                path, files[path], None, llm=llm, facts=facts, cache=cache,
                max_guests=max_guests, workers=workers, budget=budget)
        except CompileError:
            errors.append(grammar_error)
            continue
        llm_paragraphs = [p for p in done.paragraphs if p.compiler == "llm"]
        record.compiler, record.model = "llm", llm.model or ""
        record.cached = all(p.cached for p in llm_paragraphs)
        result.compiled += 1 if done.llm_calls else 0
        record.paragraphs = hybrid.as_records(done.paragraphs)
        record.ignored = list(done.notes)
        record.llm_guests = done.llm_guests
        specs[path] = done.spec
        record.error = "\n".join(str(i) for i in done.issues(path)) or None
        if record.error:
            result.incomplete.append(path)
            log.warning("declarations.paragraphs_failed", file=path,
                        failed=len(done.failed), error=record.error.splitlines()[0])


def unrecorded(files: Mapping[str, str], result: CommitCompile) -> Declaration:
    """A compiled set of files as a declaration that is not stored (``mycopod plan FILE``,
    a pull request's plan): what the planner needs to say where each guest comes from."""
    return Declaration(
        id=0, user_id=None, github_commit_sha="", content=_content(files),
        created_at=datetime.now(UTC), source="git", path=None, files=result.files,
        spec=result.spec, compile_status="ok" if result.error is None else "error",
        compile_error=result.error, commit_author=None, commit_message=None,
        committed_at=None)


@dataclass
class Prepared:
    """A commit read and compiled, not yet recorded (:func:`prepare_commit`)."""

    files: dict[str, str]
    result: CommitCompile
    read_error: str | None = None
    author: str | None = None
    message: str | None = None
    committed_at: datetime | None = None


async def prepare_commit(
    source: GitSource | Mapping[str, str], commit: str, *,
    pool: asyncpg.Pool | asyncpg.Connection, settings: Settings | None = None,
    llm: LlmSettings | None = None, facts: ClusterFacts | None = None,
    author: str | None = None, message: str | None = None,
    committed_at: datetime | None = None, workers: CompileWorkers | None = None,
) -> Prepared:
    """Read and compile ``commit`` (the long part of :func:`compile_commit`), so that a
    caller can do it before it takes the submission lock and record it quickly inside."""
    if llm is None and settings is not None and settings.llm.model:
        llm = settings.llm
    files: dict[str, str] = {}
    read_error: str | None = None
    if isinstance(source, GitSource):
        try:
            info = await asyncio.to_thread(source.commit_info, commit)
            author = author or f"{info.author} <{info.author_email}>"
            message = message if message is not None else info.message
            committed_at = committed_at or info.time
            files = await asyncio.to_thread(source.files_at, commit)
        except SourceFilesError as exc:
            read_error = "\n".join(f"{p}: {m}" for p, m in exc.problems)
        except SourceError as exc:
            read_error = str(exc)
    else:
        files = dict(source)
    result = CommitCompile()
    if read_error is None:
        max_guests = (settings.declarations.max_guests if settings is not None
                      else DEFAULT_MAX_GUESTS)
        result = await compile_files_cached(files, pool=pool, llm=llm, facts=facts,
                                            max_guests=max_guests, workers=workers)
    return Prepared(files, result, read_error, author, message, committed_at)


async def compile_commit(
    source: GitSource | Mapping[str, str], commit: str, *,
    pool: asyncpg.Pool | asyncpg.Connection, settings: Settings | None = None,
    llm: LlmSettings | None = None, facts: ClusterFacts | None = None, origin: str = "git",
    user_id: int | None = None, path: str | None = None, author: str | None = None,
    message: str | None = None, committed_at: datetime | None = None,
    path_sha256: str | None = None, needs_approval: bool = False,
    workers: CompileWorkers | None = None, prepared: Prepared | None = None,
) -> Declaration:
    """Compile ``commit`` and store it as a declaration row (the spec or the error).

    ``llm`` defaults to ``settings.llm``; with no model configured the LLM is off.
    ``workers`` compile off the event loop, within one budget for the whole commit.
    ``origin`` is the row's ``source`` (``git``, or ``api`` for a declaration submitted
    through POST /declarations and committed by MycoPod). An API submission records the
    file it wrote (``path``, and ``path_sha256`` = :func:`content_sha256` of its text)
    and ``needs_approval`` when it is a User's change that must wait for an Admin (see
    :mod:`mycopod.store.declarations`). ``prepared``: this commit as
    :func:`prepare_commit` read and compiled it (then only the record is left).
    """
    store = DeclarationStore(pool, settings.proxmox.cluster if settings is not None
                             else "default")
    if prepared is None:
        prepared = await prepare_commit(source, commit, pool=pool, settings=settings, llm=llm,
                                        facts=facts, author=author, message=message,
                                        committed_at=committed_at, workers=workers)
    files, result, read_error = prepared.files, prepared.result, prepared.read_error
    author, message, committed_at = prepared.author, prepared.message, prepared.committed_at
    error = read_error or result.error
    row = await store.record(
        commit_sha=commit, content=_content(files), files=result.files,
        spec=None if error else (result.spec or specmod.ClusterSpec()),
        error=error, source=origin, user_id=user_id, path=path, author=author,
        message=message, committed_at=committed_at, path_sha256=path_sha256,
        needs_approval=needs_approval)
    log_fields: dict[str, Any] = {"commit": commit, "files": len(files), "hits": result.hits,
                                  "compiled": result.compiled,
                                  "paragraphs_compiled": result.paragraphs_compiled,
                                  "paragraphs_reused": result.paragraphs_reused}
    telemetry.DECLARATION_COMPILES.labels(result="error" if error else "ok").inc()
    if error:
        log.warning("declarations.compile_failed", error=error.splitlines()[0], **log_fields)
    else:
        telemetry.DECLARATIONS_INFO.info({"commit": commit, "declaration_id": str(row.id)})
        log.info("declarations.compiled",
                 guests=len(row.spec.guests) if row.spec else 0, **log_fields)
    return row
