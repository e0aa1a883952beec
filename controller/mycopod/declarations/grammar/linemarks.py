"""What surrounds a statement on its line: icons, toggles, editorial remarks, page chrome.

Notes copied from Notion, Trello, a wiki or a transcription carry marks of where they came
from that say nothing about a guest. :func:`read` reads them line by line, before the
Markdown is read (line numbers are kept), and reports each one it drops:

- an **icon or bullet glyph** opening a line (:data:`BULLETS`: ``💡 ▸ ▾ • ◦ ‣ ➤ 📌 🔹
  📋`` ...): the line is a list item, ``ignored as marker: '💡'``; a **check glyph**
  (:data:`CHECKS`: ``☐ ☑ ✔ ✅ ✓``) is a task-list box (``- [ ]``): the item states what
  should be, done or not. A cross (``❌``) is no marker: it may mean "not", so it stays
  and the line is refused;
- a **toggle** (``▸ Media stack`` or ``▾ ...`` with indented lines under it, as Notion
  exports it): the toggle's text is a heading over its children, each child a list item;
- an **editorial remark** in square brackets opening or closing a line
  (``[transcribed from the whiteboard]``, ``[handwritten, page 2]``, ``[sticky note]``):
  ``ignored as remark``; and anywhere, a transcriber's mark of :data:`MARKS` (``[sic]``,
  ``[illegible]``, ``(!!)``, ``(?)``). A bracket that holds a kind word, a size or a
  guest-like name (``[VM web-1, 2 cores]``) is no remark and stays. ``[arrow]`` is a
  drawn arrow: before ``on``/``to``/``in`` it is dropped (the preposition says it),
  elsewhere it reads as ``→``;
- **card and page chrome**: a card's title (``Card: New wiki server``) and a checklist's
  own heading (``Checklist``, ``Checklist (0/4)``, ``Checklist 2/2``, ``Checklist:
  monitoring``) naming no guest, ``Last edited by Sam ·`` before a statement: ``ignored
  as card title`` / ``ignored as page chrome``; a card's label before a statement
  (``Description:``, ``Checklist item:``, ``Comment on card:``, ``Comment:``): ``ignored
  as label``; a card ``Description:`` that names no guest and holds no number describes
  the card, not a guest: ``ignored as card description``;
- **wiki markup**: MediaWiki and DokuWiki headings (``== Servers ==``, ``===== x =====``)
  are headings; ``''Note:''`` and ``'''bold'''`` are their text.

- more, read by :mod:`.pagemarks`: a card's or an issue's own fields naming no guest
  (``Bucket: Backlog``, ``Story points: 5``: ``ignored as card field``); a line of
  labelled fields about one guest (``VM name - x, CPU - 2 core, RAM - 4 GB``,
  ``Container: x. RAM: 128 MB. GW: 10.0.0.1.``: one sentence, a lead-in before it such as
  ``PFB the requirement:`` reported); ``Pasted from the sheet:`` over a sheet and a
  remark closing its header row; a line that is only an HTML tag (``<aside>``); a title
  over a list (``Asset register, IT section:``); ``# comments`` in YAML-style lines and a
  ``guests:`` key over ``- name:`` items; an Obsidian callout (``> [!note] Title``: its
  ``>`` lines are the owner's own text);
- keycap numbers (``1️⃣``) are a numbered list; decorating emoji between words (``Hi all
  👋``, ``😊``, ``🙏``): ``ignored as emoji``; a correction after a value (``50 GB (not
  30)``): ``ignored as correction``; ``stop: x`` reads ``stop x``, ``a & b`` reads ``a
  and b``. Nothing inside double quotes is touched.

Anything else is left as it was. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.forms import in_form
from mycopod.declarations.grammar.pagemarks import (
    MARKS,
    TAG_LINE_RE,
    callout,
    chrome,
    field_line,
    list_title,
    remark,
    sheet,
    yaml,
)

__all__ = ["BULLETS", "CHECKS", "MARKS", "read"]

#: glyphs that open a line as a bullet or an icon: dropped, the line is a list item
BULLETS = frozenset("\u2192\u21d2\u279c"
                    "\u2022\u25e6\u2023\u25b8\u25be\u25ba\u25b6\u25b9\u25bf\u27a4\u2794"
                    "\u25aa\u25ab\u25cf\u25cb\u25c6\u25c7\u2605\u2606\u2043\u2219"
                    "\U0001f4a1\U0001f4cb\U0001f4cc\U0001f4cd\U0001f539\U0001f538"
                    "\U0001f449\U0001f4dd\U0001f5d2\U0001f4c4\U0001f4ce\U0001f516\u2139")
#: glyphs of a checked or unchecked box: a task-list box
CHECKS = frozenset("\u2610\u2611\u2612\u2714\u2713\u2705\u2612\u25a1\u25a0")
#: toggles: a heading over the indented lines under it
_TOGGLES = frozenset("\u25b8\u25be\u25ba\u25b6\u25b9\u25bf")
#: what makes a text worth reading line by line (a quick test on the whole text, with
#: substring searches only: most notes hold none of these)
_TRIGGER_CHARS = frozenset("[&<>#=\u20e3")
_TRIGGER_WORDS = ("''", "(!", "(?", "(sic", "(not", "(was", ":\n", ")\n", "]\n", "card",
                  "checklist", "to do", "todo", "tasks", "description", "comment", "note",
                  "last ", "edited", "created", "board", "ticket", "issue", "story", "bucket",
                  "progress", "section", "members", "attach", "watchers", "epic", "component",
                  "fix", "start", "updated", "list", "column", "swimlane", "effort",
                  "assigned", "followers", "collab", "sub", "acceptance", "action", "steps",
                  "stop", "delete", "remove", "destroy", "new", "add", "create",
                  "decommission", "retire", "shut", "power", "name", "vm ", "vm:", "ct ",
                  "ct:", "container", "lxc", "machine", " - ", " \u2013 ", " \u2014 ")


#: what a line of labelled fields holds: a name's label and its separator
_FIELD_HINT_RE = re.compile(
    "(?i:name|vm|virtual machine|container|ct|lxc)\\s*[-\u2013\u2014:=]\\s")
_WIDE_RE = re.compile("[\u2600-\U0010ffff]")


def _triggered(text: str) -> bool:
    """Does ``text`` hold anything :func:`read` might change?"""
    if not text.isascii() or not _TRIGGER_CHARS.isdisjoint(text):
        return True
    low = text.lower() + "\n"
    return any(w in low for w in _TRIGGER_WORDS)
_GLYPH_RE = re.compile(r"^(\s*)(?:[-*+]\s+)?(\S)\ufe0f?(?:\s+|$)")
_BRACKET_RE = re.compile(r"\[([^\[\]\n]{1,80})\]|\(([^()\n]{1,20})\)")
_LEAD_REMARK_RE = re.compile(r"^(\s*(?:[-*+]\s+)?)\[([^\[\]\n]{1,80})\]\s*")
_TAIL_REMARK_RE = re.compile(r"\s*\[([^\[\]\n]{1,80})\]\s*$")
_ARROW_DROP_RE = re.compile(r"\s*\[(?i:arrow)\]\s*(?=(?i:on|onto|to|in|into)\b)")
_ARROW_RE = re.compile(r"\s*\[(?i:arrow)\]\s*")
_WIKI_HEADING_RE = re.compile(r"^\s*(={2,6})\s*([^=\n]+?)\s*\1\s*$")
_WIKI_BOLD_RE = re.compile(r"'''(.+?)'''|''(.+?)''")


def _quoted(line: str, at: int) -> bool:
    """Is position ``at`` of ``line`` inside a double-quoted value (kept as written)?"""
    return line.count('"', 0, at) % 2 == 1


_KEYCAP_RE = re.compile("^(\\s*)([0-9])\ufe0f?\u20e3\\s+(?=\\S)")


def _glyph(lines: list[str], k: int, ignored: list[tuple[int, str]]) -> None:
    line = lines[k]
    keycap = _KEYCAP_RE.match(line) if "\u20e3" in line else None
    if keycap:  # "1️⃣ VM x": a numbered item
        ignored.append((k + 1, f"ignored as marker: {line[:keycap.end()].strip()!r}"))
        lines[k] = f"{keycap.group(1)}{keycap.group(2)}. {line[keycap.end():]}"
        return
    found = _GLYPH_RE.match(line)
    if not found or (found.group(2) not in BULLETS and found.group(2) not in CHECKS):
        return
    glyph, indent, rest = found.group(2), found.group(1), line[found.end():]
    if not rest.strip():
        return
    ignored.append((k + 1, f"ignored as marker: {glyph!r}"))
    depth = len(indent.expandtabs(4))
    children = []
    for j in range(k + 1, len(lines)):
        under = lines[j]
        if not under.strip() or len(under[:len(under) - len(under.lstrip())].expandtabs(4)
                                    ) <= depth:
            break
        children.append(j)
    if glyph in _TOGGLES and children and not rest.rstrip().endswith((".", "!", "?")):
        lines[k] = "## " + rest.strip()  # a toggle: a heading over its children
        for j in children:
            child = lines[j].strip()
            lines[j] = child if child[:1] in "-*+" or child[:1] in BULLETS | CHECKS \
                else "- " + child
        return
    box = "[ ] " if glyph in CHECKS else ""
    lines[k] = f"{indent}- {box}{rest.strip()}"


def _remarks(line: str, number: int, ignored: list[tuple[int, str]]) -> str:
    if "[" not in line and "(" not in line:
        return line
    if "[" in line and "arrow" in line.lower():
        for found in _ARROW_DROP_RE.finditer(line):
            ignored.append((number, f"ignored as remark: {found.group(0).strip()!r}"))
        line = _ARROW_RE.sub(" \u2192 ", _ARROW_DROP_RE.sub(" ", line))
    lead = _LEAD_REMARK_RE.match(line)
    if lead and remark(lead.group(2)) and line[lead.end():].strip():
        ignored.append((number, f"ignored as remark: '[{lead.group(2)}]'"))
        line = lead.group(1) + line[lead.end():]
    tail = _TAIL_REMARK_RE.search(line) if line.rstrip().endswith("]") else None
    if tail and remark(tail.group(1)) and line[:tail.start()].strip() and not (
            line[:tail.start()].rstrip().endswith((":", "=", ","))):  # "tags: [a, b]"
        ignored.append((number, f"ignored as remark: '[{tail.group(1)}]'"))
        line = line[:tail.start()]

    def mark(found: re.Match[str]) -> str:
        inside = found.group(1) if found.group(1) is not None else found.group(2)
        if inside.strip().lower() not in MARKS or _quoted(line, found.start()):
            return found.group(0)
        ignored.append((number, f"ignored as remark: {found.group(0)!r}"))
        return ""
    return _BRACKET_RE.sub(mark, line)


#: a correction after a value, as a transcriber keeps it: ``50 GB (not 30)``, ``4 cores
#: (was 2)``: the value before it stands
_CORRECTION_RE = re.compile(
    r"(?<=[0-9A-Za-z])\s*\((?i:not|was|instead of|previously|formerly|crossed out:?)\s+"
    r"\d+(?:[.,]\d+)?\s*(?:[A-Za-z]{1,5})?\)")
#: a verb with a colon before its guest (``stop: media-enc``, ``delete: old-1``)
_VERB_COLON_RE = re.compile(
    r"^(\s*(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?(?i:stop|start|delete|remove|destroy|restart|"
    r"shut down|power off|power on|decommission|retire|new|add|create))\s*:\s+(?=[a-z])")
#: ``&`` between two names (``win-a & win-b``)
_AMPERSAND_RE = re.compile(r"(?<=\S) & (?=\S)")


#: emoji that only decorate (faces, waving and thanking hands, hearts, party): standing
#: alone between words, dropped and reported; a sign that may mean something (❌ ✅ ⚠️ 🛑)
#: is not one of them
_DECOR_RE = re.compile(
    "(?:\\s+|^)([\U0001f600-\U0001f64f\U0001f910-\U0001f92f\U0001f970-\U0001f97a"
    "\U0001f44b-\U0001f450\U0001f91e\u270c\u263a\u2764\U0001f493-\U0001f49f"
    "\U0001f9e1\U0001f389\U0001f38a\u2728\U0001f680]"
    "[\ufe0f\u200d\U0001f3fb-\U0001f3ff]*)+(?=\\s|$)")


def _words(line: str, number: int, ignored: list[tuple[int, str]]) -> str:
    """``line`` with corrections and decorating emoji dropped, a verb's colon and ``&``
    read."""
    if not line.isascii() and _WIDE_RE.search(line) and not any(q in line for q in "\"'`\u201c"):
        kept = _DECOR_RE.sub(lambda m: "," if line[m.end():].strip() and line[
            :m.start()].rstrip()[-1:].isalnum() else "", line)  # "Hi all 👋 quick one:"
        if kept.strip(" ,"):
            for found in _DECOR_RE.finditer(line):
                ignored.append((number, f"ignored as emoji: {found.group(0).strip()!r}"))
            line = kept
    if "(" in line:
        def correction(found: re.Match[str]) -> str:
            if _quoted(line, found.start()):
                return found.group(0)
            ignored.append((number, f"ignored as correction: {found.group(0).strip()!r}"))
            return ""
        line = _CORRECTION_RE.sub(correction, line)
    if ":" in line:
        line = _VERB_COLON_RE.sub(r"\1 ", line)
    if " & " in line and not any(q in line for q in "\"'`\u201c\u2018"):
        line = _AMPERSAND_RE.sub(" and ", line)
    return line


def read(text: str, ignored: list[tuple[int, str]]) -> str:
    """``text`` with the marks of the module's docstring read, line numbers kept."""
    if not _triggered(text):
        return text
    lines = text.split("\n")
    for k in range(len(lines)):
        line = lines[k]
        if not line.strip():
            continue
        heading = _WIKI_HEADING_RE.match(line) if "==" in line else None
        if heading:
            lines[k] = "## " + heading.group(2)  # MediaWiki "== x ==", DokuWiki "=== x ==="
            continue
        if "''" in line and '"' not in line:
            line = _WIKI_BOLD_RE.sub(lambda m: m.group(1) or m.group(2), line)
        lines[k] = line
        if "[!" in line and line.lstrip().startswith(">"):
            callout(lines, k, ignored)  # "> [!note] Plan" / "> VM x ..."
            line = lines[k]
            if not line.strip():
                continue
        if "#" in line or line.rstrip().endswith(":"):
            yaml(lines, k, ignored)  # "# a comment" in a YAML block, "guests:"
            line = lines[k]
            if not line.strip() or line == "<!-- -->":
                continue
        if "<" in line and TAG_LINE_RE.match(line):
            ignored.append((k + 1, f"ignored as markup: {line.strip()!r}"))
            lines[k] = ""
            continue
        if k + 1 < len(lines) and "," in line and list_title(line, lines[k + 1]):
            ignored.append((k + 1, f"ignored as title: {line.strip()!r}"))
            lines[k] = ""
            continue
        if line.rstrip().endswith((":", ")", "]")) and k + 1 < len(lines):
            sheet(lines, k, ignored)  # "Pasted from the sheet:", "name;ram (excel did it)"
        first = line.lstrip()[:1]
        if not first.isascii() or first in "-*+" or "\u20e3" in line:
            _glyph(lines, k, ignored)
        line = _words(_remarks(lines[k], k + 1, ignored), k + 1, ignored)
        if (line.count(": ") >= 2 or line.count(" - ") >= 2 or line.count(" \u2013 ") >= 2
                or line.count("=") >= 2) and _FIELD_HINT_RE.search(line):
            line = field_line(line, k + 1, ignored)  # "VM name - x, CPU - 2 core, ..."
        if (":" in line or "|" in line or not line.isascii() or (
                line.lstrip()[:1].lower() in "lcstab")) and not in_form(lines, k):
            kept = chrome(line, k + 1, ignored)
            line = "" if kept is None else line if kept == line else kept
        lines[k] = line
    return "\n".join(lines)
