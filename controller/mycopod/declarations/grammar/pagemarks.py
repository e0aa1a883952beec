"""Page structure around statements: card and page chrome, field lines, sheets, YAML, callouts.

The page-level half of :mod:`.linemarks` (which reads each line in turn and calls these):
a card's title, checklist heading, fields and labels (Trello, Jira, Planner, Asana), page
chrome (``Last edited by Sam ·``), a line of labelled fields about one guest (``VM name -
x, CPU - 2 core, RAM - 4 GB``; ``Container: x. RAM: 128 MB.``), the lead-in and header
remark of a pasted sheet, HTML tag lines of a page export (``<aside>``), a title over a
list (``Asset register, IT section:``), YAML comments and a ``guests:`` key, Obsidian
callouts (``> [!note]``). :mod:`.linemarks`'s docstring lists what each reads and
reports. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import KIND_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import SentenceError, tokenize
from mycopod.declarations.grammar.wrapping import names_a_guest

__all__ = ["MARKS", "TAG_LINE_RE", "callout", "chrome", "field_line", "list_title",
           "names_guest", "remark", "sheet", "title", "yaml"]

#: a transcriber's marks, dropped wherever they stand
MARKS = frozenset({"sic", "illegible", "unclear", "unreadable", "?", "!", "!!", "!!!",
                   "?!", "!?", "??", "smudged", "crossed out", "underlined", "circled",
                   "sp?", "cut off"})

_SIZE_RE = re.compile(r"\d\s*(?i:gb|mb|tb|g|m|t|gib|mib|tib|cores?|vcpus?|cpus?)\b")
_BOX = r"^\s*(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?"
_CARD_RE = re.compile(
    _BOX + r"(?i:card(?: title)?|board|trello card|task|ticket title)\s*:\s*(.*)$")
_CHECKLIST_RE = re.compile(
    _BOX + r"(?i:checklist|check list|to-?do list|tasks|sub-?tasks|acceptance criteria|"
    r"action items|steps)\s*(?:\(?\s*\d+\s*/\s*\d+\s*\)?)?\s*"
    r"(?::\s*(.*))?$")
#: a card's or an issue's own fields (Jira, Planner, Asana, Trello), when the value
#: names no guest: where the card is and who works on it
_CARD_META_RE = re.compile(
    r"^\s*(?i:issue type|story points|bucket|progress|section|members|attachments|"
    r"watchers|epic|epic link|components?|fix versions?|start date|created|updated|list|"
    r"column|swimlane|effort|assigned to|followers|collaborators)\s*:\s*(.*)$")
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

#: words of the grammar a card's title may hold ("New wiki server")
_TITLE_WORDS = frozenset({"server", "servers", "the", "a", "an", "for", "and", "of", "to",
                          "our", "my", "box", "machine", "machines"})


def title(text: str) -> bool:
    """Is ``text`` a title that says nothing about a guest: at most six words, no digit,
    no inner punctuation, no kind word, no guest-like name, no word of the grammar but
    :data:`_TITLE_WORDS`? (``New wiki server``, ``Game night``, ``Cleanup``.)"""
    words = text.strip().rstrip(".!").split()
    if len(words) > 6 or any(c.isdigit() or c in ".,;:!?()[]'\"" for c in " ".join(words)):
        return False
    return all(w.lower() in _TITLE_WORDS or (not is_vocab(w.lower()) and "-" not in w
                                              and w.lower() not in KIND_WORDS) for w in words)

def _value_only(text: str) -> bool:
    """Is ``text`` a card field's value that says nothing of a guest: at most three words,
    no digit, no kind word, nothing that reads as a guest's name (``In progress``)?"""
    words = text.split()
    return len(words) <= 3 and not any(c.isdigit() for c in text) and not any(
        w.lower().strip(".,") in KIND_WORDS or "-" in w for w in words) and not (
        names_guest(text))


def names_guest(text: str) -> bool:
    """Does ``text`` name a guest of its own (:func:`.wrapping.names_a_guest`)?"""
    try:
        return names_a_guest(tokenize(text))
    except SentenceError:
        return False


def remark(inside: str) -> bool:
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


def field_line(line: str, number: int, ignored: list[tuple[int, str]]) -> str:
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


def chrome(line: str, number: int, ignored: list[tuple[int, str]]) -> str | None:
    """``line`` without its card or page chrome; None when the whole line is chrome."""
    if _CHROME_LINE_RE.match(line):
        ignored.append((number, f"ignored as page chrome: {line.strip()!r}"))
        return None
    chrome = _CHROME_RE.match(line)
    if chrome:
        ignored.append((number, f"ignored as page chrome: {chrome.group(1).strip()!r}"))
        line = line[chrome.end():]
    meta = _CARD_META_RE.match(line)
    if meta and (_value_only(meta.group(1)) or re.fullmatch(r"[\d\s./:\-]*", meta.group(1))):
        ignored.append((number, f"ignored as card field: {line.strip()!r}"))
        return None
    card = _CARD_RE.match(line) or _CHECKLIST_RE.match(line)
    if card and title(card.group(1) or ""):
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
                names_guest(rest)):
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


def sheet(lines: list[str], k: int, ignored: list[tuple[int, str]]) -> None:
    """A lead-in over a pasted sheet, and a remark closing its header row, dropped."""
    line = lines[k]
    if k + 2 < len(lines) and _PASTED_RE.match(line) and _cells(lines[k + 1]) and (
            _cells(lines[k + 1]) == _cells(lines[k + 2])):
        ignored.append((k + 1, f"ignored as lead-in: {line.strip()!r}"))
        lines[k] = ""
        return
    tail = _HEADER_REMARK_RE.search(line) if line.rstrip().endswith((")", "]")) else None
    if tail is None or k + 1 >= len(lines) or tail.group(1).strip().lower() in _UNIT_WORDS:
        return
    head = line[:tail.start()]
    if not head.strip() or head.rstrip()[-1:] in ",;\t" or _cells(head) is None or (
            _cells(head) != _cells(lines[k + 1])) or not remark(tail.group(1)):
        return
    ignored.append((k + 1, f"ignored as remark: {line[tail.start():].strip()!r}"))
    lines[k] = head


#: a line that is only an HTML tag of a page export (Notion's ``<aside>`` callout)
TAG_LINE_RE = re.compile(
    r"^\s*</?(?i:aside|details|summary|div|span|p|center|figure|figcaption|section|"
    r"article|header|footer|small)(?:\s[^<>\n]{0,80})?>\s*$|^\s*<(?i:br|hr)\s*/?>\s*$")


def list_title(line: str, after: str) -> bool:
    """Is ``line`` a title over the list item ``after`` (``Asset register, IT
    section:``): parts between commas each a :func:`_title`, ``IT`` the department?"""
    if not line.rstrip().endswith(":") or not re.match(r"^\s*(?:[-*+]|\d{1,3}[.)])\s", after):
        return False
    parts = line.rstrip()[:-1].replace(" IT ", " Department ").split(",")
    return len(parts) <= 3 and all(p.strip() and title(p) for p in parts)


_YAML_LINE_RE = re.compile(r"^\s*(?:-\s+)?[a-z][a-z0-9_]{0,30}\s*:\s+\S")
_YAML_COMMENT_RE = re.compile(r"\s+#\s[^\"'\n]*$")
#: a YAML key over a list of guests (``guests:``, ``vms:``): says no kind but VM's own
_YAML_LIST_RE = re.compile(r"^\s*(?:guests|vms|servers|machines|hosts|items)\s*:\s*$")
#: an Obsidian callout's first line (``> [!note] Plan``)
_CALLOUT_RE = re.compile(r"^\s*>\s*(\[![A-Za-z]{1,20}\][+-]?)\s*(.*)$")


def yaml(lines: list[str], k: int, ignored: list[tuple[int, str]]) -> None:
    """In YAML-style lines: a ``# comment`` line or a trailing `` # comment`` dropped, a
    ``guests:`` key over ``- name: ...`` items dropped (all reported)."""
    line = lines[k]
    near = [lines[j] for j in (k - 1, k + 1) if 0 <= j < len(lines)]
    if line.lstrip().startswith("# ") and len(near) == 2 and all(
            _YAML_LINE_RE.match(x) for x in near):
        ignored.append((k + 1, f"ignored as comment: {line.strip()!r}"))
        lines[k] = "<!-- -->"  # a comment line: the block goes on (.markdown), no heading
        return
    if _YAML_LIST_RE.match(line) and near and re.match(r"^\s*-\s+name\s*:", near[-1]):
        ignored.append((k + 1, f"ignored as YAML key: {line.strip()!r}"))
        lines[k] = ""
        return
    comment = _YAML_COMMENT_RE.search(line) if _YAML_LINE_RE.match(line) else None
    if comment:
        ignored.append((k + 1, f"ignored as comment: {comment.group(0).strip()!r}"))
        lines[k] = line[:comment.start()]


def callout(lines: list[str], k: int, ignored: list[tuple[int, str]]) -> None:
    """An Obsidian callout: its marker dropped and reported, its ``>`` lines read as the
    owner's own text (a callout is no quote of someone else)."""
    found = _CALLOUT_RE.match(lines[k])
    if found is None:
        return
    ignored.append((k + 1, f"ignored as callout: {found.group(1)!r}"))
    named = found.group(2).strip()
    dropped = bool(named) and not names_guest(named) and not any(c.isdigit() for c in named)
    lines[k] = "" if dropped or not named else named
    if dropped:
        ignored.append((k + 1, f"ignored as title: {named!r}"))
    j = k + 1
    while j < len(lines) and lines[j].lstrip().startswith(">"):
        lines[j] = lines[j].lstrip()[1:].lstrip()
        j += 1
