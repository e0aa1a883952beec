"""Compiling declaration files: the grammar first, the LLM for what the grammar rejects.

Interface: :func:`compile_file` (async; one file's text -> ClusterSpec or CompileError;
the grammar runs in :mod:`~mycopod.declarations.workers` when they are given),
:func:`compile_files` (async; many files, merged with the cross-file checks) and
:func:`compile_files_sync` for the CLI. The LLM is used only when it is configured
(``[llm] model``) and only for the paragraphs the grammar rejects (:mod:`.hybrid`); its
answers go through the same validation plus the facts and grounding checks. No database
here: a paragraph cache in memory unless one is given; :mod:`.pipeline` adds the
database cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from mycopod import spec as specmod
from mycopod.config import DEFAULT_MAX_GUESTS, LlmSettings
from mycopod.declarations import facts as factsmod
from mycopod.declarations import hybrid, merge
from mycopod.declarations.errors import (
    CompileError,
    CompileInterrupted,
    CompileIssue,
    GuestLimitError,
)
from mycopod.declarations.facts import ClusterFacts
from mycopod.declarations.workers import Budget, CompileWorkers, Notes, compile_in_process

__all__ = ["FileResult", "compile_file", "compile_files", "compile_files_sync"]


@dataclass(frozen=True, slots=True)
class FileResult:
    """How a file compiled: by which compiler (``grammar`` or ``llm``: some paragraphs
    by the LLM) and to what, paragraph by paragraph (``paragraphs``, "understood as")."""

    spec: specmod.ClusterSpec
    compiler: str
    model: str = ""
    paragraphs: tuple[hybrid.ParagraphResult, ...] = ()
    llm_calls: int = 0
    #: (line, note): what the grammar read and deliberately did not use (``ignored as
    #: context: '...'`` ...), from its one compile of the file; each paragraph's
    #: ``ignored`` holds those on its lines
    notes: tuple[tuple[int, str], ...] = ()


async def compile_file(path: str, text: str, *, llm: LlmSettings | None = None,
                       facts: ClusterFacts | None = None,
                       max_guests: int | None = DEFAULT_MAX_GUESTS,
                       workers: CompileWorkers | None = None,
                       budget: Budget | None = None,
                       cache: hybrid.ParagraphCache | None = None) -> FileResult:
    """Compile one file; raise CompileError (the grammar's, or the LLM's last reason).

    A file declaring more than ``max_guests`` guests is refused (GuestLimitError) without
    asking the LLM: it was understood, it is too much.

    The grammar runs in ``workers`` within ``budget`` when given (the daemon and the
    API), else on the calling thread (the CLI). A compile stopped by its budget is not
    handed to the LLM: the grammar did not reject the text, it ran out of time.
    """
    notes: Notes = {}
    if workers is not None:
        outcome = (await workers.compile({path: text}, budget=budget, max_guests=max_guests,
                                         places=factsmod.places(facts), notes=notes))[path]
    else:
        outcome = compile_in_process({path: text}, max_guests=max_guests,
                                     places=factsmod.places(facts), notes=notes)[path]
    if not isinstance(outcome, CompileError):
        said = notes.get(path, [])
        return FileResult(outcome, "grammar", paragraphs=tuple(
            hybrid.understood(text, outcome, said)), notes=tuple(said))
    grammar_error = outcome
    if (llm is None or not llm.model
            or isinstance(grammar_error, (CompileInterrupted, GuestLimitError))):
        raise grammar_error
    done = await hybrid.compile_refused(
        path, text, grammar_error, llm=llm, facts=facts,
        cache=cache if cache is not None else hybrid.MemoryCache(), max_guests=max_guests,
        workers=workers, budget=budget)
    if done.failed:
        raise CompileError(done.issues(path))
    return FileResult(done.spec, "llm", llm.model, paragraphs=tuple(done.paragraphs),
                      llm_calls=done.llm_calls, notes=tuple(done.notes))


async def compile_files(files: Mapping[str, str], *, llm: LlmSettings | None = None,
                        facts: ClusterFacts | None = None,
                        max_guests: int | None = DEFAULT_MAX_GUESTS,
                        explained: list[str] | None = None,
                        ignored: list[str] | None = None) -> specmod.ClusterSpec:
    """Compile and merge many files; every file's problems are reported together.

    ``explained`` collects "understood as" lines for every LLM-compiled paragraph;
    ``ignored`` what the grammar did not use, ``path:line: note`` each."""
    specs: dict[str, specmod.ClusterSpec] = {}
    issues: list[CompileIssue] = []
    for path in sorted(files):
        try:
            done = await compile_file(path, files[path], llm=llm, facts=facts,
                                      max_guests=max_guests)
        except CompileError as exc:
            issues.extend(exc.issues)
            continue
        specs[path] = done.spec
        if ignored is not None:
            ignored.extend(f"{path}:{line}: {note}"
                           for line, note in sorted(done.notes, key=lambda n: n[0]))
        for para in done.paragraphs:
            if explained is not None and para.compiler == "llm":
                explained.append(f"{path}:{para.first}: understood by {para.by} as: "
                                 + " ".join(para.understood_as.split()))
    if issues:
        raise CompileError(issues)
    return merge.merge(specs, max_guests=max_guests)


def compile_files_sync(files: Mapping[str, str], *, llm: LlmSettings | None = None,
                       facts: ClusterFacts | None = None,
                       max_guests: int | None = DEFAULT_MAX_GUESTS,
                       explained: list[str] | None = None,
                       ignored: list[str] | None = None) -> specmod.ClusterSpec:
    return asyncio.run(compile_files(files, llm=llm, facts=facts, max_guests=max_guests,
                                     explained=explained, ignored=ignored))
