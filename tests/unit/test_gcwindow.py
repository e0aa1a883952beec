"""The garbage collector's window around observing and planning (mycopod.gcwindow)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from mycopod import gcwindow


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_a_window_raises_the_youngest_threshold_and_gives_it_back() -> None:
    with gcwindow.fewer_collections():
        assert gc.get_threshold() == (gcwindow.YOUNG, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_window_gives_the_thresholds_back_when_its_block_raises() -> None:
    with pytest.raises(RuntimeError), gcwindow.fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_windows_restore_after_the_last_one_closes() -> None:
    """Two clusters' resyncs on one event loop: the first to finish does not end the
    other's window."""
    seen: list[tuple[int, int, int]] = []

    @gcwindow.during
    async def resync(pause: float) -> str:
        await asyncio.sleep(pause)
        seen.append(gc.get_threshold())
        return f"done after {pause}"

    async def both() -> list[str]:
        return await asyncio.gather(resync(0.01), resync(0.05))

    assert asyncio.run(both()) == ["done after 0.01", "done after 0.05"]
    assert seen == [(gcwindow.YOUNG, 10, 10)] * 2
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_and_a_disabled_collector_are_left_as_they_are() -> None:
    gc.set_threshold(100_000, 10, 10)
    with gcwindow.fewer_collections():
        assert gc.get_threshold() == (100_000, 10, 10)
    assert gc.get_threshold() == (100_000, 10, 10)
    gc.set_threshold(0, 10, 10)
    with gcwindow.fewer_collections():
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)


def test_thresholds_someone_else_set_meanwhile_are_kept() -> None:
    with gcwindow.fewer_collections():
        gc.set_threshold(5_000, 20, 20)
    assert gc.get_threshold() == (5_000, 20, 20)
