"""The reader of one routing key, and the policy that says what it pops and when.

A :class:`Reader` is the one task per routing key and loop that pops items from
Redis on a connection of its own (see ``_loopstate``). :class:`ReadPolicy` is what
each of its iterations does, the same for every loop of a layer:

* a layer instance's own inbox (``<owner>!``, every process-local channel it made)
  has no other consumer, so it is read ahead while receivers come and go;
* a normal channel may have consumers in other processes: it is popped only while a
  receiver here waits, and what was read for a receiver that left goes back to Redis,
  oldest last pushed, so other consumers see it first and in order;
* an item a cancelled pop brought after all is kept: the inbox buffers it, a normal
  channel gets it back in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.layers import is_process_local

from ._codec import Shared, frame, unframe
from ._inbound import Buffered, Inbound, Payload, now_ms
from ._scripts import RETURN
from ._shards import Lease, Shard, read_reply

__all__ = [
    "BLOCK_SECONDS",
    "LINGER_SECONDS",
    "ReadPolicy",
    "ReadStep",
    "Reader",
    "complete",
]

_T = TypeVar("_T")

logger = logging.getLogger("asgi_redis")

#: Longest a blocking pop waits before the reader re-checks whether anyone still waits.
BLOCK_SECONDS = 2
#: How long a reader keeps a pop armed after the last receive() of its routing key,
#: so the next message is already on its way when the next receive() comes.
LINGER_SECONDS = 0.1
#: Longest a cancelled pop may take to finish (unblock, then read its reply).
_RESCUE_SECONDS = 1.0


class Reader:
    """The one task that pops items for a routing key on one loop."""

    def __init__(self, routing: str, shard: Shard, key: str, idle: list[Lease]) -> None:
        self._idle = idle
        self.routing = routing
        self.shard = shard
        self.key = key
        self.lease: Lease | None = None
        self.task: asyncio.Task[None] | None = None
        self.linger_until = time.monotonic() + LINGER_SECONDS
        #: The last pop delivered a message (its receiver may be about to leave).
        self.delivered = False
        self._holding: asyncio.Future[None] | None = None
        #: An item a cancelled pop brought after all; the layer puts it back.
        self.rescued: bytes | None = None

    def touch(self, linger: bool = True) -> None:
        """A receive() came (or, with ``linger=False``, interest ended): re-check now."""
        self.linger_until = time.monotonic() + LINGER_SECONDS if linger else 0.0
        if self._holding is not None and not self._holding.done():
            self._holding.set_result(None)

    async def idle(self, timeout: float) -> None:
        """Wait until :meth:`touch` is called or *timeout* seconds have passed."""
        loop = asyncio.get_running_loop()
        waiter = self._holding = loop.create_future()
        handle = loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            handle.cancel()
            self._holding = None

    def lingering(self) -> float:
        """Seconds left to keep reading ahead with nobody waiting (0 when over)."""
        return max(self.linger_until - time.monotonic(), 0.0)

    async def pop(self, block: float = BLOCK_SECONDS) -> bytes | None:
        """One BRPOP on this reader's pinned connection (leased on first use)."""
        if self.lease is None:
            self.lease = self._idle.pop() if self._idle else await self.shard.client.lease(self.key)
        connection = self.lease.connection
        await connection.send_command("BRPOP", self.key, max(round(block, 3), 0.01))
        try:
            reply = await read_reply(connection, BLOCK_SECONDS + 10, keep_on_cancel=True)
        except asyncio.CancelledError:
            # The server may have popped an item already (a loop ending, close()):
            # finish the pop instead of dropping the connection with the item on it.
            self.rescued = await complete(self._finish_pop(self.lease))
            raise
        return reply[1] if reply else None

    async def _finish_pop(self, lease: Lease) -> bytes | None:
        """Make the cancelled pop on *lease* return at once and read what it brought."""
        connection = lease.connection
        try:
            try:
                await asyncio.wait_for(self.shard.client.unblock(lease), _RESCUE_SECONDS)
            except Exception as exc:  # the read below is bounded all the same
                logger.debug("Could not unblock the cancelled pop of %r: %r", self.routing, exc)
            reply = await read_reply(connection, _RESCUE_SECONDS)
        except Exception as exc:
            logger.warning("A cancelled pop of %r could not finish: %r", self.routing, exc)
            return None
        return reply[1] if reply else None

    async def release(self, broken: bool) -> None:
        lease, self.lease = self.lease, None
        if lease is not None and not broken and lease.node is None and len(self._idle) < 8:
            # Kept pinned for the next reader of this shard: saves a CLIENT ID round trip.
            self._idle.append(lease)
        elif lease is not None:
            try:
                await self.shard.client.release(lease, broken=broken)
            except Exception as exc:
                logger.debug("Releasing the reader connection of %r failed: %r", self.routing, exc)


#: One reader iteration; ``False`` when the reader may stop.
ReadStep = Callable[[Reader], Awaitable[bool]]


class ReadPolicy:
    """What the readers of one layer pop, and what becomes of what they popped.

    *inbound* is the layer's buffer of read messages and their waiters; *ttl* (seconds)
    refreshes a list's expiry when items go back; *stored* turns a buffered payload back
    into its stored form (a message put into ``receive_buffer`` is serialized then);
    *share* makes the one payload of an item that names several channels (``Shared``).
    """

    def __init__(
        self,
        inbound: Inbound,
        ttl: int,
        stored: Callable[[Payload], bytes],
        share: Callable[[bytes], Shared],
    ) -> None:
        self._inbound = inbound
        self._ttl = ttl
        self._stored = stored
        self._share = share

    def step_for(self, routing: str) -> ReadStep:
        """The iteration for the reader of *routing*: an inbox or a normal channel."""
        return self.read_inbox if is_process_local(routing) else self.read_channel

    async def read_inbox(self, reader: Reader) -> bool:
        """One reader iteration on this instance's own inbox (False: the reader may stop).

        Nobody else reads the inbox, so it may read ahead."""
        routing = reader.routing
        if self._inbound.interest(routing) == 0:
            linger = reader.lingering()
            if linger <= 0:
                return False
            # Shortly after a receive(), keep a pop armed so the next message is
            # already here when the next receive() comes.
            block = linger
        else:
            # Right after a delivery the woken receiver is likely to leave: pop again
            # at once (the pop overlaps its next send), for the read-ahead window only.
            block = LINGER_SECONDS if reader.delivered else BLOCK_SECONDS
        item = await reader.pop(block)
        reader.delivered = item is not None
        if item is not None:
            self.deliver(routing, item)
        return True

    async def read_channel(self, reader: Reader) -> bool:
        """One reader iteration on a normal channel: pop only while a receiver waits.

        Other processes may consume the same channel, so nothing is read ahead: a
        held message would be overtaken (FIFO per channel), count against capacity
        as others see it, and a pop in flight when the loop ends would lose it.
        """
        routing = reader.routing
        inbound = self._inbound
        if inbound.waiting(routing):
            item = await reader.pop(BLOCK_SECONDS)
            if item is not None:
                self.deliver(routing, item)
            return True
        interest = inbound.interest(routing)  # receivers woken but not yet running
        if interest == 0:
            # Read for a receiver that was cancelled: give it back, oldest first.
            leftovers = inbound.take_all(routing)
            if leftovers:
                await self.give_back(reader.shard, reader.key, routing, leftovers)
                return True
        linger = reader.lingering()
        if linger <= 0 and interest == 0:
            return False
        # Stay warm (task, connection) for the next receive() of a consumer loop, or
        # until a woken receiver has taken its message.
        await reader.idle(linger if linger > 0 else LINGER_SECONDS)
        return True

    async def rescue(self, reader: Reader, item: bytes) -> None:
        """Keep an item a cancelled pop brought: this instance's inbox buffers it (every
        loop of the layer shares the buffer); a normal channel gets it back in Redis."""
        if not is_process_local(reader.routing):
            try:
                await reader.shard.run(RETURN, (reader.key,), (self._ttl, item))
                return
            except Exception as exc:
                logger.warning("Could not give back a message of %r: %r", reader.routing, exc)
        self.deliver(reader.routing, item)

    def deliver(self, routing: str, item: bytes) -> None:
        try:
            deadline, channels, payload = unframe(item)
        except ValueError as exc:
            logger.error("Dropped an unreadable item from %r: %s", routing, exc)
            return
        if deadline <= now_ms():
            self._inbound.expired += 1
            return
        if len(channels) == 1:
            self._inbound.push(channels[0], routing, deadline, payload)
        else:
            # Every member here shares one item (GROUP_SEND names them all): unwrapped
            # once, one decode per receiver (see ``Shared``).
            shared = self._share(payload)
            self._inbound.push_many([(c, routing) for c in channels], deadline, shared)

    async def give_back(
        self, shard: Shard, key: str, channel: str, leftovers: list[Buffered]
    ) -> None:
        """Return messages read for a normal channel nobody here waits for any more.

        They go back to the end they are popped from, oldest last pushed, so other
        consumers see them first and in their original order. A message put into
        ``receive_buffer`` directly is serialized on the way.
        """
        items = [
            frame(deadline, channel, self._stored(payload))
            for deadline, payload in reversed(leftovers)
        ]
        try:
            await shard.run(RETURN, (key,), (self._ttl, *items))
        except BaseException:
            for deadline, payload in leftovers:
                self._inbound.push(channel, channel, deadline, payload)
            raise


async def complete(coroutine: Awaitable[_T]) -> _T:
    """Run *coroutine* to its end even if the caller is cancelled meanwhile.

    For short, bounded clean-up that must not be cut in half; the caller's
    cancellation is not lost, it is raised by the caller's own ``raise``.
    """
    task = asyncio.ensure_future(coroutine)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
