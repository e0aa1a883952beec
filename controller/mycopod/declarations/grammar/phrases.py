"""The attribute phrases and the table the parser tries them from (PHRASES).

Holds the phrases about what a guest is and how it is run (kind, state, start on boot,
node, ID, pool, tags, description, SSH keys, source) and puts them together with the
resource and network phrases in PHRASES, whose order decides which phrase reads a word
first. The tag phrase lives with the table: it stops where a phrase or a new clause starts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mycopod import spec as specmod
from mycopod.declarations.grammar import adoption, cidrive, devices, guestopts, machine, places
from mycopod.declarations.grammar.diskopts import p_bind_mount
from mycopod.declarations.grammar.drafts import Effect
from mycopod.declarations.grammar.hardware import p_cores, p_disk, p_memory, p_none, p_storage
from mycopod.declarations.grammar.lexicon import FILLERS, KIND_WORDS, ROLE_WORDS
from mycopod.declarations.grammar.names import is_nameish, starts_clause
from mycopod.declarations.grammar.nicopts import p_net_inline, p_nic_list
from mycopod.declarations.grammar.quantities import read_number, to_int
from mycopod.declarations.grammar.tokens import Cursor, SentenceError, Token


def p_kind(c: Cursor) -> list[Effect] | None:
    line = c.line
    kind = kind_noun(c)
    if kind is None:
        return None

    return [lambda d: d.set_kind(kind, line)]


def _p_generic(c: Cursor) -> list[Effect] | None:
    """``web-7 is a guest`` / ``a server``: a guest of a kind not said (a VM, not stated)."""
    start = c.i
    while c.w() in ROLE_WORDS and (c.w(1) in ROLE_WORDS or c.w(1) in _GENERIC):
        c.i += 1  # "a web server", "a database server": words listed as carrying no meaning
    if c.opt(*_GENERIC) is None:
        c.i = start
        return None
    return []


_GENERIC = ("guest", "server", "machine", "instance")


def kind_noun(c: Cursor) -> str | None:
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


def _p_state(c: Cursor) -> list[Effect] | None:
    line = c.line
    state: str | None = None
    if c.take("not", "exist|exists") or c.take("no", "longer", "exist|exists") or c.take(
            "not", "be", "present") or c.take("not", "be", "there"):
        state = "absent"
        # "must not exist any more", "not exist anymore", "not exist any longer"
        _ = c.take("any", "more|longer") or c.opt("anymore")
    elif c.take("no", "longer", "needed|required|used|wanted") or c.take(
            "not", "needed|required|wanted", "any", "more|longer") or c.take(
            "not", "needed|required|wanted", "anymore") or c.take("get", "rid", "of") or \
            c.take("rid", "of"):  # "get" alone is a filler word, dropped before "rid"
        state = "absent"
    elif c.opt("absent", "removed", "deleted", "destroyed", "gone", "remove", "delete",
               "destroy", "decommissioned", "decommission", "retired", "retire"):
        state = "absent"
    elif c.take("not", "be", "running|started") or c.take("not", "running|started"):
        state = "stopped"
    elif c.take("shut", "down|off") or c.take(
            "powered|power|turned|turn|switched|switch", "off") or c.take(
            "powered|power", "down") or c.opt("stopped", "stop", "shutdown", "halted", "off"):
        state = "stopped"
    elif c.take("powered|power|turned|turn|switched|switch", "on") or c.take(
            "up", "and", "running") or c.opt("running", "started", "start", "up", "online"):
        state = "running"
    if state is None:
        return None
    value = state
    return [lambda d: d.set("state", value, line)]


_BOOT_NOUNS = "boot|boots|startup|start-up|bootup"


def _p_onboot(c: Cursor) -> list[Effect] | None:
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


def _p_node(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    verb = c.opt("running", "runs", "run", "lives", "placed", "located", "hosted", "pinned",
                 "put", "moved")
    runs = verb in _RUN_VERBS or (verb is None and start > 0 and
                                  c.toks[start - 1].low in _RUN_VERBS)
    if c.opt("on", "to"):
        the = c.opt("the")
        # "running on pve3", "lives on pve2": what a guest runs on is a node
        bare = runs and the is None and is_nameish(c.tok()) and not re.match(
            r"^vmbr\d+$", c.w())
        if not c.opt("node", "host") and (not bare or places.known_not_a_node(c)):
            c.i = start
            return None
    elif not c.opt("node"):
        c.i = start
        return None
    name = c.value("a node name").text
    if not specmod.NODE_RE.match(name):
        raise SentenceError(line, f"{name!r} is not a valid node name")
    return [lambda d: d.set("node", name, line)]


#: verbs after which a bare ``on NAME`` names the node ("running on pve3")
_RUN_VERBS = frozenset({"running", "runs", "run", "lives", "hosted", "located", "placed",
                        "pinned", "sits"})


def _p_vmid(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not (c.take("vm|ct|container", "id") or c.opt("id", "vmid", "ctid")):
        return None
    c.opt("of", "number", ":")
    w = c.w()
    if w.startswith("#"):
        c.toks[c.i] = Token(w[1:], w[1:], line)
    num = read_number(c)
    if num is None or num[1] is not None:
        c.i = start
        return None
    vmid = to_int(num[0], line, "the ID")
    return [lambda d: d.set("vmid", vmid, line)]


def _p_pool(c: Cursor) -> list[Effect] | None:
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


def _is_phrase_start(c: Cursor) -> bool:
    """Does a phrase start here (one that raises does: it is a phrase, badly written)?

    The tag phrase is only asked whether its first tag is there, which is all that
    decides it: reading its whole list would ask this question again at every tag of
    the list, once per tag, each time to the end of the list.
    """
    probe = Cursor(c.toks, c.i)
    for phrase in PHRASES:
        probe.i = c.i
        try:
            if phrase is _p_tags:
                if _p_tags_head(probe):
                    return True
            elif phrase(probe) is not None:
                return True
        except SentenceError:
            return True
    return False


#: words that can never be a tag or a value without quotes
_STRUCTURAL = frozenset({".", ",", ":", "(", ")", "and", "with", "as", "the", "a", "an", "not",
                         "no", "without", "on", "in", "of", "from"})


def _p_tags_head(c: Cursor) -> bool:
    """Read the words that open a tag list (``tagged``, ``with the tags:``); is a tag next?"""
    if not (c.opt("tagged", "labelled", "labeled") or c.take("with", "tags|tag|labels|label")
            or c.opt("tags", "tag", "labels", "label")):
        return False
    c.opt("with", "as", ":")
    c.opt("the")
    c.opt("tags", "tag")
    if c.w() == "vlan":
        return False
    t = c.tok()
    return t is not None and t.low not in _STRUCTURAL


def _p_tags(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not _p_tags_head(c):
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
        if not c.list_separator():
            break
        nxt = c.tok()
        if nxt is None or (not nxt.quoted and (
                nxt.low in _STRUCTURAL or nxt.low in FILLERS or _is_phrase_start(c)
                or starts_clause(c))):
            c.i = save
            break
    if not tags:
        c.i = start
        return None
    for tag in tags:
        if not specmod.TAG_RE.match(tag.strip().lower()):
            raise SentenceError(line, f"{tag!r} is not a valid tag (lower-case letters, "
                                      "digits, - _ + .)")
    values = list(tags)
    return [lambda d: d.tags.extend(values)]


def _p_description(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not (c.take("described|describe", "as") or c.take("with", "the", "description") or
            c.take("with", "description") or c.opt("description")):
        return None
    c.opt(":", "of", "is", "to")
    t = c.tok()
    if t is None or not t.quoted:
        c.i = start
        raise SentenceError(line, "put the description in double quotes, like: described "
                                  "as \"Prometheus and Grafana\"")
    c.i += 1
    text = t.text
    return [lambda d: d.set("description", text, line)]


def _p_ssh(c: Cursor) -> list[Effect] | None:
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
        c.list_separator()
        if c.tok() is None or not c.toks[c.i].quoted:
            c.i = save
            break
    if keys:  # "authorise the SSH key "..." on it"
        _ = c.take("on|for|to", "it|them|both")
    if not keys:
        raise SentenceError(line, "put the SSH key in double quotes, like: authorize the SSH "
                                  "key \"ssh-ed25519 AAAA... me@laptop\"")
    for key in keys:
        if not specmod.SSH_KEY_RE.match(key):
            raise SentenceError(line, f"{key[:40]!r} is not an OpenSSH public key (like "
                                      "\"ssh-ed25519 AAAA... me@laptop\")")
    return [lambda d: d.ssh_keys.extend(keys)]


_VOLUME_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]:(iso|vztmpl)/")


def _p_source(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    key: str | None = None
    if c.take("cloned|copied", "from") or c.take("clone|clones", "of") or c.take(
            "a", "clone", "of") or c.take("cloned", "off", "of") or c.take("cloned", "off"):
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
    elif c.w() in ("from", "using") and c.tok(1) is not None and not c.toks[c.i + 1].quoted \
            and _VOLUME_RE.match(c.w(1)):
        c.i += 1  # "from local:vztmpl/debian-12.tar.zst": the volume says what it is
        key = "iso" if ":iso/" in c.w() else "template"
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
        raise SentenceError(line, f"{value!r} is not an ISO volume; write it as "
                                  "storage:iso/file.iso, like local:iso/debian-12.iso")
    if key == "clone" and (_VOLUME_RE.match(value) or t.low in ("it", "this", "that", "them")):
        raise SentenceError(line, f"{value!r} is " + ("a storage volume" if ":" in value else
                                  "a pronoun; name the template") + ", not a VM template name")
    source = {key: value}
    return [lambda d: d.set("source", source, line)]


#: the phrases that can start with a number
NUMBER_PHRASES = (*machine.NUMBER_PHRASES, p_nic_list, p_disk, p_memory, p_cores,
                  p_net_inline)

PHRASES: tuple[Callable[[Cursor], Any], ...] = (
    _p_description, _p_ssh, *adoption.PHRASES, *cidrive.PHRASES, *guestopts.PHRASES,
    *devices.PHRASES, *machine.PHRASES, p_bind_mount, p_nic_list, p_none, _p_onboot,
    _p_state, _p_source, p_disk, p_memory, p_cores, _p_node, _p_vmid, _p_tags, p_net_inline,
    _p_pool, p_storage, p_kind, _p_generic, *places.PHRASES,
)

