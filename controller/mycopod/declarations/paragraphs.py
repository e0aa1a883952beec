"""A declaration file as paragraphs, and which of them the grammar refused. Pure.

Why: the LLM only sees what the grammar could not read (issue 13). A file is cut into
paragraphs (runs of non-blank lines; a paragraph ending with ``:`` announces a list and
keeps the next one with it). The grammar's errors name lines, so a paragraph holding an
error line is *refused*. The refused paragraphs are blanked out (their lines kept as
empty lines, so every other line keeps its number and the grammar's context: headings,
``it``, guests declared above) and the rest is compiled again; a paragraph that only
fails once another is gone (it added to a guest declared there) is refused too, until
the rest compiles or nothing is left.

Interface: :func:`split` ``(text) -> list[Paragraph]``, :func:`refused` ``(paragraphs,
lines) -> set[int]`` (indexes), :func:`without` ``(text, paragraphs, drop) -> str``,
:func:`placed` ``(paragraphs, notes) -> [notes of each]`` (the grammar's "ignored as ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Paragraph", "placed", "refused", "split", "without"]

_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Lines ``first``..``last`` (1-based, inclusive) of a file, and the heading above."""

    first: int
    last: int
    text: str
    #: the text of the nearest heading above it (``## db-1`` gives ``db-1``), or ""
    heading: str = ""

    def holds(self, line: int) -> bool:
        return self.first <= line <= self.last


def split(text: str) -> list[Paragraph]:
    """The paragraphs of ``text`` that hold something (headings alone are context)."""
    lines = text.splitlines()
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if start is None:
                start = number
        elif start is not None:
            runs.append((start, number - 1))
            start = None
    if start is not None:
        runs.append((start, len(lines)))
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged and lines[merged[-1][1] - 1].rstrip().endswith(":"):
            merged[-1] = (merged[-1][0], last)  # a lead-in keeps its list
        else:
            merged.append((first, last))
    out: list[Paragraph] = []
    heading = ""
    for first, last in merged:
        body = lines[first - 1:last]
        found = _HEADING_RE.match(body[0])
        if found:
            heading = found.group(1)
            if len(body) == 1:
                continue
        out.append(Paragraph(first, last, "\n".join(body), heading))
    return out


def refused(paragraphs: Iterable[Paragraph], lines: Iterable[int]) -> set[int] | None:
    """The indexes of the paragraphs holding one of ``lines``; None when a line is in
    none of them (an error about the whole file: it cannot be pinned on a paragraph)."""
    found: set[int] = set()
    listed = list(paragraphs)
    for line in lines:
        hit = [k for k, p in enumerate(listed) if p.holds(line)]
        if not hit:
            return None
        found.update(hit)
    return found


def without(text: str, paragraphs: list[Paragraph], drop: Iterable[int]) -> str:
    """``text`` with the paragraphs ``drop`` blanked out, every line keeping its number."""
    lines = text.splitlines()
    for k in drop:
        p = paragraphs[k]
        heading = _HEADING_RE.match(lines[p.first - 1])
        for number in range(p.first + (1 if heading else 0), p.last + 1):
            lines[number - 1] = ""
    return "\n".join(lines) + "\n"


def placed(found: Sequence[Paragraph], notes: Sequence[tuple[int, str]]
           ) -> list[tuple[str, ...]]:
    """``notes`` ((line, note) from the grammar) shared out to the paragraphs holding
    their lines, in line order. A note on no paragraph's line (a heading alone) goes to
    the next paragraph, or the last: none is dropped. Pure."""
    out: list[list[str]] = [[] for _ in found]
    for line, note in sorted(notes, key=lambda n: n[0]):
        if not found:
            break
        k = next((k for k, p in enumerate(found) if p.last >= line), len(found) - 1)
        out[k].append(note)
    return [tuple(n) for n in out]
