"""Finding a clause's subject: which guests a sentence is about.

``web-1``, ``web-1 and web-2``, ``web-1 through web-3``, ``it``/``they`` (the last
subject of the paragraph), ``the VM old-test``, ``Create three web servers named ...``,
``Remove the VM x``, ``Its network net1 ...``. Separate from the attribute phrases
because the subject decides what the phrases apply to, and its mistakes (an ambiguous
``it``, a count that does not match the names) have their own messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mycopod import spec as specmod
from mycopod.declarations.grammar.lexicon import (
    CREATE_PREFIXES,
    GENERIC_NOUNS,
    IMPERATIVE_VERBS,
    KIND_WORDS,
    NAME_WORDS,
    NODE_WORDS,
    PRONOUNS,
    ROLE_WORDS,
    SUBJECT_VERBS,
    UNEXPRESSIBLE,
    UNITS,
    is_vocab,
)
from mycopod.declarations.grammar.names import (
    NAMEISH_RE,
    SLOT_NAME_RE,
    is_nameish,
    list_end,
    read_names,
)
from mycopod.declarations.grammar.phrases import kind_noun
from mycopod.declarations.grammar.quantities import read_number, to_int
from mycopod.declarations.grammar.tokens import Cursor, SentenceError, Token, sentence_text


@dataclass
class Subject:
    names: list[str]
    line: int
    kind: str | None = None
    introduced: bool = False
    net_slot: str | None = None
    pronoun: bool = False
    #: set when the previous sentence spoke of several guests: "it" would be a guess
    ambiguous: bool = False
    #: introduced by a verb alone, no article, count or "named" ("Make the VMs faster"):
    #: with nothing stated, no evidence of a guest (:mod:`.soundness`)
    bare: bool = False


def _refer(last: Subject | None, word: Token, line: int) -> list[str]:
    """The guests ``it``/``they``/``its`` stand for: the last subject, if there is one."""
    if last is None:
        raise SentenceError(line, f"{word.text!r} does not refer to any guest in this "
                                  "paragraph; name the guest")
    if last.ambiguous:
        raise SentenceError(line, f"{word.text!r} could mean any of {', '.join(last.names)} "
                                  "(the sentence before speaks of several); name the guest")
    return list(last.names)


#: the creation prefixes by their first word, in their order (longest first)
_PREFIXES_BY_FIRST: dict[str, tuple[tuple[str, ...], ...]] = {
    first: tuple(p for p in CREATE_PREFIXES if p[0] == first)
    for first in {p[0] for p in CREATE_PREFIXES}}


def read_subject(c: Cursor, last: Subject | None) -> Subject | None:
    """Parse the subject at the start of a clause; None when the clause has none."""
    line = c.line
    c.skip(frozenset({"please", "also", "then", "and", ",", "finally", "additionally"}))
    if c.take("make", "sure") or c.opt("ensure"):
        c.opt("that")
    start = c.i
    w = c.w()
    # network sentence: "Its network net1 is on bridge vmbr1 ..."
    if w in ("its", "their", "the") and c.w(1) in ("network", "nic"):
        c.i += 2
        c.opt("interface", "device", "card", "adapter")
        slot = "net0"
        if re.match(r"^net\d+$", c.w()):
            slot = c.toks[c.i].low
            c.i += 1
        if not specmod.NET_SLOT_RE.match(slot):
            raise SentenceError(line, f"{slot!r} is not a network slot (net0 .. net31)")
        if c.opt("of", "for"):
            names = read_names(c, first_literal=False)
        else:
            names = _refer(last, c.toks[start], line)
        return Subject(names, line, net_slot=slot)
    if w in PRONOUNS or (w in ("its", "their") and last is not None):
        c.i += 1
        return Subject(_refer(last, c.toks[start], line), line, pronoun=True)
    # creation: "Create three web servers named web-1 through web-3", "A VM named scratch"
    verb = False
    for prefix in _PREFIXES_BY_FIRST.get(w, ()):
        if c.take(*prefix):
            verb = True
            break
    if verb and is_nameish(c.tok()) and c.w(1) not in ("server", "servers", "guest", "guests"):
        # "We need db-1, a VM with ...", "I want web-1 to be a VM"
        names = read_names(c, first_literal=False)
        if names:
            c.opt(",", ":", "\u2014", "\u2013")
            return Subject(names, line)
    count: int | None = None
    # "Create the container x" reads "a container" (.objects), but "the" is no article
    # of a new guest by itself: with nothing stated, "Make the VM faster" is refused
    here = c.tok()
    definite = here is not None and here.text.lower() == "the"
    article = c.opt("a", "an") is not None
    num_start = c.i
    if not article:
        num = read_number(c)
        if num is not None:
            if num[1] is not None or c.w() in UNITS:
                c.i = num_start
            else:
                count = to_int(num[0], line, "the number of guests")
    while c.w() in ROLE_WORDS and (c.w(1) in GENERIC_NOUNS or c.w(1) in ROLE_WORDS):
        c.i += 1
    if verb or article or count is not None:
        _skip_description(c)
    kind = kind_noun(c)
    generic = False
    if kind is None and c.opt(*GENERIC_NOUNS):
        generic = True
    elif kind is None and count is not None and c.w() in _COUNTED_NOUNS and (
            c.w(1) in _APPOSITION or c.w(1) in ("named", "called")):
        c.i += 1  # "3 runners (gh-runner-1, ...)": what they are for, their kind unsaid
        generic = True
    if kind is not None or generic:
        introduced = verb or article or count is not None
        bare = verb and (not article or definite) and count is None
        if c.opt("named", "called"):
            bare = False
            names = read_names(c, first_literal=True)
        elif is_nameish(c.tok()):
            names = read_names(c, first_literal=False)
        elif c.w() in _APPOSITION and is_nameish(c.tok(1)):
            # "two VMs, ansible-1 and ansible-2, each with", "a database server: db-1, a VM"
            opened = c.w()
            c.i += 1
            names = read_names(c, first_literal=False)
            c.opt(_CLOSING.get(opened, ","), ",", "\u2014", "\u2013")
        else:
            names = []
        if not names:
            if introduced or generic:
                raise SentenceError(
                    line, "a guest needs a name: write it right after the kind, like 'a VM "
                    "named web-1' or 'web-1 is a VM'")
            c.i = start
        else:
            if count is not None and count != len(names):
                raise SentenceError(line, f"{count} guests are announced but {len(names)} "
                                          f"named ({', '.join(names)})")
            return Subject(names, line, kind=kind, introduced=introduced, bare=bare)
    c.i = start
    if verb or article or count is not None:
        raise SentenceError(line, "expected the kind of guest and its name here, like "
                                  "'a VM named web-1' or 'three containers named ct-1 "
                                  f"through ct-3' (in \"{sentence_text(c.toks)}\")")
    # imperative with an object: "Start it on boot", "Remove the VM old-test"
    if w in IMPERATIVE_VERBS or (w == "get" and c.w(1) == "rid" and c.w(2) == "of"):
        verb_end = c.i + 1
        if w in ("shut", "power", "turn", "switch") and c.w(1) in ("down", "off", "on"):
            verb_end += 1
        elif w == "get":
            verb_end += 2
        probe = Cursor(c.toks, verb_end)
        obj = probe.w()
        if obj in NODE_WORDS:
            raise SentenceError(line, UNEXPRESSIBLE["reboot"])
        if obj in PRONOUNS:
            subject = Subject(_refer(last, probe.toks[probe.i], line), line)
            del c.toks[verb_end]
            return subject
        if (obj == "the" and probe.w(1) in KIND_WORDS) or obj in KIND_WORDS:
            probe.opt("the")
            kind = kind_noun(probe)
            names = read_names(probe, first_literal=False)
            if names:
                del c.toks[verb_end:probe.i]
                return Subject(names, line, kind=kind)
        if is_nameish(probe.tok()) and w not in ("tag", "label"):
            names = read_names(probe, first_literal=False)
            if names:
                del c.toks[verb_end:probe.i]
                return Subject(names, line)
        if w in ("authorize", "authorise", "allow", "enable", "disable", "attach", "insert",
                 "bind-mount", "protect", "connect") and last is not None:
            return Subject(_refer(last, c.toks[c.i], line), line)
        raise SentenceError(line, f"expected 'it', 'them' or a guest's name after "
                                  f"{c.toks[c.i].text!r} in \"{sentence_text(c.toks)}\"")
    # a reference with its kind: "The VM old-test ..."
    if w == "the":
        c.i += 1
        kind = kind_noun(c)
        if kind is not None:
            names = read_names(c, first_literal=False)
            if names:
                return Subject(names, line, kind=kind)
        c.i = start
        return None
    # a name (list): "web-1 is ...", "k3s-1 and k3s-2 are ..."
    t = c.tok()
    if t is not None and not t.quoted and not is_vocab(t.low) and NAMEISH_RE.match(
            t.text) and not SLOT_NAME_RE.match(t.low):  # "net1 gets no IP": a card
        names = read_names(c, first_literal=True)
        return Subject(names, line)
    if t is not None and t.low in NAME_WORDS:
        # a name that is also a word ("backup is a VM"): only when its verb follows, or
        # a colon and its kind ("cache: CT, 2 cores", "backup: a VM with ...")
        end = list_end(c)
        after = end - c.i if end is not None else 0
        if end is not None and ((c.w(after) in SUBJECT_VERBS and c.w(after) != ",") or (
                c.w(after) == ":" and (c.w(after + 1) in KIND_WORDS or (
                    c.w(after + 1) in ("a", "an") and c.w(after + 2) in KIND_WORDS)))):
            return Subject(read_names(c, first_literal=True), line)
    return None


#: nouns a counted list of new guests may be announced with ("3 runners (a, b, c)")
_COUNTED_NOUNS = frozenset({"runners", "workers", "agents", "replicas", "instances",
                            "boxes", "machines", "builders"})
#: most words that may describe a new guest before its kind ("a new postgres container")
_MAX_DESCRIBING = 2


def _describing(t: Token | None) -> bool:
    """A word of plain letters the grammar gives no meaning to ("postgres", "new")."""
    return t is not None and not t.quoted and t.text.isalpha() and not is_vocab(t.low)


def _skip_description(c: Cursor) -> None:
    """Step over ``new postgres`` in ``a new postgres container pg-dev``: at most
    :data:`_MAX_DESCRIBING` plain words, only when a kind and then the guest's name
    follow (``named``/``called`` NAME, or the name itself), so the words only describe."""
    start = c.i
    while c.i - start < _MAX_DESCRIBING and _describing(c.tok()):
        c.i += 1
    words_end = c.i
    named = words_end > start and kind_noun(c) is not None and (
        c.w() in ("named", "called") or is_nameish(c.tok()))
    c.i = words_end if named else start


#: what may stand between "two VMs" and the names it announces, and what closes it
_APPOSITION = frozenset({",", ":", "\u2014", "\u2013", "(", "--"})
_CLOSING = {"(": ")", "\u2014": "\u2014", "\u2013": "\u2013", "--": "--"}
