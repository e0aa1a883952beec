"""Fixtures for the Proxmox adapter's tests: a simulator over real HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mycopod.pvesim.testing import SimHandle, running_simulator


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(task_seconds=0.02, seed=7) as handle:
        yield handle
