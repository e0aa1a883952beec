"""What planning a guest gave last time, so a steady-state tick plans only what changed.

A drift tick at 10,000 guests is one ``/cluster/resources`` request, but planning every
guest again (every stated setting compared with its config) is most of its time. The
outcome of converging one declared, owned guest depends only on its declaration, its
observed guest (the row, and the config read for it), the ownership tag and
``restart_on_change``. The observer hands back the *same* :class:`ObservedGuest` object
while a guest's row is unchanged (see :mod:`mycopod.proxmox.observer`) and the engine
keeps the same spec object while the declaration in force is the same, so an identity
check says "nothing changed" in constant time; a guest whose row or declaration changed
is planned again, the others are replayed. (Adoptions and creates are always planned.)

Replaying appends exactly what planning appended (its report, actions, errors, notes,
pending restart), in the same order, so the plan is equal to a fresh one; the
cluster-wide parts (orphans, conflicts, placement of creates, approval rules) are
always computed. Entries of guests not planned in a pass are dropped at its end, so
the memo holds no more than one plan's worth of per-guest results.

A steady tick goes further: when *nothing* changed (the same spec object, the same
tuple of observed guests, which the observer hands back while no row changed, and equal
inventory reservations, policy, recent deletions and creates, and LLM-declared guests)
the whole last plan is handed back (:meth:`PlanMemo.whole`), without a pass at all.
Node and storage state (free memory changes at every poll) and the container templates
are compared too when the last plan placed a new guest, the only part of planning that
reads them. The plan is a fresh copy each time: the engine fills in parts of it
(``user_changes``). Pure: no I/O.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mycopod.config import PolicySettings
from mycopod.proxmox.model import ObservedCluster, ObservedGuest
from mycopod.reconcile.plan import Plan
from mycopod.spec import ClusterSpec, GuestSpec

__all__ = ["PlanMemo"]

#: the Plan lists one guest's convergence appends to
_PARTS = ("guests", "actions", "errors", "notes", "pending_restart")


@dataclass(frozen=True, slots=True)
class _Entry:
    guest: GuestSpec
    seen: ObservedGuest
    context: tuple[Any, ...]
    parts: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class _Whole:
    """The last plan and everything it was computed from (see the module doc)."""

    spec: ClusterSpec
    observed: ObservedCluster
    policy: PolicySettings
    inputs: tuple[Any, ...]
    #: the plan placed a new guest (a create): node, storage and template state matter
    placed: bool
    plan: Plan

    def fits(self, spec: ClusterSpec, observed: ObservedCluster, policy: PolicySettings,
             inputs: tuple[Any, ...]) -> bool:
        last = self.observed
        return (spec is self.spec and observed.guests is last.guests
                and observed.reserved_vmids == last.reserved_vmids
                and observed.reserved_names == last.reserved_names
                and inputs == self.inputs and policy == self.policy
                and (not self.placed or (observed.nodes == last.nodes
                                         and observed.storages == last.storages
                                         and observed.ct_templates == last.ct_templates)))


def _copy(plan: Plan) -> Plan:
    """``plan`` with lists of its own (the items are shared, as replayed ones are)."""
    return plan.model_copy(update={name: list(value) for name, value in plan
                                   if isinstance(value, list)})


class PlanMemo:
    """Per-guest planning results of the last pass (one per engine, kept between ticks)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._next: dict[str, _Entry] = {}
        self._whole: _Whole | None = None
        self.hits = 0
        self.misses = 0
        #: the last plan asked for was the whole last plan again (nothing changed)
        self.reused = False

    def whole(self, spec: ClusterSpec, observed: ObservedCluster, policy: PolicySettings,
              inputs: tuple[Any, ...]) -> Plan | None:
        """A copy of the last plan if it was made of the same inputs, else None.
        ``inputs`` are the planner's other arguments (recent, LLM-declared guests)."""
        whole = self._whole
        self.reused = whole is not None and whole.fits(spec, observed, policy, inputs)
        if whole is None or not self.reused:
            return None
        # what a pass would have counted: every converged guest replayed
        self.hits, self.misses = len(self._entries), 0
        return _copy(whole.plan)

    def keep_whole(self, plan: Plan, spec: ClusterSpec, observed: ObservedCluster,
                   policy: PolicySettings, inputs: tuple[Any, ...]) -> None:
        """Remember ``plan`` (a copy: the caller may fill it in) and what it came from."""
        placed = any(report.status == "missing" for report in plan.guests)
        self._whole = _Whole(spec=spec, observed=observed, policy=policy, inputs=inputs,
                             placed=placed, plan=_copy(plan))

    @contextlib.contextmanager
    def pass_(self) -> Iterator[None]:
        """One planning pass: results neither replayed nor recorded in it are forgotten."""
        self._next = {}
        self.hits = self.misses = 0
        try:
            yield
        finally:
            self._entries, self._next = self._next, {}

    def replay(self, plan: Plan, guest: GuestSpec, seen: ObservedGuest,
               context: tuple[Any, ...]) -> bool:
        """Append the recorded outcome of ``guest`` to ``plan``; False if none fits."""
        entry = self._entries.get(guest.name)
        if (entry is None or entry.seen is not seen or entry.context != context
                or not (entry.guest is guest or entry.guest == guest)):
            self.misses += 1
            return False
        for name, items in zip(_PARTS, entry.parts, strict=True):
            getattr(plan, name).extend(items)
        self._next[guest.name] = entry
        self.hits += 1
        return True

    @staticmethod
    def mark(plan: Plan) -> tuple[int, ...]:
        """Where each list ends before planning one guest."""
        return tuple(len(getattr(plan, name)) for name in _PARTS)

    def record(self, plan: Plan, marks: tuple[int, ...], guest: GuestSpec,
               seen: ObservedGuest, context: tuple[Any, ...]) -> None:
        """Keep what planning ``guest`` appended since ``marks``."""
        parts = tuple(tuple(getattr(plan, name)[start:])
                      for name, start in zip(_PARTS, marks, strict=True))
        self._next[guest.name] = _Entry(guest=guest, seen=seen, context=context,
                                        parts=parts)
