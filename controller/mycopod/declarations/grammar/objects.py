"""Noun phrases around a guest's name, and the guest an imperative acts on.

People name a guest inside a description: ``The Home Assistant VM, ha-1, should get
...``, ``My old game server (mc-2) can go``, ``The firewall VM fw-9 has ...``, ``The
photoprism container gets ...``, ``The VM with the name office-2 needs ...``, ``Remove
the stale agents a-7 and a-8``, ``Drop the old-wiki container``; and put the guest at
the end of an imperative: ``Add the tag finance to the VM a-2``, ``Set VLAN 12 for VM
shop-2``, ``Set the description of nas02 to "..."``, ``Enable the firewall on edge-2``,
``Description for acct-3: "..."``. :func:`rewrite` turns these into the forms the
subject reader knows (``the VM ha-1 should get ...``, ``a-2, the tag finance``).

The rule for descriptive words (they are dropped, so it is strict): between a
determiner (``the``, ``my``, ``our``, ``this``, ``that``) and a kind (``VM``,
``container``) or a generic noun (``server``, ``box``, ``agents`` ...), up to four
words that the grammar gives no meaning to (or the role words of
:data:`.lexicon.ROLE_WORDS`, ``old``, ``new``); and the phrase must then name the guest
by its structure: an appositive between commas, a name in parentheses, a name right
after the noun, ``called``/``named``/``with the name`` NAME, or, with no name after the
noun, a last descriptive word that is a valid guest name after only words of that list
(``the photoprism container``, ``the new nextcloud VM``). A number, a size, a negation
or any other word of the grammar is never descriptive, so ``the big VM`` or ``the 2 GB
VM`` is still refused. Pure.
"""

from __future__ import annotations

import re

from mycopod import spec as specmod
from mycopod.declarations.grammar import introduced
from mycopod.declarations.grammar.descriptions import describes
from mycopod.declarations.grammar.lexicon import (
    CREATE_VERBS,
    GENERIC_NOUNS,
    KIND_WORDS,
    ROLE_WORDS,
    is_vocab,
)
from mycopod.declarations.grammar.names import cpu_compound, is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["rewrite"]

_DETERMINERS = frozenset({"the", "my", "our", "this", "that", "these", "those"})
#: nouns that name what a guest is without saying its kind
_NOUNS = GENERIC_NOUNS | frozenset({"box", "boxes", "agent", "agents", "node-vm", "vps",
                                    "appliance", "appliances", "thing", "one", "worker",
                                    "workers", "master", "masters", "runner", "runners",
                                    "replica", "replicas"})
#: nouns that name a guest only after a description ("the old docker host (docker-01)");
#: alone ("the host pve1") they name a Proxmox node
_DESCRIBED_NOUNS = frozenset({"host", "hosts"})
_DESCRIPTIVE = ROLE_WORDS | frozenset({
    "old", "new", "stale", "unused", "spare", "legacy", "current", "existing", "following",
    # words of the grammar that only describe inside such a phrase ("the firewall VM fw-9")
    "firewall", "backup", "proxy", "cache", "monitor", "monitoring", "media", "storage",
    "ubuntu", "debian", "docker", "mail", "dns", "vault", "git", "files",
})
_MAX_DESCRIPTION = 4
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "both": 2}
#: verbs whose object may follow a descriptive noun phrase ("Remove the stale agents a-7")
_OBJECT_VERBS = frozenset({"remove", "delete", "destroy", "decommission", "retire", "stop",
                           "start", "shut", "turn", "switch", "power", "set", "keep",
                           "leave", "give", "tag", "protect"})
#: verbs whose guest may come last, after to/for/on/of ("Add the tag x to the VM a-2")
_TARGET_VERBS = frozenset({"set", "add", "give", "assign", "enable", "disable", "authorize",
                           "authorise", "allow", "attach", "connect"})
#: of those, the verbs that are part of the phrase that follows (kept before it)
_PHRASE_VERBS = frozenset({"enable", "disable", "authorize", "authorise", "allow", "attach",
                           "connect"})
#: how far from a sentence's end its guest may stand ("... to the VM a-2", "of y to 24 GB")
_TARGET_REACH = 40
_PLACE_RE = re.compile(r"^(vmbr\d+|local(-[a-z0-9]+)?|pve[a-z0-9-]*|ceph[a-z0-9-]*)$")


def _name(t: Token | None) -> bool:
    return t is not None and is_nameish(t) and bool(specmod.NAME_RE.match(t.text))


def _names(toks: list[Token], i: int) -> int:
    """Where the list of names at ``i`` ends (``i`` when there is none)."""
    j = i
    while _name(toks[j] if j < len(toks) else None):
        j += 1
        if j + 1 < len(toks) and toks[j].low in (",", "and") and _name(toks[j + 1]) and (
                j + 2 >= len(toks) or toks[j + 2].low not in (",",) or toks[j].low == "and"):
            j += 1
        elif j + 2 < len(toks) and toks[j].low == "," and toks[j + 1].low == "and" and _name(
                toks[j + 2]):
            j += 2
    return j


def _descriptive(t: Token) -> bool:
    """A compound is descriptive only if none of its parts means anything to the grammar
    ("dual-core", "eight-core", "two-terabyte" are attributes, never descriptions)."""
    return not t.quoted and (t.low in _DESCRIPTIVE or describes(t) or (
        t.text.replace("-", "").isalpha()
        and not any(is_vocab(part) for part in (t.low, *t.low.split("-")) if part)))


def _noun_phrase(toks: list[Token], i: int) -> tuple[int, list[Token]] | None:
    """The noun phrase at ``i`` as (its end, the tokens it means: [the KIND] names)."""
    if i >= len(toks) or toks[i].low not in _DETERMINERS:
        return None
    j = i + 1
    count = None
    if j < len(toks) and toks[j].low in _COUNTS:  # "the two workers k8s-w1 and k8s-w2"
        count = _COUNTS[toks[j].low]
        j += 1
    first = j
    while j < len(toks) and j - first < _MAX_DESCRIPTION and _descriptive(toks[j]) and (
            toks[j].low not in KIND_WORDS and toks[j].low not in _NOUNS) and (
            toks[j].low not in _DESCRIBED_NOUNS or j == first):
        j += 1
    described = toks[first:j]
    noun_ok = j < len(toks) and (toks[j].low in KIND_WORDS or toks[j].low in _NOUNS or (
        toks[j].low in _DESCRIBED_NOUNS and bool(described)))
    if not noun_ok:
        return None
    noun = toks[j]
    kind = [Token("the", "the", noun.line), noun] if noun.low in KIND_WORDS else []
    j += 1
    w = toks[j].low if j < len(toks) else ""
    start = j
    if w in ("called", "named"):
        start = j + 1
    elif w == "with" and [t.low for t in toks[j + 1:j + 3]] == ["the", "name"]:
        start = j + 3
    elif w in (",", "(", ":") and _name(toks[j + 1] if j + 1 < len(toks) else None):
        start = j + 1
    end = _names(toks, start)
    if end > start:
        names = toks[start:end]
        if w == "(":
            if end >= len(toks) or toks[end].low != ")":
                return None
            end += 1
        elif w == "," and end < len(toks) and toks[end].low == ",":
            end += 1
        if count is not None and count != sum(1 for t in names if _name(t)):
            return None
        return end, [*kind, *names]
    if count is not None:
        return None
    if described and _name(described[-1]) and described[-1].low not in _DESCRIPTIVE and all(
            t.low in _DESCRIPTIVE for t in described[:-1]):
        return j, [*kind, described[-1]]  # "the photoprism container", "the new wiki VM"
    return None


def _target(toks: list[Token]) -> tuple[int, int, list[Token]] | None:
    """``to|for|on|of [the] [KIND] NAMES`` ending the sentence (or before ``:``, or, after
    ``of``, before ``to``/``as``): (its start, its end, the tokens it means)."""
    verb = toks[0].low
    for k in range(len(toks) - 2, max(1, len(toks) - _TARGET_REACH), -1):
        prep = toks[k].low
        if prep not in ("to", "for", "on", "of") or toks[k].quoted:
            continue
        j = k + 1
        if j < len(toks) and toks[j].low == "the":
            j += 1
        kind: list[Token] = []
        if j < len(toks) and toks[j].low in KIND_WORDS:
            kind = [Token("the", "the", toks[j].line), toks[j]]
            j += 1
        end = _names(toks, j)
        if end == j:
            continue
        after = toks[end].low if end < len(toks) else ""
        then_value = prep in ("of", "on", "for") and after in ("to", "as", "is")
        if not (after in ("", ":", "?") or then_value):
            continue
        names = toks[j:end]
        if not kind and (any(_PLACE_RE.match(t.low) for t in names) or (
                prep == "on" and not then_value and verb not in (
                    "enable", "disable", "authorize", "authorise", "allow"))):
            return None
        return k, end, [*kind, *names]
    return None


def _article_description(tokens: list[Token]) -> list[Token]:
    """``a Postgres box: pg-2, a VM ...``: the words describing the new guest dropped."""
    for i, t in enumerate(tokens):
        if t.low not in ("a", "an"):
            continue
        j = i + 1
        while j < len(tokens) and j - i - 1 < _MAX_DESCRIPTION and _descriptive(tokens[j]) and (
                tokens[j].low not in KIND_WORDS and tokens[j].low not in _NOUNS):
            j += 1
        if j == i + 1 or j >= len(tokens) or tokens[j].low not in _NOUNS | KIND_WORDS.keys():
            continue
        if tokens[j].low not in KIND_WORDS and j + 2 >= len(tokens):
            continue
        if tokens[j].low in KIND_WORDS and all(
                t.low in _DESCRIPTIVE or t.text[:1].isupper() for t in tokens[i + 1:j]):
            return [*tokens[:i + 1], *tokens[j:]]  # "an Ubuntu VM": a VM
        if j + 2 < len(tokens) and tokens[j + 1].low in (":", ",", "(", "called", "named") and (
                _name(tokens[j + 2])):
            noun = tokens[j]
            if noun.low not in KIND_WORDS and noun.low not in GENERIC_NOUNS:
                noun = Token(noun.text, "server", noun.line)  # "box": a generic noun
            return [*tokens[:i + 1], noun, *tokens[j + 1:]]
    return tokens


def _cores_before_kind(tokens: list[Token]) -> list[Token]:
    """``a dual-core VM named perf-1 with ...``: the compound said after the name
    (``a VM named perf-1, dual-core, with ...``), where the attribute reader reads it."""
    for i in range(len(tokens) - 4):
        if tokens[i].low in ("a", "an") and cpu_compound(tokens[i + 1].low) and (
                tokens[i + 2].low in KIND_WORDS and tokens[i + 3].low in ("named", "called")):
            end = _names(tokens, i + 4)
            if end == i + 4:
                return tokens
            if end + 1 < len(tokens) and tokens[end].low in ("through", "thru", "to") and (
                    _name(tokens[end + 1])):  # a range: "named dd-1 through dd-3"
                end += 2
            comma = Token(",", ",", tokens[i].line)
            after = [comma] if end < len(tokens) and tokens[end].low not in (",", ".") else []
            return [*tokens[:i + 1], *tokens[i + 2:end], comma, tokens[i + 1], *after,
                    *tokens[end:]]
    return tokens


def _new_guest(tokens: list[Token]) -> list[Token]:
    """``new container x-web``, ``New VM for accounting: name acct-02``, ``a new
    container for Home Assistant: ha-3``: a KIND named NAME."""
    for p in range(1, len(tokens) - 1):
        before = tokens[p - 1].low
        if tokens[p].low not in KIND_WORDS or before not in ("new", "a", "an"):
            continue
        if before != "new" and tokens[p + 1].low != "for" and not (
                p + 2 < len(tokens) and tokens[p + 1].low in (",", ":")
                and tokens[p + 2].low in ("name", "named", "called")):
            continue
        i = p - 1
        if before == "new" and i > 0 and tokens[i - 1].low not in (":", ",", "a", "an",
                                                                    "and"):
            continue
        j = p + 1
        if j < len(tokens) and tokens[j].low == "for":  # "for accounting": what it is for
            k = j + 1
            while k < len(tokens) and k - j <= _MAX_DESCRIPTION and _descriptive(tokens[k]):
                k += 1
            if k == j + 1 or k >= len(tokens) or tokens[k].low not in (":", ","):
                return tokens
            j = k + 1
        if j < len(tokens) and tokens[j].low in (":", ","):
            j += 1
        if j < len(tokens) and tokens[j].low in ("name", "named", "called"):
            j += 1
            if j < len(tokens) and tokens[j].low == ":":  # "a container, name: ct-55"
                j += 1
        if not _name(tokens[j] if j < len(tokens) else None):
            return tokens
        if before == "new":
            article = [] if i > 0 and tokens[i - 1].low in ("a", "an") else [
                Token(tokens[i].text, "a", tokens[i].line)]
        else:
            article, i = [tokens[i]], i
        named = Token("named", "named", tokens[j].line)
        return [*tokens[:i], *article, tokens[p], named, *tokens[j:]]
    return tokens


def rewrite(tokens: list[Token]) -> list[Token]:
    """The sentence with its guest where the subject reader looks for it (or where
    :func:`.introduced.rewrite` finds it, when none of these shapes is there)."""
    out = _rewrite(tokens)
    if out is tokens and (found := introduced.rewrite(tokens)) is not tokens:
        return _rewrite(found)  # "Tag the a-1 and b-1 servers with x": "Tag a-1 and b-1 ..."
    return out


def _rewrite(tokens: list[Token]) -> list[Token]:
    if len(tokens) < 3:
        return tokens
    first = tokens[0].low
    np = _noun_phrase(tokens, 0)
    if np is not None:  # "The Home Assistant VM, ha-1, should get ..."
        return [*np[1], *tokens[np[0]:]]
    if first in _OBJECT_VERBS:
        at = 2 if tokens[1].low in ("off", "down", "on") else 1
        np = _noun_phrase(tokens, at)
        if np is not None:  # "Remove the stale agents a-7 and a-8"
            return [*tokens[:at], *np[1], *tokens[np[0]:]]
    if first in CREATE_VERBS and tokens[1].low == "the" and tokens[2].low in KIND_WORDS:
        # "Create the container print-2 ...": a new guest, as "a container"
        tokens = [tokens[0], Token(tokens[1].text, "a", tokens[1].line), *tokens[2:]]
    tokens = _article_description(_new_guest(_cores_before_kind(tokens)))
    if first == "clone" and is_nameish(tokens[1]) and tokens[2].low in ("as", "to", "into"):
        end = _names(tokens, 3)
        if end > 3:  # "Clone tmpl-1 to a-1 and b-1, 2 cores each": a-1 and b-1, cloned from
            cloned = Token(tokens[0].text, "cloned", tokens[0].line)
            return [*tokens[3:end], Token(",", ",", tokens[0].line), cloned,
                    Token("from", "from", tokens[0].line), tokens[1], *tokens[end:]]
    if first in ("tag", "label") and (end := _names(tokens, 1)) > 1 and end < len(
            tokens) and tokens[end].low in ("with", "as"):  # "Tag a-5 and b-5 with prod"
        return [*tokens[1:end], Token(tokens[end].text, "tagged", tokens[end].line),
                *tokens[end + 1:]]
    if first == "for" and (end := _names(tokens, 1)) > 1 and end < len(tokens) and (
            tokens[end].low == ":"):  # "For web-1: 4 cores"
        return [*tokens[1:end], *tokens[end:]]
    if first in ("we", "i") and [t.low for t in tokens[1:4]] in (
            ["do", "not", "need"], ["do", "not", "want"]):
        end = _names(tokens, 4)
        if end > 4:  # "We don't need old-build anymore": old-build is no longer needed
            said = tokens[1:4]
            return [*tokens[4:end], Token(said[1].text, "no", said[1].line),
                    Token(said[0].text, "longer", said[0].line),
                    Token(said[2].text, "needed", said[2].line),
                    *(t for t in tokens[end:] if t.low not in ("anymore", "any", "more"))]
    if first in ("description", "memory", "ram", "notes") and tokens[1].low in ("for", "of"):
        end = _names(tokens, 2)
        if end > 2 and end < len(tokens) and tokens[end].low == ":":  # "Description for x:"
            return [*tokens[2:end], Token(",", ",", tokens[0].line), tokens[0],
                    *tokens[end:]]
    if first in _TARGET_VERBS and not _name(tokens[1]) and tokens[1].low not in (
            "it", "them", "they", "this", "these", "those"):
        found = _target(tokens)
        if found is not None:  # "Add the tag finance to the VM a-2"
            k, end, guest = found
            verb = [tokens[0]] if first in _PHRASE_VERBS else []
            return [*guest, Token(",", ",", tokens[0].line), *verb, *tokens[1:k],
                    *tokens[end:]]
    return tokens
