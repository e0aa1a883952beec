"""Unit tests are pure: no database, no server, no network.

Every socket connection a unit test tries fails at once, so a test that needs a real
peer shows up here as an error and belongs in ``tests/integration``.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: Any) -> None:
        raise RuntimeError(f"a unit test tried to connect to {address!r}: move it to "
                           "tests/integration")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
