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

Anything else is left as it was. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import KIND_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import SentenceError, tokenize
from mycopod.declarations.grammar.wrapping import names_a_guest

__all__ = ["BULLETS", "CHECKS", "MARKS", "read"]

#: glyphs that open a line as a bullet or an icon: dropped, the line is a list item
BULLETS = frozenset("\u2022\u25e6\u2023\u25b8\u25be\u25ba\u25b6\u25b9\u25bf\u27a4\u2794"
                    "\u25aa\u25ab\u25cf\u25cb\u25c6\u25c7\u2605\u2606\u2043\u2219"
                    "\U0001f4a1\U0001f4cb\U0001f4cc\U0001f4cd\U0001f539\U0001f538"
                    "\U0001f449\U0001f4dd\U0001f5d2\U0001f4c4\U0001f4ce\U0001f516\u2139")
#: glyphs of a checked or unchecked box: a task-list box
CHECKS = frozenset("\u2610\u2611\u2612\u2714\u2713\u2705\u2612\u25a1\u25a0")
#: toggles: a heading over the indented lines under it
_TOGGLES = frozenset("\u25b8\u25be\u25ba\u25b6\u25b9\u25bf")
#: a transcriber's marks, dropped wherever they stand
MARKS = frozenset({"sic", "illegible", "unclear", "unreadable", "?", "!", "!!", "!!!",
                   "?!", "!?", "??", "smudged", "crossed out", "underlined", "circled",
                   "sp?", "cut off"})
_TRIGGER_RE = re.compile("[\u2022-\u2bff\U0001f300-\U0001faff\\[&]|''|^\\s*</?[a-z]|"
                         "\\((?:[!?]|sic|not|was)|[:)]$|"
                         "(?i:name|vm|container|ct|lxc|machine)\\s*(?:[-\u2013\u2014=:])\\s|"
                         "^\\s*(?i:stop|start|delete|remove|destroy|restart|new|add|create|"
                         "decommission|retire|shut|power)\\b[^:\\n]{0,10}:|"
                         "^\\s*(?:==|(?i:[-*+]\\s+)?(?i:card|checklist|to-?do|tasks|description|"
                         "comment|note|last |edited|created|board|ticket))", re.MULTILINE)
_GLYPH_RE = re.compile(r"^(\s*)(?:[-*+]\s+)?(\S)\ufe0f?(?:\s+|$)")
_BRACKET_RE = re.compile(r"\[([^\[\]\n]{1,80})\]|\(([^()\n]{1,20})\)")
_LEAD_REMARK_RE = re.compile(r"^(\s*(?:[-*+]\s+)?)\[([^\[\]\n]{1,80})\]\s*")
_TAIL_REMARK_RE = re.compile(r"\s*\[([^\[\]\n]{1,80})\]\s*$")
_ARROW_DROP_RE = re.compile(r"\s*\[(?i:arrow)\]\s*(?=(?i:on|onto|to|in|into)\b)")
_ARROW_RE = re.compile(r"\s*\[(?i:arrow)\]\s*")
_SIZE_RE = re.compile(r"\d\s*(?i:gb|mb|tb|g|m|t|gib|mib|tib|cores?|vcpus?|cpus?)\b")
_BOX = r"^\s*(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?"
_CARD_RE = re.compile(
    _BOX + r"(?i:card(?: title)?|board|trello card|task|ticket title)\s*:\s*(.*)$")
_CHECKLIST_RE = re.compile(
    _BOX + r"(?i:checklist|check list|to-?do list|tasks)\s*(?:\(?\s*\d+\s*/\s*\d+\s*\)?)?\s*"
    r"(?::\s*(.*))?$")
_CARD_LABEL_RE = re.compile(
    r"^(\s*(?:[-*+]\s+)?)((?i:checklist item|comment on card|card comment|comment|"
    r"description|card description|note))\s*(?:\d{1,3}\s*)?:\s+(?=\S)")
_CHROME_RE = re.compile(
    r"^(\s*(?i:last (?:edited|updated|modified|changed)(?: by [\w.'\- ]{1,40}?)?"
    r"(?: (?:on|at) [\w.,:/\- ]{1,30}?)?|edited by [\w.'\- ]{1,40}?|created by [\w.'\- ]{1,40}?)"
    r"\s*[\u00b7\u2022|\u2014\u2013]\s*)(?=\S)")
_CHROME_LINE_RE = re.compile(
    r"^\s*(?i:last (?:edited|updated|modified|changed)(?: by [\w.'\- ]{1,40}?)?"
    r"(?: (?:on|at) [\w.,:/\- ]{1,30})?)\s*[\u00b7\u2022|]?\s*$")
_WIKI_HEADING_RE = re.compile(r"^\s*(={2,6})\s*([^=\n]+?)\s*\1\s*$")
_WIKI_BOLD_RE = re.compile(r"'''(.+?)'''|''(.+?)''")


#: words of the grammar a card's title may hold ("New wiki server")
_TITLE_WORDS = frozenset({"server", "servers", "the", "a", "an", "for", "and", "of", "to",
                          "our", "my", "box", "machine", "machines"})


def _title(text: str) -> bool:
    """Is ``text`` a title that says nothing about a guest: at most six words, no digit,
    no inner punctuation, no kind word, no guest-like name, no word of the grammar but
    :data:`_TITLE_WORDS`? (``New wiki server``, ``Game night``, ``Cleanup``.)"""
    words = text.strip().rstrip(".!").split()
    if len(words) > 6 or any(c.isdigit() or c in ".,;:!?()[]'\"" for c in " ".join(words)):
        return False
    return all(w.lower() in _TITLE_WORDS or (not is_vocab(w.lower()) and "-" not in w
                                              and w.lower() not in KIND_WORDS) for w in words)


def _quoted(line: str, at: int) -> bool:
    """Is position ``at`` of ``line`` inside a double-quoted value (kept as written)?"""
    return line.count('"', 0, at) % 2 == 1


def _names_a_guest(text: str) -> bool:
    try:
        return names_a_guest(tokenize(text))
    except SentenceError:
        return False


def _remark(inside: str) -> bool:
    """Is ``inside`` (a bracket's text) an editorial remark: no kind word, no size, no
    word of the grammar but plain English, no guest-like name?"""
    if inside.strip().lower() in MARKS:
        return True
    if inside.strip().lower() in ("", "x"):
        return False  # a task-list box
    if _SIZE_RE.search(inside) or ":" in inside or "/" in inside.replace("p.", ""):
        return False
    for word in re.findall(r"[A-Za-z][A-Za-z0-9.'\-]*", inside):
        low = word.lower().rstrip(".")
        if low in KIND_WORDS or any(c.isdigit() for c in low):
            if low.startswith("p.") or low in ("p", "pp"):
                continue
            return False
        for part in low.split("-"):
            if part and is_vocab(part) and part not in _REMARK_WORDS:
                return False
    return True


#: words of the grammar that are also a transcriber's plain words
_REMARK_WORDS = frozenset({"from", "on", "of", "the", "a", "an", "my", "out", "in", "and",
                           "page", "note", "notes", "by", "to", "with", "up", "off", "left",
                           "copy", "photo", "scan", "back", "top", "bottom", "side", "new",
                           "it", "this", "that", "so", "was", "is", "were", "did", "done"})


def _glyph(lines: list[str], k: int, ignored: list[tuple[int, str]]) -> None:
    line = lines[k]
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
    if "[" in line and "arrow" in line.lower():
        for found in _ARROW_DROP_RE.finditer(line):
            ignored.append((number, f"ignored as remark: {found.group(0).strip()!r}"))
        line = _ARROW_RE.sub(" \u2192 ", _ARROW_DROP_RE.sub(" ", line))
    lead = _LEAD_REMARK_RE.match(line)
    if lead and _remark(lead.group(2)) and line[lead.end():].strip():
        ignored.append((number, f"ignored as remark: '[{lead.group(2)}]'"))
        line = lead.group(1) + line[lead.end():]
    tail = _TAIL_REMARK_RE.search(line)
    if tail and _remark(tail.group(1)) and line[:tail.start()].strip() and not (
            line[:tail.start()].rstrip().endswith((":", "=", ","))):  # "tags: [a, b]"
        ignored.append((number, f"ignored as remark: '[{tail.group(1)}]'"))
        line = line[:tail.start()]

    def mark(found: re.Match[str]) -> str:
        inside = found.group(1) if found.group(1) is not None else found.group(2)
        if inside.strip().lower() not in MARKS or _quoted(line, found.start()):
            return found.group(0)
        ignored.append((number, f"ignored as remark: {found.group(0)!r}"))
        return ""
    return _BRACKET_RE.sub(mark, line) if "[" in line or "(" in line else line


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
    if any(c >= "\u2600" for c in line) and not any(q in line for q in "\"'`\u201c"):
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


#: labels of a guest's name in a line of fields, and the kind each says
_NAME_LABELS = {"name": "", "hostname": "", "host name": "", "server name": "",
                "guest name": "", "machine name": "", "vm name": "VM", "vm": "VM",
                "virtual machine": "VM", "container name": "container", "ct name": "container",
                "container": "container", "ct": "container", "lxc": "container"}
#: labels of a setting in a line of fields, and the phrase each value makes
_FIELD_LABELS = {
    "cpu": "{} cores", "cpus": "{} cores", "cores": "{} cores", "vcpu": "{} cores",
    "vcpus": "{} cores", "processor": "{} cores", "ram": "{} RAM", "memory": "{} RAM",
    "mem": "{} RAM", "hdd": "{} disk", "ssd": "{} disk", "disk": "{} disk",
    "hard disk": "{} disk", "disk size": "{} disk", "ip": "IP {}", "ip address": "IP {}",
    "gw": "gateway {}", "gateway": "gateway {}", "vlan": "VLAN {}", "node": "on node {}",
    "bridge": "on bridge {}", "storage": "on storage {}"}
_COUNT_RE = re.compile(r"^(\d{1,3})\s*(?i:cores?|vcpus?|cpus?)?$")
_SEGMENT_RE = re.compile(r"^([A-Za-z][A-Za-z ]{0,20}?)\s*(?:-|\u2013|\u2014|:|=)\s*(\S.*)$")
_FIELDS_LEAD_RE = re.compile(
    r"^\s*((?:(?i:pfb|please|find|below|the|requirement|requirements|details|specs?|"
    r"specification|request|our|my|here|is|are|as|follows|new)\b\s*){1,6}:)\s*")


def _field_line(line: str, number: int, ignored: list[tuple[int, str]]) -> str:
    """A line of labelled fields about one guest (``VM name - gst-recon, CPU - 2 core,
    RAM - 4 GB, HDD - 100 GB``; ``Container: dnsmasq. RAM: 128 MB. GW: 192.168.0.1.``)
    as a sentence (``gst-recon is a VM, 2 cores, 4 GB RAM, 100 GB disk.``): every part a
    known label, one of them the name; any other line comes back as it is."""
    lead = _FIELDS_LEAD_RE.match(line)
    body = line[lead.end():] if lead else line
    parts = [p for p in re.split(r"\s*[,;]\s*|(?<=[^\d\s])\.\s+|(?<=\d)\.\s+(?=[A-Z])",
                                 body.strip().rstrip(".")) if p]
    if len(parts) < 2:
        return line
    name, kind, said = "", "", []
    for part in parts:
        found = _SEGMENT_RE.match(part)
        if found is None:
            return line
        label, value = " ".join(found.group(1).lower().split()), found.group(2).strip()
        if label in _NAME_LABELS and not name and re.fullmatch(r"[a-z0-9][a-z0-9\-]*", value):
            name, kind = value, _NAME_LABELS[label]
        elif label in _FIELD_LABELS:
            count = _COUNT_RE.match(value)
            if _FIELD_LABELS[label] == "{} cores":
                if count is None:
                    return line
                value = count.group(1)
            said.append(_FIELD_LABELS[label].format(value))
        else:
            return line
    if not name or not said:
        return line
    if lead:
        ignored.append((number, f"ignored as lead-in: {lead.group(1).strip()!r}"))
    head = f"{name} is a {kind}" if kind else f"{name} has"
    return f"{head}, {', '.join(said)}."


def _chrome(line: str, number: int, ignored: list[tuple[int, str]]) -> str | None:
    """``line`` without its card or page chrome; None when the whole line is chrome."""
    if _CHROME_LINE_RE.match(line):
        ignored.append((number, f"ignored as page chrome: {line.strip()!r}"))
        return None
    chrome = _CHROME_RE.match(line)
    if chrome:
        ignored.append((number, f"ignored as page chrome: {chrome.group(1).strip()!r}"))
        line = line[chrome.end():]
    card = _CARD_RE.match(line) or _CHECKLIST_RE.match(line)
    if card and _title(card.group(1) or ""):
        what = "card title" if card.re is _CARD_RE else "checklist heading"
        ignored.append((number, f"ignored as {what}: {line.strip()!r}"))
        return None
    if card and card.group(1):  # "Card: delete the VM x": the label only
        ignored.append((number, f"ignored as label: {line[:card.start(1)].strip()!r}"))
        return card.group(1)
    label = _CARD_LABEL_RE.match(line)
    if label:
        rest = line[label.end():]
        if label.group(2).lower() not in ("description", "card description", "note") or (
                _names_a_guest(rest)):
            ignored.append((number, f"ignored as label: '{label.group(2)}:'"))
            return label.group(1) + rest
        if label.group(2).lower() in ("description", "card description") and not any(
                c.isdigit() for c in rest):
            ignored.append((number, f"ignored as card description: {line.strip()!r}"))
            return None
    return line


#: a line before a pasted sheet that only says where it came from ("Pasted from the
#: sheet:", "Here's the export from Excel:")
_PASTED_RE = re.compile(
    r"^\s*(?:(?i:here'?s|here|is|are|pasted|copied|exported|export|from|the|our|my|a|an|of|"
    r"below|as|follows|sheet|spreadsheet|excel|csv|table|inventory|list|data|google|sheets|"
    r"tab|this|that|it|straight|rows|raw|dump|lines)\b[\s,]*){2,10}:\s*$")
#: a bracketed remark closing a sheet's header row ("name;cores;ram (semicolons, excel)")
_HEADER_REMARK_RE = re.compile(r"\s*[(\[]([^()\[\]\n]{3,80})[)\]]\s*$")
_UNIT_WORDS = frozenset({"mb", "mib", "gb", "gib", "tb", "tib", "in gb", "in mb"})


def _cells(line: str) -> tuple[str, int] | None:
    """The separator of a sheet's row (``,`` ``;`` or a tab) and its count, or None."""
    for sep in ("\t", ";", ","):
        if line.count(sep) >= 1:
            return sep, line.count(sep)
    return None


def _sheet(lines: list[str], k: int, ignored: list[tuple[int, str]]) -> None:
    """A lead-in over a pasted sheet, and a remark closing its header row, dropped."""
    line = lines[k]
    if k + 2 < len(lines) and _PASTED_RE.match(line) and _cells(lines[k + 1]) and (
            _cells(lines[k + 1]) == _cells(lines[k + 2])):
        ignored.append((k + 1, f"ignored as lead-in: {line.strip()!r}"))
        lines[k] = ""
        return
    remark = _HEADER_REMARK_RE.search(line) if line.rstrip().endswith((")", "]")) else None
    if remark is None or k + 1 >= len(lines) or remark.group(1).strip().lower() in _UNIT_WORDS:
        return
    head = line[:remark.start()]
    if not head.strip() or head.rstrip()[-1:] in ",;\t" or _cells(head) is None or (
            _cells(head) != _cells(lines[k + 1])) or not _remark(remark.group(1)):
        return
    ignored.append((k + 1, f"ignored as remark: {line[remark.start():].strip()!r}"))
    lines[k] = head


#: a line that is only an HTML tag of a page export (Notion's ``<aside>`` callout)
_TAG_LINE_RE = re.compile(
    r"^\s*</?(?i:aside|details|summary|div|span|p|center|figure|figcaption|section|"
    r"article|header|footer|small)(?:\s[^<>\n]{0,80})?>\s*$|^\s*<(?i:br|hr)\s*/?>\s*$")


def _list_title(line: str, after: str) -> bool:
    """Is ``line`` a title over the list item ``after`` (``Asset register, IT
    section:``): parts between commas each a :func:`_title`, ``IT`` the department?"""
    if not line.rstrip().endswith(":") or not re.match(r"^\s*(?:[-*+]|\d{1,3}[.)])\s", after):
        return False
    parts = line.rstrip()[:-1].replace(" IT ", " Department ").split(",")
    return len(parts) <= 3 and all(p.strip() and _title(p) for p in parts)


def read(text: str, ignored: list[tuple[int, str]]) -> str:
    """``text`` with the marks of the module's docstring read, line numbers kept."""
    if not _TRIGGER_RE.search(text):
        return text
    lines = text.split("\n")
    for k in range(len(lines)):
        line = lines[k]
        if not line.strip():
            continue
        heading = _WIKI_HEADING_RE.match(line)
        if heading:
            lines[k] = "## " + heading.group(2)  # MediaWiki "== x ==", DokuWiki "=== x ==="
            continue
        if "''" in line and '"' not in line:
            line = _WIKI_BOLD_RE.sub(lambda m: m.group(1) or m.group(2), line)
        lines[k] = line
        if "<" in line and _TAG_LINE_RE.match(line):
            ignored.append((k + 1, f"ignored as markup: {line.strip()!r}"))
            lines[k] = ""
            continue
        if k + 1 < len(lines) and "," in line and _list_title(line, lines[k + 1]):
            ignored.append((k + 1, f"ignored as title: {line.strip()!r}"))
            lines[k] = ""
            continue
        if line.rstrip().endswith((":", ")", "]")) and k + 1 < len(lines):
            _sheet(lines, k, ignored)  # "Pasted from the sheet:", "name;ram (excel did it)"
        _glyph(lines, k, ignored)
        line = _words(_remarks(lines[k], k + 1, ignored), k + 1, ignored)
        if ("-" in line or ":" in line) and ("," in line or ". " in line):
            line = _field_line(line, k + 1, ignored)  # "VM name - x, CPU - 2 core, ..."
        kept = _chrome(line, k + 1, ignored)
        lines[k] = "" if kept is None else kept
    return "\n".join(lines)
