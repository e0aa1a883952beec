"""Which paragraph each planned guest comes from, and how it was understood (issue 13).

Every guest a plan acts on is traced to the paragraph that declares it: ``file:line``,
the paragraph's text, what it was understood as (``render()`` of its compile), which
compiler read it (``grammar``, or the LLM's model) and what the grammar deliberately did
not use in it (``ignored``: the declaration's stored notes on its lines). The plan stores these as
``Plan.sources`` (one :class:`ParagraphSource` per guest with an action), so ``mycopod
plan``, ``GET /reconcile/{id}`` and the run and approval pages all show the same thing,
and an approval records what the admin saw.

A source from an LLM-compiled paragraph is marked ``approval`` when the policy
``llm_changes_need_approval`` is on: :meth:`Plan.approval_keys` then covers every action
on that guest, so an approval vouches for exactly the LLM-sourced changes it showed.

Where a declaration stored paragraph records (a file the LLM helped compile) they are
used as they are; otherwise the paragraph naming the guest is found in the file's text
and the guest is rendered from the spec. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ParagraphSource", "file_texts", "trace"]

FILE_MARK = re.compile(r"^<!-- file: (?P<path>.+?) -->$", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
#: sources of grammar paragraphs stored with a plan at most (a first run may create
#: thousands); every LLM paragraph's is kept, since the approval rule reads them
MAX_SOURCES = 500


class ParagraphSource(BaseModel):
    """The paragraph a planned guest comes from, and how it was understood."""

    model_config = ConfigDict(frozen=True)

    guest: str
    file: str
    line: int
    text: str
    understood_as: str
    #: ``grammar`` or ``llm``
    compiler: str
    model: str = ""
    #: an LLM-compiled paragraph under ``llm_changes_need_approval``: its actions wait
    approval: bool = False
    ignored: tuple[str, ...] = Field(default=(), description=(
        "What the grammar read in this paragraph and deliberately did not use, in line "
        "order: \"ignored as context: '...'\", quoted e-mail text, form metadata, "
        "\"not scheduled: ...\" (none for an LLM-compiled paragraph)"))

    @property
    def by(self) -> str:
        """The compiler as people read it: ``grammar`` or the model's name."""
        return self.model if self.compiler == "llm" and self.model else self.compiler


def file_texts(content: str, paths: Sequence[str]) -> dict[str, str]:
    """path -> text of each file of a declaration's ``content``."""
    marks = list(FILE_MARK.finditer(content or ""))
    if not marks:
        return {paths[0]: content} if content and paths else {}
    texts: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(content)
        texts[mark.group("path")] = content[mark.end() + 1:end].rstrip("\n")
    return texts


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _find(split: list[Any], words: list[set[str]], name: str) -> Any | None:
    from mycopod.declarations import grounding

    low = name.lower()
    for p, seen in zip(split, words, strict=True):
        if low in seen:
            return p
    for p in split:  # a range: "web-1 through web-5"
        if grounding.names(p.text, name):
            return p
    return None


def trace(files: Iterable[Any], content: str, guests: Mapping[str, Any],
          targets: Iterable[str], *, gate: bool) -> list[ParagraphSource]:
    """The sources of ``targets`` (guest names) in a declaration.

    ``files``: the declaration's file records (``path``, ``guests``, ``paragraphs``);
    ``content``: its stored text; ``guests``: name -> GuestSpec of the spec planned;
    ``gate``: the policy ``llm_changes_need_approval``."""
    from mycopod.declarations import paragraphs, render

    records = list(files)
    owner = {g: r for r in records for g in r.guests}
    texts = file_texts(content, [r.path for r in records])
    split: dict[str, tuple[list[Any], list[set[str]]]] = {}
    notes: dict[str, dict[int, tuple[str, ...]]] = {}  # path -> paragraph line -> notes
    out: list[ParagraphSource] = []
    for name in sorted(set(targets)):
        record = owner.get(name)
        if record is None:
            continue
        stored = next((p for p in record.paragraphs if name in p.get("guests", ())), None)
        if len(out) >= MAX_SOURCES and (stored is None or stored.get("compiler") != "llm"):
            continue  # past the limit, only the LLM's (the approval rule needs them all)
        if stored is not None:
            compiler = str(stored.get("compiler") or "grammar")
            out.append(ParagraphSource(
                guest=name, file=record.path, line=int(stored.get("first", 0)),
                text=str(stored.get("text", "")),
                understood_as=str(stored.get("understood_as", "")), compiler=compiler,
                model=str(stored.get("model", "")), approval=gate and compiler == "llm",
                ignored=tuple(str(n) for n in stored.get("ignored", ()))))
            continue
        if record.path not in split:
            found = paragraphs.split(texts.get(record.path, ""))
            split[record.path] = (found, [_words(p.text) for p in found])
            said = paragraphs.placed(found, getattr(record, "ignored", ()))
            notes[record.path] = {p.first: n for p, n in zip(found, said, strict=True)}
        para = _find(*split[record.path], name)
        guest = guests.get(name)
        out.append(ParagraphSource(
            guest=name, file=record.path, line=para.first if para is not None else 0,
            text=para.text if para is not None else "",
            understood_as=render.render_guest(guest).strip() if guest is not None else "",
            compiler="grammar",
            ignored=notes[record.path].get(para.first, ()) if para is not None else ()))
    return out
