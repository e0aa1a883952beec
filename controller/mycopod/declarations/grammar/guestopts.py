"""Phrases for cloud-init, DNS, the guest agent, start-up, protection and containers.

``its cloud-init user is ops``, ``its cloud-init password is the credential
ops-password``, ``cloud-init upgrades enabled``, ``cloud-init type nocloud``, ``DNS server
1.1.1.1 and search domain example.com``, ``the QEMU guest agent`` (``enable the ...``),
``fstrim enabled``, ``protect it from deletion``, ``startup order 2``, ``startup delay 30
seconds``, ``shutdown delay 60 seconds``, ``unprivileged``, ``privileged``, ``with
nesting``, ``the features nesting and keyctl``, ``mounts of nfs and cifs``, ``time zone
Europe/Berlin``, ``no tags``, ``no SSH keys``.

A password never appears in a declaration (git keeps it forever): the cloud-init password
is the name of a credential the daemon reads, and a literal one is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from mycopod.declarations.grammar.drafts import Effect
from mycopod.declarations.grammar.toggles import seconds, switch, value_text
from mycopod.declarations.grammar.tokens import Cursor, SentenceError

_CLOUD_INIT = ("cloud-init", "cloudinit", "ci")


def _set(key: str, value: Any, line: int) -> list[Effect]:
    return [lambda d: d.set(key, value, line)]


def p_cloud_init(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    if not c.opt(*_CLOUD_INIT):
        return None
    if c.opt("user", "username", "login"):
        c.opt(":", "is", "named")
        return _set("ci_user", value_text(c, "a user name like ops"), line)
    if c.opt("password"):
        c.opt(":", "is", "from", "in")
        c.opt("the")
        if not c.opt("credential", "secret"):
            raise SentenceError(
                line, "a password is never written in a declaration (git keeps it for "
                "ever): store it as a credential of the MycoPod daemon and write 'its "
                "cloud-init password is the credential NAME'")
        c.opt("named", ":")
        return _set("ci_password", value_text(c, "a credential name like ops-password"),
                    line)
    if c.opt("type", "format", "citype"):
        c.opt(":", "is")
        return _set("ci_type", value_text(c, "nocloud, configdrive2 or opennebula").lower(),
                    line)
    if c.opt("upgrade", "upgrades", "upgrading") or c.take("package", "upgrades|upgrade"):
        value = not c.opt("disabled", "off")
        if value:
            c.opt("enabled", "on")
        return _set("ci_upgrade", value, line)
    c.i = start
    return None


def p_no_upgrade(c: Cursor) -> list[Effect] | None:
    line = c.line
    if c.take("no|without", "cloud-init|cloudinit", "upgrades|upgrade"):
        return _set("ci_upgrade", False, line)
    return None


def p_dns(c: Cursor) -> list[Effect] | None:
    """``DNS server 1.1.1.1``, ``DNS servers 1.1.1.1 and 9.9.9.9``, ``nameserver X``,
    ``[DNS] search domain example.com``."""
    line = c.line
    start = c.i
    dns = c.opt("dns") is not None
    if (dns and c.opt("server", "servers", "nameserver", "nameservers")) or (
            not dns and c.opt("nameserver", "nameservers")):
        c.opt(":", "is", "are")
        servers: list[str] = []
        while c.tok() is not None and not c.toks[c.i].quoted and _is_address(c.w()):
            servers.append(c.w())
            c.i += 1
            save = c.i
            if not c.list_separator() or not _is_address(c.w()):
                c.i = save
                break
        if not servers:
            raise SentenceError(line, "expected a DNS server address like 1.1.1.1")
        return [lambda d: d.extend("nameservers", servers)]
    if c.take("search", "domain|domains") or c.opt("searchdomain"):
        c.opt(":", "is")
        return _set("searchdomain", value_text(c, "a domain like example.com"), line)
    c.i = start
    return None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def p_agent(c: Cursor) -> list[Effect] | None:
    line = c.line
    value = switch(c, [("qemu", "guest", "agent"), ("guest", "agent"), ("qemu", "agent")])
    return None if value is None else _set("agent", value, line)


def p_fstrim(c: Cursor) -> list[Effect] | None:
    line = c.line
    value = switch(c, [("fstrim",), ("trim", "of", "cloned", "disks")])
    if value is None:
        return None
    c.take("of|after", "cloned", "disks") or c.take("after", "cloning")
    return _set("agent_fstrim", value, line)


def p_protection(c: Cursor) -> list[Effect] | None:
    """``protect [it] from deletion``, ``protected``, ``not protected``, ``deletion
    protection``, ``no protection``."""
    line = c.line
    value: bool | None = None
    if c.take("not", "protected") or c.take("no|without", "protection") or c.take(
            "no|without", "deletion", "protection"):
        value = False
    elif c.opt("protect", "protected", "protection") or c.take("deletion", "protection"):
        value = True
    if value is None:
        return None
    c.take("from|against", "deletion|removal")
    if value and c.opt("disabled", "off"):
        value = False
    return _set("protection", value, line)


def p_startup(c: Cursor) -> list[Effect] | None:
    """``startup order 2``, ``startup delay 30 seconds``, ``shutdown delay 60 seconds``."""
    line = c.line
    start = c.i
    key: str | None = None
    c.opt("with", "a", "the")
    if c.take("startup|start-up|start|boot", "order"):
        key = "order"
    elif c.take("startup|start-up|start|up", "delay"):
        key = "up"
    elif c.take("shutdown|down|stop", "delay|timeout"):
        key = "down"
    if key is None:
        c.i = start
        return None
    c.opt("of", ":", "is")
    if key == "order":
        value = seconds(c, "a start order number")
    else:
        value = seconds(c, "a delay in seconds")
    return [lambda d: d.set_part("startup", key, value, line)]


def p_unprivileged(c: Cursor) -> list[Effect] | None:
    line = c.line
    if c.opt("unprivileged"):
        return _set("unprivileged", True, line)
    if c.opt("privileged"):
        return _set("unprivileged", False, line)
    return None


#: file systems a container may mount (``features: mount=nfs;cifs``)
_MOUNT_TYPES = ("nfs", "cifs", "smb", "ext4", "xfs", "btrfs", "zfs", "ntfs", "vfat")
_FEATURES = ("nesting", "keyctl", "fuse", "mknod", "force_rw_sys")


def p_features(c: Cursor) -> list[Effect] | None:
    """``nesting``, ``with keyctl and fuse``, ``the features nesting and keyctl``,
    ``mounts of nfs and cifs`` (``mount=nfs;cifs``)."""
    line = c.line
    start = c.i
    if c.take("mounts|mounting", "of") or c.take("mount", "types"):
        c.opt(":")
        kinds: list[str] = []
        while c.w() in _MOUNT_TYPES and not c.toks[c.i].quoted:
            kinds.append(c.w())
            c.i += 1
            save = c.i
            if not c.list_separator() or c.w() not in _MOUNT_TYPES:
                c.i = save
                break
        if not kinds:
            c.i = start
            return None
        value = "mount=" + ";".join(kinds)
        return [lambda d: d.extend("features", [value])]
    c.opt("the")
    c.opt("features", "feature")
    c.opt(":")
    found: list[str] = []
    while c.w() in _FEATURES:
        found.append(c.w())
        c.i += 1
        c.opt("enabled", "on")
        save = c.i
        if not c.list_separator() or c.w() not in _FEATURES:
            c.i = save
            break
    if not found:
        c.i = start
        return None
    _ = line
    return [lambda d: d.extend("features", found)]


def p_timezone(c: Cursor) -> list[Effect] | None:
    line = c.line
    if not (c.take("time", "zone") or c.opt("timezone")):
        return None
    c.opt(":", "is", "of")
    return _set("timezone", value_text(c, "a time zone like Europe/Berlin"), line)


def p_no_list(c: Cursor) -> list[Effect] | None:
    """``no tags``, ``no SSH keys``: stated empty (remove any the guest has)."""
    line = c.line
    if c.take("no|without", "tags"):
        return _set("tags", [], line)
    if c.take("no|without", "ssh", "keys"):
        return _set("ssh_keys", [], line)
    return None


PHRASES: tuple[Callable[[Cursor], Any], ...] = (
    p_cloud_init, p_no_upgrade, p_dns, p_agent, p_fstrim, p_protection, p_startup,
    p_unprivileged, p_features, p_timezone, p_no_list)
