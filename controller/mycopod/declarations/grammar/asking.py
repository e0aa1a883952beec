"""Requests framed as asking: ``I am asking to turn off VM x``, ``Is it possible that the VM
x gets ...?``, ``Can the x server have 4 cores?``, ``For server x please give ...``.

People who write to an admin frame what they want as a request. :func:`reframe` reads
these framings, and only these, as the statement they frame (the framing words are on
the explicit lists below; everything else stays for the parser to read or refuse):

- a **request opener** of :data:`ASKS` before an imperative or a statement (``I am
  asking to``, ``I kindly ask you to``, ``Is it possible that``, ``Would it be possible
  to``), with the ``?`` ending the sentence;
- whom a new guest is for, after the verb: ``make|create|spin up for me|us a ...`` is
  ``make a ...``;
- ``have`` left by a wish (``We would like to have a VM named x``: ``a VM named x``);
- a **question of possession**: ``Can|Could|May the x server have|get ...?`` is ``the x
  server gets ...`` (``Could the guest x be shut down?``: ``the guest x should be ...``,
  only before a verb of :data:`_DONE_TO`, so ``Could web-1 be a VM?`` stays a question;
  never with ``I``/``we``/``you`` as the one who has it: those are creation requests,
  :data:`.lexicon.CREATE_PREFIXES`);
- the guest before the request: ``For [the] [KIND|server] NAMES[,] [please] give|set|add
  ...`` is ``give NAMES ...``; what a new guest is for before the request: ``For the RSVP
  app please make a VM named x`` is ``make a VM named x`` (a description of
  :mod:`.introduced`, then ``make``/``create``/``deploy``/``add`` and ``a``); ``add to
  [the] [KIND] NAMES the ...`` is ``NAMES, the ...``; ``add|put TAG as a tag|label on|to
  NAMES`` is ``NAMES tagged TAG``;
- the name given after the guest: ``a KIND [for WORDS], call it|name it NAME`` (or ``, the
  name is``, ``, to be called``: :data:`_NAMINGS`) is ``a KIND named NAME``; ``[my|our|the]
  DESCRIPTION [KIND|NOUN] [for ...] should|will be called|named NAME`` or ``is called
  NAME`` (:data:`_COPULAS`) is ``NAME`` (:mod:`.introduced`'s description rule), ``is
  NAME`` only for a name with a digit or a hyphen, then ``,`` or the end;
- who created it: ``My nephew|Our intern|I|We set up|created|built|deployed a ...`` reads
  as the report ``set up a ...`` (:mod:`.results`);
- a **reason before an action on it**: ``[I|we] do not need [the] GUEST, VERB it
  [off|down]`` is ``VERB [off|down] GUEST`` (the action says what is wanted; only a
  stop or a deletion, :data:`_UNNEEDED`: ``..., keep it running`` is refused);
- an **ordinal before a new guest**: ``a second|third|another|separate VM named x`` and
  ``another VM named x`` are ``a VM named x``; ``a|the virtual machine`` is ``a|the VM``;
- an **amount judged** at the end: ``1 GB ram is plenty``, ``half a gig of ram is fine``,
  ``..., it is enough``, ``should be enough`` (:data:`_EVALUATIONS`) after a stated
  number: the judgement is dropped (``RAM is enough`` with no number stays refused);
- an **emoji** (symbols only) closing the sentence is dropped;
- a **described SSH key** before its value: ``Add the MSP jump host key to x: ssh-rsa ...``
  is ``the ssh key`` (up to four words between ``the``/``my``/``our`` and ``key``, words
  the grammar gives no meaning to or ``host``/``public``, when the value starting
  ``ssh-``/``ecdsa-`` follows; ``my root key`` is refused);
- **dictation's punctuation words** (:data:`SPOKEN_PUNCTUATION`): ``comma`` is ``,``;
  ``period``/``full stop`` ending the sentence are dropped.

Pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from mycopod.declarations.grammar import introduced
from mycopod.declarations.grammar.lexicon import DROPPED, KIND_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import Token

__all__ = ["ASKS", "SPOKEN_PUNCTUATION", "reframe"]

#: request openers dropped before what they ask for
ASKS: tuple[tuple[str, ...], ...] = (
    *((*who, *verb, *you, "to") for who in (("i",), ("we",)) for verb in (
        ("am", "asking"), ("are", "asking"), ("ask",), ("kindly", "ask"), ("would", "ask"),
        ("would", "kindly", "ask")) for you in ((), ("you",))),
    ("is", "it", "possible", "to"), ("is", "it", "possible", "that"),
    ("would", "it", "be", "possible", "to"), ("would", "it", "be", "possible", "that"),
    ("is", "it", "ok", "to"), ("is", "it", "okay", "to"))
_ASK_FIRST = frozenset(words[0] for words in ASKS)
#: words a voice transcript spells out for punctuation
SPOKEN_PUNCTUATION = {("comma",): ",", ("period",): "", ("full", "stop"): ""}
_MODALS = frozenset({"can", "could", "may", "will", "would"})
_ASKERS = frozenset({"i", "we", "you", "u", "they", "it", "someone", "somebody", "anyone"})
_GIVES = frozenset({"give", "set", "add", "assign", "allocate", "make"})
_CREATED = (("set", "up"), ("created",), ("built",), ("deployed",), ("made",),
            ("spun", "up"), ("installed",))
#: what a guest may be asked to have done to it ("Could x be shut down?")
_DONE_TO = frozenset({"shut", "stopped", "switched", "turned", "powered", "deleted", "removed",
                      "started", "decommissioned", "retired", "tagged", "given", "moved"})
_MAKES_FOR = frozenset({"make", "create", "up", "build", "deploy", "provision", "add"})
_MAKES = frozenset({"make", "create", "deploy", "provision", "build", "add"})
_ORDINALS = frozenset({"second", "third", "fourth", "fifth", "another", "separate",
                       "additional"})  # "another" also opens "another VM named x"
#: how an amount is judged after it is stated ("1 GB ram is plenty", "it is enough")
_EVALUATIONS = frozenset({"enough", "plenty", "fine", "sufficient", "ok", "okay", "good"})
#: who a described key belongs to ("the MSP jump host key", "my laptop's key")
_KEY_OWNERS = frozenset({"the", "my", "our", "his", "her", "their", "a"})
#: words of the grammar a key's description may hold ("the MSP jump host key")
_KEY_WORDS = frozenset({"host", "ssh", "public", "user"})
_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z'\u2019]*(-[A-Za-z]+)*$")
#: what is done to a guest that is not needed ("..., turn it off", "..., delete it")
_UNNEEDED = frozenset({"turn", "shut", "switch", "power", "stop", "delete", "remove", "pause",
                       "destroy", "kill", "nuke", "decommission", "retire"})
_PARTICLES = frozenset({"off", "down", "on", "up"})


def _word(t: Token, low: str) -> Token:
    return Token(t.text, low, t.line)


_name = introduced.is_name


def _names(toks: list[Token], i: int) -> int:
    return introduced.names_end(toks, i, oxford=False)


def _starts(low: list[str], words: tuple[str, ...], at: int = 0) -> bool:
    return tuple(low[at:at + len(words)]) == words


def _guest_at(toks: list[Token], i: int) -> int:
    """Where ``[the] [KIND|server] NAMES`` at ``i`` ends (``i`` when none is there)."""
    the = i < len(toks) and toks[i].low == "the"
    j = i + the
    noun = j < len(toks) and (toks[j].low in KIND_WORDS or toks[j].low in introduced.NOUNS)
    j += noun
    end = _names(toks, j)
    if the and not noun and not all(
            any(ch.isdigit() or ch == "-" for ch in t.low) for t in toks[j:end] if t.low not in (
                ",", "and")):
        return i  # "the kids": English, not a guest (a name after "the" needs its kind)
    return end if end > j else i


def _spoken(toks: list[Token]) -> list[Token]:
    out: list[Token] = []
    for t in toks:
        if not t.quoted and t.low == "comma":
            out.append(_word(t, ","))
        else:
            out.append(t)
    low = [t.low for t in out]
    for words in (("period",), ("full", "stop")):
        if len(out) > len(words) + 1 and tuple(low[-len(words):]) == words and not any(
                t.quoted for t in out[-len(words):]):
            return out[:-len(words)]
    return out


def _opened(toks: list[Token], low: list[str]) -> list[Token]:
    for words in ASKS if low[0] in _ASK_FIRST else ():
        if _starts(low, words) and len(toks) > len(words) + 1:
            rest = toks[len(words):]
            return rest[:-1] if rest[-1].low == "?" else rest
    if low[0] == "have" and len(low) > 2 and low[1] in ("a", "an"):
        return [_word(toks[0], DROPPED), *toks[1:]]  # "(We would like to) have a VM ..."
    if low[0] in _MODALS and low[1] not in _ASKERS:
        k = next((k for k in range(2, min(len(low) - 1, 8)) if low[k] in ("have", "get", "be")),
                 0)
        subject = toks[1:k]
        if k and low[k] == "be" and low[k + 1] not in _DONE_TO:
            k = 0  # "Could web-1 be a VM?": a question, not a request
        if k and (_guest_at(toks, 1) == k or introduced.rewrite(subject) is not subject):
            body = toks[1:-1] if low[-1] == "?" else toks[1:]  # "Can the x server have"
            verb = [_word(body[k - 1], "gets")] if low[k] != "be" else [
                _word(toks[0], "should"), body[k - 1]]  # "Could the guest x be shut down?"
            return [*body[:k - 1], *verb, *body[k:]]
    for i in range(min(len(low) - 3, 6)):  # "make for me a container ...": for whom
        if low[i] in _MAKES_FOR and low[i + 1] == "for" and low[i + 2] in ("me", "us") and (
                low[i + 3] in ("a", "an")):
            return [*toks[:i + 1], *toks[i + 3:]]
    return toks


def _guest_first(toks: list[Token], low: list[str]) -> list[Token]:
    if low[0] == "for":
        j = introduced.description_end(toks, 1 + (low[1] == "the"))
        j += j < len(low) and low[j] in introduced.NOUNS
        j += j < len(low) and low[j] == ","
        j += j < len(low) and low[j] == "please"
        if j > 2 and j + 1 < len(low) and low[j] in _MAKES and low[j + 1] in ("a", "an"):
            return toks[j:]  # "For the RSVP app please make a VM named x": what it is for
        end = _guest_at(toks, 1)
        if end > 1 and end + 1 < len(low):
            j = end + (low[end] == ",")
            j += low[j] == "please"
            if j < len(low) and low[j] in _GIVES and j + 1 < len(low) and not _name(toks[j + 1]):
                guest = [t for t in toks[1:end] if t.low not in introduced.NOUNS]
                return [toks[j], *guest, *toks[j + 1:]]  # "For server x please give ..."
    if low[0] == "add" and low[1] in ("to", "for"):
        end = _guest_at(toks, 2)
        if end > 2 and end < len(low) and low[end] in ("the", "a", "an", ":", ","):
            rest = toks[end + (low[end] in (":", ",")):]
            return [*toks[2:end], _word(toks[1], ","), *rest]  # "add to VM x the ssh key"
    if low[0] in ("add", "put", "set") and len(low) > 5:
        k = 2
        j = k + (low[k] == "as") + (low[k + 1] in ("a", "the"))
        if low[k] == "as" and j < len(low) and low[j] in ("tag", "label") and (
                j + 1 < len(low) and low[j + 1] in ("on", "to", "for")):
            end = _guest_at(toks, j + 2)
            if end == len(low) and end > j + 2:  # "Add 'photos' as a tag on a and b"
                return [*toks[j + 2:end], _word(toks[j], "tagged"), toks[1]]
    return toks


#: how a name is given after the guest's kind ("..., call it x", "..., the name is x")
_NAMINGS: tuple[tuple[str, ...], ...] = (
    (",", "call", "it"), (",", "name", "it"), (",", "the", "name", "is"), (",", "name", ":"),
    (",", "to", "be", "called"), (",", "to", "be", "named"))
#: how a described guest is said to be the one named ("should be called x", "is x")
_COPULAS: tuple[tuple[str, ...], ...] = (
    *((*verb, called) for verb in (("should", "be"), ("will", "be"), ("shall", "be"),
                                   ("must", "be"), ("is",)) for called in ("called", "named")),
    ("is",))


def _named_later(toks: list[Token], low: list[str]) -> list[Token]:
    if low[1] in ("is", ",", ":") and _name(toks[0]):
        return toks  # "guest-0 is a VM ...": named first
    for i in range(len(low) - 4):
        if low[i] not in ("a", "an") or not (low[i + 1] in KIND_WORDS or low[i + 2] in KIND_WORDS
                                             or low[i + 3] in KIND_WORDS):
            continue
        kind = introduced.description_end(toks, i + 1)
        if kind >= len(low) or low[kind] not in KIND_WORDS:
            continue
        j = kind + 1
        if j + 1 < len(low) and low[j] == "for":
            j = introduced.description_end(toks, j + 1 + (low[j + 1] == "the"))
        for words in _NAMINGS:
            n = len(words)
            if _starts(low, words, j) and _name(toks[j + n] if j + n < len(toks) else None):
                named = _word(toks[j + 1], "named")
                return [*toks[:i + 1], toks[kind], named, *toks[j + n:]]  # ", call it x"
        if j > kind + 1 and low[j:j + 1] == [":"] and _name(toks[j + 1] if j + 1 < len(
                toks) else None) and (j + 2 == len(low) or low[j + 2] == ","):
            named = _word(toks[j], "named")  # "Create a dev VM for the new hire: dev-maria"
            return [*toks[:i + 1], toks[kind], named, *toks[j + 1:]]
        break
    start = 1 if low[0] in ("my", "our", "the") else 0
    end = introduced.description_end(toks, start)
    nouns = introduced.NOUNS | KIND_WORDS.keys()
    noun = toks[end] if end < len(low) and low[end] in nouns else None
    end += noun is not None
    if end + 1 < len(low) and low[end] == "for":  # "My new site for 2027", "... for the shop"
        year = bool(re.match(r"^(19|20)\d\d$", low[end + 1]))
        end = end + 2 if year else introduced.description_end(
            toks, end + 1 + (low[end + 1] == "the"))
    if end == start or (noun is None and end - start < 2 and start == 0) or (
            end >= len(low) or low[end] not in ("is", "should", "will", "shall", "must")):
        return toks
    for words in _COPULAS:
        n = len(words)
        k = end + n
        if not _starts(low, words, end) or k >= len(low) or not _name(toks[k]) or (
                k + 1 < len(low) and low[k + 1] not in (",", ":", "-")):
            continue
        if words == ("is",) and not any(ch.isdigit() or ch == "-" for ch in low[k]):
            return toks  # "The wiki is wiki": which word is the name?
        if noun is not None and noun.low in KIND_WORDS and k + 1 == len(low):
            line = noun.line  # "The photo backup container is called photos."
            return [toks[k], Token("is", "is", line), Token("a", "a", line), noun]
        return toks[k:]  # "My new site for 2027 should be called bloom-2027, ..."
    return toks


def _reported(toks: list[Token], low: list[str]) -> list[Token]:
    """``My nephew set up a VM called x``: the report, without who made it."""
    i = 0
    if low[0] in ("i", "we"):
        i = 1
    elif low[0] in ("my", "our") and len(low) > 4:
        i = introduced.description_end(toks, 1)  # "My nephew", "Our new intern"
    if i == 0:
        return toks
    for verb in _CREATED:
        n = len(verb)
        if _starts(low, verb, i) and i + n + 1 < len(low) and low[i + n] in ("a", "an") and (
                low[i + n + 1] in KIND_WORDS):
            return toks[i:]
    return toks


def _reason_then_action(toks: list[Token], low: list[str]) -> list[Token]:
    """``do not need the x VM, turn it off``: the action on it."""
    i = 1 if low[0] in ("i", "we") else 0
    if not _starts(low, ("do", "not", "need"), i):
        return toks
    j = i + 3
    found = introduced.rewrite(toks[j:]) if low[j] == "the" else toks[j:]
    k = _guest_at(found, 0)
    if k == 0 or k + 3 > len(found) or found[k].low != ",":
        return toks
    verb, it = found[k + 1], found[k + 2]
    if it.low != "it" or verb.quoted or verb.low not in _UNNEEDED:
        return toks  # "do not need x, keep it running" says two things: refused
    rest = found[k + 3:]
    particle = [rest[0]] if rest and rest[0].low in _PARTICLES else []
    if verb.low in ("turn", "shut", "switch", "power") and [p.low for p in particle] not in (
            ["off"], ["down"]):
        return toks
    return [verb, *particle, *found[:k], *rest[len(particle):]]


def _key_described(toks: list[Token], low: list[str]) -> list[Token]:
    """``Add the MSP jump host key to x: ssh-rsa ...``: the described key is the SSH key."""
    if "key" not in low:
        return toks
    kk = low.index("key")
    if not any(t.text.startswith(("ssh-", "ecdsa-", "sk-")) for t in toks[kk + 1:kk + 9]):
        return toks
    d = kk
    while d > 0 and low[d - 1] not in _KEY_OWNERS and _WORDS_RE.match(toks[d - 1].text) and (
            not is_vocab(low[d - 1].removesuffix("'s")) or low[d - 1] in _KEY_WORDS):
        d -= 1  # "the MSP jump host key"; never "my root key" (root means something)
    if d == kk or d == 0 or kk - d > 4 or low[d - 1] not in _KEY_OWNERS:
        return toks
    line = toks[kk].line
    return [*toks[:d - 1], Token("the", "the", line), Token("ssh", "ssh", line), *toks[kk:]]


def _ordinal(toks: list[Token], low: list[str]) -> list[Token]:
    out = toks
    for i in range(len(low) - 3):
        if low[i] in ("a", "an") and low[i + 1] in _ORDINALS and low[i + 2] in KIND_WORDS and (
                low[i + 3] in ("named", "called")):
            out = [*toks[:i + 1], _word(toks[i + 1], DROPPED), *toks[i + 2:]]
            break
    low = [t.low for t in out]
    for i in range(len(low) - 2):  # "Add another container named x": a container
        if low[i] == "another" and low[i + 1] in KIND_WORDS and low[i + 2] in ("named", "called"):
            out = [*out[:i], _word(out[i], "a"), *out[i + 1:]]
            break
    return out


def _symbol(t: Token) -> bool:
    return not t.quoted and bool(t.text) and all(
        unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") for ch in t.text)


def _evaluated(toks: list[Token], low: list[str]) -> list[Token]:
    """``1 GB ram is plenty``, ``..., it is enough``: the amount stated, then judged."""
    n = len(low)
    if n > 4 and low[-1] == "do" and low[-2] in ("should", "will", "would"):
        k = n - 2  # "2 cores 4gb should do"
    elif n < 4 or low[-1] not in _EVALUATIONS:
        return toks
    else:
        k = n - 2 - (low[-2] == "be" and n > 4 and low[-3] in ("should", "will", "would"))
    if low[k] not in ("is", "be", "should", "will", "would"):
        return toks
    k -= low[k] == "be"
    if low[k - 1] in ("it", "that") and k > 2 and low[k - 2] == ",":
        k -= 2  # "..., it is enough"
    before = low[max(0, k - 5):k]
    if not any(w[:1].isdigit() or w in ("half", "one", "two", "four", "eight") for w in before):
        return toks  # the judgement of no stated amount ("RAM is enough") stays refused
    return toks[:k]


def _virtual(toks: list[Token]) -> list[Token]:
    """``a virtual machine``: one kind word, ``a vm`` (the shapes here read one word)."""
    for i in range(len(toks) - 2):
        if toks[i].low in ("a", "an", "the") and [t.low for t in toks[i + 1:i + 3]] == [
                "virtual", "machine"]:
            kind = Token(f"{toks[i + 1].text} {toks[i + 2].text}", "vm", toks[i + 1].line)
            return [*toks[:i + 1], kind, *toks[i + 3:]]
    return toks


#: the words that may start a shape of each step (a sentence with none skips the step)
_GATES: tuple[tuple[Callable[[list[Token], list[str]], list[Token]], frozenset[str]], ...] = (
    (_evaluated, _EVALUATIONS | {"do"}),
    (_opened, frozenset({"i", "we", "is", "would", "have", "for", *_MODALS})),
    (_guest_first, frozenset({"for", "add", "put", "set"})),
    (_named_later, frozenset({"call", "name", "called", "named", "is", ":"})),
    (_reported, frozenset({"i", "we", "my", "our"})),
    (_reason_then_action, frozenset({"need"})),
    (_key_described, frozenset({"key"})),
    (_ordinal, _ORDINALS))


def reframe(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the request framings of the module's docstring read."""
    while len(tokens) > 2 and _symbol(tokens[-1]):
        tokens = tokens[:-1]  # "... four gigs of RAM 🥂": an emoji closing the sentence
    if len(tokens) < 3:
        return tokens
    words = {t.low for t in tokens if not t.quoted}
    toks = _spoken(tokens) if not words.isdisjoint(("comma", "period", "stop")) else tokens
    toks = _virtual(toks) if "virtual" in words else toks
    low = [t.low if not t.quoted else "\0" for t in toks]
    for step, gate in _GATES:
        if len(toks) < 3:
            break
        if words.isdisjoint(gate):
            continue
        found = step(toks, low)
        if found is not toks:
            toks = found
            low = [t.low if not t.quoted else "\0" for t in toks]
    return [t for t in toks if t.low != DROPPED]
