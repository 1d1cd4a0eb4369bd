"""Write-side flow control shared by the HTTP/1.1 and WebSocket connections.

A connection registers a ``WriteGate`` as its transport's streaming producer: Twisted pauses it
when the transport's write buffer passes the high-water mark and resumes it once the buffer has
drained. An application's ``send`` waits on the gate while it is paused, so a client that reads
slowly bounds what the server buffers for it. Whoever closes the connection calls ``wake`` so
that no sender waits forever. The gate holds no reference to its connection (no cycle).
"""

from __future__ import annotations

import asyncio

from twisted.internet import interfaces
from zope.interface import implementer  # type: ignore[import-untyped]


@implementer(interfaces.IPushProducer)
class WriteGate:
    """Paused while the transport's write buffer is full; ``wait`` returns on the next change."""

    def __init__(self) -> None:
        self.paused = False
        self._drain: asyncio.Future[None] | None = None

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.wake()

    def stopProducing(self) -> None:
        self.wake()

    def wake(self) -> None:
        drain = self._drain
        self._drain = None
        if drain is not None and not drain.done():
            drain.set_result(None)

    async def wait(self) -> None:
        """Wait once, for a resume or a wake; callers loop on their own condition."""
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_future()
        await self._drain


__all__ = ["WriteGate"]
