"""One sentence at a time: clauses, unplaced words, and the file's drafts.

A sentence is split into clauses (a subject, then attribute phrases in any order, with
only filler words between them); every word that no phrase takes is "unplaced" and makes
the sentence an error that quotes it and says what was expected. This is where the
grammar accounts for every word, so it is kept together with the error wording, and
apart from the phrases themselves.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

from mycopod import spec as specmod
from mycopod.declarations.errors import CompileIssue
from mycopod.declarations.grammar import context
from mycopod.declarations.grammar.dispatch import is_numberish, phrases_at
from mycopod.declarations.grammar.drafts import Draft, Effect
from mycopod.declarations.grammar.english import COMMON_ENGLISH, edits
from mycopod.declarations.grammar.idioms import normalize, reorder
from mycopod.declarations.grammar.lexicon import (
    CREATE_VERBS,
    FILLERS,
    GLUED_RE,
    NUMBER_RE,
    PHRASE_ONLY_WORDS,
    ROLE_WORDS,
    SMALL_NUMBERS,
    TENS,
    UNEXPRESSIBLE,
    VOCABULARY,
)
from mycopod.declarations.grammar.names import is_nameish, starts_clause
from mycopod.declarations.grammar.networking import on_slot
from mycopod.declarations.grammar.nicopts import NET_PHRASES
from mycopod.declarations.grammar.objects import rewrite
from mycopod.declarations.grammar.phrases import PHRASES, p_kind
from mycopod.declarations.grammar.places import Places
from mycopod.declarations.grammar.soundness import check_stated
from mycopod.declarations.grammar.subjects import Subject, read_subject
from mycopod.declarations.grammar.tokens import (
    SHOWN_CHARS,
    Cursor,
    SentenceError,
    SentenceTokens,
    Token,
    sentence_text,
)


@dataclass
class _Clause:
    subject: Subject
    effects: list[Effect]
    unplaced: list[list[Token]]
    #: the clause says what the guest is ("web-1 is a VM"): it declares the guest
    declares: bool = False
    #: effects of the subject itself ("the VM web-1": its kind), before the phrases'
    base: int = 0
    #: the first word after the subject (its verb, if any)
    verb: str = ""


def _expected(tokens: list[Token], c: Cursor) -> str:
    """What to say after quoting the unplaced words ``tokens``.

    A typo is looked for in the first few unknown words only: each look costs about a
    millisecond, and a sentence of 40,000 unknown words must be refused in milliseconds.
    """
    hint = _expectation(tokens)
    looked = 0
    for t in tokens:
        if t.quoted or t.low in VOCABULARY or len(t.low) < 4:
            continue
        if looked == _TYPO_WORDS:
            break
        looked += 1
        close = _close_word(t.low)
        if close is not None and not _free_value(t, c):
            return f"{hint} (did you mean {close!r} instead of {_clip(t.text)!r}?)"
    return hint


#: words after which (one or two words on) any word is a value: a tag, a name, a label
_FREE_BEFORE = frozenset({"tag", "tagged", "tags", "label", "labels", "labelled", "labeled",
                          "named", "called", "pool"})


def _free_value(t: Token, c: Cursor) -> bool:
    """Does ``t`` stand one or two words after a word of :data:`_FREE_BEFORE` ("tag it
    bots")? Then it is a value, never offered as a typo of a keyword."""
    for k, other in enumerate(c.toks):
        if other is t:
            return any(x.low in _FREE_BEFORE for x in c.toks[max(0, k - 2):k])
    return False


#: words worth suggesting for a typo
_SUGGESTIONS = sorted(w for w in VOCABULARY if len(w) >= 3 and w.isalpha() and w not in FILLERS)
#: how many unknown words of an unplaced group are checked for a typo
_TYPO_WORDS = 3


@functools.lru_cache(maxsize=1024)
def _close_word(word: str) -> str | None:
    """The vocabulary word ``word`` is most likely a typo of, if any."""
    if word in COMMON_ENGLISH or not word.replace("-", "").isalpha():
        return None  # plain English ("eight" is no "weight"), a path ("/data"), a number
    close = difflib.get_close_matches(word, _SUGGESTIONS, n=1, cutoff=0.8)
    return close[0] if close and edits(word, close[0]) <= 2 else None


def _clip(text: str) -> str:
    """A value quoted in a message, cut short if it is long."""
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def _expectation(tokens: list[Token]) -> str:
    first = tokens[0].low
    for t in tokens:
        if t.low in UNEXPRESSIBLE:
            return UNEXPRESSIBLE[t.low]
    if first == "on" and len(tokens) == 2 and not tokens[1].quoted:
        n = tokens[1].text  # a bare place, and no cluster names known to read it through
        return (f"whether {n!r} is a node, a storage, a bridge or a pool is known only from "
                f"the cluster's names; write 'on node {n}', 'on storage {n}', 'on bridge "
                f"{n}' or 'in pool {n}'")
    if first == "on" or first == "in":
        return ("expected 'on node NAME', 'on storage NAME', 'on bridge NAME', 'on VLAN N' or "
                "'in pool NAME'")
    if NUMBER_RE.match(first) or first in SMALL_NUMBERS or first in TENS or GLUED_RE.match(first):
        return ("expected a number with what it measures, like '2 cores', '4 GB of RAM' or "
                "'a 32 GB disk' (units: MB, GB, TB)")
    if first == "not" or first == "no":
        return ("a negation is only understood in 'should not exist', 'not running', "
                "'no firewall', 'no disks', 'no network', 'not on boot'")
    return ("expected an attribute such as '2 cores', '4 GB of RAM', 'a 32 GB disk on "
            "local-lvm', 'on node pve1', 'on VLAN 30', 'tagged web', 'running' or 'stopped'")


#: filler words that also begin phrases ("with the description", "to node", "a clone of")
_PHRASE_FILLERS = frozenset({"a", "an", "the", "to", "using", "with", "put", "be", "is",
                             "are", "have", "it", "must", "and", ",", ":"})
_PURE_FILLERS = FILLERS - _PHRASE_FILLERS


def _may_start_phrase(t: Token) -> bool:
    """Cheap test before trying every phrase: only words of the grammar and numbers can."""
    w = t.low
    if t.quoted or w in _PURE_FILLERS:
        return False
    return (w in VOCABULARY or w.startswith("vlan") or is_numberish(w)
            or w in PHRASE_ONLY_WORDS or w in ROLE_WORDS)


def _parse_attributes(c: Cursor, subject: Subject) -> _Clause:
    effects: list[Effect] = []
    unplaced: list[list[Token]] = []
    group: list[Token] = []
    declares = False
    slot = subject.net_slot
    if subject.kind is not None:
        effects.append(functools.partial(Draft.set_kind, kind=subject.kind,
                                         line=subject.line))
    base = len(effects)
    verb = c.w()
    while not c.done():
        w = c.w()
        if w in (",", "and") and starts_clause(Cursor(c.toks, c.i + 1)):
            c.i += 1
            break
        matched = False
        if not _may_start_phrase(c.toks[c.i]):
            pass  # a name, an unknown word or a pure filler: no phrase starts here
        elif slot is not None:
            for net_phrase in NET_PHRASES:
                eff = net_phrase(c)
                if eff is not None:
                    effects.append(functools.partial(on_slot, eff, slot))
                    matched = True
                    break
        else:
            for phrase in phrases_at(c):
                found = phrase(c)
                if found is not None:
                    effects.extend(found)
                    matched = True
                    declares = declares or phrase is p_kind
                    break
        if matched:
            if group:
                unplaced.append(_trim(group))
                group = []
            continue
        if w in FILLERS and not group:
            c.i += 1
            continue
        group.append(c.toks[c.i])
        c.i += 1
    if group:
        unplaced.append(_trim(group))
    return _Clause(subject, effects, unplaced, declares and not subject.pronoun, base, verb)


def _trim(group: list[Token]) -> list[Token]:
    """An unplaced group without the filler words at its end."""
    end = len(group)
    while end > 1 and group[end - 1].low in FILLERS:
        end -= 1
    return group[:end]


#: a file stops compiling after this many problems (a compiler that lists 40,000 errors
#: for a file of junk spends seconds on a message nobody reads)
MAX_ISSUES = 50
#: longest message kept whole; longer ones keep their start and their end
MAX_MESSAGE = 2000


@dataclass
class FileState:
    filename: str
    places: Places | None = None
    drafts: dict[str, Draft] = field(default_factory=dict)
    issues: list[CompileIssue] = field(default_factory=list)
    sentences: int = 0
    dropped: list[tuple[int, str]] = field(default_factory=list)  # read as saying nothing
    ignored: list[tuple[int, str]] = field(default_factory=list)  # reported: "ignored as ..."
    listed: bool = False  # the sentence is an item a lead-in filled (.soundness)

    def error(self, line: int, message: str) -> None:
        if len(message) > MAX_MESSAGE:
            message = f"{message[:MAX_MESSAGE // 2]} … {message[-MAX_MESSAGE // 4:]}"
        self.issues.append(CompileIssue(self.filename, line, message))

    @property
    def full(self) -> bool:
        """Enough problems are reported: compiling more of the file is wasted."""
        return len(self.issues) >= MAX_ISSUES


def _apply(state: FileState, clause: _Clause, sentence: int) -> None:
    subject = clause.subject
    for name in subject.names:
        draft = state.drafts.get(name)
        if draft is None:
            draft = state.drafts[name] = Draft(name, subject.line)
        if subject.introduced or clause.declares:
            if draft.declared is not None and draft.declared_in != sentence:
                raise SentenceError(
                    subject.line, f"{name} is declared twice: line {draft.declared} and "
                                  f"line {subject.line}")
            draft.declared = subject.line
            draft.declared_in = sentence
        for effect in clause.effects:
            effect(draft)


#: words that open a subject right after a fronted phrase ("On pve2 we need ...")
_SUBJECT_OPENERS = frozenset({"we", "i", "there", "please", *CREATE_VERBS})


def _fronted_node(c: Cursor) -> list[Effect] | None:
    """``On pve2 we need ...``, ``Running on pve2: a VM called ...``: a bare ``on NAME``
    before the subject places the guest (``running on`` there says where, not a state)."""
    at = 1 if c.w() in ("running", "hosted") else 0
    t = c.tok(at + 1)
    if c.w(at) != "on" or not is_nameish(t) or t is None or re.match(r"^vmbr\d+$", t.low) or (
            not re.search(r"[\d-]", t.low)) or (  # "On approval, stop x": no node name
            c.w(at + 2) not in _SUBJECT_OPENERS and c.w(at + 2) not in (",", ":")) or (
            at and c.w(at + 2) != ":"):
        return None
    c.i += at + 2
    node, line = t.text, t.line
    if not specmod.NODE_RE.match(node):
        raise SentenceError(line, f"{node!r} is not a valid node name")
    return [functools.partial(Draft.set, key="node", value=node, line=line)]


def _leading_phrases(c: Cursor) -> list[Effect]:
    """Attribute phrases before the subject, each followed by a comma, ``and`` or the
    words that open a subject (``On node pve2 we need a container called dns-1``)."""
    effects: list[Effect] = []
    while not c.done():
        if c.w() in ("with", "and", ",", ":"):
            c.i += 1
            continue
        save = c.i
        fronted = _fronted_node(c)
        if fronted is not None:
            effects.extend(fronted)
            continue
        for phrase in PHRASES:
            if phrase is p_kind:
                continue
            try:
                found = phrase(c)
            except SentenceError:
                c.i = save
                return effects
            if found is not None:
                effects.extend(found)
                break
        else:
            return effects
        if c.w() not in (",", "and", ":") and c.w() not in _SUBJECT_OPENERS:
            c.i = save
            effects = effects[: len(effects) - len(found)]
            return effects
    return effects


def compile_sentence(state: FileState, tokens: list[Token], last: Subject | None, *,
                     topic: Subject | None = None, kept: list[Token] | None = None
                     ) -> Subject | None:
    """Compile one sentence into the file's drafts; return the subject ``it`` refers to.

    ``topic``: the guest a heading above names; a sentence without a subject of its own
    (``A VM with 4 cores.``, ``Runs on node pve1.``) is about it. ``kept``: what
    :func:`.openers.strip_courtesy` made of ``tokens``, when the caller has it already.
    """
    said = tokens
    tokens = context.drop(context.courtesy(tokens, state.ignored, kept), state.ignored)
    tokens = context.asides(normalize(tokens), state.ignored)
    tokens = reorder(context.described(tokens, rewrite(tokens), state.ignored))
    if not tokens:  # an aside only ("It has been replaced by the new one.")
        state.dropped.append((said[0].line, sentence_text(said)))
        return last
    c = Cursor(SentenceTokens(tokens, state.places))
    clauses: list[_Clause] = []
    had_leading = False
    while not c.done():
        before = c.i
        leading: list[Effect] = []
        # a fragment ("Create VM erp-2. 4 cores. 8 GB memory.") continues the guest of
        # the sentence before it in the same paragraph, as a heading's prose does
        about = topic if topic is not None else (
            last if last is not None and not last.ambiguous else None)
        try:
            subject = read_subject(c, last)
        except SentenceError:
            if about is None or clauses:
                raise
            c.i = before
            subject = None
        if subject is None and about is not None and not clauses and _about_topic(c):
            c.i = before
            subject = Subject(list(about.names), c.line)
        if subject is None and not clauses:
            # free word order: attributes may come first ("On node pve1, web-1 is a VM")
            c.i = before
            leading = _leading_phrases(c)
            subject = read_subject(c, last) if leading else None
            if subject is None:
                c.i = before
        if subject is None:
            rest = c.toks[c.i:]
            if not rest:
                break
            raise SentenceError(
                c.line, f"could not find which guest this is about in "
                f"\"{sentence_text(tokens)}\"; start with the guest's name ('web-1 is a VM "
                "...'), 'A VM named ...', or 'It ...'" + _word_hint(rest)
                + _unexpressible_hint(rest))
        clause = _parse_attributes(c, subject)
        clause.effects[:0] = leading
        had_leading = had_leading or bool(leading)
        clauses.append(clause)
        last = subject
        if c.i == before:  # pragma: no cover - defensive: no progress
            break
    _share(clauses, tokens)
    if had_leading and len(clauses) > 1:
        raise SentenceError(
            tokens[0].line, "attributes written before the first guest's name would apply to "
            f"one guest only in \"{sentence_text(tokens)}\"; write them after each name")
    problems = [(cl, g) for cl in clauses for g in cl.unplaced]
    if problems:
        groups = [g for _, g in problems]
        quoted = ", ".join(f"\"{sentence_text(g)}\"" for g in groups[:_SHOWN_GROUPS])
        if len(groups) > _SHOWN_GROUPS:
            quoted += f" and {len(groups) - _SHOWN_GROUPS} more"
        raise SentenceError(
            groups[0][0].line, f"could not understand {quoted} in \"{sentence_text(tokens)}\";"
            f" {_expected(groups[0], c)}")
    check_stated([(cl.subject, cl.declares or len(cl.effects) > cl.base) for cl in clauses],
                 tokens, listed=state.listed)  # a lead-in's list names its guests
    state.sentences += 1
    for clause in clauses:
        _apply(state, clause, state.sentences)
    subjects = {tuple(cl.subject.names) for cl in clauses}
    if len(subjects) > 1:
        names = [n for cl in clauses for n in cl.subject.names]
        return Subject(list(dict.fromkeys(names)), tokens[0].line, ambiguous=True)
    return last


def _share(clauses: list[_Clause], tokens: list[Token]) -> None:
    """``The VM web-1 and the container db-1 are stopped``: a clause that is only its
    subject shares what the next clause says, when that clause's verb is plural; with
    a singular verb (``... and db-1 is stopped``) it would be a guess, so an error."""
    for k in range(len(clauses) - 2, -1, -1):
        bare, nxt = clauses[k], clauses[k + 1]
        if len(bare.effects) != bare.base or bare.unplaced or bare.subject.pronoun:
            continue
        if nxt.verb in ("is", "has", "was", "gets", "needs", "runs", "uses", "stays"):
            raise SentenceError(
                bare.subject.line, f"nothing is said about {', '.join(bare.subject.names)} "
                f"in \"{sentence_text(tokens)}\": the verb after the next name is singular; "
                "write 'are' to say it of both, or say it in a sentence of its own")
        bare.effects.extend(nxt.effects[nxt.base:])
        bare.declares = bare.declares or nxt.declares


def _about_topic(c: Cursor) -> bool:
    """Does the sentence at ``c`` start with an attribute (so it speaks of the topic)?"""
    probe = Cursor(c.toks, c.i)
    probe.skip(FILLERS)
    return not probe.done() and _may_start_phrase(probe.toks[probe.i])


#: unplaced groups quoted in one message
_SHOWN_GROUPS = 10


def _word_hint(tokens: list[Token]) -> str:
    """The sentence opens with an English word the grammar cannot start with: say so."""
    t = tokens[0]
    if t.quoted or not t.text.isalpha() or not t.text[:1].isupper():
        return ""
    return (f"; {t.text!r} reads as an English word where a guest's name was expected "
            "(guest names are lower-case)")


def _unexpressible_hint(tokens: list[Token]) -> str:
    for t in tokens:
        if t.low in UNEXPRESSIBLE:
            return f" ({UNEXPRESSIBLE[t.low]})"
    return ""
