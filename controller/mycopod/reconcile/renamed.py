"""A guest of ours under another name than the one MycoPod recorded for it. Pure.

DESIGN.md's identity rule: MycoPod never creates a guest twice and never destroys or
rebuilds a guest it cannot positively identify. A guest is positively ours under a
declared name when the inventory records its vmid for that name *and* it carries the
ownership tag. When such a guest shows up under another name, the declared name looks
missing, and creating it would make a second guest. So, for a declared name missing by
name (:func:`index`, :func:`report`):

- under its **placeholder** (``VM 105``, ``CT105``: the name pvestatd samples for a
  guest without one, qemu-server and pve-container vmstatus) while its config could not
  be read (Proxmox answered 500 or timed out for that guest): the guest is most likely
  the one made a moment ago, sampled while its create task ran (the observer reads such
  a row's config to learn its name, :func:`mycopod.proxmox.rows.placeholder_named`).
  Nothing is planned for it this run, and the plan says so (a plan error); the next run
  reads it again.
- under **another name**, or a placeholder whose config was read (renamed by hand, or
  its name removed): a conflict naming both names, the vmid and the fixes. MycoPod
  never renames, deletes or re-creates it.

A guest whose current name is declared itself is claimed by that declaration (the
declaration followed the rename), so the rule leaves it out. A guest without the
ownership tag is not positively ours, whatever the inventory says: it is someone
else's, and the declared name is created as before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from mycopod.proxmox.model import ObservedGuest
from mycopod.reconcile.guest_facts import declared_facts, observed_facts, placeholder
from mycopod.reconcile.plan import GuestIssue, GuestReport, GuestStatus, Plan, PlanIssue
from mycopod.spec import GuestSpec

__all__ = ["index", "renamed_orphan", "report"]


def index(guests: Iterable[ObservedGuest], *, ownership_tag: str,
          declared: Collection[str]) -> dict[str, list[ObservedGuest]]:
    """The guests positively ours under another name than the inventory's (and not
    under a declared name), by the name the inventory records; lowest vmid first."""
    found: dict[str, list[ObservedGuest]] = {}
    for guest in sorted(guests, key=lambda g: g.vmid):
        recorded = guest.recorded_name
        if (recorded and recorded != guest.name and not guest.template
                and ownership_tag in guest.tags and guest.name not in declared):
            found.setdefault(recorded, []).append(guest)
    return found


def report(plan: Plan, guest: GuestSpec, seen: ObservedGuest, *, ownership_tag: str) -> None:
    """What the plan says of declared ``guest``, missing by name while ``seen`` (ours,
    recorded for it) is under another name: a wait, or a conflict; no action."""
    name = guest.name
    status: GuestStatus = "conflict"
    if placeholder(seen) and seen.effective is None:
        message = (f"{name} (vmid {seen.vmid}) is being sampled by Proxmox under its "
                   f"placeholder name {seen.name}; waiting to read its config (it is not "
                   "created again; read again next run)")
        plan.errors.append(PlanIssue(guest=name, message=message))
        status = "locked"  # nothing planned this run, as for a guest Proxmox holds
    else:
        now = f"named {seen.name} in Proxmox now" if seen.name else "has no name now"
        message = (f"VMID {seen.vmid} is MycoPod's {name} (its inventory row and "
                   f"ownership tag) but is {now}: renamed out of band. MycoPod neither "
                   f"creates {name} again nor renames or deletes VMID {seen.vmid}: rename "
                   f"it back to {name} in Proxmox, or change the declaration to "
                   f"{seen.name or 'a name of its own'}, or take the {ownership_tag} tag "
                   f"off VMID {seen.vmid} (it is then someone else's guest, left alone, and "
                   f"{name} is created anew)")
        plan.conflicts.append(GuestIssue(name=name, vmid=seen.vmid, node=seen.node,
                                         message=message))
    plan.guests.append(GuestReport(
        name=name, status=status, kind=guest.kind, vmid=seen.vmid, node=seen.node,
        declared=declared_facts(guest), observed=observed_facts(seen), drift=[message]))


def renamed_orphan(plan: Plan, guest: ObservedGuest) -> None:
    """An owned guest no declaration names, which the inventory knows under another
    (undeclared) name: renamed by hand, so it cannot be positively identified as the
    one MycoPod made; a conflict, never pruned."""
    message = (f"VMID {guest.vmid} was MycoPod's {guest.recorded_name!r} and is now "
               f"named {guest.name!r}: renamed out of band, so it is left alone; "
               f"rename it back, or declare it as {guest.name!r}")
    plan.conflicts.append(GuestIssue(name=guest.name, vmid=guest.vmid, node=guest.node,
                                     message=message))
    plan.guests.append(GuestReport(
        name=guest.name, status="conflict", kind=guest.kind, vmid=guest.vmid,
        node=guest.node, observed=observed_facts(guest), drift=[message]))
