"""Words that may describe a guest before its kind and name, beyond plain words (round 9).

``Key card system VM keycard: ...``, ``The repeater controller VM rpt-ctl must ...``,
``Guest WiFi portal container wifi-portal ...``, ``The 3D scan VM scan3d ...``,
``WSJT-X remote: VM ft8-remote ...``: a description is a run of words before the kind
word that names what the guest is for (:mod:`.objects`, :mod:`.described`). Plain words
the grammar gives no meaning to always could be; :func:`describes` adds

- the nouns of :data:`NOUN_DESCRIPTIONS`: words of the grammar (``key`` of an SSH key,
  ``card`` of a network card, ``system`` of a system disk, ``controller`` of a SCSI
  controller ...) that name no setting *before* a kind word, where no phrase of theirs
  can stand;
- a word a guest's name cannot be (names are lower-case) and no word of the grammar is:
  capitalised and hyphenated (``Year-end``, ``WSJT-X``, ``FT8-Skimmer``; each part holds
  a letter and is no size, so never ``Win-11``), or a count glued to
  capitals that is no size (``3D``, ``4K``, ``2FA``; ``8G`` is a size, ``Win11`` may be
  an OS and stays as written).

Never a number, a size, a state, an OS or a firmware word: those stay for the parser.
Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import GLUED_RE, KIND_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import Token

__all__ = ["NOUN_DESCRIPTIONS", "describes"]

#: words of the grammar that only describe before a kind word (module doc)
NOUN_DESCRIPTIONS = frozenset({
    "key", "card", "system", "image", "controller", "node", "access", "point", "network",
    "storage", "gateway", "cluster", "console", "display", "security", "guest"})
_CAPITAL_COMPOUND_RE = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+$")
_COUNTED_CAPITALS_RE = re.compile(r"^\d{1,2}[A-Z]{1,3}$")


def describes(t: Token) -> bool:
    """May ``t`` be a word of a description before a kind word (module doc)?"""
    if t.quoted or t.low in KIND_WORDS:
        return False
    if t.low in NOUN_DESCRIPTIONS:
        return True
    if t.text == t.low or is_vocab(t.low):
        return False  # lower-case: a name it may be; a word of the grammar: a setting
    if _CAPITAL_COMPOUND_RE.match(t.text):
        return all(any(ch.isalpha() for ch in part) and not GLUED_RE.match(part)
                   for part in t.low.split("-"))  # "FT8-Skimmer"; never "Win-11"
    return bool(_COUNTED_CAPITALS_RE.match(t.text)) and not GLUED_RE.match(t.low)
