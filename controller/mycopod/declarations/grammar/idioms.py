"""Idioms and asides read as the plain words they mean, before a sentence is parsed.

People write ``Nuke x``, ``x can go``, ``Bump z to 2 GB RAM``, ``Move minio to node
pve3``, ``sits on VLAN 10``, ``at 192.168.1.2/24``, ``via 10.1.1.1``, ``booting via
UEFI``, ``Switch off x for now``. Each idiom here is a fixed sequence of words
(:data:`IDIOMS`) rewritten to the grammar's own words: only the token's lower-case form
changes, its written text stays, so an error still quotes what the owner wrote.
Rewriting to a filler (``for now``, ``and stays that way``) is how this module drops
words, so every dropped word is on this explicit list.

:func:`drop_asides` drops what states no setting: ``instead of 2`` after ``4 cores``
(the old value, only a bare number or the same noun), and a trailing reason after a
comma or dash (``Turn off x, I'm done testing.``, ``Please delete y, the branch is
merged``). A reason is dropped only when it has one of the shapes of
:data:`REASON_OPENERS` (it starts with ``I``, ``we``, ``it``, ``the``, ``since``,
``because`` ...) and holds no number, no size, no guest name (a word with a digit or a
hyphen) and no word the grammar gives a meaning to but the function words of
:data:`REASON_WORDS`; a whole sentence of that shape (``It has been replaced by the new
one.``) is an aside too. Anything else is left for the parser, which refuses it. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar import comparatives, keyed
from mycopod.declarations.grammar.compact import list_label
from mycopod.declarations.grammar.lexicon import DROPPED, GLUED_RE, ROLE_WORDS, UNITS, is_vocab
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.phrasings import PHRASING_IDIOMS, restated_numbers
from mycopod.declarations.grammar.terse import expand
from mycopod.declarations.grammar.tokens import QUOTED, Token
from mycopod.declarations.grammar.verbs import VERB_IDIOMS

__all__ = ["IDIOMS", "REASON_OPENERS", "REASON_WORDS", "drop_asides", "is_preface", "normalize",
           "reorder"]

_IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$")

#: (words, their meaning): each word of an alternative group ``a|b`` matches; the
#: meaning has one lower-case form per word matched ("" keeps the word; "," a filler)
IDIOMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # deletion ("x can go on node pve2" is no deletion: kept as written, and refused)
    (("can|could|may", "go", "on|in|into|to|onto"), ("", "", "")),
    (("can", "go"), ("should", "removed")),
    # "sandbox can be deleted", "x may be decommissioned"
    (("can|could|may", "be", "deleted|removed|decommissioned|destroyed|retired"),
     ("should", "be", "removed")),
    # "Drop web-1 to 2 cores", "drop it to 2 GB": lowered, not deleted
    (("drop|cut", "NAME|it|them", "to"), ("set", "", "")),
    (("kill|finish", "off"), ("delete", ",")),
    (("nuke|kill|scrap|trash|purge|drop|wipe",), ("delete",)),
    (("nuked|killed|scrapped|trashed|purged|dropped|wiped",), ("deleted",)),
    (("tear", "down"), ("delete", ",")),
    (("no", "longer", "in", "use"), ("", "", ",", "used")),
    (("torn", "down"), ("deleted", ",")),
    # power
    (("start|starts", "it|them", "at|on", "boot"), ("", ",", "", "")),  # onboot, not running
    (("start|starts", "it|them", "when", "the", "node|host", "boots|starts"),
     ("", ",", "", "", "", "")),
    (("start|starts", "it|them", "automatically"), ("", ",", "")),
    (("and", "stays|stay|remains|remain", "that", "way"), (",", ",", ",", ",")),
    (("for", "now"), (",", ",")),
    (("for", "the", "time", "being"), (",", ",", ",", ",")),
    # changes: the verb only says "this is to be so"
    (("bump|increase|raise|grow|resize|change|adjust|modify|reduce|lower|shrink|bring",),
     ("set",)),
    (("move|pin|put|place",), ("set",)),
    # "Switch ntp-1 to ...", "Attach vault-2 to vmbr5" (not "switch off", "attach the ISO")
    (("switch|attach|connect", "NAME"), ("set", "")),
    (("switch", "it|them"), ("set", "")),
    (("provide",), ("create",)),
    # "VM nas-b: add tag offsite", "Set up x as a VM"
    ((":", "add|set"), ("", ",")),
    (("as", "a|an", "vm|container|ct|lxc"), (",", "", "")),
    # "disks: 32G on local-lvm"
    (("disk|disks", ":"), ("disk", ",")),
    (("rootfs", ":"), ("", ",")),
    # "ballooning turned off"
    (("ballooning|balloon", "turned|switched|set", "off|disabled"), ("ballooning", ",", "off")),
    # "could api-prod get the tag critical?": a request that it gets it
    (("could|can|would", "NAME", "get|have"), (",", "", "gets")),
    # "an MTU of 9000 on its bridge vmbr9"
    (("on", "its|their", "bridge"), ("", ",", "")),
    # "and I'd describe it as "Team wiki"", "we'd call it "..."": its description
    (("i|we", "would", "describe", "it|them", "as"), (",", ",", "described", ",", "")),
    # where it sits
    (("sits|sitting|resides|residing",), ("is",)),
    (("lives|sits|resides", "in", "pool"), (",", "", "")),
    (("goes", "on|in"), ("is", "")), (("go", "on|in"), ("be", "")),  # "x goes on VLAN 40"
    (("booting|boots|boot", "via|with|using|from", "uefi|ovmf|seabios|bios"),
     (",", "with", "")),
    *PHRASING_IDIOMS,  # round 8: second-language grammar, verbs, SMS (.phrasings)
    *VERB_IDIOMS,  # "is to be created with", "be given", "bumped to", "reside on" (.verbs)
)
_MATCHED = {w for words, _ in IDIOMS for group in words for w in group.split("|")}
#: the idioms by their first word (a sentence is looked up word by word, not idiom by idiom)
_BY_FIRST: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
for _words, _meaning in IDIOMS:
    for _first in _words[0].split("|"):
        _BY_FIRST.setdefault(_first, []).append((_words, _meaning))


def _rewrite(t: Token, low: str) -> Token:
    if low == ",":
        low = DROPPED
    return t if not low else Token(t.text, low, t.line)


def _matches(t: Token, group: str) -> bool:
    if t.quoted:
        return False
    if group.startswith("NAME"):
        return is_nameish(t) or t.low in group.split("|")[1:]
    return t.low in group.split("|")


_KEY_TYPE_RE = re.compile(r"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+)$")
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]{8,}={0,3}$")


_KEY_OWNERS = frozenset({"the", "my", "our", "this", "his", "her", "a"})


def _key_label(t: Token) -> bool:
    """A plain word that only says whose or which key (``laptop``, ``work``, ``alice's``)."""
    return not t.quoted and bool(re.match(r"^[a-z]+('s)?$", t.low)) and not is_vocab(t.low)


def _ssh_keys(tokens: list[Token]) -> list[Token]:
    """An unquoted OpenSSH key (type, base64, optional comment at the end or before a
    comma/``on``/``to``) as one quoted token, as if written in quotes; ``the key``/``my
    key`` (or ``my laptop key``: one plain word between) before it reads as ``ssh key``."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if (not t.quoted and _KEY_TYPE_RE.match(t.text) and i + 1 < len(tokens)
                and _BASE64_RE.match(tokens[i + 1].text)):
            end = i + 2
            if end < len(tokens) and not tokens[end].quoted and tokens[end].low not in (
                    ",", ":", "on", "to", "for", "and", "?") and "@" in tokens[end].text:
                end += 1
            text = " ".join(x.text for x in tokens[i:end])
            for k in range(len(out) - 1, max(len(out) - 5, 0), -1):
                if out[k].low in ("key", "keys") and out[k - 1].low in _KEY_OWNERS:
                    out[k - 1] = Token(out[k - 1].text, "ssh", out[k - 1].line)
                    break
                if out[k].low in ("key", "keys") and k > 1 and out[k - 2].low in (
                        _KEY_OWNERS) and _key_label(out[k - 1]):
                    # "my laptop key": the word between names the key's owner's device
                    out[k - 2] = Token(out[k - 2].text, DROPPED, out[k - 2].line)
                    out[k - 1] = Token(out[k - 1].text, "ssh", out[k - 1].line)
                    break
            out.append(Token(text, QUOTED, t.line, quoted=True))
            i = end
            continue
        out.append(t)
        i += 1
    return out


_NIC_MODELS = frozenset({"e1000", "e1000e", "virtio", "rtl8139", "vmxnet3"})
_NIC_NOUNS = frozenset({"nic", "card", "adapter", "interface", "network"})


def _nic_model(tokens: list[Token]) -> list[Token]:
    """``an e1000 network card`` as ``model e1000``: the card's words name the model."""
    out = list(tokens)
    for i in range(len(out) - 1):
        if out[i].low in _NIC_MODELS and not out[i].quoted and out[i + 1].low in _NIC_NOUNS:
            end = i + 1
            while end < len(out) and out[end].low in _NIC_NOUNS:
                end += 1
            model = out[i]
            nouns = out[i + 1:end]
            out[i:end] = [Token(nouns[0].text, "model", nouns[0].line), model,
                          *(Token(n.text, DROPPED, n.line) for n in nouns[1:])]
            break
    return out


def _possessive(tokens: list[Token]) -> list[Token]:
    """``db-1's memory``: the guest's name, then what it has."""
    out: list[Token] = []
    for t in tokens:
        if not t.quoted and t.low.endswith("'s") and len(t.low) > 2:
            stem = Token(t.text[:-2], t.low[:-2], t.line)
            if is_nameish(stem) and not is_vocab(stem.low):
                out.append(stem)
                continue
        out.append(t)
    return out


_CORE_NOUNS = frozenset({"cores", "core", "cpus", "cpu", "vcpus", "vcpu"})
_NODE_NOUNS = frozenset({"node", "host"})
_STORAGE_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")


def reorder(tokens: list[Token]) -> list[Token]:
    """Word orders of one phrase: ``cores to 6`` (6 cores), ``on pve1 node`` (on node
    pve1), ``from the x template`` (from the template x), ``50 GB storage`` (a 50 GB
    disk), ``, 10.0.0.2/24`` in a list (IP 10.0.0.2/24)."""
    out = comparatives.rewrite(keyed.rewrite(tokens))  # "memory = 8 GB", "more RAM, 8 GB"
    for i in range(len(out) - 2):
        a, b, c = out[i], out[i + 1], out[i + 2]
        if a.quoted or b.quoted or c.quoted:
            continue
        if a.low in _CORE_NOUNS and b.low in ("to", ":", "=") and c.low.isdigit():
            out[i:i + 3] = [c, a, Token(b.text, DROPPED, b.line)]
        elif a.low == "on" and is_nameish(b) and c.low in _NODE_NOUNS:
            out[i + 1:i + 3] = [c, b]
        elif a.low == "on" and c.low in ("storage", "datastore") and not is_vocab(
                b.low) and _STORAGE_RE.match(b.low):  # "on tank storage"
            out[i + 1:i + 3] = [c, b]
        elif a.low == "the" and i > 0 and out[i - 1].low in ("from", "of") and is_nameish(
                b) and c.low == "template":  # "cloned from the ubuntu-jammy template"
            out[i + 1:i + 3] = [c, b]
    for i in range(1, len(out)):
        t = out[i]
        if t.low == "storage" and not t.quoted and (
                out[i - 1].low in UNITS or GLUED_RE.match(out[i - 1].low)):
            out[i] = Token(t.text, "disk", t.line)
    if any("/" in t.low for t in out):
        out = _bare_address(out)
    return out


def _bare_address(tokens: list[Token]) -> list[Token]:
    """``dns1: CT, 1 core, 10.0.0.2/24``: an address with its prefix, alone between
    commas, is the guest's IP (the word ``IP`` is put before it)."""
    out: list[Token] = []
    for i, t in enumerate(tokens):
        if i > 0 and not t.quoted and "/" in t.low and _IP_RE.match(t.low) and tokens[
                i - 1].low == "," and (i + 1 == len(tokens) or tokens[i + 1].low == ","):
            out.append(Token("IP", "ip", t.line))
        out.append(t)
    return out


def normalize(tokens: list[Token]) -> list[Token]:
    """``tokens`` with each idiom rewritten to the words it means."""
    tokens = restated_numbers(tokens)  # "one (1) VM" (.phrasings)
    tokens = reorder(expand(tokens))
    if any(t.low.endswith("'s") for t in tokens):
        tokens = _possessive(tokens)
    if any(t.low in _NIC_MODELS for t in tokens):
        tokens = _nic_model(tokens)
    if any(t.low.startswith(("ssh-", "ecdsa-", "sk-")) for t in tokens):
        tokens = _ssh_keys(tokens)
    if not any(t.low in _BY_FIRST or t.low in ("at", "via", "router") for t in tokens):
        return tokens
    out = list(tokens)
    i = 0
    while i < len(out):
        t = out[i]
        nxt = out[i + 1] if i + 1 < len(out) else None
        if t.low in ("at", "via", "router") and nxt is not None and _IP_RE.match(nxt.low) and (
                t.low != "router" or "/" not in nxt.low):  # "(router 192.168.1.1)"
            # "at 192.168.1.2/24": the address; "via 10.1.1.1": the gateway
            out[i] = _rewrite(t, "ip" if "/" in nxt.low else "gateway")
            i += 2
            continue
        for words, meaning in _BY_FIRST.get(t.low, ()) if not t.quoted else ():
            n = len(words)
            if i + n <= len(out) and all(_matches(out[i + k], words[k]) for k in range(n)):
                for k in range(n):
                    out[i + k] = _rewrite(out[i + k], meaning[k])
                i += n - 1
                break
        i += 1
    return [t for t in out if t.low != DROPPED]


#: words that open a trailing reason ("..., I'm done testing", "..., the branch is merged")
REASON_OPENERS = frozenset({"i", "i'm", "we", "we're", "it", "it's", "the", "this", "that",
                            "since", "because", "as", "its", "they", "he", "she", "our",
                            "my", "nobody", "no-one", "someone", "replaced", "so", "ppl",
                            "people", "everyone"})
#: words of the grammar a reason may still hold: they say nothing about a guest there
REASON_WORDS = frozenset({
    "i", "we", "it", "is", "are", "was", "were", "been", "be", "has", "have", "had", "the",
    "a", "an", "this", "that", "these", "those", "they", "them", "its", "their", "our",
    "my", "to", "of", "for", "by", "and", "or", "but", "with", "from", "as", "so", "now",
    "there", "any", "still", "would", "will", "do", "does", "should", "can", "used",
    "like", "which", "who", "all", "also", "then", "at", "in", "into", "over", "up",
    "after", "when", "each", "both", "off", "new", "uses", "use", "using", "needs", "left",
    "on", "moved", "nobody", "someone", "somebody", "everyone", "anyone", "nothing",
    "need", "server", "servers",
})
#: how many of the last separators of a sentence may open a reason
_REASON_SEPARATORS = 3
_SEPARATORS = frozenset({",", "-", "--", "\u2013", "\u2014"})
#: "the new one", "the old ones": "one" is a pronoun there, not a number
_ONE_AFTER = frozenset({"the", "new", "old", "other", "that", "this", "a", "current"})


def _plain(tokens: list[Token]) -> bool:
    """Do ``tokens`` state nothing the grammar could read (a reason, an aside)?"""
    for k, t in enumerate(tokens):
        w = t.low
        if w in ROLE_WORDS and not t.quoted:  # "we moved everything to k8s"
            continue
        if t.quoted or any(ch.isdigit() for ch in w) or "-" in w.strip("-"):
            return False
        if w in ("one", "ones") and k > 0 and tokens[k - 1].low in _ONE_AFTER:
            continue
        if is_vocab(w) and w not in REASON_WORDS:
            return False
    return True


def _list_goes_on(rest: list[Token]) -> bool:
    """Is ``rest`` the end of a list ("tagged c, he and q": "he and q"), words between
    commas and a last "and"/"or"? Then its first word is an item, not a reason's."""
    words, seps = rest[0::2], rest[1::2]
    return (len(rest) % 2 == 1 and bool(seps) and seps[-1].low in ("and", "or")
            and all(t.low in (",", "and", "or") for t in seps)
            and not any(t.low in (",", "and", "or") for t in words))


def _reason_at(tokens: list[Token], start: int) -> bool:
    rest = tokens[start:]
    return (len(rest) >= 2 and rest[0].low in REASON_OPENERS and _plain(rest)
            and not _list_goes_on(rest))


#: a whole sentence that is an aside starts with one of these ("It has been replaced ...")
_ASIDE_SUBJECTS = frozenset({"it", "it's", "they", "i", "i'm", "we", "we're", "this", "that"})


#: words a preface may hold besides plain ones ("A few changes for this week:")
_PREFACE_WORDS = frozenset({"few", "some", "couple", "following", "here", "below", "list",
                            "need", "want", "what", "like", "would"})


def is_preface(sentence: list[Token]) -> bool:
    """A sentence ending in ``:`` that only announces what follows (``A few changes for
    this week:``, ``Here is what we need:``): no number, no name, no keyword but function
    words and :data:`_PREFACE_WORDS`."""
    if len(sentence) < 2 or sentence[-1].low != ":" or sentence[-1].quoted:
        return False
    if list_label(sentence[:-1]):
        return True  # "need:", "todo for saturday:" (.compact)
    body = [t for t in sentence[:-1] if t.low not in _PREFACE_WORDS]
    return bool(body) and _plain(body)


def drop_asides(tokens: list[Token], *, whole: bool = True) -> list[Token]:
    """``tokens`` without ``instead of N`` and without a trailing reason.

    With ``whole``, a sentence that is all reason (``It has been replaced by the new
    one.``) comes back empty.
    """
    out = _instead(tokens)
    if whole and len(out) >= 3 and out[0].low in _ASIDE_SUBJECTS and _reason_at(out, 0):
        return []
    seen = 0
    for k in range(len(out) - 2, 0, -1):
        if out[k].low in _SEPARATORS and not out[k].quoted:
            if _reason_at(out, k + 1):
                return out[:k]
            seen += 1
            if seen == _REASON_SEPARATORS:  # a reason is the last clause or two
                break
    return out


def _instead(tokens: list[Token]) -> list[Token]:
    """Drop ``instead of N [noun]`` when N is a bare number or has the noun before it."""
    for k in range(1, len(tokens) - 2):
        if tokens[k].low != "instead" or tokens[k + 1].low != "of":
            continue
        old = tokens[k + 2].low
        if not re.match(r"^\d+(\.\d+)?$", old):
            continue
        end = k + 3
        noun = tokens[end].low if end < len(tokens) else ""
        before = tokens[k - 1].low
        if noun and noun not in (",", ".", "?"):
            same = noun == before or (noun in UNITS and before in UNITS) or (
                noun.rstrip("s") == before.rstrip("s"))
            if not same:
                continue
            end += 1
        return [*tokens[:k], *tokens[end:]]
    return tokens
