"""Settings written as a key and its value: ``memory = 8192 MB``, ``cores set to 2``,
``kind ct``, ``type: lxc``.

People who write configuration files write settings the same way in prose: ``cores =
4, memory = 8192 MB``, ``with cores set to 2 and memory set to 2048 MiB``, ``consul-2:
kind ct, cores 1``. :func:`rewrite` reads these shapes, and only these, as the
grammar's own words (only a token's lower-case form changes; its written text stays):

- a key of :data:`SIZE_KEYS` (``memory``, ``ram``, ``cores`` ...) then ``=``, ``set
  to``, ``is set to`` or ``equals``, then a number: the operator is dropped
  (``memory 8192 MB``, ``cores 2``, which the grammar reads);
- ``kind`` or ``type`` then optionally ``=``, ``:``, ``set to`` or ``is``, then a kind
  word (``ct``, ``lxc``, ``vm``, ``qemu``): the key and the operator are dropped, the kind
  stays.

- opening the sentence, a setting of a guest named by ``of`` or ``for``: ``[The] [desired]
  KEY of|for [the KIND] NAME`` then ``is``, ``should|must|shall|will be``, ``=`` or ``:``
  (or ``Set the KEY of NAME to ...``), with a key of :data:`OWNED_KEYS`, is read as
  ``NAME: KEY ...`` (``The pool of atlantis is platform``: ``atlantis: pool platform``);
  a key of :data:`STATE_KEYS` is dropped, the value says it (``The desired state of
  consul-1 is stopped``: ``consul-1: stopped``; ``Desired state for db-2: container, 2
  cores``).

Anything else is left as it was, for the parser to read or refuse (``memory set to
plenty`` is refused quoting it). Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar import proxkeys
from mycopod.declarations.grammar.lexicon import DROPPED, KIND_WORDS
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["KIND_KEYS", "OPERATORS", "OWNED_KEYS", "SIZE_KEYS", "STATE_KEYS", "rewrite"]

#: keys whose value is a number (with or without a unit)
SIZE_KEYS = frozenset({"memory", "ram", "mem", "cores", "cpus", "vcpus", "sockets", "vmid",
                       "disk", "swap"})
#: keys whose value is a kind of guest
KIND_KEYS = frozenset({"kind", "type"})
#: what may stand between a key and its value
OPERATORS: tuple[tuple[str, ...], ...] = (("is", "set", "to"), ("set", "to"), ("=",), (":",),
                                          ("equals",), ("is",))


#: settings named before their guest ("the pool of atlantis"): kept, the value follows
OWNED_KEYS = frozenset({"memory", "ram", "cores", "pool", "description", "node", "vmid",
                        "id", "tags", "tag", "disk", "bridge", "vlan", "ip", "gateway"})
#: names of the whole state before a guest ("the desired state of x"): dropped
STATE_KEYS = frozenset({"state", "status", "config", "configuration", "spec", "settings"})
_QUALIFIERS = frozenset({"desired", "target", "wanted", "intended", "expected", "power"})
_BE = (("should", "be"), ("must", "be"), ("shall", "be"), ("will", "be"), ("is",), ("=",),
       (":",))


def _owned(tokens: list[Token]) -> list[Token]:
    """``The pool of atlantis is platform`` as ``atlantis: pool platform`` (see above)."""
    low = [t.low if not t.quoted else "" for t in tokens]
    i = 1 if low[:1] == ["set"] else 0
    i += low[i:i + 1] == ["the"]
    i += i < len(low) and low[i] in _QUALIFIERS
    if i + 3 >= len(low) or (low[i] not in OWNED_KEYS and low[i] not in STATE_KEYS) or (
            low[i + 1] not in ("of", "for")):
        return tokens
    key, j, kind = tokens[i], i + 2, []
    if low[j] == "the" and j + 1 < len(low) and low[j + 1] in KIND_WORDS:
        kind = [Token("(", "(", key.line), tokens[j + 1], Token(")", ")", key.line)]
        j += 2
    name = tokens[j] if j < len(tokens) else None
    if name is None or name.quoted or name.text != name.low or not is_nameish(name):
        return tokens
    ends = [("to",)] if low[0] == "set" else list(_BE)
    n = next((len(w) for w in ends if tuple(low[j + 1:j + 1 + len(w)]) == w), 0)
    if not n or j + 1 + n >= len(tokens) or (low[i + 1] == "for" and low[j + 1] != ":"):
        return tokens
    said = [] if key.low in STATE_KEYS else [key]
    return [name, *kind, Token(":", ":", name.line), *said, *tokens[j + 1 + n:]]


def _operator(tokens: list[Token], i: int) -> int:
    """The length of the operator at ``i`` (0 when there is none)."""
    for words in OPERATORS:
        n = len(words)
        if tuple(t.low for t in tokens[i:i + n]) == words and not any(
                t.quoted for t in tokens[i:i + n]):
            return n
    return 0


def _drop(t: Token) -> Token:
    return Token(t.text, DROPPED, t.line)


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the key-value shapes of the module's docstring read (and Proxmox's
    option names as keys, :mod:`.proxkeys`)."""
    tokens = proxkeys.rewrite(tokens)
    out = _owned(list(tokens)) if len(tokens) > 3 else list(tokens)
    for i, t in enumerate(out[:-2] if len(out) > 2 else ()):
        if t.quoted or (t.low not in SIZE_KEYS and t.low not in KIND_KEYS):
            continue
        n = _operator(out, i + 1)
        if n == 1 and out[i + 1].low == ":" and t.low in SIZE_KEYS:
            continue  # "RAM: 4 GB", "Memory: 16 GB.": the parser's own record shape
        value = out[i + 1 + n] if i + 1 + n < len(out) else None
        if value is None or value.quoted:
            continue
        if t.low in SIZE_KEYS and n and value.low.replace(".", "", 1).isdigit() and not (
                n == 1 and out[i + 1].low == "is"):  # "memory is 4 GB": left to the parser
            out[i + 1:i + 1 + n] = [_drop(x) for x in out[i + 1:i + 1 + n]]
        elif t.low in KIND_KEYS and value.low in KIND_WORDS:
            out[i:i + 1 + n] = [_drop(x) for x in out[i:i + 1 + n]]
    return out
