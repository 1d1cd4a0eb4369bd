"""The event loop that was running where an ``async_to_sync`` wrapper was created.

asgiref 3.8 to 3.11 remembered it, and libraries rely on that: a consumer builds a wrapper
on the server's loop and hands it to worker threads, whose calls must then run on that loop,
because the coroutine uses objects bound to it. (asgiref 3.12 stopped doing so.)

Invariants:

* Only a weak reference is kept (where the loop class allows one): a wrapper stored at
  module level does not keep a finished ``asyncio.run`` loop alive.
* The loop is offered only while it is running and not closed, and only in the process that
  created the wrapper: in a forked child the parent's loop still says "running" but never
  runs, so a call sent there would hang.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable

__all__ = ["CreatorLoop"]


class CreatorLoop:
    """The loop running in the current thread when this object is made, if any."""

    __slots__ = ("_pid", "_ref")

    def __init__(self) -> None:
        loop = asyncio._get_running_loop()
        self._ref: Callable[[], asyncio.AbstractEventLoop | None] | None = None
        if loop is not None:
            try:
                self._ref = weakref.ref(loop)
            except TypeError:  # a loop class without weak-reference support
                self._ref = lambda: loop
        self._pid = os.getpid()

    def running(self) -> asyncio.AbstractEventLoop | None:
        """The recorded loop if a call can still be scheduled on it, else None."""
        if self._ref is None or self._pid != os.getpid():
            return None
        loop = self._ref()
        if loop is None or loop.is_closed() or not loop.is_running():
            return None
        return loop
