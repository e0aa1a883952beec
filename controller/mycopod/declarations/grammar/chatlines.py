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
- ``[21:04] text`` (a time alone, in brackets: ``22:00 stop the VM x`` may be a schedule,
  and is refused as one); times may carry a date (``2026-11-28 21:04``,
  ``2026-11-28T21:04:12Z``, ``28/11/26, 21:04``);
- a line that only names the writer and the time of the message under it (Slack
  ``Alice Chen  10:42 AM``, Discord ``kmw — Today at 21:04``, Teams ``[10:42 AM] Smith,
  John``): ``ignored as chat header``; the lines under it are read as they are. The
  line needs AM/PM, ``today``/``yesterday`` or a dash, and a writer that is no word of
  the grammar or of a schedule (``Nightly 3:00 AM`` is no header).

The prefix is reported (``ignored as chat prefix: '[21:04] <kmw>'``) and the text is read
as a list item of its own: each line is one message, even without a full stop. A speaker
with a digit (``[14:02] web-1: a VM``) is a guest, not a speaker: only a bracketed time is
dropped.
System lines (``*** kmw has joined #ops``, ``-!- x has quit``) are reported as ``ignored as
chat event``; a status word opening a message (``resolved.``, ``ack``, ``+1``, ``lgtm``,
``on it``) as ``ignored as chat status``, and the rest of the message is read. HTML tags
(``<details>``) are no nicks. Line numbers are kept. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import is_vocab

__all__ = ["read"]

_DATE = r"(?:\d{4}-\d{2}-\d{2}[ T]|\d{1,2}/\d{1,2}/\d{2,4},?\s+)"
_TIME = (rf"{_DATE}?\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\.\d+)?(?:Z|[+-]\d{{2}}:?\d{{2}})?"
         r"(?:\s?[aApP][mM])?")
_STAMP = rf"(?:\[{_TIME}\]|\({_TIME}\)|{_TIME})"
_NICK = r"[@+%~&]?[A-Za-z_\\^{}|`][\w\-\\^{}|`.]{0,31}"
#: ``[21:04] <kmw> text``, ``<op_lisa> text``
_IRC_RE = re.compile(rf"^(\s*(?:{_STAMP}\s*)?<(?P<nick>{_NICK})>)\s+(?=\S)", re.IGNORECASE)
#: ``[21:04] * fenn wants text``, ``* fenn needs text``
_ACTION_RE = re.compile(
    rf"^(\s*(?:{_STAMP}\s*)?\*\s+(?P<nick>{_NICK}))\s+(?P<verb>wants|needs|would like|"
    r"asks for|requests|says|asks|writes)\b\s*:?\s*(?=\S)", re.IGNORECASE)
#: ``14:02 IC: text``, ``[09:12] @oncall: text``, ``@oncall: text``, ``28/11/26, 21:04 - Ana
#: Silva: text`` (WhatsApp)
_SPEAKER_RE = re.compile(
    rf"^(\s*(?:{_STAMP}\s+(?:-\s+)?(?P<who>@?[A-Za-z_][\w\-.]{{0,31}}(?:\s+[A-Z][\w.'\-]*)"
    r"{0,2})|(?P<at>@[A-Za-z_][\w\-.]{0,31})):)\s+(?=\S)")
#: Teams, Signal and Telegram headers: a bracketed time, with a day or a date, then the
#: writer alone (``[10:14] Priya Nair``, ``[Yesterday 16:40] Marek Kowal``), or the writer
#: then the time in brackets (``Priya Nair, [30.11.26 10:14]``)
_DAY = (r"(?:(?i:today|yesterday|mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)\.?,?\s+|\d{1,2}[./]\d{1,2}[./]\d{2,4},?\s+)")
_ROLE = r"(?:\s+\((?i:guest|external|bot|admin|owner|you|app)\))?"
_BRACKET_HEADER_RE = re.compile(
    r"^\s*(?:\[" + _DAY + "?" + _TIME + r"\]\s+(?P<who>[A-Z][\w.'\-]*(?:,?\s+[A-Z][\w.'\-]*)"
    r"{0,2})" + _ROLE + r"|(?P<by>[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,2}|@[\w.\-]{1,32})"
    + _ROLE + r",?\s+(?:[-\u2013\u2014]\s+)?(?:[\[(]" + _DAY + "?" + _TIME + r"[\])]|"
    + _DAY + "?" + _TIME + r"))\s*$")
#: a line that only says who wrote the message under it and when: Slack (``Alice Chen
#: 10:42 AM``), Discord (``kmw — Today at 21:04``), Teams (``[10:42 AM] Smith, John``)
_HEADER_RE = re.compile(
    r"^\s*(?:(?P<who>[A-Za-z][\w.'\-]*(?:\s+[A-Za-z][\w.'\-]*){0,2})" + _ROLE
    + r"\s+(?:[-\u2013\u2014]\s+)?"
    r"(?:(?i:today|yesterday)\s+at\s+)?" + _TIME + r"|\[" + _TIME
    + r"\]\s+(?P<names>[A-Z][\w.'\-]*(?:,?\s+[A-Z][\w.'\-]*){1,2}))\s*$")
#: words of a schedule, never a writer ("Nightly 3:00 AM")
_WHEN = frozenset({"nightly", "daily", "weekly", "monthly", "hourly", "every", "each", "at",
                   "on", "until", "till", "from", "to", "before", "after", "by", "since",
                   "starting", "start", "stop", "run", "runs", "reboot", "backup", "backups",
                   "snapshot", "snapshots", "maintenance", "window", "shutdown",
                   # days, months and parts of a day: a time after them is a schedule
                   "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri",
                   "sat", "sun", "weekday", "weekdays", "weekend", "weekends", "today",
                   "tonight", "tomorrow", "yesterday", "morning", "evening", "afternoon",
                   "night", "noon", "midnight", "january", "february", "march", "april",
                   "may", "june", "july", "august", "september", "october", "november",
                   "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
                   "sept", "oct", "nov", "dec", "am", "pm", "utc", "cet", "gmt", "then",
                   "later", "deadline", "due", "eta", "cutover", "go-live", "golive"})
#: what makes a header line sure
_SURE_RE = re.compile(r"(?i:\b[ap]m\b|\btoday\b|\byesterday\b)|[\u2013\u2014]")
#: ``[21:04] text`` (a bare ``22:00 stop x`` may be a schedule: it is left to the parser)
_STAMP_RE = re.compile(rf"^(\s*\[{_TIME}\])\s+(?=[A-Za-z<*@])", re.IGNORECASE)
#: an IRC system line: joins, parts, quits, nick and mode changes
_EVENT_RE = re.compile(
    rf"^\s*(?:{_STAMP}\s*)?(?:\*\*\*|-!-|-->|<--|\*)\s+\S+\s+(?:has\s+(?:joined|left|quit)|"
    r"is now known as|sets mode|changed the topic)\b", re.IGNORECASE)
#: a group chat's own event after a stamp (WhatsApp ``28/11/26, 21:04 - Ana added Bruno``,
#: ``... - Messages and calls are end-to-end encrypted ...``), a reaction line (``Priya
#: Nair reacted with 👍``, iMessage ``Liked "..."``)
_APP_EVENT_RE = re.compile(
    rf"^\s*{_STAMP}\s+(?:-\s+)?(?:[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){{0,2}}|You)\s+"
    r"(?:added|removed|left|joined|created group|created this group|changed (?:the|this)|"
    r"was added|were added|pinned|unpinned|deleted this|turned on|turned off)\b[^:\n]*$|"
    rf"^\s*{_STAMP}\s+(?:-\s+)?(?:Messages and calls are end-to-end encrypted|"
    r"Messages to this (?:group|chat) are now)[^\n]*$|"
    r"^\s*(?:[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,2}|You) (?:reacted|reacts) (?:with |to )"
    r"[^\n]{0,80}$|^\s*(?:Liked|Loved|Laughed at|Emphasized|Disliked|Questioned) "
    r"[\"\u201c][^\n]{0,200}[\"\u201d]\s*$")
#: a status word that opens a message ("resolved.", "ack", "+1"): chatter, said of no guest
_STATUS_RE = re.compile(
    r"^\s*(?i:resolved|mitigated|investigating|monitoring|identified|ack|acked|ok|okay|lgtm|"
    r"done|noted|on it|will do|thanks|thx|ty|agreed)(?:\s*[.!]+\s+|\s*[.!]*\s*$)|"
    r"^\s*\+1(?:\s*[.!]*\s+|\s*$)")
#: an emoji (with its variation selector, skin tone or joiner)
_EMOJI = ("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b06\u2194-\u21aa]"
          "[\ufe0f\u200d\U0001f3fb-\U0001f3ff]*")
#: a chat app's own line: media left out, a deleted message, read receipts, reactions
#: (``👍 Like``, ``❤️ 2``, ``👍👍``), an edit mark alone
_SYSTEM_RE = re.compile(
    r"^\s*(?:<(?i:media|image|video|audio|gif|sticker|document|attached|file)[^<>\n]{0,60}>|"
    r"\[(?i:photo|image|sticker|gif|video|file|voice message|attachment|media)\]|"
    r"(?i:this message was deleted|you deleted this message|message deleted|"
    r"this message has been deleted|(?:image|video|audio|sticker|gif|document) omitted|"
    r"seen by \d+(?: people)?|seen by everyone|read by \d+|\(edited\)|edited|"
    r"missed (?:voice |video )?call)\.?|"
    r"(?:" + _EMOJI + r"(?:\s*(?:\d{1,3}|(?i:like|love|haha|wow|sad|angry|heart|laugh|"
    r"celebrate|support|insightful|curious|surprised|thumbs up)))?\s*)+)$")
#: an emoji-only reaction before a message (``👍 delete it``): dropped, the text read
_REACTION_RE = re.compile(r"^\s*((?:" + _EMOJI + r"\s*)+)\s(?=\s*[A-Za-z])")
#: a character of the emoji planes (a quick test before reading reactions)
_WIDE_RE = re.compile("[\u2600-\U0010ffff]")
#: an edit mark after a message: ``... 4 cores (edited)``
_EDITED_RE = re.compile(r"\s+\((?i:edited)\)\s*$")
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


def _writer(who: str) -> bool:
    """Is ``who`` of a chat header a writer: one handle (``kmw``) or up to three
    capitalised words (``Alice Chen``, Teams' ``Smith, John``), none a word of the grammar
    or holding a digit (``Stop Backup 22:00`` is no header)?"""
    words = who.split()
    return all(not is_vocab(w.lower()) and w.lower() not in _WHEN and not any(
        c.isdigit() for c in w) and (len(words) == 1 or w[:1].isupper()) for w in words)


def _headers(lines: list[str]) -> set[int]:
    """The indexes of the chat header lines: each with a writer (:func:`_writer`), and
    with AM/PM, ``today``/``yesterday`` or a dash."""
    found: set[int] = set()
    for k, line in enumerate(lines):
        if not any(c.isdigit() for c in line):
            continue
        header = _HEADER_RE.match(line)
        if header and _SURE_RE.search(line) and _writer(
                header.group("who") or header.group("names").replace(",", " ")):
            found.add(k)
            continue
        header = _BRACKET_HEADER_RE.match(line)
        if header and k + 1 < len(lines) and lines[k + 1].strip() and _writer(
                (header.group("who") or header.group("by")).replace(",", " ").lstrip("@")):
            found.add(k)  # "[10:14] Priya Nair" over the message
    return found


def _system(said: str, number: int, ignored: list[tuple[int, str]]) -> str | None:
    """A message without the chat app's marks; None when it is one of the app's lines."""
    if _SYSTEM_RE.match(said):
        ignored.append((number, f"ignored as chat event: {said.strip()!r}"))
        return None
    reaction = _REACTION_RE.match(said)
    if reaction:
        ignored.append((number, f"ignored as reaction: {reaction.group(1).strip()!r}"))
        said = said[reaction.end():]
    edited = _EDITED_RE.search(said)
    if edited:
        ignored.append((number, "ignored as chat event: '(edited)'"))
        said = said[:edited.start()]
    return said


def read(text: str, ignored: list[tuple[int, str]], messages: set[int] | None = None) -> str:
    """``text`` with each chat line's prefix dropped (reported in ``ignored``) and its
    message made a list item of its own; any other line is kept as it is.

    ``messages``: collects the line numbers of the messages, for :mod:`.document`: a
    message may go on with the one guest the message before it named (``👍 delete it``).
    """
    if ":" not in text and "<" not in text and "*" not in text and not _WIDE_RE.search(text):
        return text  # the common case: no time, no nick, no action, no emoji
    lines = text.split("\n")
    chat = bool(_headers(lines)) or any(_line(line) for line in lines if ":" in line)
    headers = _headers(lines)
    changed = False
    for k, line in enumerate(lines):
        if k in headers:
            ignored.append((k + 1, f"ignored as chat header: {line.strip()!r}"))
            lines[k] = ""
            changed = True
            continue
        if _EVENT_RE.match(line) or (chat and _APP_EVENT_RE.match(line)):
            ignored.append((k + 1, f"ignored as chat event: {line.strip()!r}"))
            lines[k] = ""
            changed = True
            continue
        found = _line(line)
        if found is None:
            if chat and line.strip() and line.strip()[0] not in "-*+#>|":
                kept = _system(line, k + 1, ignored)  # "👍 Like" under a Teams header
                if kept != line:
                    lines[k] = kept or ""
                    changed = True
            continue
        prefix, said = found
        ignored.append((k + 1, f"ignored as chat prefix: {prefix!r}"))
        kept = _system(said, k + 1, ignored)
        if kept is None:
            lines[k] = ""
            changed = True
            continue
        said = kept
        if messages is not None:
            messages.add(k + 1)
        status = _STATUS_RE.match(said)
        if status:  # "resolved. Follow-up: ...", "ack"
            ignored.append((k + 1, f"ignored as chat status: {status.group(0).strip()!r}"))
            said = said[status.end():]
        lines[k] = "- " + said.strip() if said.strip() else ""
        changed = True
    return "\n".join(lines) if changed else text
