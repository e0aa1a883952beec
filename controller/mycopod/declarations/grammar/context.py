"""Context clauses: the words around a declaration that explain or comment, by one rule.

People say why (``..., the season is over``, ``because previews are heavy``), what
happened (``we stopped that program in the spring``), or just chat (``it's just a cache
bro``, ``lol``, an emoji). One general rule, by shape, instead of phrase lists:

A sentence is cut into clauses at ``,`` ``;`` ``-`` ``--`` and the dashes, and before
``so``/``because``/``since``/``bc``. A clause is *context* when it holds

- no number (digits or number words), no unit, no quoted text, nothing name-like (a
  hyphen or a digit in a word: ``web-1``, ``qemu-user``; a capitalised compound such as
  ``Year-end`` is no name), no ``/``, ``:`` or ``@``;
- no word the grammar gives a meaning to (:func:`.lexicon.is_vocab`) except the function
  words of :data:`PLAIN` (``the``, ``is``, ``over``, ``now`` ...), and
- at least two words, or is only emoji, or is one interjection of :data:`INTERJECTIONS`;
- an action, power or deletion word (:data:`TOLD`: ``stopped``, ``put``, ``delete`` ...)
  or a ``not`` only when its subject is not the guest (``we``, ``I``, ``they``,
  ``nobody`` ...) and it tells the past or the future (``we stopped``, ``we will put it
  on again``), never the wanted state (``we want it stopped`` stays an error).

A context clause is dropped only next to a clause that is not context (the declaration),
and never when it continues a list (``tagged a, b and c``). A sentence that is all
context is dropped whole; a file that then declares nothing is refused
(:mod:`.soundness`). Nothing is dropped silently: every dropped clause is reported as
``ignored as context: '...'`` (``mycopod compile`` and ``mycopod explain`` show it).
Pure.
"""

from __future__ import annotations

import itertools

from mycopod.declarations.grammar import attributes9, boots, keeping, passive, purposed, timing
from mycopod.declarations.grammar.descriptions import NOUN_DESCRIPTIONS, describes
from mycopod.declarations.grammar.idioms import REASON_WORDS, drop_asides, normalize
from mycopod.declarations.grammar.lexicon import GENERIC_NOUNS, KIND_WORDS, ROLE_WORDS, is_vocab
from mycopod.declarations.grammar.openers import strip_courtesy
from mycopod.declarations.grammar.soundness import is_courtesy
from mycopod.declarations.grammar.tokens import Token, sentence_text

__all__ = ["CONDITIONS", "INTERJECTIONS", "PLAIN", "TIMES", "TOLD", "asides", "courtesy",
           "described", "drop", "is_context", "split"]

#: clause separators (a token each)
SEPARATORS = frozenset({",", ";", "-", "--", "\u2013", "\u2014"})
#: words that open a clause of their own (a reason or a result)
SUBORDINATORS = frozenset({"so", "because", "since", "bc", "cuz", "coz", "as"})
#: words of the grammar's vocabulary that state nothing in a clause with nothing else
PLAIN = REASON_WORDS | frozenset({
    "over", "just", "next", "so", "because", "since", "bc", "long", "time", "again",
    "am", "did", "done", "got", "get", "gets", "going", "keep", "way", "much", "very",
    "well", "oh", "ok", "okay", "btw", "honestly", "basically", "anyway", "more", "you",
    "being", "really", "only", "lot", "many", "thing", "things", "how", "while",
    "during", "before", "until", "till", "through", "about", "out", "back", "what",
    "his", "her", "he", "she", "someone", "somebody", "everyone", "anyone", "nobody",
    "nothing", "there", "go", "say", "says", "said", "like", "feature", "type", "having",
    "trust", "following",  # round 9: "I don't trust it", "Following completion, ..."
})
#: before a word of :data:`.lexicon.ROLE_WORDS`, these make it a plain noun ("a cache")
_ARTICLES = frozenset({"a", "an", "the", "my", "our", "its", "this", "that", "their"})
#: one-word clauses that are chat
INTERJECTIONS = frozenset({"lol", "haha", "hahaha", "lmao", "rofl", "yay", "phew", "ugh",
                           "meh", "yolo", "heh", "woohoo", "xd", "bro"})
#: action, power and deletion words a clause may tell of when its subject is not the
#: guest and it is in the past or the future
TOLD = frozenset({
    "stopped", "started", "deleted", "removed", "turned", "shut", "switched", "powered",
    "put", "moved", "migrated", "replaced", "killed", "nuked", "used", "use", "using",
    "uses", "need", "needs", "needed", "stop", "start", "delete", "remove", "turn",
    "switch", "power", "up", "down", "off", "on", "running", "run", "runs", "create",
    "created", "make", "made", "add", "added", "set", "build", "built", "not", "no",
    "never", "debug", "fix", "fixed", "anymore", "longer", "still", "online", "retired",
    "decommissioned", "destroyed", "wiped", "scrapped", "dropped", "finished", "ended",
})
#: a clause with one of these may say when or whether the declaration holds: never context
CONDITIONS = frozenset({"when", "until", "till", "til", "before", "after", "once", "if",
                        "unless", "whenever", "asap", "meanwhile", "then", "later", "soon",
                        "first", "afterwards", "temporarily", "tmp", "temp", "except"})
TIMES = timing.TIMES
#: request and courtesy words dropped without a report (:mod:`.openers` lists them)
_POLITE = frozenset({"please", "pls", "plz", "kindly", "thanks", "thank", "you", "thx", "ty",
                     "cheers", "hi", "hello", "hey", "ok", "okay", "lol", "haha", "so"})
#: who may be the subject of a clause that tells of an action: never the guest
_OTHERS = frozenset({"we", "i", "they", "i'm", "we're", "they're", "you're", "i've", "we've",
                     "they've", "i'll", "we'll", "they'll", "i'd", "we'd", "nobody", "no-one",
                     "someone", "somebody", "he", "she", "everyone", "people", "ppl", "the",
                     "my", "our", "their", "you", "its"})  # "its records having been moved"
#: the past or the future, in a clause of :data:`_OTHERS`
_TENSE = frozenset({"will", "shall", "going", "gonna", "did", "was", "were", "had",
                    "stopped", "started", "deleted", "removed", "turned", "shut", "switched",
                    "powered", "moved", "migrated", "replaced", "killed", "nuked", "used",
                    "created", "made", "added", "built", "fixed", "needed", "sold", "do", "retired",
                    "decommissioned", "destroyed", "wiped", "scrapped", "dropped",
                    "does", "having", "been"})
#: telling who uses the guest, in a clause of :data:`_OTHERS` with no word of
#: :data:`_WANTS` (so never "need"): context in any tense
_USES = frozenset({"use", "uses", "using", "used"})
#: the present, telling the past or the future only before an "-ing" ("is using")
_BE = frozenset({"is", "are", "am"})
#: a clause telling of an action with one of these nouns in it may be about the guest
_GUEST_NOUNS = GENERIC_NOUNS | ROLE_WORDS | frozenset(KIND_WORDS) | frozenset({
    "box", "one", "ones", "thing", "vm", "vms", "it", "them", "this", "that", "these",
    "those"})
#: words that want a state now: a clause holding one is never context
_WANTS = frozenset({"want", "wants", "should", "must", "please", "let's", "lets", "let",
                    "can", "could", "may", "might", "would", "have", "has", "shall", "keep",
                    "leave", "make", "needs", "need"})


def _capital_compound(t: Token) -> bool:
    """``Year-end``, ``Wi-Fi``: a hyphenated word with a capital, which no guest's name
    is (names are lower-case), of no word of the grammar (:mod:`.descriptions`)."""
    return t.text != t.low and describes(t) and t.low not in NOUN_DESCRIPTIONS


#: what may follow "x's" when it means "x is" ("Contest's over", "school's out")
_STATES = frozenset({"over", "done", "finished", "closed", "out", "back", "here", "gone"})


#: the days a plural subject's plan may name ("exams start monday")
_DAYS = frozenset({"today", "tonight", "tomorrow", "monday", "tuesday", "wednesday",
                   "thursday", "friday", "saturday", "sunday", "weekend"})
#: who may do a habit of :data:`_HABITS`; the habits (present tense, with a noun that
#: is no guest as their object: "we run the audit", never "we run it")
_PEOPLE = frozenset({"we", "i", "they"})
_HABITS = frozenset({"run", "do", "host", "handle", "manage"})


def _plural_subject(lows: list[str]) -> bool:
    """Does the clause open with a plural plain noun (``exams``, ``the kids``) that no
    word of the grammar and no guest's name (a digit, a hyphen) is?"""
    k = 1 if lows[0] in _ARTICLES else 0
    w = lows[k] if k < len(lows) else ""
    return len(w) > 3 and w.endswith("s") and w.isalpha() and not is_vocab(w) and (
        w not in _GUEST_NOUNS)


def _plain_noun(words: list[Token], k: int) -> bool:
    """Is the word of the grammar at ``k`` a plain noun there: a role word after an
    article (``a cache``), or a noun of :data:`.descriptions.NOUN_DESCRIPTIONS` after an
    article and at most one plain adjective (``the new system``, ``our key card``)?"""
    w = words[k].low
    if w in ROLE_WORDS:
        return k > 0 and words[k - 1].low in _ARTICLES
    if w not in NOUN_DESCRIPTIONS or k == 0:
        return False
    before = words[k - 1].low
    return before in _ARTICLES or (k > 1 and words[k - 2].low in _ARTICLES and (
        before in ("new", "old") or not is_vocab(before)))


def _copula(words: list[Token]) -> list[Token]:
    """``Contest's over`` as ``Contest is over``: the ``'s`` of a plain noun before a
    word of :data:`_STATES` is the verb, not a possessive."""
    out: list[Token] = []
    for k, t in enumerate(words):
        if (t.low.endswith("'s") and not t.quoted and k + 1 < len(words)
                and words[k + 1].low in _STATES and t.low[:-2].isalpha()
                and not is_vocab(t.low[:-2])):
            out += [Token(t.text[:-2], t.low[:-2], t.line), Token("is", "is", t.line)]
        else:
            out.append(t)
    return out


def _emoji(t: Token) -> bool:
    return (not t.text.isascii() and not t.quoted
            and not any(ch.isalnum() or ch.isascii() for ch in t.text))


def _words(clause: list[Token]) -> list[Token]:
    return [t for t in clause if not _emoji(t)]


def is_context(clause: list[Token], *, copula: bool = True) -> bool:
    """Does ``clause`` (no separators in it) state nothing about a guest (module doc)?
    ``copula``: may a word end in ``'s`` (:func:`_copula`; the caller knows it has none)."""
    words = _copula(_words(clause)) if copula else _words(clause)
    if not words:
        return bool(clause)  # emoji only
    if len(words) == 1:
        return words[0].low in INTERJECTIONS
    told: list[str] = []
    for k, t in enumerate(words):
        w = t.low
        if t.quoted or any(ch.isdigit() for ch in w) or (
                "-" in w.strip("-") and not _capital_compound(t)) or any(
                ch in w for ch in "/:@=()[]<>#|*_`\"") or w in SEPARATORS:
            return False
        if w in CONDITIONS:
            return False
        if w in TOLD or w in TIMES:
            told.append(w)
        elif is_vocab(w) and w not in PLAIN and not _plain_noun(words, k) and not (
                k == 1 and w in _HABITS and words[0].low in _PEOPLE):  # "we host the ..."
            return False  # "a cache" is a noun; "cache writeback" is a setting
    read = normalize(words)
    if len(read) != len(words) or any(a.low != b.low and a.low not in TOLD
                                      for a, b in zip(words, read, strict=True)):
        return False  # an idiom of the grammar reads something in it
    if not told:
        return True
    start = 1 if words[0].low in SUBORDINATORS else 0
    # "in May": the month, not the modal
    lows = ["month" if t.text == "May" else t.low for t in words[start:]]
    if lows and lows[0] not in _OTHERS and _plural_subject(lows) and not any(
            w in _WANTS for w in lows):
        return any(w in _DAYS for w in lows)  # "exams start monday": what people do
    if not lows or lows[0] not in _OTHERS or any(w in _WANTS for w in lows):
        return False
    if lows[0] in ("the", "my", "our", "their", "its") and (
            len(lows) < 2 or any(w in _GUEST_NOUNS for w in lows[1:3])):
        return False
    if lows[0].endswith(("'m", "'re")):  # "I'm not writing", "we're moving"
        lows = [lows[0], "am", *lows[1:]]
    if lows[0].endswith(("'ll", "'ve")):  # "we'll see", "I've moved"
        return True
    if all(w in _USES for w in told):  # "the volunteers who use it are away"
        return True
    if len(lows) > 3 and lows[0] in _PEOPLE and lows[1] in _HABITS and (
            lows[2] in _ARTICLES and lows[3] not in _GUEST_NOUNS):
        return True  # "we run the audit from the cloud now": what we do, not the guest
    return any(w in _TENSE or (w in _BE and any(n.endswith("ing") for n in lows[k + 2:k + 4]))
               for k, w in enumerate(lows[1:]))


def _clauses(tokens: list[Token]) -> list[tuple[int, int]]:
    """``(start, end)`` of each clause; a clause starts at its separator (kept with it)."""
    cuts = [0]
    for k, t in enumerate(tokens):
        if k and not t.quoted and (t.low in SEPARATORS or t.low in SUBORDINATORS - {"as"}
                                   or (_emoji(t) and not _emoji(tokens[k - 1]))):
            cuts.append(k)
    cuts.append(len(tokens))
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _body(tokens: list[Token], start: int, end: int) -> list[Token]:
    return tokens[start + 1 if start and tokens[start].low in SEPARATORS else start:end]


def _list_goes_on(body: list[Token]) -> bool:
    """``b and c`` after ``tagged a,``: the end of a list, not a clause."""
    return any(t.low in ("and", "or") for t in body) and len(body) <= 3


def split(tokens: list[Token]) -> tuple[list[Token], list[str]]:
    """``tokens`` without their context clauses, and the text of each clause dropped.

    All context: ``([], [the whole sentence])``. No clause that is not context next to
    them, or a separator inside quotes only: ``tokens`` unchanged.
    """
    spans = _clauses(tokens)
    if len(spans) < 2 and not (spans and is_context(tokens)):
        return tokens, []
    copula = "'s" in " ".join([t.low for t in tokens])
    context = [is_context(_body(tokens, a, b), copula=copula) and not _list_goes_on(
        _body(tokens, a, b)) for a, b in spans]
    if not any(context):
        return tokens, []
    if all(context):
        return [], [sentence_text(tokens)]
    kept: list[Token] = []
    dropped: list[str] = []
    for (a, b), ctx in zip(spans, context, strict=True):
        if ctx:
            dropped.append(sentence_text(_body(tokens, a, b)))
        elif not kept and a and tokens[a].low in SEPARATORS:
            kept.extend(tokens[a + 1:b])  # the first kept clause loses its separator
        else:
            kept.extend(tokens[a:b])
    return kept, dropped


def drop(tokens: list[Token], ignored: list[tuple[int, str]]) -> list[Token]:
    """``tokens`` without their context clauses, each reported in ``ignored``."""
    if not tokens:
        return tokens
    tokens = attributes9.rewrite(passive.present(tokens))  # round 9 (each module says)
    tokens = purposed.drop(keeping.kept(boots.on_boot(tokens), ignored), ignored)
    kept, dropped = split(timing.not_scheduled(tokens, ignored))
    ignored.extend((tokens[0].line, f"ignored as context: {text!r}") for text in dropped)
    if dropped and kept and kept[-1].low in _POLITE and not kept[-1].quoted:
        kept = courtesy(kept, ignored)  # "remove x pls, they were just experiments"
    return kept


def courtesy(tokens: list[Token], ignored: list[tuple[int, str]],
             kept: list[Token] | None = None) -> list[Token]:
    """:func:`.openers.strip_courtesy`, with the remarks it drops reported: each run of
    two words or more that is not a greeting, a thanks or a request word alone.
    ``kept``: ``strip_courtesy(tokens)`` when the caller has it (a pure function of the
    tokens: the file's reader asks it first, and it is not read twice)."""
    if kept is None:
        kept = strip_courtesy(tokens)
    if len(kept) == len(tokens):
        return kept
    pos = {id(t): k for k, t in enumerate(tokens)}
    if not kept:
        runs = [tokens]
    elif id(kept[0]) in pos and id(kept[-1]) in pos:  # a prefix and a suffix dropped
        runs = [tokens[:pos[id(kept[0])]], tokens[pos[id(kept[-1])] + 1:]]
    else:
        return kept  # words rewritten at an end: nothing to report by position
    # a run ending in ":" is a label ("Progress: the VM x ..."): reported even when it is
    # one word; a single word otherwise is a request or courtesy word ("Could", "pls")
    labels = [bool(run) and run[-1].low == ":" for run in runs]
    runs = [[t for t in run if t.low not in SEPARATORS and t.low not in (".", "!", "?", ":")]
            for run in runs]
    for run, label in zip(runs, labels, strict=True):
        words = [t for t in run if t.low not in _POLITE]
        if (len(words) >= (1 if label else 2) and not is_courtesy(sentence_text(run))) or (
                words and all(_emoji(t) for t in words)):  # "... RAM 🥂"
            ignored.append((run[0].line, f"ignored as context: {sentence_text(run)!r}"))
    return kept


def asides(tokens: list[Token], ignored: list[tuple[int, str]]) -> list[Token]:
    """:func:`.idioms.drop_asides`, with the trailing reason it drops reported."""
    kept = drop_asides(tokens)
    if tokens and len(kept) < len(tokens) and tokens[:len(kept)] == kept:
        rest = tokens[len(kept) + 1 if kept else 0:]
        ignored.append((tokens[0].line, f"ignored as context: {sentence_text(rest)!r}"))
    return kept


def described(tokens: list[Token], rewritten: list[Token],
              ignored: list[tuple[int, str]]) -> list[Token]:
    """``rewritten`` (:func:`.objects.rewrite` of ``tokens``), with the description it
    dropped reported (``The parking gate controller VM x ...``: ``ignored as context:
    'parking gate controller'``): the words of ``tokens`` not in ``rewritten`` that are
    descriptive (no word of the grammar, or one of :mod:`.descriptions`)."""
    if rewritten is tokens or len(rewritten) >= len(tokens):
        return rewritten
    kept = {id(t) for t in rewritten} | {t.text for t in rewritten}
    run: list[Token] = []
    runs: list[list[Token]] = []
    for t in tokens:
        if id(t) in kept or t.text in kept:
            if run:
                runs.append(run)
            run = []
        elif not t.quoted and (describes(t) or (t.text.isalpha() and not is_vocab(t.low))):
            run.append(t)
    if run:
        runs.append(run)
    for found in runs:
        ignored.append((found[0].line, f"ignored as context: {sentence_text(found)!r}"))
    return rewritten
