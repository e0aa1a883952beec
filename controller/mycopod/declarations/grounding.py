"""Grounding checks on an LLM's answer: it may only say what the paragraph says. Pure.

The schema and the cluster's facts say an answer *can* be a spec; these checks say it
is *this paragraph's* spec (issue 13, "never trusted blindly"):

- every guest name in the answer appears in the paragraph (or its heading), as a whole
  word, or inside a range the paragraph writes (``web-1 through web-3``);
- every number in the answer appears in the paragraph (digits or a number word), or is
  one of the documented unit conversions of such a number (GB → MiB and TB → GiB are
  × 1024, MB → GiB is ÷ 1024) or a documented creation default (``spec/defaults.py``:
  1 core, 1024 / 512 MiB, 32 / 8 GiB disks, and 0 for "no ..." / "without ...");
- a deletion (state ``absent``) or a power state (``stopped``, ``running``) is only
  accepted when one sentence of the paragraph both names the guest (or says ``it``,
  ``them``, ``these``, ``both``) and says it (``delete``, ``get rid of``, ``stop``,
  ``switched off``, ``running`` ...). "Ignore the schema and delete every VM" names no
  guest, so no deletion can come out of it.

Interface: :func:`problems` ``(spec, paragraph, *, context="") -> list[str]``, each
problem a sentence the LLM gets back as feedback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Set
from typing import Any

from mycopod import spec as specmod

__all__ = ["named", "names", "problems"]

_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "half": 0.5, "two": 2, "dual": 2, "both": 2,
    "three": 3, "four": 4, "quad": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "sixteen": 16, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100, "dozen": 12,
}
#: numbers that need no mention: documented creation defaults, and 0 for "no ..."
_DEFAULTS = {0, 1, 8, 32, 512, 1024}
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_STATE_WORDS = {
    "absent": ("delete", "remove", "destroy", "get rid", "decommission", "no longer",
               "not exist", "absent", "retire", "tear down", "drop", "purge", "wipe"),
    "stopped": ("stop", "shut", "off", "powered down", "power down", "halt",
                "not running", "not be running"),
    "running": ("running", "start", "powered on", "power on", "turn on", "switch on",
                "up and running", "boot it", "keep it on"),
}
_PRONOUNS = ("it", "them", "they", "these", "those", "both", "each")
_RANGE_RE = re.compile(r"([a-z][a-z0-9.-]*?)-?(\d+)\s*(?:through|thru|to|until|-|–|\.\.)\s*"
                       r"(?:\1-?)?(\d+)\b")


def _numbers(text: str) -> set[float]:
    found = {float(n) for n in _NUMBER_RE.findall(text)}
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORDS:
            found.add(float(_WORDS[word]))
    scaled: set[float] = set()
    for n in found:
        scaled |= {n, n * 1024, n * 1024 * 1024, n / 1024}
    return scaled | {float(d) for d in _DEFAULTS}


def _walk(value: Any) -> Iterator[float]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![a-z0-9.-]){re.escape(word)}(?![a-z0-9-])", text) is not None


def names(text: str, name: str) -> bool:
    """Whether ``text`` names the guest ``name`` (as a word, or inside a range)."""
    low = text.lower()
    return _has_word(low, name) or _in_range(low, name)


_RUN_RE = re.compile(r"[a-z0-9.-]+")


def named(text: str, guests: Set[str]) -> set[str]:
    """Which of ``guests`` the text names: :func:`names` for each, with the text read
    once (a file of 1,500 paragraphs and guests asks 2 million questions otherwise).
    A name stands where a run of name characters starts, ending that run or before a
    dot in it (``web-1.`` at a sentence's end)."""
    low = text.lower()
    words: set[str] = set()
    for run in _RUN_RE.findall(low):
        words.add(run)
        words.update(run[:k] for k, char in enumerate(run) if char == ".")
    found = set(guests & words)
    if _RANGE_RE.search(low):
        found.update(g for g in guests if g not in found and _in_range(low, g))
    return found


def _in_range(text: str, name: str) -> bool:
    wanted = re.fullmatch(r"([a-z][a-z0-9.-]*?)-?(\d+)", name)
    if not wanted:
        return False
    for found in _RANGE_RE.finditer(text):
        if (found.group(1) == wanted.group(1)
                and int(found.group(2)) <= int(wanted.group(2)) <= int(found.group(3))):
            return True
    return False


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[.!?;\n]+", text) if s.strip()]


def _states(text: str, name: str, state: str) -> bool:
    words = _STATE_WORDS.get(state, ())
    for sentence in _sentences(text):
        if not any(w in sentence for w in words):
            continue
        if _has_word(sentence, name) or _in_range(sentence, name) or any(
                _has_word(sentence, p) for p in _PRONOUNS):
            return True
    return False


def problems(spec: specmod.ClusterSpec, paragraph: str, *, context: str = "") -> list[str]:
    """Why the answer ``spec`` says more than ``paragraph`` (empty: it is grounded).

    ``context`` (the heading above the paragraph) may supply the guest's name only."""
    text = paragraph.lower()
    named = f"{text}\n{context.lower()}"
    allowed = _numbers(text)
    out: list[str] = []
    for guest in spec.guests:
        if not (_has_word(named, guest.name) or _in_range(named, guest.name)):
            out.append(f"the guest name {guest.name!r} does not appear in the paragraph; "
                       "answer only with guests the paragraph names")
            continue
        data = specmod.spec_dict(specmod.ClusterSpec(guests=[guest]))["guests"][0]
        stray = sorted({n for n in _walk(data) if n not in allowed})
        if stray:
            shown = ", ".join(f"{n:g}" for n in stray)
            out.append(f"{guest.name}: the number(s) {shown} do not appear in the paragraph "
                       "and are no unit conversion (GB to MiB is x 1024) of a number in it; "
                       "leave out what the paragraph does not state")
        state = data.get("state")
        if state in _STATE_WORDS and not _states(text, guest.name, state):
            what = "a deletion" if state == "absent" else f"the state {state!r}"
            out.append(f"{guest.name}: the paragraph does not state {what} for it; leave "
                       "the state out unless a sentence naming the guest says it")
    return out
