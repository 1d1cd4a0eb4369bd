"""Many timeouts that share one fixed delay, served by a single event-loop timer.

The server gives every WebSocket the same connect timeout and the same lifetime, and every
abandoned application instance the same grace period. With one delay for all, the order in
which entries are added is also the order in which they expire, so an insertion-ordered dict is
the whole queue: adding and removing an entry are dict operations, and one timer (for the
oldest entry) serves all of them. A timer per entry would instead leave a handle, a copied
context and whatever the callback holds in the loop's heap until it fires or is compacted away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
logger = logging.getLogger("daphne.server")
_EARLY = 0.001  # the loop may run a timer up to its clock resolution early


class Timer(Protocol):
    def cancel(self) -> object: ...


class Clock(Protocol):
    """The part of an asyncio event loop the queue uses; tests pass a manual clock instead."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], object], /) -> Timer: ...

    def call_at(self, when: float, callback: Callable[[], object], /) -> Timer: ...


class TimeoutQueue(Generic[K]):
    """Call ``expired(key)`` ``delay`` seconds after ``add(key)``, unless it was discarded."""

    __slots__ = ("_expired", "_loop", "_timer", "delay", "due")

    def __init__(self, loop: Clock, delay: float, expired: Callable[[K], object]) -> None:
        self._loop = loop
        self.delay = max(0.0, delay)
        self._expired = expired
        # key -> deadline (loop time), oldest first. Read-only for callers: a plain dict is
        # the cheapest "is anything waiting?" test on hot paths.
        self.due: dict[K, float] = {}
        self._timer: Timer | None = None

    def add(self, key: K) -> None:
        """Start the key's timeout; a key already waiting keeps its original deadline."""
        if key in self.due:
            return
        self.due[key] = self._loop.time() + self.delay
        if self._timer is None:
            self._timer = self._loop.call_later(self.delay, self._fire)

    def discard(self, key: K) -> None:
        # The timer stays armed for the old head; when it fires it re-arms for the new one.
        self.due.pop(key, None)

    def __len__(self) -> int:
        return len(self.due)

    def __contains__(self, key: object) -> bool:
        return key in self.due

    def close(self) -> None:
        """Forget every entry without calling back."""
        self.due.clear()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        expired = []
        for key, at in self.due.items():
            if at > now + _EARLY:
                break
            expired.append(key)
        for key in expired:
            del self.due[key]
        if self.due:
            self._timer = self._loop.call_at(next(iter(self.due.values())), self._fire)
        # Called last: a callback may add or discard entries.
        for key in expired:
            try:
                self._expired(key)
            except Exception:
                logger.exception("Error in the timeout handler for %r", key)


__all__ = ["Clock", "TimeoutQueue", "Timer"]
