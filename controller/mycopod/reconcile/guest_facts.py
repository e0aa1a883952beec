"""Small pure helpers of the planner: how a guest is described in a plan's report. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from mycopod.proxmox.model import ObservedGuest, is_placeholder
from mycopod.reconcile.plan import GuestFacts
from mycopod.spec import GuestSpec

__all__ = ["declared_facts", "default_ct_template", "observed_facts", "placeholder",
           "unfinished"]


def placeholder(guest: ObservedGuest) -> bool:
    """Whether the guest's name is the placeholder pvestatd samples for a guest without
    one: ``VM 105`` (qemu-server vmstatus), ``CT105`` (pve-container vmstatus)."""
    return is_placeholder(guest.name, guest.vmid)


def unfinished(guest: ObservedGuest) -> str:
    """``lock=create, no name`` (Proxmox shows a nameless guest as "VM 101")."""
    nameless = not guest.name or placeholder(guest)
    return f"lock={guest.lock}" + (", no name" if nameless else f", named {guest.name!r}")


def default_ct_template(templates: Iterable[str]) -> str | None:
    ordered = sorted(templates)
    for volume in ordered:
        if "debian" in volume:
            return volume
    return ordered[0] if ordered else None


def declared_facts(guest: GuestSpec) -> GuestFacts:
    return GuestFacts(cores=guest.cores, memory_mib=guest.memory_mib, state=guest.state,
                      node=guest.node, vmid=guest.vmid)


def observed_facts(guest: ObservedGuest) -> GuestFacts:
    config = guest.effective
    return GuestFacts(
        cores=config.cores if config is not None else int(guest.maxcpu),
        memory_mib=config.memory_mib if config is not None else guest.maxmem // 1024**2,
        state=guest.status, node=guest.node, vmid=guest.vmid)
