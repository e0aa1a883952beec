"""Paragraph-level fallback: the grammar keeps what it read, the LLM gets the rest.

Interface: ``await compile_refused(path, text, grammar_error, *, llm, facts, cache,
max_guests, workers, budget) -> Hybrid`` for a file the grammar refused, and the pure
:func:`understood` (paragraph → "understood as" → compiler) for any file, rendered from
the file's one compile (the guests each paragraph names), never compiled again.

What the grammar read and deliberately did not use (``ignored as context: '...'``,
quoted e-mail text, form metadata, ``not scheduled: ...``: the ``notes`` of its one
compile of the file) goes with the paragraph holding its line (``ParagraphResult.ignored``),
so every place that shows "understood as" shows it too ("no word is ever silently
ignored"). A paragraph the LLM compiled carries none: the grammar's notes come from a
compile in which that paragraph was blanked out, and the LLM's answer is grounded in the
paragraph itself (:mod:`.grounding`), so nothing in it is dropped unseen.

How (issue 13, "LLM: used where it helps"):

1. The grammar's error lines pin the refused paragraphs (:mod:`.paragraphs`); the rest of
   the file is compiled by the grammar again, without them, so every paragraph it
   understands keeps the grammar's reading.
2. Each refused paragraph alone goes to the LLM (:func:`.llm.compile_paragraph`), with
   the heading above it, the rest of the file rendered to English and the cluster's
   facts as context; its answer is grounded in that paragraph only (:mod:`.grounding`).
   Answers are cached per paragraph, keyed by the paragraph's text (and heading), the
   model, :data:`.llm.PROMPT_VERSION` and the cluster's facts the prompt held; transient
   failures are not cached. The grammar reads a bare ``on pve3`` through the same facts.
3. A paragraph the LLM cannot compile (refused, ungrounded, the model down) is
   *reported* (``Hybrid.failed``) and the other paragraphs still stand; the caller
   decides what a failed paragraph means for the whole commit.
4. An LLM guest that another paragraph also declares is merged field by field; a field
   both state differently is that paragraph's failure, never a silent choice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from mycopod import spec as specmod
from mycopod.config import LlmSettings
from mycopod.declarations import grammar, grounding, paragraphs, render
from mycopod.declarations.errors import CompileError, CompileIssue
from mycopod.declarations.facts import ClusterFacts
from mycopod.declarations.facts import places as places_of
from mycopod.declarations.workers import Budget, CompileWorkers, Notes, compile_in_process
from mycopod.store.compile_cache import CacheEntry, CacheKey

__all__ = ["COMPILER", "Hybrid", "MemoryCache", "ParagraphCache", "ParagraphResult",
           "as_records", "compile_refused", "paragraph_key", "understood"]

#: the compile cache's ``compiler`` for one paragraph's LLM answer
COMPILER = "llm-paragraph"
#: at most this many rounds of "refuse the paragraphs that fail once others are gone"
MAX_ROUNDS = 8


class ParagraphCache(Protocol):
    """What :class:`~mycopod.store.compile_cache.CompileCacheStore` offers, or memory."""

    async def hit_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CacheEntry]: ...

    async def put(self, key: CacheKey, *, spec: dict[str, Any] | None,
                  error: str | None) -> CacheEntry: ...


@dataclass
class MemoryCache:
    """A process-local paragraph cache (``mycopod compile``, tests, the benchmark)."""

    entries: dict[CacheKey, CacheEntry] = field(default_factory=dict)

    async def hit_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CacheEntry]:
        return {k: self.entries[k] for k in keys if k in self.entries}

    async def put(self, key: CacheKey, *, spec: dict[str, Any] | None,
                  error: str | None) -> CacheEntry:
        entry = CacheEntry(content_sha256=key.content_sha256, compiler=key.compiler,
                           model=key.model, prompt_version=key.prompt_version, spec=spec,
                           error=error, created_at=datetime.now(UTC), hits=0)
        self.entries[key] = entry
        return entry


@dataclass(frozen=True, slots=True)
class ParagraphResult:
    """One paragraph, how it was understood and by which compiler."""

    first: int
    last: int
    text: str
    #: ``grammar`` or ``llm``
    compiler: str
    model: str = ""
    #: render() of what this paragraph compiled to ("" when it failed)
    understood_as: str = ""
    guests: tuple[str, ...] = ()
    error: str | None = None
    cached: bool = False
    #: what the grammar read in this paragraph and did not use, by line (each note:
    #: ``ignored as context: '...'`` ...); none for a paragraph the LLM compiled
    ignored: tuple[str, ...] = ()

    @property
    def by(self) -> str:
        """The compiler as shown to people: ``grammar`` or the model's name."""
        return self.model if self.compiler == "llm" and self.model else self.compiler


@dataclass
class Hybrid:
    spec: specmod.ClusterSpec
    paragraphs: list[ParagraphResult]
    llm_calls: int = 0
    #: (line, note): what the grammar's compile that stood did not use (the paragraphs'
    #: ``ignored``, with their lines)
    notes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[ParagraphResult]:
        return [p for p in self.paragraphs if p.error is not None]

    @property
    def llm_guests(self) -> dict[str, str]:
        """Guest name → model, for every guest an LLM-compiled paragraph declares."""
        return {g: p.model for p in self.paragraphs if p.compiler == "llm" and not p.error
                for g in p.guests}

    def issues(self, path: str) -> list[CompileIssue]:
        return [CompileIssue(path, p.first, p.error) for p in self.failed if p.error]


def paragraph_key(p: paragraphs.Paragraph, model: str, version: str,
                  facts: ClusterFacts | None = None) -> CacheKey:
    """Keyed by the paragraph (and heading), the model, the prompt version and, when the
    cluster's facts were part of the prompt, their fingerprint: a changed cluster (a node
    renamed, a storage gone) never gets an answer given for the old one."""
    said = f"{p.heading}\0{p.text}"
    if facts is not None:
        said += "\0" + facts.model_dump_json()
    digest = hashlib.sha256(said.encode("utf-8", "surrogatepass"))
    return CacheKey(content_sha256=digest.hexdigest(), compiler=COMPILER, model=model,
                    prompt_version=version)


def _combine(base: specmod.ClusterSpec, add: specmod.ClusterSpec) -> specmod.ClusterSpec:
    """``base`` with the guests of ``add``; ValueError when both state a field apart."""
    guests = {g["name"]: g for g in specmod.spec_dict(base)["guests"]}
    for data in specmod.spec_dict(add)["guests"]:
        old = guests.get(data["name"])
        if old is None:
            guests[data["name"]] = data
            continue
        clash = sorted(k for k in data if k in old and old[k] != data[k])
        if clash:
            raise ValueError(f"{data['name']}: {', '.join(clash)} stated differently in "
                             "another paragraph")
        guests[data["name"]] = {**old, **data}
    return specmod.parse_spec({"guests": list(guests.values())})


def _grammar_result(p: paragraphs.Paragraph, spec: specmod.ClusterSpec,
                    by_name: dict[str, specmod.GuestSpec], *, whole: bool,
                    ignored: tuple[str, ...] = ()) -> ParagraphResult:
    """A paragraph the grammar read, rendered from the file's one compile (``spec``):
    the guests it names (none: those the heading above it names, its topic), or every
    guest when it is the file's only paragraph (``whole``). A guest another paragraph
    adds to is shown with all the file says of it: what the paragraph contributes to."""
    if whole:
        shown = spec
    else:
        found = grounding.named(p.text, by_name.keys()) or (
            grounding.named(p.heading, by_name.keys()) if p.heading else set())
        shown = specmod.ClusterSpec.of_guests([by_name[name] for name in found])
    return ParagraphResult(p.first, p.last, p.text, "grammar",
                           understood_as=render.render(shown).strip(),
                           guests=tuple(g.name for g in shown.guests), ignored=ignored)


def understood(text: str, spec: specmod.ClusterSpec,
               notes: Sequence[tuple[int, str]] = ()) -> list[ParagraphResult]:
    """Every paragraph of a file the grammar compiled to ``spec``, rendered back from
    that compile (never compiled again). Pure. ``notes``: what that compile did not use,
    (line, note), each shown with its paragraph."""
    found = paragraphs.split(text)
    by_name = {g.name: g for g in spec.guests}
    return [_grammar_result(p, spec, by_name, whole=len(found) == 1, ignored=said)
            for p, said in zip(found, paragraphs.placed(found, notes), strict=True)]


async def _grammar(path: str, text: str, *, max_guests: int | None,
                   workers: CompileWorkers | None, budget: Budget | None,
                   places: grammar.Places | None = None, notes: Notes | None = None
                   ) -> specmod.ClusterSpec | CompileError:
    if workers is not None:
        return (await workers.compile({path: text}, budget=budget, max_guests=max_guests,
                                      places=places, notes=notes))[path]
    return compile_in_process({path: text}, max_guests=max_guests, places=places,
                              notes=notes)[path]


async def compile_refused(
    path: str, text: str, grammar_error: CompileError | None, *, llm: LlmSettings,
    facts: ClusterFacts | None, cache: ParagraphCache,
    max_guests: int | None = None, workers: CompileWorkers | None = None,
    budget: Budget | None = None,
) -> Hybrid:
    """The grammar's paragraphs plus the LLM's for the refused ones.

    ``grammar_error``: the grammar's verdict on the whole text (None: compiled here).
    Raises ``grammar_error`` when its problems cannot be pinned on paragraphs (an error
    about the whole file) or the rest never compiles: the LLM then sees nothing."""
    import mycopod.declarations.llm as llmmod

    assert llm.model
    places = places_of(facts)
    notes: Notes = {}
    if grammar_error is None:
        first = await _grammar(path, text, max_guests=max_guests, workers=workers,
                               budget=budget, places=places, notes=notes)
        if not isinstance(first, CompileError):
            return Hybrid(spec=first, paragraphs=understood(text, first,
                                                            notes.get(path, ())),
                          notes=notes.get(path, []))
        grammar_error = first
    found = paragraphs.split(text)
    reasons: dict[int, list[str]] = {}
    issues = grammar_error.issues
    rest: specmod.ClusterSpec | None = None
    for _ in range(MAX_ROUNDS):
        drop = paragraphs.refused(found, [i.line for i in issues])
        if drop is None:
            raise grammar_error
        for k in drop:
            reasons.setdefault(k, []).extend(
                i.message for i in issues if found[k].holds(i.line))
        outcome = await _grammar(path, paragraphs.without(text, found, reasons),
                                 max_guests=max_guests, workers=workers, budget=budget,
                                 places=places, notes=notes)
        if not isinstance(outcome, CompileError):
            rest = outcome
            break
        issues = outcome.issues
    if rest is None:
        raise grammar_error
    # the notes of the compile that stood (refused paragraphs blanked: none of theirs)
    said = paragraphs.placed(found, notes.get(path, ()))
    by_name = {g.name: g for g in rest.guests}
    results: dict[int, ParagraphResult] = {
        k: _grammar_result(p, rest, by_name, whole=len(found) == 1, ignored=said[k])
        for k, p in enumerate(found) if k not in reasons}
    context = render.render(rest)
    keys = {k: paragraph_key(found[k], llm.model, llmmod.PROMPT_VERSION, facts)
            for k in reasons}
    hits = await cache.hit_many(list(set(keys.values())))
    spec = rest
    calls = 0
    for k in sorted(reasons):
        p, cached = found[k], keys[k] in hits
        why = "; ".join(reasons[k])
        answer: specmod.ClusterSpec | None = None
        error: str | None = None
        if cached:
            entry = hits[keys[k]]
            if entry.spec is not None:
                answer = specmod.parse_spec(entry.spec)
            error = entry.error
        else:
            calls += 1
            try:
                answer = await llmmod.compile_paragraph(
                    p.text, filename=path, heading=p.heading, context=context,
                    settings=llm, facts=facts)
            except llmmod.LlmError as exc:
                error = str(exc)
                if exc.permanent:
                    await cache.put(keys[k], spec=None, error=error)
            else:
                await cache.put(keys[k], spec=specmod.spec_dict(answer), error=None)
        if answer is not None:
            try:
                spec = _combine(spec, answer)
            except (ValueError, specmod.SpecError) as exc:
                error, answer = str(exc), None
        if answer is None:
            results[k] = ParagraphResult(
                p.first, p.last, p.text, "llm", llm.model, cached=cached,
                error=f"the grammar did not understand it ({why}) and the LLM "
                      f"({llm.model}) could not compile it either: {error}")
            continue
        results[k] = ParagraphResult(p.first, p.last, p.text, "llm", llm.model,
                                     understood_as=render.render(answer).strip(),
                                     guests=tuple(g.name for g in answer.guests),
                                     cached=cached)
    return Hybrid(spec=spec, paragraphs=[results[k] for k in sorted(results)],
                  llm_calls=calls, notes=notes.get(path, []))


def as_records(results: Sequence[ParagraphResult]) -> list[dict[str, Any]]:
    """The stored form (a declaration file's ``paragraphs``)."""
    return [{"first": r.first, "last": r.last, "text": r.text, "compiler": r.compiler,
             "model": r.model, "understood_as": r.understood_as, "guests": list(r.guests),
             "error": r.error, "ignored": list(r.ignored)} for r in results]
