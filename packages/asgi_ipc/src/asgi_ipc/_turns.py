"""When a send gives its event loop a turn before writing (pure asyncio, no IO).

Shared-memory sends never block, so a task sending in a loop would keep every
other task of its event loop (this process's own receivers included) waiting
until the burst ends. A send therefore yields once before it writes, unless it
is the first send of this layer since the loop last turned: then nothing of
this layer has run since other tasks had their turn, and a yield would only add
a loop iteration to every round trip. A burst of sends yields on every other
send at least.

Invariant kept for cancellation: a send that yields does so before touching
shared memory, so a cancelled send has sent nothing.
"""

from __future__ import annotations

import asyncio
import weakref

__all__ = ["TurnGate"]


class TurnGate:
    """Tracks, per event loop, whether a send already ran in the current turn."""

    def __init__(self) -> None:
        # Loops in which a send ran and the loop has not turned since; each
        # loop removes itself on its next turn (a plain callback, not a task).
        self._owing: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def must_yield(self) -> bool:
        """True when this send must ``await asyncio.sleep(0)`` before writing."""
        loop = asyncio.get_running_loop()
        if loop in self._owing:
            return True
        self._owing.add(loop)
        loop.call_soon(self._owing.discard, loop)
        return False
