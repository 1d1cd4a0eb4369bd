"""How a receiver waits for its wake-up: keep its CPU busy briefly, then sleep.

Why: on a machine whose idle CPUs halt (a VM whose guest does no halt
polling, as on our 2-core CI machine), waking a process on *another* CPU
means waking that halted CPU, which costs tens of microseconds per wake-up.
Two processes exchanging messages wake each other twice per round trip, so
whenever the scheduler puts them on different CPUs (which it does whenever
the other CPU is idle) the round trip gets about 100 us slower: the
round-trip time was bimodal, depending on where the two processes ran.

So a receiver whose recent waits were short first waits *through its event
loop*: each turn it reads the wake-up FIFO itself (non-blocking: a byte there
ends the wait at once, a turn before the loop would have seen it), offers the
CPU away (``sched_yield``), then lets the loop run (``sleep(0)``). Other tasks
of the loop keep running meanwhile, and the CPU never halts. If the yield
actually ran another task, this CPU is shared (perhaps with the partner
itself, when both run on one CPU and spinning would only delay it), and the
receiver blocks at once, and for the next waits too (64, doubling while the
CPU stays shared); it also blocks after ``SPIN_WINDOW``. A receiver whose last wait outlasted the
window (an idle worker, sparse traffic) blocks at once, so an idle process
still uses no CPU and a slow trickle of messages costs no spinning.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Callable
from typing import Final

__all__ = ["SPIN_WINDOW", "Spinner"]

#: How long a receiver keeps its CPU busy before it blocks (seconds); the
#: layer's ``spin`` option. It must exceed a partner's turnaround (one receive
#: plus one send, about 100 us here).
SPIN_WINDOW: Final = 0.0003
# A sched_yield that took longer than this ran another task on this CPU: then
# spinning only delays that task (perhaps the very partner to wait for), so the
# receiver blocks instead, and the partner's wake-up is a cheap local one.
_RAN_OTHERS: Final = 0.00001
# How many waits block at once after a yield found the CPU shared (doubling,
# up to _MAX_SKIP, while it keeps happening).
_SKIP_AFTER_SHARED: Final = 64
_MAX_SKIP: Final = 4096
_THREAD: Final = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)


class Spinner:
    """Waits for a wake-up future, spinning first while waits stay short (adaptive)."""

    def __init__(self, window: float = SPIN_WINDOW) -> None:
        self.window = window
        # Hints only (threads sharing this object race harmlessly): whether the
        # last wait ended within the window, and for how many more waits not
        # to spin because a yield found this CPU shared.
        self._short = True
        self._skip = 0
        self._backoff = _SKIP_AFTER_SHARED

    async def wait(
        self, future: asyncio.Future[None], poll: Callable[[], bool] | None = None
    ) -> None:
        """Return once *future* is done (it is resolved by the wake-up FIFO).

        While spinning, ``poll()`` (if given) looks for the wake-up directly each
        turn, so one arriving is taken at once rather than on the loop's next poll
        of its descriptors, one turn later.
        """
        started = time.monotonic()
        if self._skip:
            self._skip -= 1
        elif self._short and self.window > 0:
            await self._spin(future, started + self.window, poll)
        try:
            await future
        finally:
            self._short = time.monotonic() - started <= self.window

    async def _spin(
        self, future: asyncio.Future[None], deadline: float, poll: Callable[[], bool] | None
    ) -> None:
        preempted = _preemptions()
        shared = False
        while not future.done():
            if poll is not None and poll():
                break
            before = time.monotonic()
            os.sched_yield()
            now = time.monotonic()
            # A yield that ran another task, or the kernel taking the CPU away
            # (another task wanted it): this CPU is shared, perhaps with the
            # partner itself. Spinning would only delay the other task, and
            # on a busy machine the spinner's CPU time counts against it.
            shared = now - before > _RAN_OTHERS or _preemptions() != preempted
            if shared or now >= deadline:
                break
            await asyncio.sleep(0)
        if shared:
            # Look again after a while (the scheduler may move either process);
            # each time in a row doubles the pause.
            self._skip = self._backoff
            self._backoff = min(self._backoff * 2, _MAX_SKIP)
        elif future.done():
            self._backoff = _SKIP_AFTER_SHARED  # the spin caught the wake-up


def _preemptions() -> int:
    """Involuntary context switches of this thread so far."""
    return resource.getrusage(_THREAD).ru_nivcsw
