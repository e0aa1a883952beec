"""More network phrases: NIC model, MAC, MTU, rate, queues, link state, IPv6, and lists
of network cards.

``model e1000``, ``MAC address BC:24:11:00:00:01`` (pinned), ``MTU 9000``, ``a rate limit
of 100 MB/s``, ``4 queues``, ``link down``, ``interface name eth1`` (containers), ``IPv6
address 2001:db8::5/64``, ``IPv6 gateway 2001:db8::1``, ``IPv6 via SLAAC`` (auto), ``IPv6
via DHCP`` / ``DHCPv6``, and ``two network cards: net0 on vmbr0 and net1 on vmbr1 with
VLAN 20``. Like :mod:`.networking`, each phrase returns an effect taking the slot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from mycopod.declarations.grammar.drafts import Draft, Effect, NetEffect
from mycopod.declarations.grammar.networking import NET_PHRASES as BASE_PHRASES
from mycopod.declarations.grammar.quantities import read_number
from mycopod.declarations.grammar.toggles import read_int, value_text
from mycopod.declarations.grammar.tokens import Cursor, SentenceError

_NIC_MODELS = ("virtio", "e1000", "e1000e", "rtl8139", "vmxnet3")


def _net(key: str, value: object, line: int) -> NetEffect:
    return lambda d, slot: d.set_net(slot, key, value, line)


def _p_model(c: Cursor) -> NetEffect | None:
    line = c.line
    start = c.i
    if c.take("nic|network|card", "model") or c.opt("model"):
        c.opt(":", "is", "of")
        return _net("model", value_text(c, "a NIC model like virtio or e1000").lower(), line)
    if c.w() in _NIC_MODELS and c.w(1) in ("model", "nic", "card", "adapter"):
        c.i += 2
        return _net("model", c.toks[c.i - 2].low, line)
    c.i = start
    return None


def _p_mac(c: Cursor) -> NetEffect | None:
    line = c.line
    if not (c.take("mac|hardware", "address") or c.opt("mac", "hwaddr")):
        return None
    c.opt(":", "is", "of")
    return _net("mac", value_text(c, "a MAC address like BC:24:11:00:00:01"), line)


def _p_ifname(c: Cursor) -> NetEffect | None:
    line = c.line
    if not c.take("interface", "name"):
        return None
    c.opt(":", "is")
    return _net("name", value_text(c, "an interface name like eth0"), line)


def _p_mtu(c: Cursor) -> NetEffect | None:
    line = c.line
    start = c.i
    if not c.opt("mtu"):
        return None
    c.opt("of", ":", "is")
    value = read_int(c, "the MTU")
    if value is None:
        c.i = start
        return None
    return _net("mtu", value, line)


def _p_rate(c: Cursor) -> NetEffect | None:
    """``a rate limit of 100 MB/s`` (megabytes per second, as Proxmox counts)."""
    line = c.line
    start = c.i
    if not (c.take("rate", "limit") or c.opt("rate")):
        return None
    c.opt("of", ":")
    num = read_number(c)
    if num is None or num[1] is not None:
        c.i = start
        return None
    if not (c.opt("mb/s", "mbps") or c.take("mb", "per", "second")):
        raise SentenceError(line, "write the rate limit in MB/s, like 'a rate limit of 100 "
                                  "MB/s'")
    return _net("rate", float(num[0]), line)


def _p_queues(c: Cursor) -> NetEffect | None:
    line = c.line
    start = c.i
    value = read_int(c, "the number of queues")
    if value is None or not c.opt("queues", "queue"):
        c.i = start
        if c.opt("queues", "multiqueue"):
            c.opt(":", "of")
            value = read_int(c, "the number of queues")
            if value is not None:
                return _net("queues", value, line)
        c.i = start
        return None
    return _net("queues", value, line)


def _p_link(c: Cursor) -> NetEffect | None:
    line = c.line
    if c.take("link", "down") or c.take("link", "disconnected") or c.opt("disconnected"):
        return _net("link_down", True, line)
    if c.take("link", "up"):
        return _net("link_down", False, line)
    return None


def _p_ip6(c: Cursor) -> NetEffect | None:
    line = c.line
    start = c.i
    if c.opt("dhcpv6"):
        return _net("ip6", "dhcp", line)
    if c.opt("slaac"):
        return _net("ip6", "auto", line)
    if not c.opt("ipv6"):
        return None
    if c.opt("gateway", "gw"):
        c.opt(":", "is", "of")
        return _net("gateway6", value_text(c, "an IPv6 gateway like 2001:db8::1"), line)
    if c.take("via|by|from|over|using|with", "dhcp|dhcpv6") or c.opt("dhcp"):
        return _net("ip6", "dhcp", line)
    if c.take("via|by|from|over|using|with", "slaac|auto|autoconfiguration") or c.opt(
            "slaac", "auto"):
        return _net("ip6", "auto", line)
    c.opt("address", "ip")
    c.opt(":", "is", "of")
    t = c.tok()
    if t is None or not (t.quoted or ":" in t.text):
        c.i = start
        raise SentenceError(line, "expected an IPv6 address like 2001:db8::5/64, 'IPv6 via "
                                  "DHCP' or 'IPv6 via SLAAC'")
    c.i += 1
    return _net("ip6", t.text, line)


def _p_present(c: Cursor) -> NetEffect | None:
    """``Its network net1 is present``: the card, with nothing else stated."""
    if c.opt("present", "configured"):
        return _touch_slot
    return None


def _touch_slot(draft: Draft, slot: str) -> None:
    draft.nets.setdefault(slot, {})


NET_PHRASES: tuple[Callable[[Cursor], NetEffect | None], ...] = (
    _p_model, _p_mac, _p_ifname, _p_mtu, _p_rate, _p_queues, _p_link, _p_ip6, _p_present,
    *BASE_PHRASES)


def p_net_inline(c: Cursor) -> list[Effect] | None:
    for phrase in NET_PHRASES:
        if phrase is _p_present:
            continue
        eff = phrase(c)
        if eff is not None:
            return [functools.partial(_on_slot, eff, "net0")]
    return None


def _on_slot(effect: NetEffect, slot: str, draft: Draft) -> None:
    effect(draft, slot)


_SLOT_RE = re.compile(r"^net\d+$")


def p_nic_list(c: Cursor) -> list[Effect] | None:
    """``two network cards: net0 on vmbr0 and net1 on vmbr1 with VLAN 20``."""
    line = c.line
    start = c.i
    count = read_int(c, "the number of network cards")
    if count is None:
        return _nics_on_bridges(c) or _ordinal_nic(c)
    if not (c.take("network", "cards|interfaces|adapters|devices") or c.opt(
            "nics", "networks")):
        c.i = start
        return None
    if not (c.opt(":", "(") or (c.w() == "," and _SLOT_RE.match(c.w(1)) and c.opt(","))):
        c.i = start
        return None
    effects: list[Effect] = []
    slots: list[str] = []
    while _SLOT_RE.match(c.w()):
        slot = c.w()
        slots.append(slot)
        c.i += 1
        effects.append(functools.partial(_touch, slot))
        effects.extend(_slot_phrases(c, slot))
    c.opt(")")
    _refuse_trailing_net_phrase(c, slots)
    if len(slots) != count:
        raise SentenceError(line, f"{count} network cards are announced but {len(slots)} "
                                  f"described ({', '.join(slots) or 'none'}); describe each "
                                  "as 'net0 on vmbr0'")
    return effects


def _slot_phrases(c: Cursor, slot: str) -> list[Effect]:
    """The network phrases after a card's slot, up to the next slot or any other word."""
    effects: list[Effect] = []
    while not c.done():
        save = c.i
        if c.w() in (",", "and") and _SLOT_RE.match(c.w(1)):
            c.i += 1
            break
        if c.w() == "," and c.w(1) == "and" and _SLOT_RE.match(c.w(2)):
            c.i += 2
            break
        c.opt("with", "and", ",", "is")
        c.opt("the", "a", "an")
        found = _net_phrase(c)
        if found is None:
            c.i = save
            break
        effects.append(functools.partial(_on_slot, found, slot))
    return effects


_ORDINALS = {"second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}


def _ordinal_nic(c: Cursor) -> list[Effect] | None:
    """``a second NIC on vmbr1``: the card net1 (``third`` net2 ...), with what follows."""
    start = c.i
    index = _ORDINALS.get(c.w())
    if index is None:
        return None
    c.i += 1
    if not (c.take("network", "card|interface|adapter|device|nic") or c.opt("nic")):
        c.i = start
        return None
    slot = f"net{index}"
    return [functools.partial(_touch, slot), *_slot_phrases(c, slot)]


def _net_phrase(c: Cursor) -> NetEffect | None:
    for phrase in NET_PHRASES:
        found = phrase(c)
        if found is not None:
            return found
    return None


def _refuse_trailing_net_phrase(c: Cursor, slots: list[str]) -> None:
    """A network setting right after a list of cards ("... and net1 on vmbr1, with a
    gateway of X") could belong to any of them: the guest-level reading would give it
    to net0, which is not what was written. Refused, naming the cards."""
    save = c.i
    c.opt(",")
    c.opt("with", "and", "plus")
    c.opt("the", "a", "an")
    found = _net_phrase(c) if not c.done() else None
    words = " ".join(t.text for t in c.toks[save:c.i])
    c.i = save
    if found is not None:
        raise SentenceError(c.line, f"{words!r} follows the list of network cards "
                                    f"({', '.join(slots)}) and could belong to any of "
                                    "them; say which card, e.g. "
                                    f"'{slots[-1]} on vmbr1 with IP 10.0.0.2/24'")


_BRIDGE_RE = re.compile(r"^vmbr\d+$")


def _nics_on_bridges(c: Cursor) -> list[Effect] | None:
    """``NICs on vmbr0 and vmbr1``: one network card per bridge, net0, net1 ... in order
    (only bridge names ``vmbrN``, at least two: one bridge is ``on bridge vmbr0``)."""
    start = c.i
    line = c.line
    if not ((c.take("network", "cards|interfaces") or c.opt("nics", "interfaces")) and c.opt(
            "on")):
        c.i = start
        return None
    c.opt("bridges")
    bridges: list[str] = []
    while _BRIDGE_RE.match(c.w()):
        bridges.append(c.w())
        c.i += 1
        if c.w() in (",", "and") and _BRIDGE_RE.match(c.w(1)):
            c.i += 1
        elif c.w() == "," and c.w(1) == "and" and _BRIDGE_RE.match(c.w(2)):
            c.i += 2
    if len(bridges) < 2:
        c.i = start
        return None
    return [functools.partial(_on_bridge, f"net{k}", bridge, line)
            for k, bridge in enumerate(bridges)]


def _on_bridge(slot: str, bridge: str, line: int, draft: Draft) -> None:
    draft.set_net(slot, "bridge", bridge, line)


def _touch(slot: str, draft: Draft) -> None:
    draft.nets.setdefault(slot, {})
