"""Read-only views of the in-memory layer's state in upstream's shapes (pure, no IO).

Upstream Channels' in-memory layer exposed ``channels`` (name -> a queue of
``(expiry timestamp, message)``) and ``groups`` (group -> {channel: join
timestamp}), and test suites look at them (``len(layer.channels) == 0``). The
layer keeps its own structures (monotonic deadlines); these views translate a
snapshot of them into upstream's shapes, with ``time.time()`` timestamps.
A view is a copy: changing it does not change the layer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

__all__ = ["QueueView", "group_view", "to_wall_clock"]


def to_wall_clock(deadline: float, now_monotonic: float, now_wall: float) -> float:
    """Translate a monotonic-clock instant into a ``time.time()`` timestamp."""
    return now_wall + (deadline - now_monotonic)


class QueueView:
    """A snapshot of one channel's queue, shaped like upstream's bounded ``asyncio.Queue``."""

    def __init__(self, entries: Iterable[tuple[float, dict[str, Any]]], maxsize: int) -> None:
        #: ``(expiry timestamp, message)`` pairs, oldest first, as upstream's ``_queue``.
        self._queue: deque[tuple[float, dict[str, Any]]] = deque(entries)
        self.maxsize = maxsize

    def qsize(self) -> int:
        return len(self._queue)

    def empty(self) -> bool:
        return not self._queue

    def full(self) -> bool:
        return len(self._queue) >= self.maxsize

    def __len__(self) -> int:
        return len(self._queue)

    def __repr__(self) -> str:
        return f"<QueueView qsize={self.qsize()} maxsize={self.maxsize}>"


def group_view(
    deadlines: dict[str, dict[str, float]],
    group_expiry: float,
    now_monotonic: float,
    now_wall: float,
) -> dict[str, dict[str, float]]:
    """group -> {channel: join timestamp}, from membership deadlines."""
    return {
        group: {
            channel: to_wall_clock(deadline - group_expiry, now_monotonic, now_wall)
            for channel, deadline in members.items()
        }
        for group, members in deadlines.items()
    }
