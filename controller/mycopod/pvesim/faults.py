"""Faults a loaded Proxmox shows, injected on purpose for reliability tests.

A request fault happens before the request is handled, so a write it hits takes no
effect at all (as with PVE, where a write either commits its config or does not); a
slow answer is handled fully, just answered too late; a lost answer
(``lost_answer_rate``, writes only) is handled and its connection dropped instead of
answered. The sequence is drawn from one seeded random generator, so ``--seed`` repeats
it. A failing guest (``fail_guests``) answers every request under its path
(``/nodes/{node}/qemu/{vmid}/...``) with a 500, as a guest whose config file Proxmox
cannot read or lock (pmxcfs stuck on it); the rest of the cluster answers as usual.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

#: kinds of request fault, drawn uniformly
REQUEST_FAULTS = ("timeout", "unavailable", "proxy", "slow", "drop")


@dataclass
class FaultSettings:
    fault_rate: float = 0.0
    task_fail_rate: float = 0.0
    latency_ms: float = 0.0
    #: how long a "slow" fault holds its answer (past proxmoxer's 5 s default timeout)
    slow_seconds: float = 30.0
    #: the share of writes (not GET, not a login) whose answer is lost after they took effect: the
    #: connection is dropped once the call is done, as when a proxy in between gives up
    lost_answer_rate: float = 0.0


class Faults:
    def __init__(self, settings: FaultSettings, *, seed: int | None = None) -> None:
        self.settings = settings
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self._lock = threading.Lock()
        #: the vmids every request about fails (:meth:`fail_guests`)
        self.failing_vmids: frozenset[int] = frozenset()

    def update(self, **changes: float) -> FaultSettings:
        with self._lock:
            for key, value in changes.items():
                if not hasattr(self.settings, key):
                    raise ValueError(f"unknown fault setting '{key}'")
                setattr(self.settings, key, float(value))
            return self.settings

    def fail_guests(self, vmids: Iterable[int | str]) -> frozenset[int]:
        """From now on every request under these guests' paths fails (none: all answer)."""
        with self._lock:
            self.failing_vmids = frozenset(int(v) for v in vmids)
            return self.failing_vmids

    def guest_fault(self, vmid: str | None) -> bool:
        """Whether a request under the path of guest ``vmid`` is to fail."""
        return vmid is not None and bool(self.failing_vmids) and int(vmid) in self.failing_vmids

    def request_fault(self) -> str | None:
        with self._lock:
            rate = self.settings.fault_rate
            if rate <= 0 or self._rng.random() >= rate:
                return None
            return self._rng.choice(REQUEST_FAULTS)

    def answer_lost(self) -> bool:
        with self._lock:
            rate = self.settings.lost_answer_rate
            return rate > 0 and self._rng.random() < rate

    def task_fails(self) -> bool:
        with self._lock:
            rate = self.settings.task_fail_rate
            return rate > 0 and self._rng.random() < rate
