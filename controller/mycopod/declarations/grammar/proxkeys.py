"""Settings written as ``key: value`` with Proxmox's own option names, in prose or YAML.

People who know Proxmox or YAML write a setting as its option name, a colon and the
value: ``vmid: 210``, ``node: pve1``, ``bios: ovmf``, ``machine: q35``, ``state: absent``,
``onboot: true``, ``tags: [infra, dns]``, ``network: bridge vmbr2, vlan 40``, ``disks:
scsi0 64 GB on local-lvm, scsi1 4 TB on storage tank``. :func:`rewrite` reads these keys,
and only these, as the grammar's own words (each token keeps its written text):

- ``vmid:``/``id:`` reads ``ID``; ``node:``, ``bios:``, ``machine:``, ``pool:``,
  ``ostype:``, ``sockets:``, ``bridge:``, ``vlan:``, ``ip:``, ``gw:``, ``gateway:``,
  ``template:``: the colon is dropped (``node pve1``);
- ``state:`` / ``status:`` before a state word (``running``, ``stopped``, ``absent``,
  ``present``): the key is dropped, the value says it (``present`` says nothing more than
  that the guest exists, so it is dropped with the key);
- ``onboot:`` / ``autostart:`` then ``true``/``yes``/``1``/``on`` reads ``starts on
  boot``, ``false``/``no``/``0``/``off`` reads ``not on boot``;
- ``tags:`` then a YAML flow list ``[a, b]`` reads ``tagged a and b``; ``tags: a`` reads
  ``tagged a``;
- ``network:`` / ``net0:`` / ``nic:``: the key is dropped, the phrases that follow say it;
- ``disks:`` / ``disk:`` before a disk slot, and anywhere a slot before a size
  (``scsi1 4 TB on storage tank``): ``a 4 TB disk on storage tank as scsi1``.

A value the grammar cannot read stays, and the parser refuses it quoting it. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import GLUED_RE
from mycopod.declarations.grammar.tokens import Token

__all__ = ["COLON_KEYS", "STATE_VALUES", "rewrite"]

#: keys whose colon is dropped: the grammar reads ``KEY value`` as it is
COLON_KEYS = frozenset({"node", "bios", "machine", "pool", "ostype", "sockets", "bridge",
                        "vlan", "ip", "gw", "gateway", "storage", "cpu", "tag",
                        "description", "swap"})
#: values of ``state:``
STATE_VALUES = frozenset({"running", "stopped", "absent", "started", "present", "deleted",
                          "removed"})
_TRUE = frozenset({"true", "yes", "1", "on", "enabled", "y"})
_FALSE = frozenset({"false", "no", "0", "off", "disabled", "n"})
_SLOT_RE = re.compile(r"^(?:scsi|virtio|sata|ide)\d{1,2}$")
#: every name :data:`_SLOT_RE` matches (a quick test by set)
_SLOTS = frozenset(f"{bus}{n}" for bus in ("scsi", "virtio", "sata", "ide") for n in range(100))
_UNITS = frozenset({"mb", "mib", "m", "gb", "gib", "g", "gigs", "tb", "tib", "t"})
#: switches written ``KEY: true|false`` and the grammar's noun for each
SWITCH_KEYS: dict[str, tuple[str, ...]] = {
    "protection": ("protection",), "numa": ("numa",), "agent": ("qemu", "guest", "agent"),
    "nesting": ("nesting",), "firewall": ("firewall",)}
#: a volume of a template: ``local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst``
_VOLUME_RE = re.compile(r"^[a-z][\w\-]*:vztmpl/\S+$")
#: what may stand before ``template local:vztmpl/...`` read as a source ("based on the
#: template ..." is the grammar's own phrase)
_BEFORE_SOURCE = frozenset({",", "with", ";", ".", "and", "?"})
#: words read without a colon after them
_BARE = frozenset({"template", "clone"})
_WORDS = frozenset({"template", "clone", *SWITCH_KEYS, "vmid", "id", "state",
                    "status", "onboot", "autostart", "tags", "network", "net0", "nic", "disks",
                    "disk"}) | COLON_KEYS


def _word(t: Token, low: str, text: str | None = None) -> Token:
    return Token(t.text if text is None else text, low, t.line)


def _colon(tokens: list[Token], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].low == ":" and not tokens[i + 1].quoted


def _slot_disk(tokens: list[Token], i: int) -> tuple[list[Token], int] | None:
    """``scsi1 4 TB [on [storage] tank]`` at ``i`` as ``a 4 TB disk [on ...] as scsi1``,
    and where it ends; None when ``i`` holds no such disk."""
    slot = tokens[i]
    j = i + 1
    if j < len(tokens) and GLUED_RE.match(tokens[j].low):
        size = tokens[j:j + 1]
    elif j + 1 < len(tokens) and tokens[j].low.replace(".", "", 1).isdigit() and (
            tokens[j + 1].low in _UNITS):
        size = tokens[j:j + 2]
    else:
        return None
    j += len(size)
    where: list[Token] = []
    if j < len(tokens) and tokens[j].low == "on":
        k = j + 1 + (j + 1 < len(tokens) and tokens[j + 1].low in ("storage", "the"))
        k += k < len(tokens) and tokens[k].low == "storage"
        if k < len(tokens) and not tokens[k].quoted and tokens[k].low not in (",", "and"):
            where = tokens[j:k + 1]
            j = k + 1
    said = [_word(slot, "a", "a"), *size, _word(slot, "disk", "disk"), *where,
            _word(slot, "as", "as"), slot]
    return said, j


def _tags(tokens: list[Token], i: int) -> tuple[list[Token], int] | None:
    """``tags: [a, b]`` at ``i`` (the key) as ``tagged a and b``; ``tags: a`` as
    ``tagged a``."""
    key = tokens[i]
    j = i + 2
    if j < len(tokens) and tokens[j].text.startswith("[") and not tokens[j].quoted:
        names: list[Token] = []
        while j < len(tokens):
            t = tokens[j]
            bare = t.text.strip("[]")
            if bare and bare != ",":
                names.append(Token(bare, bare.lower(), t.line, t.quoted))
            j += 1
            if t.text.endswith("]"):
                break
        else:
            return None
        out = [_word(key, "tagged", "tagged")]
        for n, name in enumerate(names):
            if n:
                out.append(_word(key, "and", "and"))
            out.append(name)
        return (out, j) if names else None
    return ([_word(key, "tagged", "tagged")], i + 2) if j < len(tokens) else None


def _source(tokens: list[Token], i: int) -> tuple[list[Token], int] | None:
    """``template[:] local:vztmpl/x.tar.zst`` at ``i`` as ``from the template ...``;
    ``clone: tmpl-1`` as ``cloned from tmpl-1``."""
    key = tokens[i]
    j = i + 1 + _colon(tokens, i)
    if j >= len(tokens) or tokens[j].quoted:
        return None
    if key.low == "clone":
        if j == i + 1:
            return None  # "clone" without a colon is a verb
        return [_word(key, "cloned", "cloned"), _word(key, "from", "from"), tokens[j]], j + 1
    if not _VOLUME_RE.match(tokens[j].low):
        return None
    return [_word(key, "from", "from"), _word(key, "the", "the"), key, tokens[j]], j + 1


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the key shapes of the module's docstring read."""
    lows = {t.low for t in tokens}
    if _SLOTS.isdisjoint(lows) and _BARE.isdisjoint(lows) and (
            ":" not in lows or _WORDS.isdisjoint(lows)):
        return tokens  # the common case: no key with a colon, no source or slot
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        low = "" if t.quoted else t.low
        if low not in _WORDS and not (low[:1] in "svi" and _SLOT_RE.match(low)):
            out.append(t)
            i += 1
            continue
        nxt = tokens[i + 2].low if i + 2 < len(tokens) else ""
        if _colon(tokens, i) and low in ("vmid", "id"):
            out.append(_word(t, "id"))
            i += 2
        elif _colon(tokens, i) and low in COLON_KEYS:
            out.append(t)
            i += 2
        elif _colon(tokens, i) and low in ("state", "status") and nxt in STATE_VALUES:
            i += 3 if nxt == "present" else 2
        elif _colon(tokens, i) and low in ("onboot", "autostart") and nxt in _TRUE | _FALSE:
            words = ("starts", "on", "boot") if nxt in _TRUE else ("not", "on", "boot")
            out.extend(_word(t, w, w) for w in words)
            i += 3
        elif _colon(tokens, i) and low in SWITCH_KEYS and nxt in _TRUE | _FALSE:
            word = SWITCH_KEYS[low]
            said = [("with", *word) if nxt in _TRUE else ("no", *word)][0]
            out.extend(_word(t, w, w) for w in said)
            i += 3
        elif low in ("template", "clone") and (not out or out[-1].low in _BEFORE_SOURCE) and (
                found := _source(tokens, i)) is not None:
            if out and out[-1].low == "with" and not out[-1].quoted:
                out.pop()  # "with template local:vztmpl/...": the source
            out.extend(found[0])
            i = found[1]
        elif _colon(tokens, i) and low == "tags" and (found := _tags(tokens, i)):
            out.extend(found[0])
            i = found[1]
        elif _colon(tokens, i) and low in ("network", "net0", "nic"):
            i += 2
        elif _colon(tokens, i) and low in ("disks", "disk") and _SLOT_RE.match(nxt):
            i += 2
        elif _SLOT_RE.match(low) and (not out or out[-1].low != "as") and (
                disk := _slot_disk(tokens, i)) is not None:
            out.extend(disk[0])
            i = disk[1]
        else:
            out.append(t)
            i += 1
    return out
