"""Note-taking markup and labelled fields: what wraps a statement in notes and forms.

Notes from Obsidian, a wiki, a GitHub issue or a purchase order wrap their statements in
markup that says nothing about a guest. Line by line (:func:`lines`, before the Markdown
is read; line numbers are kept):

- a wiki link ``[[jellyfin]]`` (or ``[[jellyfin|Jellyfin box]]``) is the name it links;
- a sentence that only points elsewhere (``See [[hardware]].``, ``Related: [[a]], [[b]]``)
  is reported as ``ignored as link``;
- a line of only hashtags (``#homelab #proxmox``) tags the note, not a guest: reported as
  ``ignored as note tags``;
- emphasis around a label (``**Name:** x``, ``*Decision:* ...``, ``__What__: ...``) is
  formatting: the label is read as ``Name: x``;
- an arrow between a name and its description (``paperless → VM, 2 cores``) reads as
  ``->``;
- a checked or unchecked box of an issue template's own checklist, in the first person
  (``- [x] I searched existing issues``, ``- [ ] I have read the docs``): reported as
  ``ignored as form metadata``.

Block by block (:func:`fields`, after :mod:`.forms` read whole forms), each line of a
paragraph or list item:

- ``Key: value`` whose key is one of :data:`.forms.METADATA_KEYS` (``Requested by``,
  ``Assignee``, ``Milestone``, ``Page``, ``Owner`` ...) and whose value names no guest (no
  lower-case word with a hyphen): reported as ``ignored as form metadata``; a ticket or
  order number alone (``PO-2291``, ``REQ-118``) likewise;
- a label before a statement (:data:`LABELS`: ``Title:``, ``Body:``, ``What:``,
  ``Decision:``, ``Decided:``, ``Today:``, ``Order:``, ``Item 1:``, ``Line item:``,
  ``Follow-up:``, ``Guest:`` ...): the label is reported as ``ignored as label`` and
  the rest is read as a sentence of its own (the line ends one), when the rest names a
  guest of its own (``Agreed: 4 cores.`` keeps its label and is refused).

Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.forms import METADATA_KEYS
from mycopod.declarations.grammar.lexicon import is_vocab
from mycopod.declarations.grammar.markdown import Block
from mycopod.declarations.grammar.names import is_subject_name
from mycopod.declarations.grammar.tokens import SentenceError, tokenize
from mycopod.declarations.grammar.wrapping import names_a_guest

__all__ = ["LABELS", "fields", "lines"]

#: labels whose value is a statement about a guest
LABELS = frozenset({
    "title", "body", "what", "decision", "decided", "today", "tonight", "tomorrow", "order",
    "item", "line item", "items requested", "follow-up", "follow up", "followup",
    "mitigation", "guest", "action item", "next step", "next steps", "plan", "proposal",
    "resolution", "outcome", "done", "todo", "to do", "request", "purchase request",
    "service request", "summary", "ask", "requested", "needed",
    "wanted", "fix", "workaround", "result", "agreed", "update",
    # chat lead-ins ("quick one: oragono-irc vm, ...")
    "quick one", "quick request", "quick ask", "small one", "one more", "another one"})
_LABEL_RE = re.compile(r"^(\s*)([A-Za-z][A-Za-z \-]{0,24}?)(\s*#?\d{1,4})?\s*:\s+(?=\S)")
_METADATA_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ./&\-]{0,30}?)\s*:\s*(.*?)\s*$")
#: a field after a sentence's end on the same line ("... 20 GB disk. Cost centre: Sales.")
_SPLIT_RE = re.compile(r"(?<=\.)\s+(?=[A-Z][A-Za-z ]{0,30}:\s)")
#: an order's quantity before a count ("Qty 2 VMs:"): the count
_QTY_RE = re.compile(r"^(\s*)(?:qty|quantity)\.?\s*:?\s*(?=\d)", re.IGNORECASE)
#: a cell of a pipe row that is a guest's name: lower case, with a digit or a hyphen
_ROW_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$|^[a-z]+[0-9]+$")
_KIND_CELLS = frozenset({"vm", "ct", "lxc", "container", "virtual-machine"})
_VOLUME_RE = re.compile(r"^[a-z][\w\-]*:[\w\-/.]+$")
_TICKET_RE = re.compile(r"^\s*#?[A-Z]{2,6}-\d{1,7}\s*$")
_GUESTISH_RE = re.compile(r"\b[a-z][a-z0-9]*-[a-z0-9-]+\b")
_LINK_RE = re.compile(r"\[\[([^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|[^\]\n]*)?\]\]")
_SEE_RE = re.compile(
    r"(?:(?<=[.!?])\s+|^\s*)(?:see(?: also)?|related|links?|cf\.?|ref|refs|also see)\s*:?\s*"
    r"\[\[[^\]\n]+\]\](?:\s*(?:,|and)\s*\[\[[^\]\n]+\]\])*\s*[.!]?", re.IGNORECASE)
_TAGS_RE = re.compile(r"^\s*(?:#[A-Za-z][\w\-/]*\s*)+$")
_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_)([A-Za-z][A-Za-z0-9 ./&\-]{0,40}?)(:?)\1(:?)")
_MARKER_RE = re.compile(r"^\s*(?:[-+*]\s+|\d{1,3}[.)]\s+)?")
#: a quoted name right after a kind word ("VM 'tender-db' - 8 cores", "a lxc `bridge-1`")
_QUOTED_NAME_RE = re.compile(
    r"\b(vm|virtual machine|container|ct|lxc)\s+['\"`\u2018\u201c]([a-z][a-z0-9\-]*[a-z0-9])"
    r"['\"`\u2019\u201d]", re.IGNORECASE)
#: a record that gives its kind, then its name as a field ("Virtual machine, name x, ...")
_NAME_FIELD_RE = re.compile(
    r"^(\s*(?:[-*+]\s+|\d{1,3}[.)]\s+)?(?:[A-Za-z][A-Za-z ]{0,20}(?:\s#?\d{1,4})?:\s+)?)"
    r"((?i:virtual machine|vm|container|ct|lxc))\s*,\s*"
    r"(?i:name|named|called|hostname)\s*:?\s+([a-z][a-z0-9\-]*[a-z0-9])(\s*,|\s*$)")
#: any of the marks :func:`lines` reads (a quick test before the line-by-line reading)
_MARKS_RE = re.compile("\\[\\[|[#*_\u2192\u21d2\u27f6'\"`\u2018\u201c]|=>|\\[[ xX]\\]|"
                       r",\s*(?i:name|named|called|hostname)\b")
_ARROW_RE = re.compile(r"\s*(?:\u2192|\u21d2|\u27f6|=>)\s*")
_CHECKED_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?\[[ xX]\]\s+I(?:'ve| have)?\s+(?:searched|agree|confirm|read|checked|"
    r"understand|accept|tested|reviewed|looked)\b", re.IGNORECASE)


def _line(text: str, number: int, ignored: list[tuple[int, str]]) -> str:
    if _TAGS_RE.match(text) and not text.lstrip().startswith("# "):
        ignored.append((number, f"ignored as note tags: {text.strip()!r}"))
        return ""
    if _CHECKED_RE.match(text):
        ignored.append((number, f"ignored as form metadata: {text.strip()!r}"))
        return ""
    if "[[" in text:
        # outside quotes only: a quoted value ("ssh-ed25519 AAAA [[x]]") is kept as written
        pieces = text.split('"')
        for k in range(0, len(pieces), 2):
            for found in _SEE_RE.finditer(pieces[k]):
                ignored.append((number, f"ignored as link: {found.group(0).strip()!r}"))
            pieces[k] = _LINK_RE.sub(lambda m: m.group(1).strip(), _SEE_RE.sub("", pieces[k]))
        text = '"'.join(pieces)
    if ":" in text and ("*" in text or "_" in text):
        marker = _MARKER_RE.match(text)
        start = marker.end() if marker else 0
        emphasis = _EMPHASIS_RE.match(text, start)
        if emphasis and (emphasis.group(3) or emphasis.group(4)):
            text = text[:start] + emphasis.group(2) + ":" + text[emphasis.end():]
    if any(q in text for q in "'\"`\u2018\u2019\u201c\u201d"):
        text = _QUOTED_NAME_RE.sub(_unquoted, text)
    named = _NAME_FIELD_RE.match(text)
    if named and _plain_name(named.group(3)):
        lead, kind, name, comma = named.group(1, 2, 3, 4)
        text = f"{lead}{name}: {kind}{comma}{text[named.end():]}"
    if not any(a in text for a in "\u2192\u21d2\u27f6="):
        return text
    pieces = text.split('"')  # outside quotes only: a quoted "=>" is kept as written
    return '"'.join(_ARROW_RE.sub(" -> ", p) if k % 2 == 0 else p
                    for k, p in enumerate(pieces))


def _plain_name(name: str) -> bool:
    """A name that reads as itself without its quotes: no word of the grammar."""
    return is_subject_name(name) and not is_vocab(name.lower())


def _unquoted(found: re.Match[str]) -> str:
    return f"{found.group(1)} {found.group(2)}" if _plain_name(found.group(2)) else found.group(0)


def lines(text: str, ignored: list[tuple[int, str]]) -> str:
    """``text`` with the note markup of each line read (see the module's docstring)."""
    if not _MARKS_RE.search(text):
        return text
    out = text.split("\n")
    for k, line in enumerate(out):
        out[k] = _line(line, k + 1, ignored)
    return "\n".join(out)


def _names_a_guest(text: str) -> bool:
    """Does ``text`` name a guest of its own (:func:`.wrapping.names_a_guest`)? A label
    over bare settings (``Agreed: 4 cores.``) stays, and the parser refuses it."""
    try:
        return names_a_guest(tokenize(text))
    except SentenceError:
        return False


def _pipe_row(number: int, text: str, ignored: list[tuple[int, str]]) -> str | None:
    """``REQ-118 | container | ocr-worker | 4 cores`` as ``ocr-worker: container, 4
    cores.``; None when ``text`` is no such row (fewer than three cells, a ``Key:`` cell,
    or not exactly one cell that is a guest's name)."""
    cells = [c.strip().strip("`*'\"").strip() for c in text.strip().strip("|").split("|")]
    if len(cells) < 3 or any(":" in c and not _VOLUME_RE.match(c) for c in cells):
        return None
    tickets = [c for c in cells if _TICKET_RE.match(c)]
    names = [c for c in cells if _ROW_NAME_RE.match(c) and c not in _KIND_CELLS]
    if len(names) != 1:
        return None
    ignored.extend((number, f"ignored as form metadata: {c!r}") for c in tickets)
    rest = [c for c in cells if c and c not in tickets and c != names[0]]
    return f"{names[0]}: {', '.join(rest)}."


def _field(number: int, text: str, ignored: list[tuple[int, str]]) -> str | None:
    """A block's line without its label or metadata (None: the whole line is dropped)."""
    if text.count("|") >= 2 and (row := _pipe_row(number, text, ignored)) is not None:
        return row
    if _TICKET_RE.match(text):
        ignored.append((number, f"ignored as form metadata: {text.strip()!r}"))
        return None
    meta = _METADATA_RE.match(text)
    if meta and " ".join(meta.group(1).lower().split()) in METADATA_KEYS and not (
            _GUESTISH_RE.search(meta.group(2))):
        ignored.append((number, f"ignored as form metadata: {text.strip()!r}"))
        return None
    text = _QTY_RE.sub(r"\1", text)
    label = _LABEL_RE.match(text)
    if label and " ".join(label.group(2).lower().split()) in LABELS and _names_a_guest(
            text[label.end():]):
        ignored.append((number, f"ignored as label: {text[:label.end()].strip()!r}"))
        rest = text[label.end():].rstrip()
        return rest if rest.endswith((".", "!", "?", ":")) else rest + "."
    return text


def fields(blocks: list[Block], ignored: list[tuple[int, str]]) -> list[Block]:
    """``blocks`` without their metadata lines and labels (see the module's docstring)."""
    out: list[Block] = []
    for block in blocks:
        if block.kind == "heading" or not any(":" in t or "|" in t or _TICKET_RE.match(t)
                                              for _, t in block.lines):
            out.append(block)
            continue
        kept: list[tuple[int, str]] = []
        for number, text in block.lines:
            parts = [_field(number, part, ignored) for part in _SPLIT_RE.split(text)]
            if any(part is not None for part in parts):
                kept.append((number, " ".join(part for part in parts if part is not None)))
        if kept:
            out.append(Block(block.kind, tuple(kept)))
    return out
