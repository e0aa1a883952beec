"""Reports read as the state they leave, beyond a leading verb: ``VM x created on ...``.

:mod:`.reports` makes a past-tense verb at the start of a sentence imperative. People
reporting what they did also write the result in these shapes, which :func:`rewrite`
puts in the grammar's words (only a token's lower-case form changes, its written text
stays, so an error still quotes what the owner wrote):

- a second report verb after ``and`` or a comma, before its object (``Moved the VM x to
  node pve2 and gave it 6 GB``): imperative as the first (:func:`later_reports`);
- ``VM rds-2 created on node pve2 with ...``, ``web-1 provisioned with ...``: a
  participle of creation right after the subject only says that the guest exists, so it
  is dropped;
- ``[I] cloned debian-12 into a new VM called x, gave it ...``: ``create a VM named x,
  cloned from debian-12, ...``;
- ``only``/``just`` before a number or ``needs``/``has``/``gets``/``uses`` adds nothing
  (``the pihole container only needs 1 core``); elsewhere it is refused;
- ``has been decommissioned`` is ``is decommissioned``; ``should stay powered down``,
  ``remains switched off``: ``be``/``is`` before a power word;
- ``x got a 10 GB disk`` is ``x gets ...``; ``x runs with 4 cores`` (``running with``)
  is ``x has 4 cores``; ``now`` (``x now has``, ``x is a container now``) states the
  present, which is what a declaration states, so it is dropped (never after ``until``,
  ``till``, ``before``, ``by``, ``from``, ``since`` or ``for``); ``for good`` after a
  power or deletion verb adds nothing and is dropped;
- ``Migrated Immich to its own VM, immich, with ...``: a service moved to a guest of its
  own is that guest, when the guest's name is the service's name (``create the VM
  immich with ...``); another name is left for the parser, which refuses it;
- ``Added a 1 TB disk on tank to the VM x as scsi1`` (``a second NIC on vmbr1``): the
  guest has that disk, when its slot is stated (``as scsi1``) or the card is counted
  (``second NIC``); an added disk without a slot could replace the first and is left
  for the parser, which refuses it (so is ``Added 2 cores to x``: two more).

Descriptions around names (``Two analysis VMs, a-1 and a-2``) are read first, by
:func:`.described.rewrite`. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar import described
from mycopod.declarations.grammar.lexicon import DROPPED, KIND_WORDS
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import SentenceError, Token

__all__ = ["later_reports", "rewrite"]

_CREATED = frozenset({"created", "provisioned", "deployed", "built", "made", "added"})
_UP = frozenset({"spun", "set"})
_NOT_AFTER_NOW = frozenset({"until", "till", "before", "by", "from", "since", "for", "named",
                            "called"})
_SUBJECTS = frozenset({"it", "they"})
_OWN = frozenset({"own", "new", "dedicated", "separate"})
_SLOT_RE = re.compile(r"^(scsi|virtio|sata|ide|mp)\d+$")
_DISK_WORDS = frozenset({"disk", "drive", "volume", "hdd", "ssd"})
_ORDINAL = frozenset({"second", "2nd", "third", "3rd", "fourth", "4th"})
#: the power and deletion words after which ``for good`` adds nothing
_FINAL = frozenset({"off", "down", "stop", "stopped", "delete", "deleted", "remove", "removed",
                    "retire", "retired", "decommission", "decommissioned", "destroy"})
_TRIGGERS = frozenset({"now", "got", "runs", "running", "for", "been", "stay", "stays",
                       "remain", "remains", "only", "just"})
#: what may follow ``only``/``just`` for the word to add nothing ("only needs 1 core")
_PLAIN_AFTER = frozenset({"needs", "need", "has", "have", "gets", "get", "uses", "use"})
#: the state words after which "stay"/"remain" only means "be"
_STATE_WORDS = frozenset({"powered", "switched", "turned", "shut", "stopped", "off", "running",
                          "started", "on", "down", "up", "online", "offline"})
_MODALS = frozenset({"should", "must", "will", "shall", "to"})
_OBJECTS = frozenset({"it", "them", "the", "a", "an"})


def _word(t: Token, low: str) -> Token:
    return Token(t.text, low, t.line)


def _subject_end(tokens: list[Token]) -> int:
    """Where ``[the] [KIND] NAME`` opening the sentence ends, or 0."""
    i = 1 if tokens and tokens[0].low == "the" else 0
    if i < len(tokens) and tokens[i].low in KIND_WORDS:
        i += 1
    return i + 1 if i < len(tokens) and is_nameish(tokens[i]) else 0


def later_reports(tokens: list[Token], past: dict[str, str]) -> list[Token]:
    """After a leading report: ``and gave it``, ``, tagged it`` made imperative too."""
    out = list(tokens)
    for i in range(2, len(out) - 1):
        t = out[i]
        if (not t.quoted and t.low in past and out[i - 1].low in ("and", ",")
                and out[i + 1].low in _OBJECTS):
            out[i] = _word(t, past[t.low])
    return out


def _migrated(tokens: list[Token]) -> list[Token]:
    """``Migrated Immich to its own VM, immich, ...`` -> ``create the VM immich ...``."""
    if len(tokens) < 7 or tokens[0].low not in ("migrated", "moved"):
        return tokens
    low = [t.low for t in tokens]
    if low[2] != "to" or (
            low[3] not in ("its", "a", "an", "their") or low[4] not in _OWN
            or low[5] not in KIND_WORDS):
        return tokens
    i = 6 + (low[6] in (",", ":"))
    i += i < len(low) and low[i] in ("called", "named")
    if i >= len(tokens) or not is_nameish(tokens[i]) or low[i] != low[1] or tokens[1].quoted:
        return tokens
    rest = tokens[i + 1:]
    if rest and rest[0].low == ",":
        rest = rest[1:]
    return [_word(tokens[0], "create"), _word(tokens[5], "the"), tokens[5], tokens[i], *rest]


def _added(tokens: list[Token]) -> list[Token]:
    """``Added a 1 TB disk on tank to the VM x as scsi1`` -> ``give the VM x a 1 TB ...``."""
    if len(tokens) < 6 or tokens[0].low not in ("added", "add"):
        return tokens
    low = [t.low for t in tokens]
    if low[1] not in ("a", "an"):
        return tokens
    try:
        to = low.index("to", 2)
    except ValueError:
        return tokens
    end = _subject_end(tokens[to + 1:])
    if not end or any(t.quoted for t in tokens[:to]):
        return tokens
    counted = any(w in _ORDINAL for w in low[2:to])
    if not counted and not any(_SLOT_RE.match(w) for w in low[to + 1 + end:]):
        if any(w in _DISK_WORDS for w in low[2:to]):  # "added a disk": to an existing guest
            said = " ".join(t.text for t in tokens)
            raise SentenceError(tokens[0].line, (
                f'"{said[:120]}" adds a disk but does not say which one: without a slot it '
                "would be the guest's first disk (scsi0), resized rather than added; say "
                "which slot, e.g. 'as scsi1', or 'a second disk'"))
        return tokens
    subject = tokens[to + 1:to + 1 + end]
    return [_word(tokens[0], "give"), *subject, *tokens[1:to], *tokens[to + 1 + end:]]


def _cloned_into(tokens: list[Token]) -> list[Token]:
    """``[I] cloned T into a new VM called x`` -> ``create a VM named x, cloned from T``."""
    if len(tokens) < 7 or "clone" not in tokens[0].low + tokens[1].low:
        return tokens
    low = [t.low for t in tokens]
    k = 1 if low[0] in ("i", "we") else 0
    if len(tokens) < k + 7 or low[k] not in ("cloned", "clone") or not is_nameish(
            tokens[k + 1]) or low[k + 2] not in ("into", "to", "as") or low[k + 3] not in (
            "a", "an"):
        return tokens
    j = k + 4 + (low[k + 4] in _OWN)
    if j + 2 >= len(tokens) or low[j] not in KIND_WORDS or low[j + 1] not in (
            "called", "named") or not is_nameish(tokens[j + 2]):
        return tokens
    line = tokens[k].line
    # "created": a report, so a later "gave it" is read as one too (see .reports)
    return [_word(tokens[k], "created"), tokens[k + 3], tokens[j], tokens[j + 1],
            tokens[j + 2], Token(",", ",", line), Token("", "cloned", line),
            Token("", "from", line), tokens[k + 1], *tokens[j + 3:]]


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the report shapes of the module's docstring in the grammar's words."""
    tokens = _cloned_into(_added(_migrated(described.rewrite(tokens))))
    out = list(tokens)
    end = _subject_end(out)
    if end and end < len(out) and not out[end].quoted:
        if out[end].low in _CREATED:
            out[end] = _word(out[end], DROPPED)
        elif out[end].low in _UP and end + 1 < len(out) and out[end + 1].low == "up":
            out[end] = _word(out[end], DROPPED)
            out[end + 1] = _word(out[end + 1], DROPPED)
    for i, t in enumerate(out if any(t.low in _TRIGGERS for t in out) else ()):
        if t.quoted:
            continue
        before = out[i - 1] if i else None
        after = out[i + 1].low if i + 1 < len(out) else ""
        if t.low == "now" and (before is None or before.low not in _NOT_AFTER_NOW):
            out[i] = _word(t, DROPPED)
        elif t.low == "got" and before is not None and (
                is_nameish(before) or before.low in _SUBJECTS):
            out[i] = _word(t, "gets")
        elif t.low in ("runs", "running") and after == "with" and before is not None and (
                is_nameish(before) or before.low in _SUBJECTS | {DROPPED}):
            out[i] = _word(t, "has")
        elif t.low in ("only", "just") and (after in _PLAIN_AFTER or after.isdigit()):
            out[i] = _word(t, DROPPED)  # "only needs 1 core", "just 1 core": 1 core
        elif t.low == "been" and before is not None and before.low in ("has", "have"):
            out[i - 1] = _word(before, "is")  # "has been decommissioned": is
            out[i] = _word(t, DROPPED)
        elif t.low in ("stay", "stays", "remain", "remains") and after in _STATE_WORDS:
            out[i] = _word(t, "be" if before is not None and before.low in _MODALS else "is")
        elif t.low == "for" and after == "good" and any(w.low in _FINAL for w in out[:i]):
            out[i] = _word(t, DROPPED)
            out[i + 1] = _word(out[i + 1], DROPPED)
    return [t for t in out if t.low != DROPPED]
