"""Tokens of declaration text, the cursor every phrase reads them with, and sentences.

The tokenizer turns a block of text into words, quoted strings and punctuation, keeping
each token's line so an error can name it (``split_sentences`` then cuts them at each
``.``, ``sentence_text`` shows them back as written); the cursor (``Cursor``) is how phrase
and subject parsers look ahead, consume words and back out. ``SentenceError`` lives here
because it is the one error all of the grammar's parts raise: the compiler turns it into a
``file:line: message`` issue. Kept apart from the vocabulary so that reading text and
knowing words can change independently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TOKEN_RE = re.compile(
    r'"(?P<dq>(?:[^"\\]|\\.)*)"'
    r"|\u201c(?P<sq>[^\u201d]*)\u201d"
    r"|(?P<sep>[,;!?])"
    r"|(?P<word>[^\s,;!?\"\u201c\u201d]+)"
    r'|(?P<bad>["\u201c\u201d])',
    re.DOTALL,
)
_CONTRACTIONS = {
    "doesn't": ["does", "not"], "don't": ["do", "not"], "isn't": ["is", "not"],
    "aren't": ["are", "not"], "shouldn't": ["should", "not"], "mustn't": ["must", "not"],
    "won't": ["will", "not"], "can't": ["can", "not"], "it's": ["it", "is"],
    "they're": ["they", "are"], "needn't": ["need", "not"], "wouldn't": ["would", "not"],
    "we'll": ["we", "will"], "i'll": ["i", "will"], "we'd": ["we", "would"],
    "i'd": ["i", "would"],
}
QUOTED = "\x00q"  # the lower-case form of every quoted token: it never matches a keyword
END = ""


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    low: str
    line: int
    quoted: bool = False

    def shown(self) -> str:
        return json.dumps(self.text) if self.quoted else self.text


class SentenceError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _unescape(raw: str, line: int) -> str:
    if "\\" not in raw:
        return raw
    try:
        value = json.loads(f'"{raw}"')
    except json.JSONDecodeError:
        raise SentenceError(
            line, f"bad escape in the quoted text \"{raw}\" (use \\\" for a quote, \\\\ for "
            "a backslash)") from None
    return str(value)


def tokenize(text: str, *, first_line: int = 1) -> list[Token]:
    """Tokens of a block of text; a ``.`` ending a word becomes its own token."""
    tokens: list[Token] = []
    line, seen = first_line, 0  # the line of offset ``seen``: matches come in order
    for match in _TOKEN_RE.finditer(text):
        start = match.start()
        line += text.count("\n", seen, start)
        seen = start
        kind = match.lastgroup  # the one alternative that matched
        if kind == "bad":
            raise SentenceError(line, "a quotation mark is not closed")
        if kind == "dq" or kind == "sq":
            tokens.append(Token(_unescape(match.group(kind), line), QUOTED, line, quoted=True))
            continue
        if kind == "sep":
            sep = match.group(kind)
            tokens.append(Token(sep, "." if sep in ";!" else sep, line))
            continue
        word = match.group("word")
        if word.isalnum():  # most words: nothing to trim, unglue or expand ("don't": ')
            low = word.lower()
            tokens.append(Token(word, low, line))
            continue
        trail: list[str] = []
        while len(word) > 1 and word[-1] in ".:)":
            trail.insert(0, word[-1])
            word = word[:-1]
        if word in (".", ":", ")"):
            trail.insert(0, word)
            word = ""
        word = word.strip("*`").replace("\u2019", "'")
        if word.startswith("(") and len(word) > 1:
            tokens.append(Token("(", "(", line))
            word = word[1:]
        if word:
            low = word.lower()
            parts = _CONTRACTIONS.get(low)
            if parts:
                tokens.extend(Token(p, p, line) for p in parts)
            else:
                tokens.append(Token(word, low, line))
        tokens.extend(Token(t, t, line) for t in trail)
    return tokens


# --- the cursor: one sentence's tokens --------------------------------------------------


class SentenceTokens(list[Token]):
    """One sentence's tokens, with a memo of what probes found at their positions.

    Parsers look ahead from many positions of the same sentence ("does a new clause start
    here?"); a look-ahead that reads a list to its end, repeated at every item of that
    list, would make a sentence of n words cost n². The memo lets a walk over a list
    answer for every item it passed. The parsers change a sentence's tokens only by
    assigning or deleting items (a subject parser removes the words it read; ``#120``
    becomes ``120``), and both forget the memo, so a remembered answer never outlives the
    tokens it was found in.
    """

    __slots__ = ("memo", "places")

    def __init__(self, tokens: list[Token] | tuple[Token, ...] = (), places: Any = None
                 ) -> None:
        super().__init__(tokens)
        self.memo: dict[tuple[str, int], int | None] = {}
        #: the cluster's names (:class:`.places.Places`) a bare ``on NAME`` is read with
        self.places = places

    def __setitem__(self, index: Any, value: Any) -> None:
        self.memo.clear()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self.memo.clear()
        super().__delitem__(index)


def memo_of(toks: list[Token]) -> dict[tuple[str, int], int | None]:
    """The memo of a sentence's tokens (a throw-away one for a plain list)."""
    return toks.memo if isinstance(toks, SentenceTokens) else {}


#: ``take`` patterns split once: "on|at" -> {"on", "at"}
_ALTERNATIVES: dict[str, frozenset[str]] = {}


class Cursor:
    __slots__ = ("i", "toks")

    def __init__(self, toks: list[Token], i: int = 0) -> None:
        self.toks = toks
        self.i = i

    def w(self, k: int = 0) -> str:
        try:
            return self.toks[self.i + k].low
        except IndexError:
            return END

    def tok(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    @property
    def line(self) -> int:
        t = self.tok()
        return t.line if t is not None else (self.toks[-1].line if self.toks else 0)

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def take(self, *words: str) -> bool:
        """Consume the words in sequence if all match (``a|b`` alternatives allowed)."""
        toks, i = self.toks, self.i
        for j, word in enumerate(words, start=i):
            alts = _ALTERNATIVES.get(word)
            if alts is None:
                alts = _ALTERNATIVES[word] = frozenset(word.split("|"))
            if (toks[j].low if j < len(toks) else END) not in alts:
                return False
        self.i = i + len(words)
        return True

    def opt(self, *alts: str) -> str | None:
        """Consume one token if it is one of ``alts``."""
        if self.w() in alts:
            self.i += 1
            return self.toks[self.i - 1].low
        return None

    def skip(self, words: frozenset[str] | set[str]) -> None:
        while self.w() in words and self.w() != END:
            self.i += 1

    def list_separator(self) -> bool:
        """Consume ``, and``, ``,`` or ``and`` between the items of a list; was one there?"""
        if self.w() == "," and self.w(1) == "and":
            self.i += 2
        elif self.w() in (",", "and"):
            self.i += 1
        else:
            return False
        return True

    def value(self, what: str) -> Token:
        """The next token taken as a literal value (an identifier or a quoted string)."""
        t = self.tok()
        if t is None or t.low in (".", ",", ":", "(", ")"):
            raise SentenceError(self.line, f"expected {what} here")
        self.i += 1
        return t


# --- sentences ---------------------------------------------------------------------------


#: a "?" after these and before a number joins the amount to the request (.comparatives)
_MORE_OF = frozenset({"memory", "ram", "disk", "storage", "space", "cores", "cpus", "vcpus"})
#: abbreviated titles before a person's name ("Dr. Patel"): their dot ends no sentence
TITLES = frozenset({"dr", "mr", "mrs", "ms", "prof", "rev", "fr", "st"})


def split_sentences(tokens: list[Token]) -> list[list[Token]]:
    out: list[list[Token]] = []
    current: list[Token] = []
    for k, t in enumerate(tokens):
        if t.low == "." and not t.quoted and k and tokens[k - 1].low in TITLES and k + 1 < len(
                tokens) and tokens[k + 1].text[:1].isupper():
            continue  # "Dr. Patel": a title's abbreviation, not the end of a sentence
        if t.low == "." and not t.quoted:
            if current:
                out.append(current)
            current = []
        elif t.low == "?" and not t.quoted and k and k + 1 < len(tokens) and tokens[
                k - 1].low in _MORE_OF and tokens[k + 1].low[:1].isdigit():
            current.append(Token(",", ",", t.line))  # "a bigger disk? 250 GB please."
        elif t.low == "?" and not t.quoted and k + 1 < len(tokens) and tokens[
                k + 1].text[:1].isupper() and not tokens[k + 1].quoted and not (
                k and tokens[k - 1].low == "more" and tokens[k + 1].low == "so"):
            # ("... one core more? So 3 cores in total" is one statement: .comparatives)
            out.append([*current, t])  # "... a 32 GB disk? I hope that's enough"
            current = []
        else:
            current.append(t)
    if current:
        out.append(current)
    return out


#: characters of a sentence (or a value) an error message quotes; the line finds the rest
SHOWN_CHARS = 300


def sentence_text(tokens: list[Token]) -> str:
    """The tokens as the owner wrote them, near enough to find them in the file.

    Cut after ``SHOWN_CHARS`` characters: an error that quoted a whole 256 KiB sentence
    (twice) would be larger than the sentence, and its line number finds it anyway.
    """
    out: list[str] = []
    size = 0
    for k, t in enumerate(tokens):
        text = t.shown()
        if not text:
            continue  # a word a rewrite added for one the owner wrote ("4c": "4 cores")
        if (out and not t.quoted and t.low in (",", ":", ")")) or (out and out[-1] == "("):
            out[-1] += text
        else:
            out.append(text)
        size += len(text) + 1
        if size > SHOWN_CHARS:
            rest = len(tokens) - k - 1
            more = f" ({rest} more words)" if rest else ""
            return " ".join(out)[:SHOWN_CHARS] + f" …{more}"
    return " ".join(out)
