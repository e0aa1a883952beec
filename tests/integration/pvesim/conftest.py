"""Fixtures for the simulator's tests: a fresh simulator per test (no thread may leak)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator

import pytest
import urllib3

from mycopod.pvesim.testing import SimHandle, running_simulator
from tests.support.pvesim import TASK_SECONDS, Api, Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[SimHandle]:
    before = set(threading.enumerate())
    with running_simulator(task_seconds=TASK_SECONDS, seed=7, clock=clock) as handle:
        yield handle
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def api(sim: SimHandle) -> Api:
    return Api(sim)


@pytest.fixture
def token_api(sim: SimHandle) -> Api:
    return Api(sim, auth="token")


@pytest.fixture(autouse=True)
def _quiet_self_signed() -> None:
    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
