"""Network phrases: bridge, VLAN, IP address, gateway, firewall.

A network phrase returns an effect that takes the network slot as well as the draft,
because the same words describe net0 inline (``web-1 is on VLAN 30``) and any slot in a
network sentence (``Its network net1 is on bridge vmbr1``); the sentence parser supplies
the slot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from mycopod import spec as specmod
from mycopod.declarations.grammar.drafts import Draft, Effect, NetEffect
from mycopod.declarations.grammar.quantities import read_number, to_int
from mycopod.declarations.grammar.tokens import Cursor, SentenceError


def _p_vlan(c: Cursor) -> NetEffect | None:
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
        num = read_number(c)
        if num is None or num[1] is not None:
            c.i = start
            return None
        vlan = to_int(num[0], line, "a VLAN tag")
    else:
        c.i = start
        return None
    if not specmod.VLAN_MIN <= vlan <= specmod.VLAN_MAX:
        raise SentenceError(line, f"VLAN {vlan} is out of range "
                                  f"({specmod.VLAN_MIN}..{specmod.VLAN_MAX})")
    return lambda d, slot: d.set_net(slot, "vlan", vlan, line)


def _p_bridge(c: Cursor) -> NetEffect | None:
    line = c.line
    start = c.i
    name: str | None = None
    if c.opt("connected", "attached", "bridged", "plugged", "linked", "connect"):
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


def _p_ip(c: Cursor) -> NetEffect | None:
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
        c.opt("of", ":", "is", "to")
        if c.take("from|via|by", "dhcp"):
            value = "dhcp"
        else:
            t = c.value("an IP address like 192.168.1.10/24")
            value = t.low if t.low == "dhcp" else t.text
            if not t.quoted and not re.match(r"^[0-9a-fA-F.:/]+$", t.text) and t.low != "dhcp":
                raise SentenceError(line, f"{t.text!r} is not an IP address like "
                                          "192.168.1.10/24")
    ip = value
    return lambda d, slot: d.set_net(slot, "ip", ip, line)


def _p_gateway(c: Cursor) -> NetEffect | None:
    line = c.line
    if not (c.take("default", "gateway") or c.opt("gateway", "gw")):
        return None
    c.opt("of", ":", "is")
    gateway = c.value("a gateway address like 192.168.1.1").text
    return lambda d, slot: d.set_net(slot, "gateway", gateway, line)


#: the words a firewall phrase starts with
_FIREWALL_FIRST = frozenset({"no", "without", "disable", "not", "firewalled", "enable",
                             "behind", "firewall"})


def _p_firewall(c: Cursor) -> NetEffect | None:
    if c.w() not in _FIREWALL_FIRST:
        return None
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


NET_PHRASES: tuple[Callable[[Cursor], NetEffect | None], ...] = (
    _p_firewall, _p_vlan, _p_bridge, _p_gateway, _p_ip)


def p_net_inline(c: Cursor) -> list[Effect] | None:
    for phrase in NET_PHRASES:
        eff = phrase(c)
        if eff is not None:
            return [functools.partial(_on_net0, eff)]
    return None


def _on_net0(effect: NetEffect, draft: Draft) -> None:
    effect(draft, "net0")


def on_slot(effect: NetEffect, slot: str, draft: Draft) -> None:
    effect(draft, slot)
