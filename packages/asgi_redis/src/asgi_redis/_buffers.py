"""``layer.receive_buffer``: the per-channel local buffers seen as channels_redis' queues.

channels_redis kept a bounded ``asyncio.Queue`` of decoded messages per
process-local channel in ``receive_buffer``. Here the buffers live in
``_inbound.Inbound`` (shared by every loop, thread-safe, expiring); this module is
a view over them with the same queue methods, so code that inspects or feeds
``receive_buffer[channel]`` keeps working:

* ``put_nowait(message)`` buffers *message* for the next ``receive(channel)``
  (waking a waiting receiver); when the buffer holds ``capacity`` messages the
  oldest is dropped, as channels_redis' ``BoundedQueue`` did;
* ``get_nowait()`` takes the oldest message (``asyncio.QueueEmpty`` if none).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from asgiref.layers import non_local_name

from ._inbound import Inbound, Ready, now_ms

__all__ = ["BoundedQueue", "ReceiveBuffers"]

#: Turns a buffered payload of *channel* into its message.
Opener = Callable[["bytes | Ready", str], Any]


class BoundedQueue:
    """The local buffer of one channel, with ``asyncio.Queue``'s non-blocking methods."""

    def __init__(self, inbound: Inbound, channel: str, expiry: float, opener: Opener) -> None:
        self._inbound = inbound
        self._channel = channel
        self._expiry_ms = int(expiry * 1000)
        self._open = opener

    @property
    def maxsize(self) -> int:
        return self._inbound.capacity(self._channel)

    def qsize(self) -> int:
        return self._inbound.buffered(self._channel)

    def empty(self) -> bool:
        return self.qsize() == 0

    def full(self) -> bool:
        return self.qsize() >= self.maxsize

    def put_nowait(self, message: Any) -> None:
        """Buffer *message* for ``receive()``; a full buffer drops its oldest message."""
        channel = self._channel
        deadline = now_ms() + self._expiry_ms
        self._inbound.push(channel, non_local_name(channel), deadline, Ready(message))

    def get_nowait(self) -> Any:
        entry = self._inbound.take(self._channel)
        if entry is None:
            raise asyncio.QueueEmpty
        return self._open(entry[1], self._channel)

    def __repr__(self) -> str:
        return f"<BoundedQueue {self._channel!r} {self.qsize()}/{self.maxsize}>"


class ReceiveBuffers(Mapping[str, BoundedQueue]):
    """``receive_buffer``: every channel maps to its buffer (an empty one if none yet);
    iteration lists the channels that have buffered messages."""

    def __init__(self, inbound: Inbound, expiry: float, opener: Opener) -> None:
        self._inbound = inbound
        self._expiry = expiry
        self._open = opener

    def __getitem__(self, channel: str) -> BoundedQueue:
        return BoundedQueue(self._inbound, channel, self._expiry, self._open)

    def __delitem__(self, channel: str) -> None:
        self._inbound.discard(channel)

    def __iter__(self) -> Iterator[str]:
        return iter(self._inbound.channels())

    def __len__(self) -> int:
        return len(self._inbound.channels())

    def __contains__(self, channel: object) -> bool:
        return isinstance(channel, str) and self._inbound.buffered(channel) > 0
