"""The grammar's results paragraph by paragraph: a push that changes one paragraph of a
1,000-paragraph file compiles one paragraph (issue 17, docs/scaling.md).

Why: the compile cache (:mod:`.pipeline`) is keyed by a file's whole content, so any
change to a large file compiled all of it again: 0.8 s of CPU for 1,000 guests, several
seconds on a loaded machine, right when a push should be applied within seconds.

When it is used: only for a file whose paragraphs cannot lean on each other, so that
compiling each paragraph alone and putting the guests together in order gives exactly
what compiling the whole file gives. The grammar carries context across paragraphs only
through Markdown structure (headings, lists, tables, fenced code, HTML comments, bold
names), lead-ins ending with ``:`` and guests declared in one paragraph and added to in
another (see :mod:`.grammar.document`). So a file takes this way only when

- it has at least :data:`MIN_PARAGRAPHS` paragraphs (a short file compiles quickly whole);
- every non-blank line starts with a letter, and no line holds ``<``, ``|``, a backtick
  or ``**``/``__`` (no Markdown structure at all) or ends with ``:`` (a lead-in);
- each paragraph compiles on its own and declares at least one guest (a paragraph of
  chatter, a title or a sign-off is read with the file around it);
- no guest is named in two paragraphs, the file holds at most ``max_guests`` guests, and
  the guests together make a valid ClusterSpec.

The paragraphs of a commit compile in the compile workers, a share in each, within the
commit's time (``compile.request_seconds``); one stopped sends its file to the whole-file
compile, which keeps its own verdict. A cold file (no paragraph cached) costs about a
quarter more CPU this way than whole (1,000 paragraphs: 1.2 s against 0.95 s here); every
later change costs its changed paragraphs.

Anything else (a paragraph that fails alone, an error, a heading anywhere) goes to the
whole-file compile, whose verdict and messages are the grammar's own. ``tests/unit/
declarations/test_paragraph_cache.py`` checks on the grammar's corpus that both ways give
the same spec for every file this takes, so a grammar change that adds context across
paragraphs fails there rather than in production.

Keys: a paragraph's result is cached (table ``compile_cache``, compiler
``grammar-paragraph``) under the sha256 of its text and the grammar's version (the hash
of the grammar's source, :func:`.pipeline.grammar_version`), plus the cluster's names
when the paragraph says "on" (a bare ``on pve3`` is read through them): a changed
paragraph, a new grammar or changed names never reuse an old result. Only results are
cached, never errors (an error is the whole file's to report, with its line numbers).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from mycopod import spec as specmod
from mycopod.declarations import grammar, paragraphs
from mycopod.declarations.grammar import mail
from mycopod.declarations.workers import Budget, CompileWorkers, Notes, compile_in_process
from mycopod.store.compile_cache import CacheEntry, CacheKey, CacheRow

__all__ = ["COMPILER", "MIN_PARAGRAPHS", "ByParagraphs", "Cache", "compile_by_paragraphs",
           "paragraph_key", "pieces"]

#: the compile cache's ``compiler`` for one paragraph's grammar result
COMPILER = "grammar-paragraph"
#: a word that may need the cluster's names to read: ``on pve3``, and ``to`` after a
#: verb of running or moving (``moved to pve3``, grammar/phrases.py's node phrase)
_SAYS_ON = re.compile(r"\b(?:on|to)\b", re.IGNORECASE)
#: Markdown structure that may carry context from one paragraph to another
_STRUCTURE = re.compile(r"[<|`]|\*\*|__")
#: separates a file's path and a paragraph's index in a worker batch
_SEP = "\u2063"
#: a file of fewer paragraphs is compiled whole: its compile is short anyway, and each
#: paragraph's row would only add to the cache
MIN_PARAGRAPHS = 16


class Cache(Protocol):
    """What :class:`~mycopod.store.compile_cache.CompileCacheStore` offers (or memory)."""

    async def hit_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CacheEntry]: ...

    async def put_many(self, entries: Sequence[CacheRow]) -> None: ...


@dataclass(frozen=True, slots=True)
class ByParagraphs:
    """A file compiled paragraph by paragraph: its spec, and how many paragraphs were
    compiled now and how many came from the cache."""

    spec: specmod.ClusterSpec
    compiled: int
    reused: int
    #: what the grammar did not use, ``(line in the file, note)``
    notes: tuple[tuple[int, str], ...] = ()


def pieces(text: str) -> list[paragraphs.Paragraph] | None:
    """The paragraphs of ``text`` when none can lean on another; else None. Pure."""
    for line in text.splitlines():
        if line and not (line[0].isascii() and line[0].isalpha()):
            return None
        if _STRUCTURE.search(line) or line.rstrip().endswith(":"):
            return None
    if mail.mail_like(text):
        return None  # "Re: ..." at the top: a header for the whole file (grammar/mail.py)
    found = paragraphs.split(text)
    if len(found) < MIN_PARAGRAPHS:
        return None
    return found


def paragraph_key(text: str, version: str, placed: str) -> CacheKey:
    """One paragraph's key: its text and the grammar's version, and the cluster's names
    (``placed``: the version with their digest) when it says "on"."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return CacheKey(content_sha256=digest, compiler=COMPILER,
                    prompt_version=placed if _SAYS_ON.search(text) else version)


async def compile_by_paragraphs(
    files: Mapping[str, str], *, cache: Cache, version: str, placed: str,
    places: grammar.Places | None, max_guests: int | None,
    workers: CompileWorkers | None, budget: Budget | None,
) -> dict[str, ByParagraphs]:
    """The files of ``files`` that can be compiled paragraph by paragraph, compiled so
    (one cache look-up for all, the missing paragraphs compiled together); a file left
    out goes to the whole-file compile."""
    # more paragraphs than guests allowed: each declares one at least, so the whole-file
    # compile gives the limit's own error without compiling them all first
    split = {path: found for path in sorted(files)
             if (found := pieces(files[path])) is not None
             and (max_guests is None or len(found) <= max_guests)}
    keys = {path: [paragraph_key(p.text, version, placed) for p in found]
            for path, found in split.items()}
    found_entries = await cache.hit_many(list({k for ks in keys.values() for k in ks}))
    missing: dict[str, str] = {}
    notes: Notes = {}  # of each paragraph compiled now, its lines counted from 1
    for path, found in split.items():
        for k, (p, key) in enumerate(zip(found, keys[path], strict=True)):
            if key not in found_entries:
                missing[f"{path}{_SEP}{k}"] = p.text
    if workers is not None:
        # the paragraphs together within the commit's time (compile.request_seconds): one
        # file's time (file_seconds) is for one text, and on a loaded machine a cold file
        # of 1,000 paragraphs may take longer than a whole-file compile of it
        budget = budget or workers.budget()
        budget = replace(budget, file_seconds=budget.request_seconds)
        outcomes = await workers.compile_batch(missing, budget=budget, places=places,
                                               notes=notes)
    else:
        outcomes = compile_in_process(missing, places=places, notes=notes)
    out: dict[str, ByParagraphs] = {}
    new: dict[CacheKey, Fresh] = {}  # a paragraph's result stands whatever
    for path in split:
        done = _assemble(path, split[path], keys[path], found_entries, outcomes, notes,
                         max_guests)
        if done is not None:
            out[path] = done[0]
        new.update(done[1] if done is not None else
                   _fresh(path, keys[path], outcomes, notes))
    await cache.put_many([(key, data, None, said) for key, (data, said) in new.items()])
    return out


#: a paragraph's result to cache: its spec data and what the grammar did not use in it
Fresh = tuple[dict[str, Any], list[tuple[int, str]]]


def _fresh(path: str, keys: list[CacheKey], outcomes: Mapping[str, Any], notes: Notes
           ) -> dict[CacheKey, Fresh]:
    """The paragraphs of ``path`` that compiled now (to cache), whatever the file's fate."""
    out: dict[CacheKey, Fresh] = {}
    for k, key in enumerate(keys):
        outcome = outcomes.get(f"{path}{_SEP}{k}")
        if isinstance(outcome, specmod.ClusterSpec):
            out[key] = specmod.spec_dict(outcome), notes.get(f"{path}{_SEP}{k}", [])
    return out


def _assemble(path: str, found: list[paragraphs.Paragraph], keys: list[CacheKey],
              entries: Mapping[CacheKey, CacheEntry], outcomes: Mapping[str, Any],
              notes: Notes, max_guests: int | None
              ) -> tuple[ByParagraphs, dict[CacheKey, Fresh]] | None:
    """The file's spec from its paragraphs' results, in order, when every paragraph has one
    that declares guests of its own; None sends the file to the whole-file compile."""
    guests: list[dict[str, Any]] = []
    names: set[str] = set()
    fresh: dict[CacheKey, Fresh] = {}
    dropped: list[tuple[int, str]] = []
    for k, key in enumerate(keys):
        entry = entries.get(key)
        if entry is not None and entry.spec is not None:
            data, own = entry.spec, entry.ignored or []
        else:
            outcome = outcomes.get(f"{path}{_SEP}{k}")
            if not isinstance(outcome, specmod.ClusterSpec):
                return None
            own = notes.get(f"{path}{_SEP}{k}", [])
            data = specmod.spec_dict(outcome)
            fresh[key] = data, own
        dropped.extend((found[k].first - 1 + int(line), str(note)) for line, note in own)
        said = [str(g["name"]) for g in data["guests"]]
        if not said or names.intersection(said) or len(set(said)) != len(said):
            return None
        names.update(said)
        guests.extend(data["guests"])
    if max_guests is not None and len(guests) > max_guests:
        return None
    try:
        spec = specmod.parse_spec({"guests": guests})
    except specmod.SpecError:
        return None
    return ByParagraphs(spec, compiled=len(fresh), reused=len(keys) - len(fresh),
                        notes=tuple(dropped)), fresh
