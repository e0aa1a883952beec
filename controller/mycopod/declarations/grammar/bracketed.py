"""A guest introduced by a description, its name in parentheses: ``The backup computer
(dentbak) needs ...``.

Office notes, family READMEs and wikis name a guest by what it is for and put its name
in parentheses: ``The backup computer (dentbak) ...``, ``Grandpa's video call box
(grandpa-calls) is a VM``, ``Volunteer sign-up site (signup-web) can be switched off``,
``make the minecraft backup thing (mc-backup) a container``, ``monitoring (VM mon-1)
must start on boot``, ``Frigate NVR (VM frigate): 4 cores``. :func:`rewrite` reads the
description as the name it gives, and only in these shapes:

- at the start of the sentence, or anywhere after a determiner of :data:`DETERMINERS` or
  a possessive (``Grandpa's``, ``kids'``): at most :data:`MAX_WORDS` words that describe
  (plain words the grammar gives no meaning to, its role words such as ``web`` or
  ``backup``, the generic nouns ``server``, ``machine`` ... and the kind words), then
  ``(NAME)`` or ``(KIND NAME)`` with a lower-case name, then more of the sentence;
- the words dropped are the description only; a kind word in it (``the accounting VM
  (books)``) or in the parentheses is kept, after the name: ``books (VM)``.

A description holding a number, a size, a state or any other word of the grammar is not
one: the sentence is left as it was, for the parser to read or refuse. Pure.
"""

from __future__ import annotations

from mycopod import spec as specmod
from mycopod.declarations.grammar.lexicon import GENERIC_NOUNS, KIND_WORDS, ROLE_WORDS, is_vocab
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["DETERMINERS", "MAX_WORDS", "rewrite"]

MAX_WORDS = 5
DETERMINERS = frozenset({"the", "my", "our", "their", "his", "her", "your", "a", "an"})


def _describes(t: Token) -> bool:
    w = t.low
    if t.quoted:
        return False
    if w in ROLE_WORDS or w in GENERIC_NOUNS or w in KIND_WORDS or w in ("thing", "box") or (
            _possessive(t)):
        return True
    return t.text.replace("-", "").isalpha() and not any(
        is_vocab(part) for part in (w, *w.split("-")) if part)


def _possessive(t: Token) -> bool:
    w = t.low
    stem = w[:-2] if w.endswith("'s") else w[:-1] if w.endswith("s'") else ""
    return not t.quoted and stem.isalpha() and not is_vocab(stem)


def _name(t: Token) -> bool:
    return is_nameish(t) and t.text == t.low and bool(specmod.NAME_RE.match(t.text))


def _at(toks: list[Token], i: int) -> tuple[int, list[Token]] | None:
    """The description at ``i``: where it ends (after ``)``) and the tokens it reads as
    (the name, then ``( KIND )`` when a kind was said); None when there is none."""
    j = i
    while j < len(toks) and j - i < MAX_WORDS and toks[j].low != "(" and _describes(toks[j]):
        j += 1
    if j == i or j + 2 >= len(toks) or toks[j].low != "(":
        return None
    kinds = [t for t in toks[i:j] if t.low in KIND_WORDS]
    k = j + 1
    if toks[k].low in KIND_WORDS and k + 2 < len(toks):
        kinds.append(toks[k])
        k += 1
    if len(kinds) > 1 or not _name(toks[k]) or toks[k + 1].low != ")" or k + 2 >= len(toks):
        return None
    line = toks[k].line
    kind = [Token("(", "(", line), kinds[0], Token(")", ")", line)] if kinds else []
    return k + 2, [toks[k], *kind]


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with each description before ``(NAME)`` read as the name."""
    if "(" not in {t.low for t in tokens}:
        return tokens
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        start = i + 1 if (t.low in DETERMINERS and not t.quoted) or _possessive(t) else (
            i if i == 0 else -1)
        found = _at(tokens, start) if start >= 0 else None
        if found is None and start == i + 1 and i == 0:
            found = _at(tokens, i)  # "Frigate NVR (VM frigate)": no determiner
        if found is not None:
            end, named = found
            out.extend(named)
            i = end
            continue
        out.append(t)
        i += 1
    return out
