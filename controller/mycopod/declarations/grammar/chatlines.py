"""Chat and log lines pasted as a note: the speaker and the time are dropped, the text read.

People paste a request from where it was made: an IRC channel, an incident channel, a
chat. Each line then opens with who said it and when. A chat line is one of

- ``[21:04] <kmw> text`` or ``<op_lisa> text`` (IRC: a nick in angle brackets, after an
  optional time in brackets);
- ``[21:04] * fenn wants text`` / ``* fenn needs text`` (an IRC action: the speaker's own
  request, read as ``I want text`` / ``I need text``; ``* fenn says: text`` reads
  ``text``);
- ``14:02 IC: text``, ``14:05 @oncall: text``, ``[09:12] ops: text`` (an incident log: a
  time, then a speaker without digits and a colon) and ``@oncall: text`` (a speaker with
  ``@`` needs no time);
- ``[21:04] text`` or ``14:02 text`` (a time alone).

The prefix is reported (``ignored as chat prefix: '[21:04] <kmw>'``) and the text is read
as a list item of its own: each line is one message, even without a full stop. A speaker
with a digit (``14:02 web-1: a VM``) is a guest, not a speaker: only the time is dropped.
System lines (``*** kmw has joined #ops``, ``-!- x has quit``) are reported as ``ignored as
chat event``; a status word opening a message (``resolved.``, ``ack``, ``+1``, ``lgtm``,
``on it``) as ``ignored as chat status``, and the rest of the message is read. HTML tags
(``<details>``) are no nicks. Line numbers are kept. Pure.
"""

from __future__ import annotations

import re

__all__ = ["read"]

_TIME = r"(?:\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]m)?"
_STAMP = rf"(?:\[{_TIME}\]|\({_TIME}\)|{_TIME})"
_NICK = r"[@+%~&]?[A-Za-z_\\^{}|`][\w\-\\^{}|`.]{0,31}"
#: ``[21:04] <kmw> text``, ``<op_lisa> text``
_IRC_RE = re.compile(rf"^(\s*(?:{_STAMP}\s*)?<(?P<nick>{_NICK})>)\s+(?=\S)", re.IGNORECASE)
#: ``[21:04] * fenn wants text``, ``* fenn needs text``
_ACTION_RE = re.compile(
    rf"^(\s*(?:{_STAMP}\s*)?\*\s+(?P<nick>{_NICK}))\s+(?P<verb>wants|needs|would like|"
    r"asks for|requests|says|asks|writes)\b\s*:?\s*(?=\S)", re.IGNORECASE)
#: ``14:02 IC: text``, ``[09:12] @oncall: text``, ``@oncall: text``
_SPEAKER_RE = re.compile(
    rf"^(\s*(?:{_STAMP}\s+(?P<who>@?[A-Za-z_][\w\-.]{{0,31}})|(?P<at>@[A-Za-z_][\w\-.]"
    r"{0,31})):)\s+(?=\S)", re.IGNORECASE)
#: ``[21:04] text``, ``14:02 text``
_STAMP_RE = re.compile(rf"^(\s*(?:\[{_TIME}\]|{_TIME}))\s+(?=[A-Za-z<*@])", re.IGNORECASE)
#: an IRC system line: joins, parts, quits, nick and mode changes
_EVENT_RE = re.compile(
    rf"^\s*(?:{_STAMP}\s*)?(?:\*\*\*|-!-|-->|<--|\*)\s+\S+\s+(?:has\s+(?:joined|left|quit)|"
    r"is now known as|sets mode|changed the topic)\b", re.IGNORECASE)
#: a status word that opens a message ("resolved.", "ack", "+1"): chatter, said of no guest
_STATUS_RE = re.compile(
    r"^\s*(?i:resolved|mitigated|investigating|monitoring|identified|ack|acked|ok|okay|lgtm|"
    r"done|noted|on it|will do|thanks|thx|ty|agreed)(?:\s*[.!]+\s+|\s*[.!]*\s*$)|"
    r"^\s*\+1(?:\s*[.!]*\s+|\s*$)")
#: tags that open a line of HTML in Markdown, never a nick
_HTML = frozenset({"details", "summary", "br", "p", "div", "img", "hr", "sub", "sup",
                   "code", "pre", "span", "table", "tr", "td", "th", "kbd", "em", "strong",
                   "ul", "li", "ol", "center", "small"})
#: what an action's verb reads as
_ACTION_AS = {"wants": "I want ", "needs": "I need ", "would like": "I would like ",
              "asks for": "I ask for ", "requests": "I request ", "says": "", "asks": "",
              "writes": ""}


def _line(line: str) -> tuple[str, str] | None:
    """(prefix dropped, text read) of a chat line, or None for any other line."""
    match = _IRC_RE.match(line)
    if match and match.group("nick").lower() not in _HTML:
        return match.group(1).strip(), line[match.end():]
    match = _ACTION_RE.match(line)
    if match:
        said = _ACTION_AS[" ".join(match.group("verb").lower().split())]
        return match.group(1).strip(), said + line[match.end():]
    match = _SPEAKER_RE.match(line)
    if match:
        who = match.group("who")
        if who is not None and any(ch.isdigit() for ch in who):
            stamp = _STAMP_RE.match(line)  # "14:02 web-1: a VM": web-1 is a guest
            return (stamp.group(1).strip(), line[stamp.end():]) if stamp else None
        return match.group(1).strip().rstrip(":"), line[match.end():]
    match = _STAMP_RE.match(line)
    if match:
        return match.group(1).strip(), line[match.end():]
    return None


def read(text: str, ignored: list[tuple[int, str]]) -> str:
    """``text`` with each chat line's prefix dropped (reported in ``ignored``) and its
    message made a list item of its own; any other line is kept as it is."""
    if ":" not in text and "<" not in text and "*" not in text:
        return text  # the common case: no time, no nick, no action
    lines = text.split("\n")
    changed = False
    for k, line in enumerate(lines):
        if _EVENT_RE.match(line):
            ignored.append((k + 1, f"ignored as chat event: {line.strip()!r}"))
            lines[k] = ""
            changed = True
            continue
        found = _line(line)
        if found is None:
            continue
        prefix, said = found
        ignored.append((k + 1, f"ignored as chat prefix: {prefix!r}"))
        status = _STATUS_RE.match(said)
        if status:  # "resolved. Follow-up: ...", "ack"
            ignored.append((k + 1, f"ignored as chat status: {status.group(0).strip()!r}"))
            said = said[status.end():]
        lines[k] = "- " + said.strip() if said.strip() else ""
        changed = True
    return "\n".join(lines) if changed else text
