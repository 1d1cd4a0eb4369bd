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

from ._inbound import Inbound, Payload, Ready, now_ms

__all__ = ["BoundedQueue", "ReceiveBuffers"]

#: Turns a buffered payload of *channel* into its message.
Opener = Callable[[Payload, str], Any]


class BoundedQueue:
    """The local buffer of one channel, with ``asyncio.Queue``'s non-blocking methods."""

    def __init__(self, inbound: Inbound, channel: str, expiry: float, opener: Opener) -> None:
        self._inbound = inbound
        self._channel = channel
        self._expiry_ms = int(expiry * 1000)
        self._open = opener

    @property
    def maxsize(self) -> int:
        """How many messages this channel's buffer holds before dropping the oldest.

        The layer's ``capacity`` for the channel (``channel_capacity`` patterns apply),
        read at every access, so it follows the layer's configuration.
        """
        return self._inbound.capacity(self._channel)

    def qsize(self) -> int:
        """The number of messages buffered for this channel right now.

        Messages past their expiry still count until a ``get_nowait()``, a ``receive()``
        or an occasional sweep (run by a later push) drops them, so this is an upper bound on what
        ``get_nowait()`` can return.
        """
        return self._inbound.buffered(self._channel)

    def empty(self) -> bool:
        """Whether nothing is buffered for this channel (``qsize() == 0``)."""
        return self.qsize() == 0

    def full(self) -> bool:
        """Whether the buffer is at ``maxsize``: a ``put_nowait()`` now drops the oldest.

        Unlike ``asyncio.Queue.full()``, a full buffer never refuses a message.
        """
        return self.qsize() >= self.maxsize

    def put_nowait(self, message: Any) -> None:
        """Buffer *message* for ``receive()``; a full buffer drops its oldest message."""
        channel = self._channel
        deadline = now_ms() + self._expiry_ms
        self._inbound.push(channel, non_local_name(channel), deadline, Ready(message))

    def get_nowait(self) -> Any:
        """Remove and return the oldest unexpired message buffered for this channel.

        Expired messages met on the way are dropped (and counted as expired by the layer).
        Raises ``asyncio.QueueEmpty`` when no unexpired message is buffered; never waits.
        """
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
