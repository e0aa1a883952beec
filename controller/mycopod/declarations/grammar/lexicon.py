"""The grammar's words: fillers, verbs, kinds, units, number words, and VOCABULARY.

Every word the grammar gives a meaning to is listed here, in one place, because the same
lists decide three things: what may start a phrase, which names must be quoted (a guest
named ``disk`` would be misread), and what the renderer quotes when it writes a spec back.
Words only one phrase uses still join VOCABULARY here, so the set is complete without
importing the phrase parsers.
"""

from __future__ import annotations

import re
from decimal import Decimal

from mycopod.declarations.grammar.phrasings import PHRASING_WORDS
from mycopod.declarations.grammar.verbs import VERB_WORDS

FILLERS = frozenset({
    ",", ":", "and", "with", "which", "that", "each", "also", "both", "all", "should",
    "must", "be", "is", "are", "has", "have", "having", "will", "shall", "it", "they",
    "them", "keep", "leave", "make", "sure", "give", "set", "assign", "put", "place",
    "please", "then", "its", "their", "needs", "need", "to", "the", "a", "an", "always",
    "kept", "left", "get", "gets", "uses", "use", "using", "ensure", "does", "do",
    "\u2013", "\u2014", "finally", "additionally", "whose",
    "built",
    # terse notes: "web-1 - container", "web-1 = LXC", "web-1 (container): 2 cores",
    # "2 cores / 4 GB each": separators that carry no meaning (the words between them
    # are each still read, or refused)
    "/", "-", "--", "=", "(", ")", "->", "=>", "\u2192", "|", "&", "+",
    "\x00d",  # DROPPED: a word an idiom says carries no meaning (.idioms)
})
#: the lower-case form of a word :mod:`.idioms` drops (its text is kept for messages)
DROPPED = "\x00d"
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
CREATE_VERBS = ("create", "make", "add", "deploy", "provision", "build", "declare", "define",
                "run", "launch")
_WANTS = (("want",), ("need",), ("have",), ("would", "like"))
CREATE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("set", "up"), ("spin", "up"),
    # "we need", "we also need", "I would like", "we'll also need" (longest first)
    *((who, also, *want) for who in ("i", "we") for also in ("also", "still", "now")
      for want in _WANTS),
    *((who, "will", "also", "need") for who in ("i", "we")),
    *((who, "will", "need") for who in ("i", "we")), *((who, "would", "also", "like")
                                                       for who in ("i", "we")),
    *((who, *want) for who in ("i", "we") for want in _WANTS),
    ("there", "should", "also", "be"), ("there", "should", "be"), ("there", "must", "be"),
    ("there", "is", "also"), ("there", "are", "also"), ("there", "is"), ("there", "are"),
    # "Can I get a VM ...", "Could we have ...", "need a VM ...", "May I have"
    *((modal, who, verb) for modal in ("can", "could", "may") for who in ("i", "we")
      for verb in ("get", "have")),
    ("need",), ("needs",),
    *((v,) for v in CREATE_VERBS),
)
IMPERATIVE_VERBS = frozenset({
    "start", "stop", "keep", "leave", "give", "put", "place", "tag", "connect", "attach",
    "move", "remove", "delete", "destroy", "set", "make", "run", "assign", "pin", "enable",
    "disable", "boot", "power", "shut", "turn", "authorize", "authorise", "allow", "label",
    "protect", "insert", "bind-mount", "manage", "adopt", "describe", "decommission",
    "retire", "switch",
})
#: multiplier words of CPU compounds ("quad-core", "dual-core")
MULTIPLIERS = {"single": 1, "dual": 2, "twin": 2, "triple": 3, "quad": 4, "hexa": 6,
               "hex": 6, "octa": 8, "octo": 8}
#: ordinary English words that are also common guest names (``backup is a VM``): read as a
#: name where a name is expected (a subject followed by its verb, after ``the VM``, the
#: object of a verb), with their meaning kept everywhere else (``excluded from backups``)
NAME_WORDS = frozenset({"backup", "cache", "proxy", "monitor", "dns", "git", "media",
                        "files", "vault", "mail"})
NODE_WORDS = frozenset({"node", "nodes", "host", "hosts", "cluster", "hypervisor"})
PRONOUNS = frozenset({"it", "they", "them", "this", "these", "those"})

UNITS: dict[str, Decimal] = {}
for _words, _mib in (
    (("mb", "mib", "m", "meg", "megs", "megabyte", "megabytes", "mebibyte", "mebibytes",
      "mega", "megas"), 1),
    (("gb", "gib", "g", "gig", "gigs", "gigabyte", "gigabytes", "gibibyte", "gibibytes",
      "giga", "gigas"), 1024),  # "8 giga of ram": the prefix alone, as many say it
    (("tb", "tib", "t", "terabyte", "terabytes", "tebibyte", "tebibytes", "tera", "teras"),
     1024 * 1024),
):
    for _w in _words:
        UNITS[_w] = Decimal(_mib)
GLUED_RE = re.compile(r"^(\d+(?:\.\d+)?)(mb|mib|m|gb|gib|gigs|gig|g|tb|tib|t)$")
NUMBER_RE = re.compile(r"^\d+(\.\d+)?$")

SMALL_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5,
            "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9}

#: words whose presence means the sentence asks for something a spec cannot hold
UNEXPRESSIBLE: dict[str, str] = {}
for _reason, _words2 in (
    ("hardware passthrough is declared through a cluster resource mapping only, like 'PCI "
     "passthrough of the mapping gpu0' or 'USB passthrough of the mapping dongle'",
     "passthru gpu gpus hostpci vgpu sr-iov"),
    ("CPU threads cannot be expressed; give sockets and cores, like '2 sockets of 4 cores'",
     "thread threads topology hyperthreading smt"),
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
     "about around approximately roughly some few several lots plenty enough more less "
     "fewer least most max maximum min minimum extra"),
    ("a size word says no size: give the amounts ('1 core, 512 MB of RAM, a 16 GB disk') "
     "and leave the word out", "big small large huge tiny"),
):
    for _w in _words2.split():
        UNEXPRESSIBLE[_w] = _reason


# --- words of the phrases ----------------------------------------------------------------


ROLE_ROOT = ("root", "system", "boot", "os", "main", "primary")
ROLE_DATA = ("data", "extra", "additional", "secondary", "storage", *ORDINALS)
DISK_NOUNS = ("disk", "disks", "drive", "drives", "volume", "rootfs", "hdd", "ssd")


CORE_NOUNS = ("cores", "core", "vcpus", "vcpu", "cpus", "cpu", "processors", "processor")


#: words of the whole-guest phrases (CPU, firmware, devices, cloud-init, containers ...)
GUEST_WORDS = frozenset("""
    sockets socket type flag flags numa active hot-plugged plugged limit cpulimit weight
    units cpuunits ballooning balloon swap windows os ostype guest uefi ovmf seabios legacy
    bios firmware efi tpm version v2.0 v1.2 q35 i440fx chipset machine scsi controller
    scsihw display vga graphics serial console port tablet pointer hot-plug hotplug
    hotplugging hot-plugging cd-rom cdrom cd dvd optical empty insert mount mounts
    mounting mounted point mountpoint pci pcie usb passthrough pass-through mapping mapped
    plain conventional order cloud-init cloudinit user username login password credential
    secret upgrade upgrades upgrading package format citype server servers nameserver
    nameservers search domain domains searchdomain agent fstrim trim protect protected
    protection deletion removal startup start-up delay timeout unprivileged privileged
    features feature nesting keyctl fuse mknod force_rw_sys types timezone time zone
    iothread io-thread io discard emulation cache caching mode aio async excluded exempt
    included backed replicated replication read-only readonly ro read-write writable
    bind-mount bind-mounts bind-mounted bind host directory model mac hardware hwaddr mtu
    rate queues queue multiqueue link disconnected ipv6 dhcpv6 slaac cards interfaces
    adapters devices pre-enrolled enrolled keys after against auto autoconfiguration cloning
    configured mbps mb/s per target vars none efidisk efitype name path already exists
    exist adopt adopted manage managed now""".split())
#: words that may start a phrase but stay valid guest names (``dns is a container``)
PHRASE_ONLY_WORDS = frozenset({"dns"})


#: every word the grammar gives a meaning to; a name equal to one must be quoted/"named"
VOCABULARY = frozenset({
    *FILLERS, *SUBJECT_VERBS, *KIND_WORDS, *GENERIC_NOUNS, *IMPERATIVE_VERBS, *NODE_WORDS,
    *PRONOUNS, *UNITS, *UNEXPRESSIBLE, *ORDINALS, *DISK_NOUNS, *CORE_NOUNS, *ROLE_ROOT,
    *ROLE_DATA, *GUEST_WORDS, "named", "called", "through", "thru", "not", "no", "without",
    "never", "on",
    "in", "at", "of", "from", "as", "via", "by", "over", "into", "ram", "memory", "mem",
    "disk", "id", "vmid", "ctid", "pool", "resource", "tagged", "tags", "tag", "labels",
    "label", "labelled", "labeled", "vlan", "bridge", "network", "networks", "interface",
    "ip", "ipv4", "address", "static", "fixed", "dhcp", "gateway", "gw", "default",
    "firewall", "firewalled", "enabled", "disabled", "described", "description", "ssh",
    "key", "keys", "public", "cloned", "template", "ostemplate", "iso", "image", "boot",
    "booting", "running", "stopped", "started", "absent", "removed", "deleted", "gone",
    "exist", "exists", "autostart", "onboot", "virtual", "qemu", "kvm", "lxc", "linux",
    "storage", "stored", "datastore", "single", "half", "hard", "space", "size", "up", "off",
    "online", "halted", "powered", "goes", "shutdown", "automatically", "hundred", "thousand",
    "minus", "each", "slot", "connected", "attached", "diskless", "nic", "nics", "create",
    "there", "i", "we", "its", "their", "my", "our", "for", "or", "but", "(", ")",
    *CREATE_VERBS, *(w for prefix in CREATE_PREFIXES for w in prefix),
    "device", "card", "adapter", "when", "behind", "active",
    "disable", "enable", "authorize", "authorise", "trust", "accept", "member", "number",
    "another", "any", "auto-start", "autoboot", "autostarts", "based", "booted", "bridged",
    "config", "configuration", "destroyed", "down", "during", "file", "filesystem", "fs",
    "hosted", "install", "installed", "installing", "linked", "located", "longer", "moved",
    "networking", "pinned", "placed", "plugged", "present", "starting", "turned",
    *MULTIPLIERS, "rid", "decommissioned", "retired", "needed", "required", "anymore",
    "more", "switched", "clones", "following", "describe", "would", "like", "still",
    "now", "copied", "used", "wanted",
})


#: the words of :mod:`.openers` and :mod:`.idioms` (a test checks the lists agree): a
#: guest with one of these names must be quoted or "named", as with any other word here
COURTESY_AND_IDIOM_WORDS = frozenset("""
    adjust alright anyway anyways basically being bring btw bump change cheers drop dropped
    cut finish fyi go grow hello hey hi honestly increase issue item jira job kill killed
    kindly lastly
    lot lower many modify much next note nuke nuked oh ok okay pls plz provide purge purged
    raise reduce remain req request resides residing resize scrap scrapped shrink sits
    sitting so stay story task tear thank thanks thx ticket todo torn trash trashed ty u
    very way well wipe wiped you
    nobody someone somebody everyone everybody anyone anybody nothing
    yo heya hiya howdy morning um uh umm hmm sorry just help""".split())
VOCABULARY = VOCABULARY | COURTESY_AND_IDIOM_WORDS | VERB_WORDS | PHRASING_WORDS


def is_vocab(low: str) -> bool:
    return low in VOCABULARY or low in SMALL_NUMBERS or low in TENS or bool(NUMBER_RE.match(low))
