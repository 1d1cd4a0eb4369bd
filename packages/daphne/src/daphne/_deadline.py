"""A movable deadline backed by at most one event-loop timer.

Keep-alive connections move their "next request head must arrive by" deadline on every
request. Re-creating a timer each time costs a call_later and a cancel per request; instead the
single timer is only replaced when the deadline moves earlier, and when it fires early (the
deadline moved later) it re-arms for the remainder. asyncio timer handles are used directly:
Twisted's callLater wraps each one in a DelayedCall and re-sorts its own queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Deadline:
    __slots__ = ("_at", "_expired", "_fires", "_loop", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._expired = expired
        self._at: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._fires = 0.0  # when the timer fires (its when(), without the call)

    def set(self, timeout: float) -> None:
        """Expire ``timeout`` seconds from now (replacing any earlier setting)."""
        at = self._loop.time() + timeout
        self._at = at
        timer = self._timer
        if timer is not None:
            if self._fires <= at:
                return
            timer.cancel()
        self._timer = timer = self._loop.call_later(timeout, self._check)
        self._fires = timer.when()

    def clear(self) -> None:
        """Disarm without cancelling: a pending timer finds nothing to do and lapses."""
        self._at = None

    def cancel(self) -> None:
        self._at = None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None

    def close(self) -> None:
        """Cancel for good and let go of the callback (and whatever it holds)."""
        self.cancel()
        self._expired = _nothing

    def _check(self) -> None:
        self._timer = None
        if self._at is None:
            return
        remaining = self._at - self._loop.time()
        if remaining > 0.001:
            self._timer = timer = self._loop.call_later(remaining, self._check)
            self._fires = timer.when()
        else:
            self._at = None
            self._expired()


def _nothing() -> None:
    pass


__all__ = ["Deadline"]
