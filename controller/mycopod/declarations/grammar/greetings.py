"""A letter in one paragraph: the greeting, the courtesies and the sign-off around a request.

:mod:`.mail` drops an e-mail's greeting and signature when each has a line of its own.
People also write the whole letter as one paragraph: ``Dear tech team, could we please
have a VM called rec-1 ...? With thanks, Margaret`` or ``Thank you always for your
support. Could you please create ...? Best regards, Sato``. :func:`strip` drops, in each
paragraph, and reports:

- a greeting that opens it: ``Dear``, ``Hi``, ``Hello``, ``Hey``, ``Good morning`` ...,
  then at most three words that address someone (capitalised, like ``Ana``, ``Mr.
  Tanaka``, or one of :data:`ADDRESSED`: ``team``, ``all``, ``tech``, ``everyone`` ...),
  then ``,`` ``!`` or ``:``: ``ignored as greeting: 'Dear tech team,'``;
- an apology that opens it, before ``but``: ``I am sorry to trouble you, but``,
  ``Sorry to bother you, but``: ``ignored as courtesy``;
- a sign-off that closes it after a sentence's end: a phrase of :data:`SIGN_OFFS`
  (``With thanks``, ``Best regards``, ``Many thanks`` ...), then at most three
  capitalised words (the name): ``ignored as signature: 'With thanks, Margaret'``;
- a sentence of thanks or good wishes (``Thank you always for your support.``, ``Thanks
  in advance for your help!``, ``I hope you are well.``, ``Have a nice day.``) holding no
  digit, no name-like word (lower case with a hyphen), no quote and none of ``please``,
  ``but``, ``and``: ``ignored as courtesy``.

Anything else is left to the sentence reader. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.markdown import Block

__all__ = ["ADDRESSED", "SIGN_OFFS", "strip"]

#: lower-case words a greeting may address
ADDRESSED = frozenset({"team", "all", "everyone", "everybody", "folks", "guys", "there",
                       "y'all", "tech", "it", "support", "admins", "admin", "sir", "madam",
                       "colleagues", "colleague", "friends", "crew", "people", "ops",
                       # round 9: a family's words ("Hi sweetie, Dad here.")
                       "sweetie", "sweetheart", "honey", "darling", "dear", "buddy", "kiddo",
                       "mate", "pal"})
#: phrases that close a letter, before the writer's name
SIGN_OFFS = ("with thanks", "with many thanks", "with kind regards", "with best regards",
             "with gratitude", "with appreciation", "many thanks", "thanks again",
             "thanks in advance", "thank you in advance", "best regards", "kind regards",
             "warm regards", "warmest regards", "regards", "best wishes", "all the best",
             "sincerely", "yours sincerely", "yours truly", "yours faithfully",
             "respectfully", "cheers", "thanks", "thank you", "best")
_GREETING_RE = re.compile(
    r"^(?i:dear|hi|hello|hey|hiya|greetings|good\s+(?:morning|afternoon|evening))"
    r"(?P<who>(?:\s+[A-Za-z][\w.'\-]*){0,3}?)\s*[,!:]\s+(?=\S)")
_APOLOGY_RE = re.compile(
    r"^(?i:(?:i\s+am|i'm|we\s+are|we're)\s+(?:very\s+|so\s+)?sorry|sorry|apologies)\s+"
    r"(?i:to\s+(?:trouble|bother)\s+you|for\s+(?:the|any)\s+(?:trouble|inconvenience|"
    r"short\s+notice|bother))\s*,\s*(?i:but)\s+(?=\S)")
_SIGN_OFF_RE = re.compile(
    r"(?<=[.!?])\s+(?P<said>(?i:" + "|".join(p.replace(" ", r"\s+") for p in SIGN_OFFS)
    + r")\s*[,.!]?(?:\s*[-\u2013\u2014]?\s*[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,2})?"
    r"\s*[.!]?)\s*$")
_COURTESY_RE = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?P<said>(?i:thank\s+you|thanks|many\s+thanks|i\s+hope|hope\s+you|"
    r"hope\s+all|have\s+a\s+(?:nice|good|great|lovely)|i\s+appreciate|we\s+appreciate)"
    r"\b[^.!?]*[.!])(?=\s|$)")
#: a word that every sign-off and courtesy sentence holds (a quick test before the rest)
_WORDS_RE = re.compile(r"(?i:thank|regards|best|cheers|sincerely|yours|respectfully|hope|"
                       r"gratitude|have\s+a|appreciat|wishes)")
_SAYS_MORE_RE = re.compile(r"\d|\b[a-z][a-z0-9]*-[a-z0-9-]+\b|[\"'`]|\b(?i:please|but|and|"
                           r"vm|container|ct|lxc|delete|stop|start|create)\b")


def _addressed(who: str) -> bool:
    words = who.split()
    return all(w[:1].isupper() or w.lower() in ADDRESSED for w in words)


def strip(blocks: list[Block], ignored: list[tuple[int, str]]) -> list[Block]:
    """``blocks`` without the greetings, courtesies and sign-offs of their paragraphs."""
    out: list[Block] = []
    for block in blocks:
        if block.kind != "paragraph":
            out.append(block)
            continue
        lines = list(block.lines)
        said: list[tuple[int, str]] = []
        number, first = lines[0]
        found = _GREETING_RE.match(first)
        if found and _addressed(found.group("who")):
            said.append((number, f"ignored as greeting: {found.group(0).strip()!r}"))
            lines[0] = (number, first[found.end():])
        found = _APOLOGY_RE.match(lines[0][1])
        if found:
            said.append((number, f"ignored as courtesy: {found.group(0).strip()!r}"))
            lines[0] = (number, lines[0][1][found.end():])
        number, last = lines[-1]
        found = _SIGN_OFF_RE.search(last) if _WORDS_RE.search(last) else None
        if found:
            said.append((number, f"ignored as signature: {found.group('said').strip()!r}"))
            lines[-1] = (number, last[:found.start()])
        for k, (number, text) in enumerate(lines):
            kept = text
            if not _WORDS_RE.search(text):
                continue
            for courtesy in _COURTESY_RE.finditer(text):
                words = courtesy.group("said")
                if not _SAYS_MORE_RE.search(words):
                    said.append((number, f"ignored as courtesy: {words.strip()!r}"))
                    kept = kept.replace(words, "", 1)
            lines[k] = (number, kept)
        if said and any(t.strip() for _, t in lines):  # else: a letter of courtesy only
            ignored.extend(said)
            out.append(Block(block.kind, tuple(lines)))
        else:
            out.append(block)
    return out
