"""Time qualifiers on power: the state wanted now is stated, the time is not schedulable.

``switched off for now``, ``put off for the moment``, ``stays powered off between
engagements``, ``start it today``: the sentence states the power state wanted now, and
MycoPod keeps it so until the declaration changes; the time part cannot be scheduled and
asks for nothing later. So it is dropped and reported as ``not scheduled: '...' (MycoPod
keeps it stopped until the declaration changes)``, but only when

- it stands in the clause of a power word, after it (``stop``, ``off``, ``shut down`` ...;
  ``start``/``running`` only for ``today`` and ``for now``);
- the sentence neither deletes nor creates (``delete it after the audit``, ``create it
  when ...`` stay errors: acting now could be harmful), and
- ``between ...`` says plain words (no setting, no name, no other statement).

``until``/``till`` (``turn it off till spring``) stay errors: such a stop says the guest
should run again then, a schedule; the team's corpus holds them refused
(``corpus/impossible.jsonl``: ``keep legacy-erp off until further notice``, ``stop the VM
req-c4 until Monday``). ``when``/``if``/``before``/``after`` are conditions. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.idioms import REASON_WORDS, normalize
from mycopod.declarations.grammar.lexicon import COURTESY_AND_IDIOM_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import Token, sentence_text

__all__ = ["TIMES", "not_scheduled"]

#: a time: only in a clause that tells of the past or the future of someone else
TIMES = frozenset({
    "today", "tonight", "tomorrow", "yesterday", "next", "last", "week", "weekend", "month",
    "year", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "spring", "summer", "autumn", "fall", "winter",
    "morning", "evening", "night", "noon", "sprint", "quarter", "q1", "q2", "q3", "q4",
    "weeks", "months", "days", "day", "hours", "hour"})
_SEPARATORS = frozenset({",", ";", "-", "--", "\u2013", "\u2014", "(", ")"})
#: power words: the state wanted now is "stopped" ...
_OFF = frozenset({"off", "down", "stop", "stopped", "shut", "halted", "shutdown", "pause",
                  "paused", "stops"})
#: "off" and "down" are a power word right after one of these or a guest's name ...
_OFF_AFTER = frozenset({"shut", "power", "powered", "turn", "turned", "switch", "switched",
                        "put", "keep", "kept", "leave", "left", "stays", "stay", "is", "be",
                        "remain", "remains", "shutting", "turning", "powering", "switching",
                        "it", "them", "vm", "container", "ct", "lxc", "server", "box"})
#: ... and never with one of these just before ("ballooning turned off")
_NOT_POWER = frozenset({"ballooning", "balloon", "scale", "scaled", "cut", "drop", "slow",
                        "slowed", "trim", "trimmed", "wind", "count", "back", "firewall",
                        "autostart", "onboot", "boot", "nesting", "agent", "protection"})
#: ... or "running" (only "today" and "for now" then: "keep it running until" is a plan)
_ON = frozenset({"start", "started", "starts", "running"})
#: a sentence with one of these (after :func:`.idioms.normalize`) deletes or creates
_HARMFUL = frozenset({"delete", "deleted", "remove", "removed", "absent", "gone", "exist",
                      "exists", "create", "created", "make", "add", "added", "deploy",
                      "provision", "build", "new", "spin", "spinning", "clone", "cloned",
                      "rid", "decommission", "decommissioned", "destroy", "retire",
                      "retired"})
#: "for now", "for the moment" ...: (words after "for")
_FOR = (("now",), ("the", "moment"), ("the", "time", "being"), ("a", "while"),
        ("the", "season"), ("the", "winter"), ("the", "summer"), ("the", "holidays"),
        ("a", "bit"), ("the", "next", "few", "weeks"), ("a", "few", "weeks"))
#: "until"/"till" are not here: "stop it until Monday" says it should run again then, a
#: schedule (corpus/impossible.jsonl and test_grammar4_content hold such requests refused)
_OPEN = frozenset({"between"})
_WORDS_OK = REASON_WORDS | COURTESY_AND_IDIOM_WORDS | TIMES | frozenset({
    "over", "done", "finished", "again", "back", "further", "notice", "is", "are", "we",
    "they", "the", "a", "an", "our", "my", "their"})


def _plain(words: list[Token]) -> bool:
    return bool(words) and all(
        not t.quoted and "-" not in t.low.strip("-") and not any(c in t.low for c in "/:@=")
        and (not is_vocab(t.low) or t.low in _WORDS_OK) for t in words)


def _clause_end(lows: list[str], start: int) -> int:
    end = start
    while end < len(lows) and lows[end] not in _SEPARATORS:
        end += 1
    return end


def _time_at(lows: list[str], tokens: list[Token], j: int, *, off: bool) -> int:
    """The end of a time part starting at ``j``, or ``j`` when there is none."""
    w = lows[j]
    if w in _OPEN and off:
        end = _clause_end(lows, j + 1)
        return end if _plain(tokens[j + 1:end]) else j
    if w == "today":
        return j + 1
    if w == "for":
        for words in _FOR:
            if tuple(lows[j + 1:j + 1 + len(words)]) == words:
                return j + 1 + len(words)
    return j


def not_scheduled(tokens: list[Token], ignored: list[tuple[int, str]]) -> list[Token]:
    """``tokens`` without a time qualifier on power (module doc), reported in ``ignored``."""
    lows = [t.low for t in tokens]
    if not any(w in _OPEN or w in ("for", "today") for w in lows) or any(
            t.low in _HARMFUL for t in normalize(tokens)) or "up" in lows:  # "set up", "spin up"
        return tokens
    power: bool | None = None  # the power word in the clause so far: off (True) or on
    for j, w in enumerate(lows):
        if w in _SEPARATORS:
            power = None
        elif (w in _OFF or w in _ON) and (w not in ("off", "down") or (
                j and (lows[j - 1] in _OFF_AFTER or "-" in lows[j - 1].strip("-"))
                and not _NOT_POWER.intersection(lows[max(j - 2, 0):j]))):
            power = w in _OFF
        elif power is not None and not tokens[j].quoted:
            end = _time_at(lows, tokens, j, off=power)
            if end > j and (end == len(lows) or lows[end] in _SEPARATORS):
                state = "stopped" if power else "running"
                said = sentence_text(tokens[j:end])
                ignored.append((tokens[j].line, f"not scheduled: {said!r} (MycoPod keeps it "
                                                f"{state} until the declaration changes)"))
                return [*tokens[:j], *tokens[end:]]
    return tokens
