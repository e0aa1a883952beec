"""Where a new guest goes and which vmid it gets, within one plan (pure).

- vmid: the declared one (an error if it is taken), else the id the inventory reserves
  for the name (recorded just before a create call whose guest is not there: the call
  may never have got through, or may still be on its way, so the create goes to the
  same id and cannot make a second guest), else the lowest free id above the highest
  in use, or the lowest free one in ``[policy] vmid_min..vmid_max``. An id a guest of
  the spec declares is never given to a guest that declares none.
- node: the declared one, or for a clone the template's (its disks are there and may
  not be on shared storage), which must be online; else the online node with the most
  free memory, minus what this plan already placed there, that has every declared
  storage. Ties go to the lower node name.

:class:`Placement` remembers what the plan has handed out so far; a guest that cannot
be placed raises :class:`Unplaceable`, whose message the planner reports as a plan
error for that guest.
"""

from __future__ import annotations

from mycopod.config import PolicySettings
from mycopod.proxmox.model import ObservedCluster
from mycopod.spec import ClusterSpec, GuestSpec


class Unplaceable(Exception):
    """The guest cannot be given an id or a node; ``str(exc)`` says why and what to do."""


class Placement:
    def __init__(self, spec: ClusterSpec, observed: ObservedCluster,
                 policy: PolicySettings) -> None:
        self.observed = observed
        self.policy = policy
        self.used_ids = observed.used_vmids()
        #: ids declared in the spec: never given to a guest that declares none
        self.declared_ids = {g.vmid for g in spec.guests if g.vmid is not None}
        #: name → the lowest id the inventory reserves for it (not seen in the cluster)
        self.reserved: dict[str, int] = {}
        low, high = policy.vmid_min or 0, policy.vmid_max or 999_999_999
        for vmid, name in sorted(observed.reserved_names.items(), reverse=True):
            if vmid not in self.declared_ids and low <= vmid <= high:
                self.reserved[name] = vmid
        #: bytes of memory this plan placed on each node so far
        self.placed_mem: dict[str, int] = {}

    def allocate(self, guest: GuestSpec) -> int:
        """The vmid of a new guest, now taken."""
        if guest.vmid is not None:
            # a managed guest that is gone keeps its vmid (rebuilt from its declaration)
            rebuilt = self.observed.reserved_names.get(guest.vmid) == guest.name
            if guest.vmid in self.used_ids and not rebuilt:
                holder = self.observed.guest_by_vmid(guest.vmid)
                held = f" by {holder.name!r}" if holder is not None else ""
                raise Unplaceable(f"declared ID {guest.vmid} is already taken{held}; "
                                  "choose another or leave the ID out")
            self.used_ids.add(guest.vmid)
            return guest.vmid
        reserved = self.reserved.pop(guest.name, None)
        if reserved is not None:
            return reserved  # in used_ids already (a reserved id is in use)
        taken = self.used_ids | self.declared_ids
        low, high = self.policy.vmid_min, self.policy.vmid_max
        if low is not None or high is not None:
            start, stop = low or 100, high or 999_999_999
            candidate = start
            while candidate in taken and candidate <= stop:
                candidate += 1
            if candidate > stop:
                raise Unplaceable(f"no free ID left in vmid_min..vmid_max "
                                  f"({start}..{stop}); widen the range")
        else:
            candidate = max(taken | {99}) + 1
        self.used_ids.add(candidate)
        return candidate

    def place(self, guest: GuestSpec, *, near: str | None = None) -> str:
        """The node of a new guest; ``near``: the template's node, for a clone."""
        online = [n for n in self.observed.nodes if n.online]
        needed = {d.storage for d in guest.disks if d.storage is not None}
        wanted = guest.node or near
        if wanted is not None:
            names = {n.name for n in online}
            if wanted not in names:
                raise Unplaceable(f"node {wanted!r} is not an online node of the cluster "
                                  f"(online: {', '.join(sorted(names)) or 'none'})")
            chosen = wanted
        else:
            candidates = [n for n in online if needed <= self._storages_on(n.name)]
            if not candidates:
                raise Unplaceable("no online node has storage "
                                  f"{', '.join(sorted(needed))}; declare a storage that "
                                  "exists")
            chosen = min(candidates, key=lambda n: (
                -(n.free_mem - self.placed_mem.get(n.name, 0)), n.name)).name
        self.placed_mem[chosen] = self.placed_mem.get(chosen, 0) + guest.memory_mib * 1024**2
        return chosen

    def _storages_on(self, node: str) -> set[str]:
        return {s.storage for s in self.observed.storages if s.node == node and s.active}
