"""Start-on-boot said as the event: ``start it when the server boots``.

After a start word in the same clause (``start``, ``starts``, ``autostart`` ...), the
moment the host comes back is what ``on boot`` means, however it is put:

- ``when|whenever|after|if|once [the] server|host|node|system|machine|box|hypervisor|
  proxmox boots|starts|reboots|restarts|comes back|comes up|is back|powers on ...``;
- ``if|when the power goes out|comes back|fails|is cut``;
- ``after|on [a|each|every] [host|server|power] reboot|restart|power cut|outage ...``,
  each optionally followed by the other (``when the server comes back after a power
  cut``);
- ``together with [the] server|host|node [after restart]``, ``by itself``, ``on its own``;
- ``come(s) up|back`` before one of these or ``on boot`` is ``start(s)``.

The words are read as ``on boot`` (the phrase :mod:`.phrases` knows), only at the end of a
clause; anything else after them is read as usual. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.tokens import Token

__all__ = ["on_boot"]

_STARTS = frozenset({"start", "starts", "started", "starting", "boot", "boots", "autostart",
                     "autostarts"})
_WHEN = frozenset({"when", "whenever", "after", "if", "once"})
_HOSTS = frozenset({"server", "host", "node", "system", "machine", "box", "hypervisor",
                    "proxmox", "pve", "cluster", "hardware"})
#: what the host does (each a word sequence)
_EVENTS = (("boots", "up"), ("boots",), ("starts", "up"), ("starts",), ("reboots",),
           ("restarts",), ("comes", "back", "up"), ("comes", "back", "on"), ("comes", "back"),
           ("comes", "up"), ("comes", "on"), ("is", "back"), ("powers", "on"), ("is", "restarted"),
           ("is", "rebooted"), ("has", "restarted"), ("has", "rebooted"), ("restarted",),
           ("rebooted",), ("is", "powered", "on"),
           # round 8: "when the server turns on", second-language "when the server turn on"
           ("turns", "on"), ("turn", "on"), ("is", "turned", "on"), ("is", "switched", "on"),
           ("powers", "up"), ("boot",), ("start",), ("reboot",), ("restart",),
           ("comes", "online"), ("is", "back", "on"), ("is", "back", "up"),
           # round 9: the progressive, "when server is booting"
           ("is", "booting", "up"), ("is", "booting"), ("is", "starting", "up"),
           ("is", "starting"), ("is", "coming", "up"))
_POWER_EVENTS = (("goes", "out"), ("goes", "off"), ("comes", "back", "on"),
                 ("comes", "back"), ("fails",), ("is", "restored"), ("returns",),
                 ("come", "back"),
                 ("is", "cut"), ("goes", "down"), ("comes", "on"), ("returns",))
_OUTAGES = (("power", "cut"), ("power", "outage"), ("power", "failure"), ("power", "loss"),
            ("outage",), ("reboot",), ("restart",), ("blackout",), ("host", "reboot"),
            ("host", "restart"), ("server", "reboot"), ("server", "restart"),
            ("node", "reboot"), ("node", "restart"))
_ALONE = (("by", "itself"), ("by", "themselves"), ("on", "its", "own"), ("on", "their", "own"))
_SEPARATORS = frozenset({",", ";", "-", "--", "\u2013", "\u2014", "(", ")"})


def _seq(lows: list[str], i: int, options: tuple[tuple[str, ...], ...]) -> int:
    for words in options:
        if tuple(lows[i:i + len(words)]) == words:
            return i + len(words)
    return i


def _opt(lows: list[str], i: int, words: frozenset[str] | tuple[str, ...]) -> int:
    return i + 1 if i < len(lows) and lows[i] in words else i


def _outage(lows: list[str], i: int) -> int:
    """``after|on [a|each|every|the] power cut`` from ``i``, or ``i``."""
    if i >= len(lows) or lows[i] not in ("after", "on", "following"):
        return i
    j = _opt(lows, i + 1, ("a", "an", "each", "every", "the", "any"))
    return _seq(lows, j, _OUTAGES) if _seq(lows, j, _OUTAGES) > j else i


def _event(lows: list[str], i: int) -> int:
    """The end of the boot event starting at ``i``, or ``i`` when there is none."""
    j = _seq(lows, i, _ALONE)
    if j < len(lows) and lows[j] in _WHEN:
        k = _opt(lows, j + 1, ("the", "a", "our", "its", "their"))
        if k < len(lows) and lows[k] in _HOSTS:
            end = _seq(lows, k + 1, _EVENTS)
            if end > k + 1:
                return _outage(lows, end)
        if k < len(lows) and lows[k] == "power":
            end = _seq(lows, k + 1, _POWER_EVENTS)
            if end > k + 1:
                return end
    end = _outage(lows, j)
    if end > j:
        return end
    if tuple(lows[j:j + 2]) == ("together", "with"):
        k = _opt(lows, j + 2, ("the", "its", "their", "our"))
        if k < len(lows) and lows[k] in _HOSTS:
            k += 1
            end = _outage(lows, k)
            if end == k and tuple(lows[k:k + 2]) in (("after", "restart"), ("after", "reboot")):
                end = k + 2
            return end
    return j


def _come_up(tokens: list[Token]) -> list[Token]:
    """``comes up on boot``, ``come back after a reboot``: ``start(s)`` there."""
    lows = [t.low for t in tokens]
    for i in range(len(lows) - 2):
        # "come back on by itself after a power cut": "on"/"online" after "back" too
        j = i + 3 if lows[i + 1] == "back" and lows[i + 2] in ("on", "online", "up") and (
            _event(lows, i + 3) > i + 3) else i + 2
        if lows[i] in ("come", "comes") and lows[i + 1] in ("up", "back") and (
                tuple(lows[j:j + 2]) in (("on", "boot"), ("at", "boot"))
                or _event(lows, j) > j):
            word = "start" if lows[i] == "come" else "starts"
            return [*tokens[:i], Token(word, word, tokens[i].line), *tokens[j:]]
    return tokens


def on_boot(tokens: list[Token]) -> list[Token]:
    """``tokens`` with a boot event after a start word read as ``on boot`` (module doc)."""
    tokens = _come_up(tokens)
    lows = [t.low for t in tokens]
    started = False
    at = -1  # the start word
    for i, w in enumerate(lows):
        if w in _SEPARATORS:
            started = False
        elif w in _STARTS:
            started = True
            at = i
        elif started and not tokens[i].quoted:
            end = _event(lows, i)
            if end > i and (end == len(lows) or lows[end] in _SEPARATORS):
                line = tokens[i].line
                said = [] if lows[i - 1] in ("automatically", "boot") else [
                    Token("on", "on", line), Token("boot", "boot", line)]
                if 0 <= at < i - 2 and lows[at + 1] == "automatically":
                    # "start automatically the VM x when the server turns on": the adverb
                    # before the object (a Romance order) says what the event says
                    return [*tokens[:at + 1], *tokens[at + 2:i], *said, *tokens[end:]]
                return [*tokens[:i], *said, *tokens[end:]]
    return tokens
