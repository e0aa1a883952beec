"""A bounded queue that never blocks its producer: the oldest item gives way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

T = TypeVar("T")


def put_dropping_oldest(queue: asyncio.Queue[T], item: T) -> list[T]:
    """Put ``item`` without waiting; the items dropped to make room (oldest first)."""
    dropped: list[T] = []
    while True:
        try:
            queue.put_nowait(item)
            return dropped
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                dropped.append(queue.get_nowait())
                queue.task_done()
