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
the memo holds no more than one plan's worth of per-guest results. Pure: no I/O.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mycopod.proxmox.model import ObservedGuest
from mycopod.reconcile.plan import Plan
from mycopod.spec import GuestSpec

__all__ = ["PlanMemo"]

#: the Plan lists one guest's convergence appends to
_PARTS = ("guests", "actions", "errors", "notes", "pending_restart")


@dataclass(frozen=True, slots=True)
class _Entry:
    guest: GuestSpec
    seen: ObservedGuest
    context: tuple[Any, ...]
    parts: tuple[tuple[Any, ...], ...]


class PlanMemo:
    """Per-guest planning results of the last pass (one per engine, kept between ticks)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._next: dict[str, _Entry] = {}
        self.hits = 0
        self.misses = 0

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
