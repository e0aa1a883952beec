"""Markdown blocks that hold declarations: paragraphs and list items, with line numbers.

An owner writes declarations as ordinary Markdown. Headings, HTML comments, fenced and
indented code blocks and thematic breaks are commentary, not declarations, and are
skipped; every paragraph and every list item is one block of declaration text. A block
keeps the number of each of its lines, so an error points at the line the owner wrote.
This is a deliberately small subset of CommonMark: enough to tell text from commentary,
and nothing that could silently hide a sentence (a blockquote is read as text; a task-list
box "[ ]" or "[x]" after a list marker, or opening a line, is dropped, the item's text is
the statement; "·" and "•" are list markers too; a
table is one record per row, :mod:`.tables`).
Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mycopod.declarations.grammar import sheets
from mycopod.declarations.grammar.tables import (
    TableError,
    is_table,
    key_values,
    known_column,
    table_rows,
)

__all__ = ["Block", "MarkdownError", "blocks"]

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# an ATX heading, or the headings of Confluence/Jira wiki markup and Textile ("h3. Web")
_HEADING_RE = re.compile(r"^ {0,3}(#{1,6}|h[1-6]\.)(\s|$)")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_BREAK_RE = re.compile(r"^ {0,3}((\*\s*){3,}|(-\s*){3,}|(_\s*){3,})$")
#: a list marker: "-", "*", "+", a middle dot or bullet ("· homer ct 256mb"), "1." / "1)",
#: or a task-list box on its own ("[ ] adguard: container ...", a to-do list without "-")
_ITEM_RE = re.compile(r"^(\s*)([-*+\u00b7\u2022]|\d{1,9}[.)]|\[[ xX]\])(\s+|$)")
_QUOTE_RE = re.compile(r"^ {0,3}>\s?")
# a task-list box after a list marker: checked or not, the item's text is the statement
_TASK_RE = re.compile(r"^\[[ xX]\]\s+")
_BOX_RE = re.compile(r"^\s*\[[ xX]\]")


class MarkdownError(ValueError):
    """Text that would silently hide the rest of the file (an unclosed comment or fence)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph or a list item: its lines as (1-based line number, text)."""

    kind: str
    lines: tuple[tuple[int, str], ...]
    #: a list item with a task-list box ("- [ ] 2 cores"): it may go on with the guest
    #: the box before named (:mod:`.document`)
    task: bool = False

    @property
    def line(self) -> int:
        return self.lines[0][0]

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)


def _strip_comments(lines: list[str]) -> list[str]:
    """Blank out HTML comments (possibly spanning lines), keeping the line count."""
    out: list[str] = []
    in_comment = False
    opened = 0
    for number, line in enumerate(lines, start=1):
        kept: list[str] = []
        rest = line
        while rest:
            if in_comment:
                end = rest.find("-->")
                if end < 0:
                    rest = ""
                    break
                rest = rest[end + 3 :]
                in_comment = False
            else:
                start = rest.find("<!--")
                if start < 0:
                    kept.append(rest)
                    break
                kept.append(rest[:start])
                rest = rest[start + 4 :]
                in_comment = True
                opened = number
        out.append("".join(kept))
    if in_comment:
        raise MarkdownError(opened, "this HTML comment (<!--) is never closed with -->, so "
                                    "everything after it would be ignored")
    return out


def blocks(text: str, *, headings: bool = False) -> list[Block]:
    """The declaration blocks of a Markdown document, in order.

    With ``headings``, each ATX heading is a block too (kind ``heading``, its text without
    the ``#`` marks): a heading that names a guest is the topic of the prose under it.

    Raises MarkdownError for an HTML comment or a code fence that is never closed: they
    would hide every declaration after them.
    """
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    was_comment = ["<!--" in line for line in raw]
    lines = _strip_comments(raw)
    result: list[Block] = []
    current: list[tuple[int, str]] = []
    kind = "paragraph"
    fence: str | None = None
    fence_line = 0
    in_list = False
    task = False

    def close() -> None:
        nonlocal current
        if current and kind == "paragraph":
            # a pasted spreadsheet, a wiki table, a CSV export
            current = sheets.as_markdown(current, known_column)
        if current and kind == "paragraph" and is_table(tuple(current)) and (
                form := key_values(tuple(current))) is not None:
            result.append(Block("paragraph", tuple(form)))  # "| Field | Value |": a form
        elif current and kind == "paragraph" and is_table(tuple(current)):
            try:  # a table of guests: one record per row (.tables)
                rows = table_rows(tuple(current))
            except TableError as exc:
                raise MarkdownError(exc.line, exc.message) from exc
            result.extend(Block("item", (row,)) for row in rows)
        elif current:
            result.append(Block(kind, tuple(current), task and kind == "item"))
        current = []

    for index, line in enumerate(lines):
        number = index + 1
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        fence_match = _FENCE_RE.match(line)
        if fence_match:
            close()
            fence = fence_match.group(1)[:3]
            fence_line = number
            continue
        if not line.strip():
            # A line that held only a comment does not end a paragraph's text by itself,
            # but a truly blank line does.
            if not was_comment[index] or not raw[index].strip():
                close()
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            close()
            if headings:
                title = line[heading.end():].strip().rstrip("#").strip()
                result.append(Block("heading", ((number, title),)))
            in_list = False
            continue
        if current and kind == "paragraph" and _SETEXT_RE.match(line):
            # The paragraph above is a setext heading. A heading is not a declaration, but
            # one that reads like a sentence is more likely a declaration followed by a
            # rule: dropping it silently would lose a guest, so that is an error.
            if len(current) > 1 or current[-1][1].rstrip().endswith((".", "!", ";")):
                raise MarkdownError(
                    current[0][0], f"this paragraph is underlined by line {number} "
                    f"({line.strip()[:3]}...), which makes it a heading, not a declaration; "
                    "put a blank line before the underline if it is a declaration")
            if headings:
                result.append(Block("heading", (current[0][0:1] + (current[0][1].strip(),),)))
            current = []
            continue
        if _BREAK_RE.match(line):
            close()
            continue
        item = _ITEM_RE.match(line)
        if item:
            close()
            kind = "item"
            in_list = True
            rest = line[item.end() :]
            box = _TASK_RE.match(rest) or _BOX_RE.match(line)
            task = box is not None
            current = [(number, rest[box.end() :] if box and box.re is _TASK_RE else rest)]
            continue
        indented = line.startswith(("    ", "\t"))
        if not current and indented and not in_list:
            # an indented code block; one that reads like a sentence is more likely a
            # declaration indented by mistake, and ignoring it would lose a guest
            if line.rstrip().endswith((".", "!", ";")):
                raise MarkdownError(number, "this line is indented by 4 spaces, which makes it "
                                            "a code block, not a declaration; remove the "
                                            "indentation if it is a declaration")
            continue
        if not current and not indented:
            in_list = False
        quote = _QUOTE_RE.match(line)
        if quote:
            line = line[quote.end() :]
        if not current:
            kind = "paragraph"
        current.append((number, line.strip()))
    close()
    if fence is not None:
        raise MarkdownError(fence_line, f"this code block ({fence}) is never closed, so "
                                        "everything after it would be ignored")
    return [b for b in result if any(text.strip() for _, text in b.lines)]
