"""The grammar compiler: controlled English in, a validated ClusterSpec out. Pure, offline.

Interface: :func:`compile_text` ``(text, *, filename) -> ClusterSpec``, raising
:class:`~mycopod.declarations.errors.CompileError` whose ``issues`` name ``file:line``.

Why it is built this way: a misread sentence becomes a deleted or resized VM, so the
compiler must account for every word. A sentence is tokenised (quoted strings, numbers
with glued units, punctuation), its subject is found (a name, a list or range of names,
``it``/``they``, ``the VM old-test``, ``Create three servers named ...``), and the rest
is read as a sequence of attribute phrases in any order (``2 cores``, ``4 GB of RAM``,
``a 32 GB disk on local-lvm``, ``on node pve1``, ``tagged web``, ``stopped`` ...). Between
phrases only a closed list of words that carry no meaning (``and``, ``with``, ``should``,
``be``, articles ...) may appear. Any other word is "unplaced": the sentence is an error
that quotes those words and says what was expected. Negations (``not``, ``no``,
``without``) exist only inside phrases that give them a meaning, never as filler, so a
``not`` can never be dropped. Requests the spec cannot express (passthrough, CPU
topology, schedules, conditions, node operations) and vague amounts are explained.

Phrases understood (any order, joined by commas, ``and``, ``with``):

- kind: ``a VM``, ``virtual machine``, ``QEMU VM``, ``container``, ``LXC (container)``,
  ``CT``; subjects: ``web-1``, ``web-1 and web-2``, ``web-1 through web-3``,
  ``the VM old``, ``Create three web servers named web-1 to web-3``, ``A VM named x``;
- sizes: ``2 cores``/``vCPUs``/``CPUs``, ``4 GB of RAM``/``memory`` (MB, GiB, G,
  gigabytes, gigs, TB; numbers as digits, decimals or words), ``a 32 GB disk on
  local-lvm [as scsi1]``, ``an 8 GB root disk``, ``a 2 TB data disk on tank``,
  ``on storage ceph``, ``no disks``;
- state: ``running``, ``started``, ``powered on``, ``stopped``, ``shut down``,
  ``not running``, ``should not exist``, ``removed``, ``deleted``, ``Remove the VM x``;
  boot: ``starts on boot``, ``start at boot``, ``autostart``, ``not on boot``;
- placement: ``on node pve1``, ``with ID 120``, ``in pool infra``, ``tagged a and b``;
- network (net0, or ``Its network net1 is ...``): ``on bridge vmbr1``, ``connected to
  vmbr1``, ``on VLAN 30``, ``the static IP 10.0.0.5/24``, ``gateway 10.0.0.1``,
  ``DHCP``, ``no IP address``, ``with the firewall enabled``, ``no firewall``,
  ``no network``;
- source: ``cloned from the template ubuntu-24.04``, ``booting from the ISO
  local:iso/x.iso``, ``from the template local:vztmpl/x.tar.zst``;
- text: ``described as "..."``, ``Authorize the SSH key "ssh-ed25519 AAAA... me@host"``
  (quoted, with ``\"`` escapes).

Context: ``it``/``they`` refer to the last subject of the same paragraph or list item.
A guest is declared once per file (``web-1 is a VM``, ``a VM named web-1``); other
sentences may add to it, and two different values for one field are an error naming
both lines. A guest must say what it is (VM or container) unless it should not exist.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from mycopod import spec as specmod
from mycopod.declarations import markdown
from mycopod.declarations.errors import CompileError, CompileIssue

__all__ = ["VOCABULARY", "CompileError", "CompileIssue", "assign_slots", "compile_text",
           "count_sentences", "is_plain_word", "is_subject_name", "tokenize"]

# --- tokens ------------------------------------------------------------------------------

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


class _SentenceError(Exception):
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
        raise _SentenceError(
            line, f"bad escape in the quoted text \"{raw}\" (use \\\" for a quote, \\\\ for "
            "a backslash)") from None
    return str(value)


def tokenize(text: str, *, first_line: int = 1) -> list[Token]:
    """Tokens of a block of text; a ``.`` ending a word becomes its own token."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return first_line + lo

    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(text):
        line = line_of(match.start())
        if match.group("bad") is not None:
            raise _SentenceError(line, "a quotation mark is not closed")
        if match.group("dq") is not None or match.group("sq") is not None:
            raw = match.group("dq") if match.group("dq") is not None else match.group("sq")
            tokens.append(Token(_unescape(raw, line), QUOTED, line, quoted=True))
            continue
        sep = match.group("sep")
        if sep is not None:
            tokens.append(Token(sep, "." if sep in ";!" else sep, line))
            continue
        word = match.group("word")
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


# --- vocabulary ------------------------------------------------------------------------

FILLERS = frozenset({
    ",", ":", "and", "with", "which", "that", "each", "also", "both", "all", "should",
    "must", "be", "is", "are", "has", "have", "having", "will", "shall", "it", "they",
    "them", "keep", "leave", "make", "sure", "give", "set", "assign", "put", "place",
    "please", "then", "its", "their", "needs", "need", "to", "the", "a", "an", "always",
    "kept", "left", "get", "gets", "uses", "use", "using", "ensure", "does", "do",
    "\u2013", "\u2014",
})
SUBJECT_VERBS = frozenset({
    "is", "are", "has", "have", "should", "must", "will", "runs", "run", "gets", "uses",
    "needs", "need", "does", "do", "shall", "can", "stays", "remains", "was", "were",
    "lives", "boots", "starts", ",",
})
KIND_WORDS: dict[str, str] = {
    "vm": "vm", "vms": "vm", "qemu": "vm", "kvm": "vm",
    "container": "ct", "containers": "ct", "ct": "ct", "cts": "ct", "lxc": "ct",
    "lxcs": "ct",
}
GENERIC_NOUNS = frozenset({"server", "servers", "machine", "machines", "guest", "guests",
                           "instance", "instances"})
#: descriptive words allowed before a generic noun ("three web servers"): they carry no
#: meaning for the spec. Anything else ("GPU servers") is not understood.
ROLE_WORDS = frozenset({
    "web", "database", "db", "dns", "mail", "file", "build", "app", "application", "proxy",
    "monitoring", "game", "media", "backup", "test", "dev", "development", "staging",
    "production", "prod", "worker", "cache", "api", "frontend", "backend", "ci", "lab",
    "home", "git", "log", "logging", "vpn", "k3s", "k8s", "kubernetes", "docker", "new",
})
CREATE_VERBS = ("create", "add", "deploy", "provision", "build", "declare", "define",
                "run", "launch")
CREATE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("set", "up"), ("spin", "up"), ("i", "want"), ("we", "want"), ("i", "need"),
    ("we", "need"), ("there", "should", "be"), ("there", "must", "be"), ("there", "is"),
    ("there", "are"), ("we", "have"), ("i", "have"), *((v,) for v in CREATE_VERBS),
)
IMPERATIVE_VERBS = frozenset({
    "start", "stop", "keep", "leave", "give", "put", "place", "tag", "connect", "attach",
    "move", "remove", "delete", "destroy", "set", "make", "run", "assign", "pin", "enable",
    "disable", "boot", "power", "shut", "turn", "authorize", "authorise", "allow", "label",
})
NODE_WORDS = frozenset({"node", "nodes", "host", "hosts", "cluster", "hypervisor"})
PRONOUNS = frozenset({"it", "they", "them", "this", "these", "those"})

_UNITS: dict[str, Decimal] = {}
for _words, _mib in (
    (("mb", "mib", "m", "meg", "megs", "megabyte", "megabytes", "mebibyte", "mebibytes"), 1),
    (("gb", "gib", "g", "gig", "gigs", "gigabyte", "gigabytes", "gibibyte", "gibibytes"),
     1024),
    (("tb", "tib", "t", "terabyte", "terabytes", "tebibyte", "tebibytes"), 1024 * 1024),
):
    for _w in _words:
        _UNITS[_w] = Decimal(_mib)
_GLUED_RE = re.compile(r"^(\d+(?:\.\d+)?)(mb|mib|m|gb|gib|g|tb|tib|t)$")
_NUMBER_RE = re.compile(r"^\d+(\.\d+)?$")

_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5,
             "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9}

#: words whose presence means the sentence asks for something a spec cannot hold
UNEXPRESSIBLE: dict[str, str] = {}
for _reason, _words2 in (
    ("hardware passthrough cannot be expressed in a MycoPod spec",
     "passthrough pass-through passthru pci pcie gpu gpus usb hostpci vgpu sr-iov"),
    ("CPU topology (sockets, NUMA, threads, CPU type) cannot be expressed; give a number "
     "of cores", "socket sockets numa thread threads topology hyperthreading smt"),
    ("schedules cannot be expressed; a declaration says what should be true, not when",
     "every daily nightly weekly hourly monthly schedule scheduled cron am pm weekdays "
     "weekends tonight tomorrow midnight"),
    ("conditions cannot be expressed; a declaration says what should be true, always",
     "if unless until while whenever otherwise"),
    ("operations on Proxmox nodes (and one-off actions) cannot be expressed; declare the "
     "state a guest should be in, e.g. 'on node pve2' or 'stopped'",
     "reboot restart upgrade update maintenance evacuate drain migrate snapshot backup "
     "clone"),
    ("vague amounts cannot be compiled; give an exact number with a unit",
     "about around approximately roughly some few several lots plenty enough big small "
     "large huge tiny more less fewer least most max maximum min minimum extra"),
):
    for _w in _words2.split():
        UNEXPRESSIBLE[_w] = _reason


# --- drafts: what the sentences say about each guest -----------------------------------


@dataclass
class _Disk:
    size_gib: int
    storage: str | None
    slot: str | None
    role: str | None  # "root", "data" or None
    line: int


@dataclass
class _Draft:
    name: str
    line: int
    declared: int | None = None
    declared_in: int = -1
    kind: tuple[str, int] | None = None
    fields: dict[str, tuple[Any, int]] = field(default_factory=dict)
    disks: list[_Disk] = field(default_factory=list)
    no_disks: int | None = None
    storage: tuple[str, int] | None = None
    nets: dict[str, dict[str, tuple[Any, int]]] = field(default_factory=dict)
    no_networks: int | None = None
    removed_nets: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    ssh_keys: list[str] = field(default_factory=list)

    def set(self, key: str, value: Any, line: int) -> None:
        old = self.fields.get(key)
        if old is not None and old[0] != value:
            raise _SentenceError(
                line, f"{self.name}: {key} is given twice with different values: "
                f"{_show(old[0])} (line {old[1]}) and {_show(value)} (line {line})")
        self.fields[key] = (value, line)

    def set_kind(self, kind: str, line: int) -> None:
        if self.kind is not None and self.kind[0] != kind:
            raise _SentenceError(
                line, f"{self.name} is said to be a {_KIND_NAME[self.kind[0]]} "
                f"(line {self.kind[1]}) and a {_KIND_NAME[kind]} (line {line})")
        self.kind = (kind, line)

    def set_net(self, slot: str, key: str, value: Any, line: int) -> None:
        net = self.nets.setdefault(slot, {})
        old = net.get(key)
        if old is not None and old[0] != value:
            raise _SentenceError(
                line, f"{self.name}: {key} of {slot} is given twice with different values: "
                f"{_show(old[0])} (line {old[1]}) and {_show(value)} (line {line})")
        net[key] = (value, line)


_KIND_NAME = {"vm": "VM", "ct": "container"}


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, bool)) or value is None else str(value)


#: an effect of a phrase, applied to every guest of the clause's subject
Effect = Callable[[_Draft], None]


# --- the cursor: one sentence's tokens --------------------------------------------------


#: ``take`` patterns split once: "on|at" -> {"on", "at"}
_ALTERNATIVES: dict[str, frozenset[str]] = {}


class _Cur:
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
        for k, word in enumerate(words):
            alts = _ALTERNATIVES.get(word)
            if alts is None:
                alts = _ALTERNATIVES[word] = frozenset(word.split("|"))
            if self.w(k) not in alts:
                return False
        self.i += len(words)
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

    def value(self, what: str) -> Token:
        """The next token taken as a literal value (an identifier or a quoted string)."""
        t = self.tok()
        if t is None or t.low in (".", ",", ":", "(", ")"):
            raise _SentenceError(self.line, f"expected {what} here")
        self.i += 1
        return t


# --- numbers -----------------------------------------------------------------------------


def _number(c: _Cur) -> tuple[Decimal, str | None] | None:
    """A number (digits, ``0.5``, words like ``thirty-two``), maybe with a glued unit."""
    w = c.w()
    if not w or c.tok() is None or c.toks[c.i].quoted:
        return None
    if w.startswith("-") and (w[1:2].isdigit()):
        raise _SentenceError(c.line, f"{c.toks[c.i].text} is negative; sizes and counts "
                                     "must be positive")
    if w == "minus":
        raise _SentenceError(c.line, "negative values are not allowed")
    if _NUMBER_RE.match(w):
        c.i += 1
        return Decimal(w), None
    glued = _GLUED_RE.match(w)
    if glued:
        c.i += 1
        return Decimal(glued.group(1)), glued.group(2)
    if w in ("single",) or (w == "a" and c.w(1) == "single"):
        c.i += 2 if w == "a" else 1
        return Decimal(1), None
    if w in ("half",) and c.w(1) in ("a", "an"):
        c.i += 2
        return Decimal("0.5"), None
    return _number_words(c)


def _number_words(c: _Cur) -> tuple[Decimal, str | None] | None:
    """English number words: ``sixteen``, ``thirty-two``, ``two hundred fifty-six``.

    The structure is checked (a units word cannot follow another, ``hundred`` follows
    1..9), so "two four" is not read as six: the second word is left unplaced.
    """
    total = 0
    current = 0
    last = ""  # "", "unit", "teen", "tens", "hundred", "thousand"
    while True:
        w = c.w()
        parts = w.split("-")
        if len(parts) == 2 and parts[0] in _TENS and parts[1] in _SMALL and \
                0 < _SMALL[parts[1]] < 10 and last in ("", "hundred", "thousand"):
            current += _TENS[parts[0]] + _SMALL[parts[1]]
            last = "unit"
        elif w in _SMALL and _SMALL[w] < 10 and last in ("", "tens", "hundred", "thousand"):
            if last == "" and w == "zero":
                current = 0
            current += _SMALL[w]
            last = "unit"
        elif w in _SMALL and last in ("", "hundred", "thousand"):
            current += _SMALL[w]
            last = "teen"
        elif w in _TENS and last in ("", "hundred", "thousand"):
            current += _TENS[w]
            last = "tens"
        elif w == "hundred" and last == "unit" and 0 < current % 100 < 10 and \
                current < 10:
            current *= 100
            last = "hundred"
        elif w == "thousand" and last in ("unit", "teen", "tens", "hundred") and total == 0:
            total = current * 1000
            current = 0
            last = "thousand"
        elif w == "and" and last in ("hundred", "thousand") and (
                c.w(1) in _SMALL or c.w(1) in _TENS or c.w(1).split("-")[0] in _TENS):
            pass
        else:
            break
        c.i += 1
    if not last:
        return None
    return Decimal(total + current), None


def _int(value: Decimal, line: int, what: str) -> int:
    if value != value.to_integral_value():
        raise _SentenceError(line, f"{what} must be a whole number, not {value}")
    return int(value)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _size(c: _Cur) -> tuple[Decimal, int] | None:
    """``NUM UNIT`` -> (MiB, line), or None (cursor unchanged)."""
    start = c.i
    line = c.line
    num = _number(c)
    if num is None:
        return None
    value, unit = num
    if unit is None:
        unit = c.w()
        if unit not in _UNITS:
            c.i = start
            return None
        c.i += 1
    return value * _UNITS[unit], line


# --- names -------------------------------------------------------------------------------

_NAMEISH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_RANGE_RE = re.compile(r"^(.*?)(\d+)$")
MAX_RANGE = 1000


def _is_vocab(low: str) -> bool:
    return low in VOCABULARY or low in _SMALL or low in _TENS or bool(_NUMBER_RE.match(low))


def _nameish(t: Token | None) -> bool:
    return (t is not None and not t.quoted and not _is_vocab(t.low)
            and bool(_NAMEISH_RE.match(t.text)) and not _GLUED_RE.match(t.low)
            and not t.low.startswith("-"))


def is_plain_word(value: str) -> bool:
    """Does ``value`` read back unquoted as exactly itself, and as no word of the grammar?

    The renderer quotes every value for which this is false.
    """
    try:
        tokens = tokenize(value)
    except _SentenceError:
        return False
    return (len(tokens) == 1 and not tokens[0].quoted and tokens[0].text == value
            and not _is_vocab(tokens[0].low) and not _GLUED_RE.match(tokens[0].low)
            and tokens[0].low not in NODE_WORDS and not value.startswith(("-", "#")))


def is_subject_name(name: str) -> bool:
    """Can ``name`` start a sentence as its subject (``name is a VM``)?"""
    return _nameish(Token(name, name.lower(), 1))


def _check_name(t: Token) -> str:
    if not specmod.NAME_RE.match(t.text):
        raise _SentenceError(
            t.line, f"{t.text!r} is not a valid guest name: use lower-case letters, digits "
            "and hyphens (1-63 characters, not starting or ending with a hyphen)")
    return t.text


def _range(first: Token, last: Token) -> list[str]:
    a, b = _RANGE_RE.match(first.text), _RANGE_RE.match(last.text)
    if a is None or b is None or a.group(1) != b.group(1):
        raise _SentenceError(
            first.line, f"{first.text} through {last.text} is not a range: both ends need "
            "the same name with a number at the end (web-1 through web-3)")
    lo, hi = int(a.group(2)), int(b.group(2))
    width = len(a.group(2)) if a.group(2).startswith("0") else 0
    if hi < lo:
        raise _SentenceError(first.line, f"the range {first.text} through {last.text} runs "
                                         "backwards")
    if hi - lo >= MAX_RANGE:
        raise _SentenceError(first.line, f"the range {first.text} through {last.text} has "
                                         f"more than {MAX_RANGE} names")
    names = [f"{a.group(1)}{n:0{width}d}" for n in range(lo, hi + 1)]
    for name in names:
        _check_name(Token(name, name, first.line))
    return names


def _names(c: _Cur, *, first_literal: bool) -> list[str]:
    """A list of names: ``a``, ``a and b``, ``a, b and c``, ``web-1 through web-3``."""
    names: list[str] = []
    first = True
    while True:
        t = c.tok()
        if t is None or t.low in (".", ","):
            break
        if not (first and first_literal) and not _nameish(t):
            break
        if first and first_literal and t.low in (".", ",", ":"):
            break
        c.i += 1
        if c.w() in ("through", "thru", "to", "-", "..") and _nameish(c.tok(1)):
            last = c.toks[c.i + 1]
            if c.w() != "to" or _RANGE_RE.match(last.text):
                c.i += 2
                names.extend(_range(t, last))
            else:
                names.append(_check_name(t))
        else:
            names.append(_check_name(t))
        first = False
        save = c.i
        if c.w() == "," and c.w(1) == "and":
            c.i += 2
        elif c.w() in (",", "and"):
            c.i += 1
        else:
            break
        if not _nameish(c.tok()):
            c.i = save
            break
        # "a and b is ..." continues the list; "a, tagged b" does not.
    return names


# --- phrases ------------------------------------------------------------------------------

_ROLE_ROOT = ("root", "system", "boot", "os", "main", "primary")
_ROLE_DATA = ("data", "extra", "additional", "secondary", "storage", *_ORDINALS)
_DISK_NOUNS = ("disk", "disks", "drive", "drives", "volume", "rootfs", "hdd", "ssd")


def _storage_name(c: _Cur, *, forced: bool) -> str | None:
    t = c.tok()
    if t is None:
        return None
    if t.quoted or (forced and t.low not in (".", ",")) or (
            not _is_vocab(t.low) and t.low not in NODE_WORDS and t.low not in (
                ".", ",", ":", "(")):
        c.i += 1
        return t.text
    return None


def _disk_tail(c: _Cur) -> tuple[str | None, str | None]:
    """``[on [the] [storage] X] [as SLOT]`` in either order."""
    storage: str | None = None
    slot: str | None = None
    for _ in range(2):
        save = c.i
        if storage is None and c.opt("on", "in", "at"):
            c.opt("the")
            forced = c.opt("storage", "datastore", "pool") is not None
            if forced and c.w() == "pool":
                c.i += 1
            storage = _storage_name(c, forced=forced)
            if storage is None:
                c.i = save
        elif slot is None and c.w() in ("as", "in") and c.w(1) not in ("slot",) and (
                c.tok(1) is not None and re.match(r"^(scsi|virtio|sata|ide|mp)\d+$|^rootfs$",
                                                   c.w(1))):
            slot = c.toks[c.i + 1].low
            c.i += 2
        elif slot is None and c.take("as", "slot") and c.tok() is not None:
            slot = c.value("a disk slot").low
    return storage, slot


def _p_disk(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    role: str | None = None
    if c.w() in ("another", *_ORDINALS) and c.w() != "first":
        role = "data"  # "another 32 GB disk", "a second 100 GB disk"
        c.i += 1
    elif c.w() == "first":
        role = "root"
        c.i += 1
    size = _size(c)
    if size is None and role is not None:
        c.i = start
        return None
    if size is not None:
        mib, _ = size
        w = c.w()
        if w in _ROLE_ROOT and role is None:
            role = "root"
            c.i += 1
        elif w in _ROLE_DATA and role is None:
            role = "data"
            c.i += 1
        if c.take("hard", "disk|drive") or c.take("root", "filesystem|fs") or c.opt(
                *_DISK_NOUNS):
            pass
        elif c.take("of", "disk|storage", "space") or c.take("of", "disk|storage"):
            pass
        else:
            c.i = start
            return None
    else:
        w = c.w()
        if w in _ROLE_ROOT and c.w(1) in _DISK_NOUNS:
            role = "root"
            c.i += 1
        elif w in _ROLE_DATA and c.w(1) in _DISK_NOUNS:
            role = "data"
            c.i += 1
        if not c.opt("disk", "drive", "rootfs"):
            c.i = start
            return None
        c.opt("size", "of", ":")
        size = _size(c)
        if size is None:
            c.i = start
            return None
        mib = size[0]
    storage, slot = _disk_tail(c)
    gib = _round(mib / 1024)
    if gib < specmod.DISK_MIN_GIB:
        raise _SentenceError(line, f"a disk must be at least {specmod.DISK_MIN_GIB} GB "
                                   f"(got {_fmt_mib(mib)})")

    def apply(d: _Draft) -> None:
        if d.no_disks is not None:
            raise _SentenceError(line, f"{d.name} is said to have no disks (line "
                                       f"{d.no_disks}) and a disk (line {line})")
        d.disks.append(_Disk(gib, storage, slot, role, line))

    return [apply]


def _fmt_mib(mib: Decimal) -> str:
    return f"{mib.normalize():f} MB"


def _p_memory(c: _Cur) -> list[Effect] | None:
    start = c.i
    line = c.line
    size = _size(c)
    if size is not None:
        c.opt("of")
        if not c.opt("ram", "memory", "mem"):
            c.i = start
            return None
    else:
        if not c.opt("ram", "memory", "mem"):
            return None
        c.opt("of", "size")
        size = _size(c)
        if size is None:
            c.i = start
            return None
    mib = _round(size[0])
    if mib < 1:
        raise _SentenceError(line, "memory must be at least 16 MB")
    return [lambda d: d.set("memory_mib", mib, line)]


_CORE_NOUNS = ("cores", "core", "vcpus", "vcpu", "cpus", "cpu", "processors", "processor")


_N_CORE_RE = re.compile(r"^(\d+)-(core|cpu|vcpu)$")


def _p_cores(c: _Cur) -> list[Effect] | None:
    start = c.i
    line = c.line
    hyphenated = _N_CORE_RE.match(c.w())
    if hyphenated:  # "a 4-core VM"
        c.i += 1
        value = int(hyphenated.group(1))
        return [lambda d: d.set("cores", value, line)]
    num = _number(c)
    if num is not None:
        if num[1] is not None:
            c.i = start
            return None
        if c.take("cpu", "cores|core") or c.take("virtual", "cpus|cpu|cores|core|processors"):
            pass
        elif not c.opt(*_CORE_NOUNS):
            c.i = start
            return None
    else:
        if not (c.take("cpu", "cores") or c.opt("cores", "vcpus", "cpus", "cpu")):
            return None
        c.opt("of", ":")
        num = _number(c)
        if num is None or num[1] is not None or c.w() in _UNITS:
            c.i = start
            return None
    cores = _int(num[0], line, "the number of cores")
    return [lambda d: d.set("cores", cores, line)]


def _p_kind(c: _Cur) -> list[Effect] | None:
    line = c.line
    kind = _kind_noun(c)
    if kind is None:
        return None

    return [lambda d: d.set_kind(kind, line)]


def _kind_noun(c: _Cur) -> str | None:
    """VM, virtual machine(s), QEMU VM, container, LXC container, LXC, CT ..."""
    start = c.i
    if c.take("virtual", "machine|machines"):
        return "vm"
    if c.take("qemu|kvm", "vm|vms|virtual"):
        if c.toks[c.i - 1].low == "virtual" and not c.opt("machine", "machines"):
            c.i = start
            return None
        return "vm"
    if c.take("lxc|linux", "container|containers"):
        return "ct"
    w = c.w()
    if w in ("vm", "vms", "container", "containers", "ct", "cts", "lxc", "lxcs"):
        c.i += 1
        return KIND_WORDS[w]
    return None


def _p_state(c: _Cur) -> list[Effect] | None:
    line = c.line
    state: str | None = None
    if c.take("not", "exist|exists") or c.take("no", "longer", "exist|exists") or c.take(
            "not", "be", "present") or c.take("not", "be", "there"):
        state = "absent"
    elif c.opt("absent", "removed", "deleted", "destroyed", "gone", "remove", "delete",
               "destroy"):
        state = "absent"
    elif c.take("not", "be", "running|started") or c.take("not", "running|started"):
        state = "stopped"
    elif c.take("shut", "down|off") or c.take("powered|power|turned|turn", "off") or c.opt(
            "stopped", "stop", "shutdown", "halted", "off"):
        state = "stopped"
    elif c.take("powered|power|turned|turn", "on") or c.take("up", "and", "running") or \
            c.opt("running", "started", "start", "up", "online"):
        state = "running"
    if state is None:
        return None
    value = state
    return [lambda d: d.set("state", value, line)]


_BOOT_NOUNS = "boot|boots|startup|start-up|bootup"


def _p_onboot(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    value: bool | None = None
    negative = c.opt("not", "never") is not None
    if negative:
        c.opt("be")
    c.opt("start", "starts", "starting", "started", "boot", "boots", "booting", "booted",
          "autostart", "autostarts")
    if c.take("on|at|with|during", _BOOT_NOUNS) or c.take(
            "on|at|with|during", "the", "node|host|system|server", _BOOT_NOUNS) or c.take(
            "on|at|with|during", "node|host|system|server", _BOOT_NOUNS) or c.take(
            "automatically") or c.take("when", "the", "node|host", "boots|starts") or c.take(
            "with", "the", "node|host"):
        value = not negative
    else:
        c.i = start
        negative = c.opt("no") is not None
        if c.opt("autostart", "auto-start", "onboot", "autoboot"):
            if c.opt("disabled", "off"):
                value = False
            else:
                c.opt("enabled", "on")
                value = not negative
        elif c.take("start", "on|at", "boot") and not negative:
            value = True
    if value is None:
        c.i = start
        return None
    onboot = value
    return [lambda d: d.set("onboot", onboot, line)]


def _p_node(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    c.opt("running", "runs", "run", "lives", "placed", "located", "hosted", "pinned", "put",
          "moved")
    if c.opt("on", "to"):
        c.opt("the")
        if not c.opt("node", "host"):
            c.i = start
            return None
    elif not c.opt("node"):
        c.i = start
        return None
    name = c.value("a node name").text
    if not specmod.NODE_RE.match(name):
        raise _SentenceError(line, f"{name!r} is not a valid node name")
    return [lambda d: d.set("node", name, line)]


def _p_vmid(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not (c.take("vm|ct|container", "id") or c.opt("id", "vmid", "ctid")):
        return None
    c.opt("of", "number", ":")
    w = c.w()
    if w.startswith("#"):
        c.toks[c.i] = Token(w[1:], w[1:], line)
    num = _number(c)
    if num is None or num[1] is not None:
        c.i = start
        return None
    vmid = _int(num[0], line, "the ID")
    return [lambda d: d.set("vmid", vmid, line)]


def _p_pool(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    name: str | None = None
    if c.opt("in", "into", "to") or c.take("member", "of"):
        c.opt("the")
        if c.opt("resource"):
            c.opt("pool")
            name = c.value("a pool name").text
        elif c.opt("pool"):
            name = c.value("a pool name").text
        elif c.tok() is not None and c.w(1) == "pool" and not c.toks[c.i].quoted and \
                c.w() not in (".", ","):
            name = c.toks[c.i].text
            c.i += 2
    elif c.opt("pool"):
        c.opt(":")
        name = c.value("a pool name").text
    if name is None:
        c.i = start
        return None
    value = name
    return [lambda d: d.set("pool", value, line)]


def _is_phrase_start(c: _Cur) -> bool:
    probe = _Cur(c.toks, c.i)
    for phrase in PHRASES:
        probe.i = c.i
        try:
            if phrase(probe) is not None:
                return True
        except _SentenceError:
            return True
    return False


#: words that can never be a tag or a value without quotes
_STRUCTURAL = frozenset({".", ",", ":", "(", ")", "and", "with", "as", "the", "a", "an", "not",
                         "no", "without", "on", "in", "of", "from"})


def _p_tags(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not (c.opt("tagged", "labelled", "labeled") or c.take("with", "tags|tag|labels|label")
            or c.opt("tags", "tag", "labels", "label")):
        return None
    c.opt("with", "as", ":")
    c.opt("the")
    c.opt("tags", "tag")
    if c.w() == "vlan":
        c.i = start
        return None
    tags: list[str] = []
    while True:
        t = c.tok()
        if t is None or t.low in _STRUCTURAL:
            break
        tags.append(t.text if t.quoted else t.low)
        c.i += 1
        save = c.i
        if c.w() == "," and c.w(1) == "and":
            c.i += 2
        elif c.w() in (",", "and"):
            c.i += 1
        else:
            break
        nxt = c.tok()
        if nxt is None or (not nxt.quoted and (
                nxt.low in _STRUCTURAL or nxt.low in FILLERS or _is_phrase_start(c)
                or _starts_clause(c))):
            c.i = save
            break
    if not tags:
        c.i = start
        return None
    for tag in tags:
        if not specmod.TAG_RE.match(tag.strip().lower()):
            raise _SentenceError(line, f"{tag!r} is not a valid tag (lower-case letters, "
                                       "digits, - _ + .)")
    values = list(tags)
    return [lambda d: d.tags.extend(values)]


# network phrases carry an optional slot: None means "the guest's first network" (net0)
_NetEffect = Callable[[_Draft, str], None]


def _p_vlan(c: _Cur) -> _NetEffect | None:
    line = c.line
    start = c.i
    c.opt("on", "in")
    c.take("tagged", "with")
    c.opt("tagged")
    c.opt("the")
    w = c.w()
    if w.startswith("vlan") and w[4:].isdigit():
        c.i += 1
        vlan = int(w[4:])
    elif c.opt("vlan"):
        c.opt("tag", "id", "number", ":")
        num = _number(c)
        if num is None or num[1] is not None:
            c.i = start
            return None
        vlan = _int(num[0], line, "a VLAN tag")
    else:
        c.i = start
        return None
    if not specmod.VLAN_MIN <= vlan <= specmod.VLAN_MAX:
        raise _SentenceError(line, f"VLAN {vlan} is out of range "
                                   f"({specmod.VLAN_MIN}..{specmod.VLAN_MAX})")
    return lambda d, slot: d.set_net(slot, "vlan", vlan, line)


def _p_bridge(c: _Cur) -> _NetEffect | None:
    line = c.line
    start = c.i
    name: str | None = None
    if c.opt("connected", "attached", "bridged", "plugged", "linked"):
        if not c.opt("to", "on", "into"):
            c.i = start
            return None
        c.opt("the")
        c.opt("network")
        if c.opt("bridge"):
            name = c.value("a bridge name").text
        elif c.tok() is not None and (c.toks[c.i].quoted or re.match(r"^vmbr\d+$", c.w())):
            name = c.value("a bridge name").text
    elif c.opt("on", "to", "via", "through"):
        c.opt("the")
        c.opt("network")
        if c.opt("bridge"):
            name = c.value("a bridge name").text
        elif re.match(r"^vmbr\d+$", c.w()):
            name = c.value("a bridge name").text
    else:
        c.opt("network")
        if c.opt("bridge"):
            c.opt(":")
            name = c.value("a bridge name").text
    if name is None:
        c.i = start
        return None
    bridge = name
    return lambda d, slot: d.set_net(slot, "bridge", bridge, line)


def _p_ip(c: _Cur) -> _NetEffect | None:
    line = c.line
    start = c.i
    value: str | None
    if c.take("no", "ip|ipv4|address") or c.take("without", "ip|ipv4|address") or c.take(
            "without", "an", "ip|ipv4|address"):
        c.opt("address", "configuration", "config")
        value = None
    elif c.opt("dhcp") or c.take("via|by|from|over|using|with", "dhcp"):
        value = "dhcp"
    else:
        c.opt("static", "fixed")
        if not (c.take("ip", "address") or c.opt("ip", "ipv4", "address")):
            c.i = start
            return None
        c.opt("of", ":", "is")
        if c.take("from|via|by", "dhcp"):
            value = "dhcp"
        else:
            t = c.value("an IP address like 192.168.1.10/24")
            value = t.low if t.low == "dhcp" else t.text
            if not t.quoted and not re.match(r"^[0-9a-fA-F.:/]+$", t.text) and t.low != "dhcp":
                raise _SentenceError(line, f"{t.text!r} is not an IP address like "
                                           "192.168.1.10/24")
    ip = value
    return lambda d, slot: d.set_net(slot, "ip", ip, line)


def _p_gateway(c: _Cur) -> _NetEffect | None:
    line = c.line
    if not (c.take("default", "gateway") or c.opt("gateway", "gw")):
        return None
    c.opt("of", ":", "is")
    gateway = c.value("a gateway address like 192.168.1.1").text
    return lambda d, slot: d.set_net(slot, "gateway", gateway, line)


def _p_firewall(c: _Cur) -> _NetEffect | None:
    line = c.line
    start = c.i
    value: bool | None = None
    if c.take("no", "firewall") or c.take("without", "firewall") or c.take(
            "without", "a|the", "firewall") or c.take("disable", "the", "firewall") or c.take(
            "disable", "firewall") or c.take("not", "firewalled"):
        value = False
    elif c.opt("firewalled") or c.take("enable", "the", "firewall") or c.take(
            "enable", "firewall") or c.take("behind", "the", "firewall"):
        value = True
    elif c.opt("firewall"):
        if c.opt("disabled", "off"):
            value = False
        else:
            c.opt("enabled", "on", "active")
            value = True
    if value is None:
        c.i = start
        return None
    enabled = value
    return lambda d, slot: d.set_net(slot, "firewall", enabled, line)


NET_PHRASES: tuple[Callable[[_Cur], _NetEffect | None], ...] = (
    _p_firewall, _p_vlan, _p_bridge, _p_gateway, _p_ip)


def _p_description(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not (c.take("described", "as") or c.take("with", "the", "description") or c.take(
            "with", "description") or c.opt("description")):
        return None
    c.opt(":", "of", "is")
    t = c.tok()
    if t is None or not t.quoted:
        c.i = start
        raise _SentenceError(line, "put the description in double quotes, like: described "
                                   "as \"Prometheus and Grafana\"")
    c.i += 1
    text = t.text
    return [lambda d: d.set("description", text, line)]


def _p_ssh(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    c.opt("authorize", "authorise", "allow", "add", "with", "accept", "trust")
    c.opt("the")
    if not (c.take("ssh", "public", "key|keys") or c.take("ssh", "key|keys") or c.take(
            "public", "ssh", "key|keys")):
        c.i = start
        return None
    c.opt(":")
    keys: list[str] = []
    while True:
        t = c.tok()
        if t is None or not t.quoted:
            break
        keys.append(" ".join(t.text.split()))
        c.i += 1
        save = c.i
        if c.w() == "," and c.w(1) == "and":
            c.i += 2
        elif c.w() in (",", "and"):
            c.i += 1
        if c.tok() is None or not c.toks[c.i].quoted:
            c.i = save
            break
    if not keys:
        raise _SentenceError(line, "put the SSH key in double quotes, like: authorize the SSH "
                                   "key \"ssh-ed25519 AAAA... me@laptop\"")
    for key in keys:
        if not specmod.SSH_KEY_RE.match(key):
            raise _SentenceError(line, f"{key[:40]!r} is not an OpenSSH public key (like "
                                       "\"ssh-ed25519 AAAA... me@laptop\")")
    return [lambda d: d.ssh_keys.extend(keys)]


_VOLUME_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]:(iso|vztmpl)/")


def _p_source(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    key: str | None = None
    if c.take("cloned", "from") or c.take("clone", "of") or c.take("a", "clone", "of") or \
            c.take("cloned", "off"):
        c.opt("the")
        c.opt("vm", "qemu")
        c.opt("template")
        key = "clone"
    elif c.take("booting|boots|boot|booted|installed|installing|install", "from") or c.take(
            "with", "the", "iso") or c.take("with", "iso") or c.take("from", "the", "iso") or \
            c.take("from", "iso") or c.take("iso", "image") or c.opt("iso"):
        c.opt("the")
        c.opt("iso")
        c.opt("image", "volume", "file")
        key = "iso"
    elif c.take("based", "on") or c.opt("from", "using"):
        c.opt("the", "a")
        c.opt("lxc", "os", "vm", "qemu", "container")
        if not c.opt("template", "ostemplate"):
            c.i = start
            return None
        key = "template"
    elif c.opt("ostemplate"):
        key = "template"
    else:
        return None
    t = c.value("a template name or volume")
    value = t.text
    if key == "template":
        key = "ostemplate" if ":vztmpl/" in value else "clone"
    if key == "iso" and ":" not in value:
        raise _SentenceError(line, f"{value!r} is not an ISO volume; write it as "
                                   "storage:iso/file.iso, like local:iso/debian-12.iso")
    if key == "clone" and _VOLUME_RE.match(value):
        raise _SentenceError(line, f"{value!r} is a storage volume, not a VM template name")
    source = {key: value}
    return [lambda d: d.set("source", source, line)]


def _p_storage(c: _Cur) -> list[Effect] | None:
    line = c.line
    start = c.i
    if c.take("stored", "on|in") or c.take("on|in", "storage|datastore") or c.take(
            "on|in", "the", "storage|datastore") or c.opt("storage"):
        c.opt("the")
        c.opt("storage", "datastore")
        c.opt(":")
        name = _storage_name(c, forced=True)
        if name is not None:
            value = name
            return [functools.partial(_set_storage, value, line)]
    c.i = start
    return None


def _set_storage(value: str, line: int, d: _Draft) -> None:
    old = d.storage
    if old is not None and old[0] != value:
        raise _SentenceError(line, f"{d.name}: storage is given twice: {old[0]} (line {old[1]})"
                                   f" and {value} (line {line})")
    d.storage = (value, line)


def _p_none(c: _Cur) -> list[Effect] | None:
    line = c.line
    if c.take("no", "disks|disk") or c.take("without", "disks|disk") or c.take(
            "without", "a|any", "disk|disks") or c.opt("diskless"):
        def nodisk(d: _Draft) -> None:
            if d.disks:
                raise _SentenceError(line, f"{d.name} is said to have a disk (line "
                                           f"{d.disks[0].line}) and no disks (line {line})")
            d.no_disks = line
        return [nodisk]
    if c.take("no", "network|networks|nic|nics") or c.take(
            "without", "network|networks|networking") or c.take(
            "without", "a|any", "network|networks"):
        if re.match(r"^net\d+$", c.w()):
            slot = c.toks[c.i].low
            c.i += 1

            def noslot(d: _Draft) -> None:
                if slot in d.nets:
                    raise _SentenceError(line, f"{d.name}: network {slot} is described and "
                                               "said not to exist")
                d.removed_nets.add(slot)
            return [noslot]

        def nonet(d: _Draft) -> None:
            d.no_networks = line
        return [nonet]
    return None


PHRASES: tuple[Callable[[_Cur], Any], ...] = ()  # filled below


def _p_net_inline(c: _Cur) -> list[Effect] | None:
    for phrase in NET_PHRASES:
        eff = phrase(c)
        if eff is not None:
            return [functools.partial(_on_net0, eff)]
    return None


def _on_net0(effect: _NetEffect, draft: _Draft) -> None:
    effect(draft, "net0")


#: the phrases that can start with a number
_NUMBER_PHRASES = (_p_disk, _p_memory, _p_cores)

PHRASES = (
    _p_description, _p_ssh, _p_none, _p_onboot, _p_state, _p_source, _p_disk, _p_memory,
    _p_cores, _p_node, _p_vmid, _p_tags, _p_net_inline, _p_pool, _p_storage, _p_kind,
)

#: every word the grammar gives a meaning to; a name equal to one must be quoted/"named"
VOCABULARY = frozenset({
    *FILLERS, *SUBJECT_VERBS, *KIND_WORDS, *GENERIC_NOUNS, *IMPERATIVE_VERBS, *NODE_WORDS,
    *PRONOUNS, *_UNITS, *UNEXPRESSIBLE, *_ORDINALS, *_DISK_NOUNS, *_CORE_NOUNS, *_ROLE_ROOT,
    *_ROLE_DATA, "named", "called", "through", "thru", "not", "no", "without", "never", "on",
    "in", "at", "of", "from", "as", "via", "by", "over", "into", "ram", "memory", "mem",
    "disk", "id", "vmid", "ctid", "pool", "resource", "tagged", "tags", "tag", "labels",
    "label", "labelled", "labeled", "vlan", "bridge", "network", "networks", "interface",
    "ip", "ipv4", "address", "static", "fixed", "dhcp", "gateway", "gw", "default",
    "firewall", "firewalled", "enabled", "disabled", "described", "description", "ssh",
    "key", "keys", "public", "cloned", "template", "ostemplate", "iso", "image", "boot",
    "booting", "running", "stopped", "started", "absent", "removed", "deleted", "gone",
    "exist", "exists", "autostart", "onboot", "virtual", "qemu", "kvm", "lxc", "linux",
    "storage", "stored", "datastore", "single", "half", "hard", "space", "size", "up", "off",
    "online", "halted", "powered", "shutdown", "automatically", "hundred", "thousand",
    "minus", "each", "slot", "connected", "attached", "diskless", "nic", "nics", "create",
    "there", "i", "we", "its", "their", "my", "our", "for", "or", "but", "(", ")",
    *CREATE_VERBS, *(w for prefix in CREATE_PREFIXES for w in prefix),
    "device", "card", "adapter", "when", "behind", "active",
    "disable", "enable", "authorize", "authorise", "trust", "accept", "member", "number",
    "another", "any", "auto-start", "autoboot", "autostarts", "based", "booted", "bridged",
    "config", "configuration", "destroyed", "down", "during", "file", "filesystem", "fs",
    "hosted", "install", "installed", "installing", "linked", "located", "longer", "moved",
    "networking", "pinned", "placed", "plugged", "present", "starting", "turned",
})


# --- clauses and sentences ---------------------------------------------------------------


@dataclass
class _Subject:
    names: list[str]
    line: int
    kind: str | None = None
    introduced: bool = False
    count: int | None = None
    net_slot: str | None = None
    pronoun: bool = False
    #: set when the previous sentence spoke of several guests: "it" would be a guess
    ambiguous: bool = False


def _starts_clause(c: _Cur) -> bool:
    """Does a new clause with its own subject start here (``web-2 is a container``)?"""
    probe = _Cur(c.toks, c.i)
    if probe.w() == "the" and probe.w(1) in KIND_WORDS:
        return True
    if not _nameish(probe.tok()):
        return False
    try:
        _names(probe, first_literal=False)
    except _SentenceError:
        return False
    return probe.w() in SUBJECT_VERBS and probe.w() != ","


def _refer(last: _Subject | None, word: Token, line: int) -> list[str]:
    """The guests ``it``/``they``/``its`` stand for: the last subject, if there is one."""
    if last is None:
        raise _SentenceError(line, f"{word.text!r} does not refer to any guest in this "
                                   "paragraph; name the guest")
    if last.ambiguous:
        raise _SentenceError(line, f"{word.text!r} could mean any of {', '.join(last.names)} "
                                   "(the sentence before speaks of several); name the guest")
    return list(last.names)


def _subject(c: _Cur, last: _Subject | None) -> _Subject | None:
    """Parse the subject at the start of a clause; None when the clause has none."""
    line = c.line
    c.skip(frozenset({"please", "also", "then", "and", ","}))
    if c.take("make", "sure") or c.opt("ensure"):
        c.opt("that")
    start = c.i
    w = c.w()
    # network sentence: "Its network net1 is on bridge vmbr1 ..."
    if w in ("its", "their", "the") and c.w(1) in ("network", "nic"):
        c.i += 2
        c.opt("interface", "device", "card", "adapter")
        slot = "net0"
        if re.match(r"^net\d+$", c.w()):
            slot = c.toks[c.i].low
            c.i += 1
        if not specmod.NET_SLOT_RE.match(slot):
            raise _SentenceError(line, f"{slot!r} is not a network slot (net0 .. net31)")
        if c.opt("of", "for"):
            names = _names(c, first_literal=False)
        else:
            names = _refer(last, c.toks[start], line)
        return _Subject(names, line, net_slot=slot)
    if w in PRONOUNS:
        c.i += 1
        return _Subject(_refer(last, c.toks[start], line), line, pronoun=True)
    # creation: "Create three web servers named web-1 through web-3", "A VM named scratch"
    verb = False
    for prefix in CREATE_PREFIXES:
        if c.take(*prefix):
            verb = True
            break
    count: int | None = None
    article = c.opt("a", "an") is not None
    num_start = c.i
    if not article:
        num = _number(c)
        if num is not None:
            if num[1] is not None or c.w() in _UNITS:
                c.i = num_start
            else:
                count = _int(num[0], line, "the number of guests")
    while c.w() in ROLE_WORDS and (c.w(1) in GENERIC_NOUNS or c.w(1) in ROLE_WORDS):
        c.i += 1
    kind = _kind_noun(c)
    generic = False
    if kind is None and c.opt(*GENERIC_NOUNS):
        generic = True
    if kind is not None or generic:
        introduced = verb or article or count is not None
        if c.opt("named", "called"):
            names = _names(c, first_literal=True)
        elif _nameish(c.tok()):
            names = _names(c, first_literal=False)
        else:
            names = []
        if not names:
            if introduced or generic:
                raise _SentenceError(
                    line, "a guest needs a name: write it right after the kind, like 'a VM "
                    "named web-1' or 'web-1 is a VM'")
            c.i = start
        else:
            if count is not None and count != len(names):
                raise _SentenceError(line, f"{count} guests are announced but {len(names)} "
                                           f"named ({', '.join(names)})")
            return _Subject(names, line, kind=kind, introduced=introduced, count=count)
    c.i = start
    if verb or article or count is not None:
        raise _SentenceError(line, "expected the kind of guest and its name here, like "
                                   "'a VM named web-1' or 'three containers named ct-1 "
                                   "through ct-3'")
    # imperative with an object: "Start it on boot", "Remove the VM old-test"
    if w in IMPERATIVE_VERBS:
        verb_end = c.i + 1
        if w in ("shut", "power", "turn") and c.w(1) in ("down", "off", "on"):
            verb_end += 1
        probe = _Cur(c.toks, verb_end)
        obj = probe.w()
        if obj in NODE_WORDS:
            raise _SentenceError(line, UNEXPRESSIBLE["reboot"])
        if obj in PRONOUNS:
            subject = _Subject(_refer(last, probe.toks[probe.i], line), line)
            del c.toks[verb_end]
            return subject
        if (obj == "the" and probe.w(1) in KIND_WORDS) or obj in KIND_WORDS:
            probe.opt("the")
            kind = _kind_noun(probe)
            names = _names(probe, first_literal=False)
            if names:
                del c.toks[verb_end:probe.i]
                return _Subject(names, line, kind=kind)
        if _nameish(probe.tok()) and w not in ("tag", "label"):
            names = _names(probe, first_literal=False)
            if names:
                del c.toks[verb_end:probe.i]
                return _Subject(names, line)
        if w in ("authorize", "authorise", "allow") and last is not None:
            return _Subject(_refer(last, c.toks[c.i], line), line)
        raise _SentenceError(line, f"expected 'it', 'them' or a guest's name after "
                                   f"{c.toks[c.i].text!r}")
    # a reference with its kind: "The VM old-test ..."
    if w == "the":
        c.i += 1
        kind = _kind_noun(c)
        if kind is not None:
            names = _names(c, first_literal=False)
            if names:
                return _Subject(names, line, kind=kind)
        c.i = start
        return None
    # a name (list): "web-1 is ...", "k3s-1 and k3s-2 are ..."
    t = c.tok()
    if t is not None and not t.quoted and not _is_vocab(t.low) and _NAMEISH_RE.match(t.text):
        names = _names(c, first_literal=True)
        return _Subject(names, line)
    return None


@dataclass
class _Clause:
    subject: _Subject
    effects: list[Effect]
    unplaced: list[list[Token]]
    line: int
    #: the clause says what the guest is ("web-1 is a VM"): it declares the guest
    declares: bool = False


def _expected(tokens: list[Token], c: _Cur) -> str:
    """What to say after quoting the unplaced words ``tokens``."""
    hint = _expectation(tokens)
    for t in tokens:
        if t.quoted or t.low in VOCABULARY or len(t.low) < 4:
            continue
        close = difflib.get_close_matches(t.low, _SUGGESTIONS, n=1, cutoff=0.8)
        if close:
            return f"{hint} (did you mean {close[0]!r} instead of {t.text!r}?)"
    return hint


#: words worth suggesting for a typo
_SUGGESTIONS = sorted(w for w in VOCABULARY if len(w) >= 3 and w.isalpha() and w not in FILLERS)


def _expectation(tokens: list[Token]) -> str:
    first = tokens[0].low
    for t in tokens:
        if t.low in UNEXPRESSIBLE:
            return UNEXPRESSIBLE[t.low]
    if first == "on" or first == "in":
        return ("expected 'on node NAME', 'on storage NAME', 'on bridge NAME', 'on VLAN N' or "
                "'in pool NAME'")
    if _NUMBER_RE.match(first) or first in _SMALL or first in _TENS or _GLUED_RE.match(first):
        return ("expected a number with what it measures, like '2 cores', '4 GB of RAM' or "
                "'a 32 GB disk' (units: MB, GB, TB)")
    if first == "not" or first == "no":
        return ("a negation is only understood in 'should not exist', 'not running', "
                "'no firewall', 'no disks', 'no network', 'not on boot'")
    return ("expected an attribute such as '2 cores', '4 GB of RAM', 'a 32 GB disk on "
            "local-lvm', 'on node pve1', 'on VLAN 30', 'tagged web', 'running' or 'stopped'")


#: filler words that also begin phrases ("with the description", "to node", "a clone of")
_PHRASE_FILLERS = frozenset({"a", "an", "the", "to", "using", "with", "put", "be", "is",
                             "are", "have", "it", "must", "and", ",", ":"})
_PURE_FILLERS = FILLERS - _PHRASE_FILLERS


def _is_numberish(w: str) -> bool:
    """A number (digits, "4GB", "4-core", "-2", number words): only sizes and counts."""
    return w[:1].isdigit() or w[:1] == "-" or w in _SMALL or w in _TENS or (
        w.split("-", 1)[0] in _TENS)


def _may_start_phrase(t: Token) -> bool:
    """Cheap test before trying every phrase: only words of the grammar and numbers can."""
    w = t.low
    if t.quoted or w in _PURE_FILLERS:
        return False
    return (w in VOCABULARY or w[:1].isdigit() or w.startswith(("-", "vlan")) or w in _SMALL
            or w in _TENS or w.split("-", 1)[0] in _TENS)


def _parse_attributes(c: _Cur, subject: _Subject) -> _Clause:
    effects: list[Effect] = []
    unplaced: list[list[Token]] = []
    group: list[Token] = []
    declares = False
    slot = subject.net_slot
    if subject.kind is not None:
        effects.append(functools.partial(_Draft.set_kind, kind=subject.kind,
                                         line=subject.line))
    while not c.done():
        w = c.w()
        if w in (",", "and") and _starts_clause(_Cur(c.toks, c.i + 1)):
            c.i += 1
            break
        matched = False
        if not _may_start_phrase(c.toks[c.i]):
            pass  # a name, an unknown word or a pure filler: no phrase starts here
        elif slot is not None:
            for net_phrase in NET_PHRASES:
                eff = net_phrase(c)
                if eff is not None:
                    effects.append(functools.partial(_on_slot, eff, slot))
                    matched = True
                    break
        else:
            for phrase in _NUMBER_PHRASES if _is_numberish(c.w()) else PHRASES:
                found = phrase(c)
                if found is not None:
                    effects.extend(found)
                    matched = True
                    declares = declares or phrase is _p_kind
                    break
        if matched:
            if group:
                unplaced.append(_trim(group))
                group = []
            continue
        if w in FILLERS and not group:
            c.i += 1
            continue
        group.append(c.toks[c.i])
        c.i += 1
    if group:
        unplaced.append(_trim(group))
    return _Clause(subject, effects, unplaced, subject.line, declares and not subject.pronoun)


def _trim(group: list[Token]) -> list[Token]:
    """An unplaced group without the filler words at its end."""
    end = len(group)
    while end > 1 and group[end - 1].low in FILLERS:
        end -= 1
    return group[:end]


def _on_slot(effect: _NetEffect, slot: str, draft: _Draft) -> None:
    effect(draft, slot)


def _sentences(tokens: list[Token]) -> list[list[Token]]:
    out: list[list[Token]] = []
    current: list[Token] = []
    for t in tokens:
        if t.low == "." and not t.quoted:
            if current:
                out.append(current)
            current = []
        else:
            current.append(t)
    if current:
        out.append(current)
    return out


def count_sentences(text: str) -> int:
    """How many declaration sentences ``text`` holds (for benchmarks and reports)."""
    return sum(len(_sentences(tokenize(b.text, first_line=b.line)))
               for b in markdown.blocks(text))


def _sentence_text(tokens: list[Token]) -> str:
    """The tokens as the owner wrote them, near enough to find them in the file."""
    out: list[str] = []
    for t in tokens:
        text = t.shown()
        if (out and not t.quoted and t.low in (",", ":", ")")) or (out and out[-1] == "("):
            out[-1] += text
        else:
            out.append(text)
    return " ".join(out)


@dataclass
class _FileState:
    filename: str
    drafts: dict[str, _Draft] = field(default_factory=dict)
    issues: list[CompileIssue] = field(default_factory=list)
    sentences: int = 0

    def error(self, line: int, message: str) -> None:
        self.issues.append(CompileIssue(self.filename, line, message))


def _apply(state: _FileState, clause: _Clause, sentence: int) -> None:
    subject = clause.subject
    for name in subject.names:
        draft = state.drafts.get(name)
        if draft is None:
            draft = state.drafts[name] = _Draft(name, subject.line)
        if subject.introduced or clause.declares:
            if draft.declared is not None and draft.declared_in != sentence:
                raise _SentenceError(
                    subject.line, f"{name} is declared twice: line {draft.declared} and "
                                  f"line {subject.line}")
            draft.declared = subject.line
            draft.declared_in = sentence
        for effect in clause.effects:
            effect(draft)


def _leading_phrases(c: _Cur) -> list[Effect]:
    """Attribute phrases before the subject, each followed by a comma or ``and``."""
    effects: list[Effect] = []
    while not c.done():
        if c.w() in ("with", "and", ","):
            c.i += 1
            continue
        save = c.i
        for phrase in PHRASES:
            if phrase is _p_kind:
                continue
            try:
                found = phrase(c)
            except _SentenceError:
                c.i = save
                return effects
            if found is not None:
                effects.extend(found)
                break
        else:
            return effects
        if c.w() not in (",", "and"):
            c.i = save
            effects = effects[: len(effects) - len(found)]
            return effects
    return effects


def _compile_sentence(state: _FileState, tokens: list[Token], last: _Subject | None
                      ) -> _Subject | None:
    c = _Cur(list(tokens))
    clauses: list[_Clause] = []
    had_leading = False
    while not c.done():
        before = c.i
        leading: list[Effect] = []
        subject = _subject(c, last)
        if subject is None and not clauses:
            # free word order: attributes may come first ("On node pve1, web-1 is a VM")
            c.i = before
            leading = _leading_phrases(c)
            subject = _subject(c, last) if leading else None
            if subject is None:
                c.i = before
        if subject is None:
            rest = c.toks[c.i:]
            if not rest:
                break
            raise _SentenceError(
                c.line, f"could not find which guest this is about in "
                f"\"{_sentence_text(tokens)}\"; start with the guest's name ('web-1 is a VM "
                "...'), 'A VM named ...', or 'It ...'" + _unexpressible_hint(rest))
        clause = _parse_attributes(c, subject)
        clause.effects[:0] = leading
        had_leading = had_leading or bool(leading)
        clauses.append(clause)
        last = subject
        if c.i == before:  # pragma: no cover - defensive: no progress
            break
    if had_leading and len(clauses) > 1:
        raise _SentenceError(
            tokens[0].line, "attributes written before the first guest's name would apply to "
            f"one guest only in \"{_sentence_text(tokens)}\"; write them after each name")
    problems = [(cl, g) for cl in clauses for g in cl.unplaced]
    if problems:
        groups = [g for _, g in problems]
        quoted = ", ".join(f"\"{_sentence_text(g)}\"" for g in groups)
        raise _SentenceError(
            groups[0][0].line, f"could not understand {quoted} in \"{_sentence_text(tokens)}\";"
            f" {_expected(groups[0], c)}")
    state.sentences += 1
    for clause in clauses:
        _apply(state, clause, state.sentences)
    subjects = {tuple(cl.subject.names) for cl in clauses}
    if len(subjects) > 1:
        names = [n for cl in clauses for n in cl.subject.names]
        return _Subject(list(dict.fromkeys(names)), tokens[0].line, ambiguous=True)
    return last


def _unexpressible_hint(tokens: list[Token]) -> str:
    for t in tokens:
        if t.low in UNEXPRESSIBLE:
            return f" ({UNEXPRESSIBLE[t.low]})"
    return ""


# --- from drafts to guests ---------------------------------------------------------------

_VM_SLOTS = [f"scsi{n}" for n in range(31)]
_CT_SLOTS = ["rootfs"] + [f"mp{n}" for n in range(256)]


def assign_slots(kind: str, disks: list[tuple[str | None, str | None]]) -> list[str]:
    """Slots for disks given as (explicit slot, role), in order; shared with the renderer.

    Explicit slots are kept; a root-role disk takes the first slot; the others take the
    next free slot in order (scsi0, scsi1, ... for a VM; rootfs, mp0, mp1, ... for a
    container). A data-role disk never takes the first slot.
    """
    order = _VM_SLOTS if kind == "vm" else _CT_SLOTS
    taken = {slot for slot, _ in disks if slot is not None}
    result: list[str] = []
    for slot, role in disks:
        if slot is None and role == "root":
            slot = order[0]
            taken.add(slot)
        result.append(slot or "")
    for k, (_, role) in enumerate(disks):
        if result[k]:
            continue
        for candidate in order:
            if candidate in taken or (role == "data" and candidate == order[0]):
                continue
            result[k] = candidate
            taken.add(candidate)
            break
    return result


def _guest_data(d: _Draft) -> tuple[dict[str, Any], dict[str, int]]:
    """The draft as GuestSpec input, and the line where each field was set."""
    lines: dict[str, int] = {"name": d.line}
    data: dict[str, Any] = {"name": d.name}
    state = d.fields.get("state", ("running", d.line))[0]
    if d.kind is not None:
        data["kind"] = d.kind[0]
        lines["kind"] = d.kind[1]
    elif state != "absent":
        raise _SentenceError(
            d.line, f"{d.name}: say whether it is a VM or a container (like '{d.name} is a "
            "VM')")
    kind = data.get("kind", "vm")
    for key, (value, line) in d.fields.items():
        data[key] = value
        lines[key] = line
    if d.no_disks is not None:
        data["disks"] = []
        lines["disks"] = d.no_disks
    elif d.disks:
        slots = assign_slots(kind, [(x.slot, x.role) for x in d.disks])
        default = d.storage[0] if d.storage else specmod.DEFAULT_STORAGE
        if kind == "ct" and "rootfs" not in slots:
            raise _SentenceError(d.disks[0].line, f"{d.name}: a container needs a root disk; "
                                                  "add e.g. 'an 8 GB root disk'")
        first = "scsi0" if kind == "vm" else "rootfs"
        if any(x.role == "data" for x in d.disks) and first not in slots and kind == "vm":
            raise _SentenceError(d.disks[0].line, f"{d.name}: a data disk is declared but no "
                                                  "system disk; add e.g. 'a 32 GB system disk'")
        data["disks"] = [
            {"slot": slot, "storage": x.storage or default, "size_gib": x.size_gib}
            for slot, x in zip(slots, d.disks, strict=True)
        ]
        lines["disks"] = d.disks[0].line
    elif d.storage is not None:
        default_disk = specmod.DEFAULTS[kind]
        data["disks"] = [{"slot": default_disk["disk_slot"], "storage": d.storage[0],
                          "size_gib": default_disk["disk_gib"]}]
        lines["disks"] = d.storage[1]
    if d.no_networks is not None:
        if d.nets:
            raise _SentenceError(d.no_networks, f"{d.name} is said to have no network and "
                                                "network settings")
        data["networks"] = []
        lines["networks"] = d.no_networks
    elif d.nets:
        for slot in d.removed_nets:
            if slot in d.nets:
                raise _SentenceError(d.line, f"{d.name}: network {slot} is described and "
                                             "said not to exist")
        if "net0" not in d.nets and "net0" not in d.removed_nets:
            d.nets["net0"] = {}
        nets = []
        for slot in sorted(d.nets, key=lambda s: int(s[3:])):
            values = {k: v for k, (v, _) in d.nets[slot].items()}
            nets.append({"slot": slot, **values})
            lines.setdefault("networks", min((ln for _, ln in d.nets[slot].values()),
                                             default=d.line))
        data["networks"] = nets
    if d.tags:
        data["tags"] = d.tags
    if d.ssh_keys:
        data["ssh_keys"] = d.ssh_keys
    return data, lines


def _pydantic_message(exc: ValidationError, name: str, lines: dict[str, int], default: int
                      ) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field_name = loc[0] if loc else ""
        msg = err["msg"].removeprefix("Value error, ")
        where = ".".join(loc)
        text = f"guest {name!r}, field {where}: {msg}" if where else f"guest {name!r}: {msg}"
        out.append((lines.get(field_name, default), text))
    return out


def compile_text(text: str, *, filename: str = "<text>") -> specmod.ClusterSpec:
    """Compile one declaration file's text; raise CompileError listing every problem."""
    state = _FileState(filename)
    try:
        found = markdown.blocks(text)
    except markdown.MarkdownError as exc:
        raise CompileError.single(filename, exc.line, exc.message) from None
    for block in found:
        try:
            tokens = tokenize(block.text, first_line=block.line)
        except _SentenceError as exc:
            state.error(exc.line, exc.message)
            continue
        last: _Subject | None = None
        for sentence in _sentences(tokens):
            try:
                last = _compile_sentence(state, sentence, last)
            except _SentenceError as exc:
                state.error(exc.line, exc.message)
    guests: list[specmod.GuestSpec] = []
    for draft in state.drafts.values():
        try:
            data, lines = _guest_data(draft)
        except _SentenceError as exc:
            state.error(exc.line, exc.message)
            continue
        try:
            guests.append(specmod.GuestSpec.model_validate(data))
        except ValidationError as exc:
            for line, message in _pydantic_message(exc, draft.name, lines, draft.line):
                state.error(line, message)
    if state.issues:
        raise CompileError(state.issues)
    try:
        return specmod.ClusterSpec(guests=guests)
    except ValidationError as exc:
        message = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise CompileError.single(filename, 0, message) from None
