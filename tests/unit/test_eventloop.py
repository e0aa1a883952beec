"""The loop the daemon, the demo and the simulator run on (mycopod.eventloop)."""

from __future__ import annotations

import asyncio

import pytest

from mycopod import eventloop
from mycopod.errors import UsageError


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.ENV, raising=False)
    assert eventloop.run(_loop_module()) == "uvloop"


def test_cpythons_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV, "asyncio")
    assert eventloop.run(_loop_module()).startswith("asyncio")


def test_an_unknown_loop_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV, "trio")
    coro = _loop_module()
    with pytest.raises(UsageError, match=r"MYCOPOD_EVENT_LOOP='trio'.*'uvloop'.*'asyncio'"):
        eventloop.run(coro)
    coro.close()
