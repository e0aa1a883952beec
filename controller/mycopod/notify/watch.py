"""What the notifier remembers between checks, to tell news once. Pure.

- :class:`DriftMemory`: the drift last told per guest (the set of its drifted settings).
  A guest's drift is news when it was not told, or its settings changed since; a guest
  that no longer drifts is forgotten, so when its drift comes back it is news again.
- :class:`Outage`: one thing that can be lost (the Proxmox connection, the leadership).
  It is news once it has been lost for ``threshold`` seconds (``lost``), and once more
  when it is back (``recovered``), only if the loss was told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["DriftMemory", "Outage", "OutageNews"]

Drift = Mapping[str, tuple[str, ...]]


@dataclass
class DriftMemory:
    """The drift told per guest: guest name → its drifted settings, sorted."""

    told: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def news(self, drifted: Drift, *, tell: bool) -> dict[str, tuple[str, ...]]:
        """The guests of ``drifted`` whose drift is news (new, or changed), remembered as
        told; guests no longer drifting are forgotten. With ``tell`` False (self-heal on,
        a standby, a refresh right after a run) nothing is news and nothing is learnt,
        but cleared drift is still forgotten."""
        current = {name: tuple(sorted(set(settings))) for name, settings in drifted.items()}
        for name in [n for n in self.told if n not in current]:
            del self.told[name]
        if not tell:
            return {}
        new = {name: settings for name, settings in sorted(current.items())
               if self.told.get(name) != settings}
        self.told.update(new)
        return new


OutageNews = Literal["lost", "recovered"]


@dataclass
class Outage:
    """One connection (or role) that can be lost; :meth:`step` says when it is news."""

    #: when the loss began (the caller's clock), None while up
    since: float | None = None
    #: the loss was told (so its end is told too)
    told: bool = False

    def step(self, *, up: bool, now: float, threshold: float,
             may_tell: bool = True) -> OutageNews | None:
        """Record whether it is ``up`` at ``now``; "lost" once it has been down for
        ``threshold`` seconds (and ``may_tell``), "recovered" when a told loss ends."""
        if up:
            told, self.since, self.told = self.told, None, False
            return "recovered" if told else None
        if self.since is None:
            self.since = now
        if not self.told and may_tell and now - self.since >= threshold:
            self.told = True
            return "lost"
        return None

    def down_for(self, now: float) -> float:
        return 0.0 if self.since is None else max(0.0, now - self.since)
