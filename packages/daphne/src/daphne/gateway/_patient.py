"""Layer sends that wait out a full channel instead of dropping a message.

The gateway's and the workers' channels carry every event of every
connection; a burst can fill one. Losing an event would break the
per-connection ordering guarantee, so a full channel is retried with a
growing pause (back-pressure on the sender) until ``give_up_after`` seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.layers import ChannelFull

__all__ = ["send_patiently"]

_FIRST_PAUSE = 0.005
_LONGEST_PAUSE = 0.2


async def send_patiently(
    layer: Any, channel: str, message: dict[str, Any], give_up_after: float = 30.0
) -> None:
    """``layer.send``, retried while the channel is full; re-raise after *give_up_after*."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    pause = _FIRST_PAUSE
    while True:
        try:
            await layer.send(channel, message)
            return
        except ChannelFull:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
