"""A guest introduced by a description before or around its name: ``The camera recorder
cam-nvr should ...``, ``Raw converter VM: rawconv, 8 cores``, ``the loyalty-card VM``.

People say what a guest is for before they say its name. :mod:`.objects` and
:mod:`.described` read the shapes that start with ``the`` and end in a kind word;
:func:`rewrite` reads the same idea as one rule: a **description** (one to
:data:`MAX_WORDS` English words, any case, optionally after ``the``/``my``/``our``/
``this``/``that``, optionally ending in a kind word or a noun of :data:`NOUNS` such as
``server``, ``box``, ``machine``, ``thing``), then **exactly one name or one list of
names**, marked by the sentence's structure:

- right after the description, then a verb (``is``, ``gets``, ``should``, ``can`` ...):
  ``The AD target dc-target gets 2 cores``; without a kind word or noun before it the name
  must hold a digit or a hyphen (``The camera recorder nvr should`` is refused: which
  word is the name?), and without ``the`` the description must be two words or more
  (``Foo web-1 is a VM``: ``Foo`` may be a verb the grammar does not know);
- after ``:``, ``,``, a dash, ``(``, ``(name:``, ``called`` or ``named``, also after what
  a kind word is for (``New VM for the accounts: farm-books, ...``) (a name with no
  digit or hyphen only after a kind word or a noun, or with its kind next (``new toy:
  gotosocial, container``): ``cache: writeback`` is no guest;
  without one, two words or more: ``Tank - wr-9 gets`` may name a storage):
  ``Raw converter VM: rawconv, 8 cores``, ``Lightroom catalog VM (name: lr-catalog) - give it ...``,
  ``target machines: a (VM, ...) and b (container, ...)``;
- right before a kind word or a noun (``the loyalty-card VM``, ``the rsvp-app and
  bloom-site servers``), at the start of a sentence or after a verb that acts on a guest
  (``remove``, ``tag``, ``get rid of`` ...);
- a count, a description and a plural noun, then the names between commas: ``Three build
  agents, ba-01, ba-02 and ba-03, each a VM ...`` (the count must match the names);
- a description with a plural noun, what it says, then ``:`` and the names ending the
  sentence: ``All runners should come up on boot: ba-01, ba-02, ba-03``.

The description is what the guest is to its owner, not a setting: its words are dropped
and only these: plain words the grammar gives no meaning to (or :data:`ALSO_DESCRIPTIVE`,
role words like ``web``, ``proxy``, ``target``), joined at most by ``for``/``of``/``the``
(and ``for 2027``: a year, never followed by a unit).
A number, a size, a vague size (:data:`VAGUE`: ``small``, ``little`` ...), a negation, a
state or any other word of the grammar is never descriptive, so ``the little VM x`` or
``the stopped VM x`` is left for the parser to refuse. A description holding a second
name-like word (a digit or a hyphen) is ambiguous and left as it was. Pure.
"""

from __future__ import annotations

import re

from mycopod import spec as specmod
from mycopod.declarations.grammar.lexicon import (
    GENERIC_NOUNS,
    KIND_WORDS,
    ROLE_WORDS,
    SMALL_NUMBERS,
    SUBJECT_VERBS,
    is_vocab,
)
from mycopod.declarations.grammar.names import cpu_compound, is_nameish
from mycopod.declarations.grammar.quantities import word_number
from mycopod.declarations.grammar.tokens import Token

__all__ = ["ALSO_DESCRIPTIVE", "MAX_WORDS", "NOUNS", "VAGUE", "description_end", "rewrite"]

MAX_WORDS = 5
#: nouns that say what a guest is without its kind ("the seating-chart thing")
NOUNS = GENERIC_NOUNS | frozenset({
    "box", "boxes", "agent", "agents", "thing", "things", "runner", "runners", "worker",
    "workers", "appliance", "appliances", "vps", "node-vm", "host", "hosts", "system",
    "systems", "service", "services", "site", "sites", "app", "apps", "one"})
#: words of the grammar that only describe in these shapes ("the AD target dc-target")
ALSO_DESCRIPTIVE = ROLE_WORDS | frozenset({
    "old", "legacy", "spare", "firewall", "reverse", "licence", "license", "target",
    "storage", "monitor", "ubuntu", "debian", "windows", "linux", "vault", "files",
    "card", "order", "online", "office", "print", "printer", "camera", "remote", "display",
    "label", "job", "data", "main", "console", "user", "image", "public", "primary",
    "secondary", "domain", "password", "manager", "graphics", "time", "migrated",
    "existing", "current", "remaining"})
#: vague sizes and quantifiers: never a description (refused where they stand)
VAGUE = frozenset({
    "small", "little", "big", "large", "huge", "tiny", "bigger", "smaller", "larger",
    "beefy", "powerful", "light", "lightweight", "heavy", "fast", "faster", "slow",
    "no", "not", "none", "never", "without", "except", "but", "only", "every", "each",
    "some", "any", "other", "another", "more", "less", "extra", "same", "it", "its",
    "them", "they", "these", "those", "is", "are", "was", "were", "be", "and", "or",
    "with", "on", "in", "at", "to", "from", "by", "as", "if", "when", "until", "till"})
_DETERMINERS = frozenset({"the", "my", "our", "this", "that", "all", "all the"})
_JOINERS = frozenset({"for", "of"})
_VERBS = (SUBJECT_VERBS - {","}) | frozenset({"gets", "can", "may", "could", "might",
                                              "ought", "goes", "stay", "start", "go", "get",
                                              "stop"})
_SEPARATORS = frozenset({":", ",", "-", "--", "\u2013", "\u2014", "(", "called", "named"})
_AFTER_NAME = frozenset({"", ",", ":", "-", "--", "\u2013", "\u2014", "(", "?", "!"})
#: verbs whose object may be a described guest ("Tag the rsvp-app and b servers with")
_OBJECT_VERBS: tuple[tuple[str, ...], ...] = (
    ("get", "rid", "of"), ("remove",), ("delete",), ("destroy",), ("decommission",),
    ("retire",), ("stop",), ("start",), ("tag",), ("label",), ("nuke",), ("drop",),
    ("shut", "down"), ("turn", "off"), ("turn", "on"), ("switch", "off"),
    ("switch", "on"), ("power", "off"), ("power", "down"), ("power", "on"), ("kill",),
    ("trash",), ("scrap",), ("pause",), ("boot",), ("protect",), ("resize",), ("give",),
    ("we", "do", "not", "need"), ("i", "do", "not", "need"), ("do", "not", "need"))
_YEAR_RE = re.compile(r"^(19|20)\d\d$")
_OBJECT_FIRST = frozenset(verb[0] for verb in _OBJECT_VERBS)
_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z'\u2019]*(-[A-Za-z]+)*$")
_PLURAL_NOUNS = frozenset(w for w in NOUNS | KIND_WORDS.keys() if w.endswith("s"))


def _descriptive(t: Token) -> bool:
    if t.quoted or not _WORD_RE.match(t.text) or t.low in VAGUE or cpu_compound(t.low):
        return False
    if t.low in ALSO_DESCRIPTIVE:
        return True
    parts = (t.low, *t.low.split("-"))
    return not any(is_vocab(p) or word_number(p) is not None for p in parts if p)


def is_name(t: Token | None) -> bool:
    """``t`` is a guest's name as written (name-like and a valid name)."""
    return t is not None and is_nameish(t) and bool(specmod.NAME_RE.match(t.text))



def _strict(t: Token | None) -> bool:
    """A name no English word is: it holds a digit or a hyphen (and is not a compound of
    the grammar's words, ``dual-core``, ``two-terabyte``)."""
    return is_name(t) and t is not None and any(ch.isdigit() or ch == "-" for ch in t.low)


def description_end(toks: list[Token], i: int) -> int:
    """Where the description at ``i`` ends (``i`` when there is none)."""
    j = i
    words = 0
    while j < len(toks) and words < MAX_WORDS:
        t = toks[j]
        if t.low in _JOINERS and words and j + 1 < len(toks) and _YEAR_RE.match(
                toks[j + 1].low) and (j + 2 == len(toks) or not is_vocab(toks[j + 2].low)
                                     or toks[j + 2].low in _VERBS):
            j += 2  # "My new site for 2027 should be ...": a year, not an amount
            continue
        if t.low in _JOINERS and words and j + 1 < len(toks):
            k = j + 1 + (toks[j + 1].low == "the")
            if k < len(toks) and _descriptive(toks[k]) and toks[k].low not in NOUNS:
                j = k
                continue
            break
        if not _descriptive(t) or t.low in KIND_WORDS or t.low in NOUNS:
            break
        j += 1
        words += 1
    return j


def names_end(toks: list[Token], i: int, *, oxford: bool = True) -> int:
    """Where the list of names at ``i`` ends (``i`` when there is none): names joined by
    ``,`` or ``and`` (and by ``, and`` when ``oxford``)."""
    j = i
    while j < len(toks) and is_name(toks[j]):
        j += 1
        if j + 1 < len(toks) and toks[j].low in (",", "and") and is_name(toks[j + 1]):
            j += 1
        elif oxford and j + 2 < len(toks) and [t.low for t in toks[j:j + 2]] == [
                ",", "and"] and is_name(toks[j + 2]):
            j += 2
        else:
            break
    return j



def _kind(noun: Token | None) -> list[Token]:
    if noun is None or noun.low not in KIND_WORDS:
        return []
    return [Token("the", "the", noun.line), noun]


def _ambiguous(description: list[Token]) -> bool:
    return any(_strict(t) for t in description)


def _rest_ok(rest: list[Token]) -> bool:
    """What may follow a name given before its noun: not a second name in apposition."""
    if not rest:
        return True
    if rest[0].low in _SEPARATORS and len(rest) > 1 and is_name(rest[1]) and (
            rest[0].low != "," or rest[1].low not in ("and",)):
        return False
    return rest[0].low in _AFTER_NAME | _VERBS | {"with", "as", "anymore", "any"}


def _named_within(toks: list[Token], i: int, end: int, start: int) -> list[Token] | None:
    """A name (or list) inside the description's span: ``the camera recorder cam-nvr
    should``, ``the old loyalty-card VM``, ``the a-1 and b-2 servers``."""
    for p in range(i, end + 1):
        if p > i and _strict(toks[p - 1]):
            return None  # a second name-like word before it: ambiguous
        if p > i and toks[p - 1].low in _JOINERS | {"the"}:
            continue  # "the backup for db-1": another thing, of db-1
        if not _strict(toks[p] if p < len(toks) else None):
            continue
        last = names_end(toks, p)
        names = toks[p:last]
        if not all(_strict(t) for t in names if t.low not in (",", "and")):
            return None
        nxt = toks[last] if last < len(toks) else None
        if nxt is not None and (nxt.low in KIND_WORDS or nxt.low in NOUNS):
            return [*_kind(nxt), *names, *toks[last + 1:]] if _rest_ok(
                toks[last + 1:]) else None
        if nxt is not None and nxt.low in _VERBS and (p > i + 1 or (p > i and start < i)):
            return [*names, *toks[last:]]
        return None
    return None


def _introduced(toks: list[Token], i: int) -> list[Token] | None:
    """The described guest at ``i`` as [the KIND] NAMES, and the rest; None if none."""
    start = i
    if toks[i].low in _DETERMINERS:
        i += 1
    end = description_end(toks, i)
    if any(_strict(t) for t in toks[i:end]) or (
            end < len(toks) and _strict(toks[end])):
        return _named_within(toks, i, end, start)
    noun = toks[end] if end < len(toks) and (
        toks[end].low in KIND_WORDS or toks[end].low in NOUNS) else None
    if end == i and (noun is None or start == i):
        return None  # "VM: x": a kind alone is the parser's
    j = end + (noun is not None)
    if noun is not None and j + 1 < len(toks) and toks[j].low == "for":
        k = description_end(toks, j + 1 + (toks[j + 1].low == "the"))
        if k > j + 1 and k < len(toks) and toks[k].low in (":", "-", "\u2013", "\u2014"):
            j = k  # "New VM for the accounts: farm-books, ...": what it is for
    sep = toks[j].low if j < len(toks) else ""
    if sep not in _SEPARATORS:
        last = names_end(toks, j)  # "The label printer box lbl-2 should": right after the noun
        if noun is None or last == j or last >= len(toks) or toks[last].low not in _VERBS:
            return None
        return [*_kind(noun), *toks[j:last], *toks[last:]]
    j += 1
    if sep == "(" and [t.low for t in toks[j:j + 2]] == ["name", ":"]:
        j += 2
    elif sep in (":", ",") and [t.low for t in toks[j:j + 2]] == ["name", ":"]:
        j += 2
    last = names_end(toks, j)
    if last == j:
        return None
    names = toks[j:last]
    kind_next = [t.low for t in toks[last:last + 3]]
    kind_next = kind_next[:2] if kind_next[1:2] != ["a"] else [kind_next[0], kind_next[2]]
    if noun is None and (end - i < 2 or not (all(
            _strict(t) for t in names if t.low not in (",", "and")) or (
            len(kind_next) == 2 and kind_next[0] == "," and kind_next[1] in KIND_WORDS))):
        return None  # "cache: writeback", "Tank - wr-9": a setting or a place, maybe
    if sep == "(":
        if last >= len(toks) or toks[last].low != ")":
            return None
        last += 1
    nxt = toks[last].low if last < len(toks) else ""
    if nxt not in _AFTER_NAME and nxt not in _VERBS:
        return None
    return [*_kind(noun), *names, *toks[last:]]


def _counted(toks: list[Token]) -> list[Token] | None:
    """``Three build agents, ba-01, ba-02 and ba-03, each a VM ...``."""
    first = toks[0].low
    count = SMALL_NUMBERS.get(first) if not first.isdigit() else int(first)
    if count is None or len(toks) < 5:
        return None
    end = description_end(toks, 1)
    if end >= len(toks) or toks[end].low not in _PLURAL_NOUNS or toks[end].low in KIND_WORDS:
        return None
    j = end + 1
    if j >= len(toks) or toks[j].low not in (",", ":", "-", "\u2013", "\u2014"):
        return None
    last = names_end(toks, j + 1)
    names = [t for t in toks[j + 1:last] if t.low not in (",", "and")]
    if len(names) != count or last >= len(toks) or toks[last].low not in (",", ":"):
        return None
    return toks[j + 1:]


def _trailing(toks: list[Token]) -> list[Token] | None:
    """``All runners should come up on boot: ba-01, ba-02, ba-03``: the names last."""
    i = 1 if toks[0].low in _DETERMINERS else 0
    end = description_end(toks, i)
    if end < len(toks) and toks[end].low in _PLURAL_NOUNS:
        end += 1  # "All build boxes should ...", or a plural description: "All kiosks"
    elif end == i or not toks[end - 1].low.endswith("s"):
        return None
    if end >= len(toks) or toks[end].low not in _VERBS:
        return None
    colon = next((k for k in range(len(toks) - 1, end, -1) if toks[k].low == ":"), None)
    if colon is None or names_end(toks, colon + 1) != len(toks) or colon + 1 == len(toks):
        return None
    if any(t.low == ":" or (is_name(t) and _strict(t)) for t in toks[end:colon]):
        return None
    return [*toks[colon + 1:], *toks[end:colon]]


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with a described guest where the subject reader looks for it."""
    if len(tokens) < 3:
        return tokens
    first = tokens[0].low
    if first in SMALL_NUMBERS or first.isdigit():
        return _counted(tokens) or tokens
    for verb in _OBJECT_VERBS if first in _OBJECT_FIRST else ():
        n = len(verb)
        if tuple(t.low for t in tokens[:n]) == verb and n < len(tokens) and (
                tokens[n].low in _DETERMINERS):
            found = _introduced(tokens, n)
            return tokens if found is None else [*tokens[:n], *found]
    if is_name(tokens[0]) and not any(t.low in (":", "(") for t in tokens[:2]) and (
            first not in _DETERMINERS):
        if tokens[1].low in _VERBS or tokens[1].low in (",", "and"):
            return tokens  # the guest's name first: nothing to do
    found = _introduced(tokens, 0)
    if found is not None:
        return found
    return _trailing(tokens) or tokens
