"""E-mail structure around a declaration: headers, quotes, attributions and signatures.

A note pasted from an e-mail carries the mail's structure. In a file that looks like an
e-mail (it has a header block, an ``On ... wrote:`` line, or a quote answered below it),
these lines are blanked (line numbers kept) and reported, never read:

- a header block at the top (``From:``, ``To:``, ``Cc:``, ``Subject:``, ``Re:``,
  ``Date:``, ``Sent:``): ``ignored as e-mail header: 'Subject: build server'``;
- ``On Tue, Mar 3, Dave wrote:``: ``ignored as e-mail attribution``; ``Hi Ana,`` first:
  ``ignored as greeting``;
- quoted lines (``> ...``, ``> > ...``): someone else's words, which declare nothing:
  ``ignored as quoted text: '...'``. Quoted text that compiles to a declaration is an
  error instead (:func:`mycopod.declarations.grammar.document.compile_text` checks it):
  what someone asked is not what should be true;
- a sign-off at the end (``Cheers,`` / ``Regards, Jan`` / ``Thanks!`` and a name line,
  ``-- Mary``, or a name alone on the last line): ``ignored as signature``.

An answer that needs the quote to mean anything (``No.``, ``Yes please`` or two words or
fewer, like ``pve2 please``, right under a quote) is an error that says so; ``No, please
delete print-srv01.`` drops the ``No`` (reported) and reads the rest, which says
everything itself. A header block ends at a blank line with more text after it (a
one-line ``Re: ... please create ...`` is read whole, also above other paragraphs), and
a file that would be left with no text is read as it is. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["mail_like", "read"]

_HEADER_RE = re.compile(r"^\s*(from|to|cc|bcc|subject|re|fwd?|date|sent|reply-to)\s*:\s*\S",
                        re.IGNORECASE)
_WROTE_RE = re.compile(r"^\s*on\s.{3,100}\bwrote:\s*$", re.IGNORECASE)
_QUOTE_RE = re.compile(r"^\s*>")
#: a one-line header block holding a request is the request (read whole, as alone)
_REQUEST_RE = re.compile(r"\b(please|pls|create|delete|remove|stop|start|give|make|add)\b",
                         re.IGNORECASE)
_SIGN_OFF_RE = re.compile(
    r"^\s*(cheers|regards|best regards|kind regards|best|thanks|thank you|many thanks|"
    r"thx|br|greetings|all the best|ta)\b[\s,.!]*([A-Z][a-z]+\.?(\s[A-Z][a-z]*\.?)?)?\s*$",
    re.IGNORECASE)
_DASH_NAME_RE = re.compile(r"^\s*(--|\u2014|\u2013|-)\s*[A-Z][a-z]+(\s[A-Z][a-z]*\.?)?\s*$")
_NAME_RE = re.compile(r"^\s*[A-Z][a-z]+(\s[A-Z][a-z]*\.?)?\s*$")
_GREETING_RE = re.compile(r"^\s*(hi|hello|hey|dear|good morning|morning)\s+[A-Z][a-z]+"
                          r"(\s(and|&)\s[A-Z][a-z]+)?\s*[,!.]?\s*$", re.IGNORECASE)
#: words of an answer that say nothing ("pve2 please": an answer of one word)
_POLITE = frozenset({"please", "pls", "thanks", "thank", "you", "ok", "okay", "then", "."})
_ANSWER_RE = re.compile(r"^\s*(yes|no|nope|yep|yeah|sure|ok|okay|right|correct)\b"
                        r"(\s+(please|thanks))?\s*[,.!:;]*\s*", re.IGNORECASE)


def _mail_like(lines: list[str]) -> bool:
    if any(_WROTE_RE.match(line) for line in lines):
        return True
    top = [line for line in lines if line.strip()][:1]
    if top and _HEADER_RE.match(top[0]):
        return True
    answered = False
    for k, line in enumerate(lines):
        if _QUOTE_RE.match(line):
            after = [x for x in lines[k + 1:] if x.strip()]
            answered = answered or (bool(after) and not _QUOTE_RE.match(after[0]))
    return answered


def mail_like(text: str) -> bool:
    """Does ``text`` look like an e-mail (a header block at the top, an attribution, or a
    quote answered under it)? Its structure is then read across paragraphs."""
    return _mail_like(text.split("\n"))


def read(text: str, ignored: list[tuple[int, str]]
         ) -> tuple[str, list[tuple[int, str]], list[tuple[int, str]]]:
    """``text`` with its e-mail structure blanked (module doc), the quoted runs as
    ``(first line, text)`` and the problems ``(line, message)``; what was blanked is
    reported in ``ignored``."""
    lines = text.split("\n")
    if not _mail_like(lines):
        return text, [], []
    out = list(lines)
    quotes: list[tuple[int, str]] = []
    problems: list[tuple[int, str]] = []

    def blank(k: int, what: str) -> None:
        ignored.append((k + 1, f"ignored as {what}: {lines[k].strip()!r}"))
        out[k] = ""

    k = 0
    while k < len(lines) and (not lines[k].strip() or _HEADER_RE.match(lines[k])):
        k += 1
    block = [line for line in lines[:k] if line.strip()]
    if len(block) == 1 and _REQUEST_RE.search(block[0]):
        k = 0  # "Re: Case #5512 - please create ...": a request on one line, read as text
    if k < len(lines) and k > 0 and not lines[k - 1].strip():  # headers, a blank, a body
        for h in range(k):
            if lines[h].strip():
                blank(h, "e-mail header")
    else:
        k = 0
    while k < len(lines) and not lines[k].strip():
        k += 1
    if k < len(lines) and _GREETING_RE.match(lines[k]):
        blank(k, "greeting")
    last_quote = -2
    for k, line in enumerate(lines):
        if _WROTE_RE.match(line):
            blank(k, "e-mail attribution")
        elif _QUOTE_RE.match(line):
            said = re.sub(r"^(\s*>)+\s?", "", line)
            if last_quote == k - 1 and quotes:
                quotes[-1] = (quotes[-1][0], f"{quotes[-1][1]}\n{said}")
            else:
                quotes.append((k + 1, said))
            blank(k, "quoted text")
            last_quote = k
        elif line.strip() and last_quote >= 0 and all(
                not x.strip() for x in lines[last_quote + 1:k]):
            answer = _ANSWER_RE.match(line)
            words = [w for w in re.findall(r"[\w.'-]+", line.lower()) if w not in _POLITE]
            if (answer and not line[answer.end():].strip()) or len(words) <= 2:
                problems.append((k + 1, f"{line.strip()!r} answers the quoted text above it, "
                                        "which MycoPod does not read (someone else's words); "
                                        "write what should be true, like 'stop mailarchive'"))
            elif answer:
                ignored.append((k + 1, f"ignored as the answer to the quote: "
                                       f"{line[:answer.end()].strip()!r}"))
                out[k] = line[answer.end():]
    _signature(lines, out, blank)
    if not any(line.strip() for line in out):  # nothing left: read it as it is
        del ignored[len(ignored) - sum(1 for a, b in zip(lines, out, strict=True) if a != b):]
        return text, [], []
    return "\n".join(out), quotes, problems


def _signature(lines: list[str], out: list[str], blank: Callable[[int, str], None]) -> None:
    """Blank the sign-off at the end of ``lines``: a closing and a name line or two."""
    filled = [k for k, line in enumerate(out) if line.strip()]
    if len(filled) < 2:
        return
    tail = filled[-2:]
    if _SIGN_OFF_RE.match(lines[tail[0]]) and _NAME_RE.match(lines[tail[1]]):
        ends = tail
    elif _DASH_NAME_RE.match(lines[tail[1]]) or _SIGN_OFF_RE.match(lines[tail[1]]) or (
            _NAME_RE.match(lines[tail[1]]) and len(lines[tail[1]].split()) == 1
            and tail[1] - tail[0] > 1):
        ends = tail[1:]
    else:
        return
    for k in ends:
        blank(k, "signature")
