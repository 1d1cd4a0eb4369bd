"""Everything a layer holds for one event loop: clients, readers, background tasks.

Redis connections belong to the loop that opened them, so each loop the layer is
used from (the main loop, every ``async_to_sync`` call, a Celery task, a test)
gets its own clients. They are closed when the loop shuts down: a suspended
async generator is registered with the loop, and ``asyncio.run`` /
``loop.shutdown_asyncgens()`` finalize it, which closes the clients on that same
loop. Nothing is patched, and nothing leaks when a loop ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout

from ._shards import Lease, Shard, ShardClient, read_reply

__all__ = ["LoopState", "Reader", "complete"]

_T = TypeVar("_T")

logger = logging.getLogger("asgi_redis")

#: Longest a blocking pop waits before the reader re-checks whether anyone still waits.
BLOCK_SECONDS = 2
#: How long a reader keeps a pop armed after the last receive() of its routing key,
#: so the next message is already on its way when the next receive() comes.
LINGER_SECONDS = 0.1
_MAX_BACKOFF = 2.0
#: close() re-cancels background tasks this often, waiting this long each time.
_SHUTDOWN_ROUNDS = 5
_SHUTDOWN_WAIT = 1.0
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


class LoopState:
    """What a layer holds for one event loop (``layer._layers[loop]``, as channels_redis).

    *on_closed* is called once when the state shuts down (``close()``, or the loop
    finalizing its async generators), so the layer forgets it at once.
    """

    def __init__(
        self,
        shards: list[Shard],
        channel_layer: object = None,
        on_closed: Callable[[LoopState], None] | None = None,
    ) -> None:
        #: The layer this state belongs to (channels_redis' per-loop ``channel_layer``).
        self.channel_layer = channel_layer
        self._on_closed = on_closed
        self.shards = shards
        self.clients: list[ShardClient] = list({id(s.client): s.client for s in shards}.values())
        self.readers: dict[str, Reader] = {}
        # Connections of finished readers, per client, still pinned and known by id.
        self.idle_leases: dict[int, list[Lease]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finalizer: AsyncGenerator[None, None] | None = None
        self.closed = False

    def start(self) -> None:
        """Register the state with the running loop, so the loop's shutdown closes it.

        Synchronous: creating the first ``asend()`` of an async generator registers
        it with the running loop (``sys.set_asyncgen_hooks``), and its body reaches
        ``yield`` without awaiting anything, so one ``send(None)`` completes the step.
        """

        async def finalizer() -> AsyncGenerator[None, None]:
            try:
                yield
            finally:
                await self._shutdown()

        self._finalizer = finalizer()
        step = self._finalizer.asend(None)
        try:
            step.send(None)
        except StopIteration:
            return
        step.close()  # pragma: no cover - the body above never suspends
        raise RuntimeError("the loop-state finalizer suspended before its first yield")

    def spawn(
        self, coroutine: Awaitable[Any], name: str, *, detached: bool = False
    ) -> asyncio.Task[Any]:
        """Start a task of this loop's state.

        A *detached* task starts in a fresh context, so it belongs to no caller: asgiref's
        ``async_to_sync`` cancels the tasks a call leaves behind, and a long-lived
        listener started lazily inside one sync call must outlive that call.
        """
        if detached:
            task = contextvars.Context().run(asyncio.ensure_future, coroutine)
        else:
            task = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def nudge(self, routing: str) -> None:
        """Wake the reader of *routing* from its blocking pop so it can re-check interest."""
        reader = self.readers.get(routing)
        lease = reader.lease if reader is not None else None
        if lease is None or reader is None or self.closed:
            return
        client = reader.shard.client

        async def unblock() -> None:
            try:
                await client.unblock(lease)
            except Exception as exc:  # the reader's own timeout still bounds the wait
                logger.debug("Could not unblock reader of %r: %r", routing, exc)

        self.spawn(unblock(), f"asgi_redis unblock {routing}")

    def ensure_reader(
        self,
        routing: str,
        shard: Shard,
        key: str,
        step: Callable[[Reader], Awaitable[bool]],
        rescue: Callable[[Reader, bytes], Awaitable[None]],
    ) -> None:
        """Start the reader of *routing* on this loop unless one runs already."""
        current = self.readers.get(routing)
        if current is not None:
            current.touch()
            return
        if self.closed:
            return
        idle = self.idle_leases.setdefault(id(shard.client), [])
        reader = Reader(routing, shard, key, idle)
        self.readers[routing] = reader
        # Detached: a reader outlives the async_to_sync call that started it (asgiref
        # cancels leftover tasks), and a pop cancelled in flight would lose its item.
        reader.task = self.spawn(
            self._run(reader, step, rescue), f"asgi_redis reader {routing}", detached=True
        )

    async def _run(
        self,
        reader: Reader,
        step: Callable[[Reader], Awaitable[bool]],
        rescue: Callable[[Reader, bytes], Awaitable[None]],
    ) -> None:
        """Call *step* until it returns False, surviving connection failures.

        A failing server must not kill the reader: it backs off and tries again,
        so receivers resume as soon as Redis is back. Deregistration happens with
        no await after *step* saw no interest, so a new receiver either sees this
        reader still registered while it can still read, or starts a new one.
        """
        backoff = 0.05
        broken = abandoned = False
        try:
            # Checking ``closed`` too: a cancellation swallowed somewhere below (a
            # timeout racing it, say) must not leave a reader popping after close.
            while not self.closed:
                try:
                    if not await step(reader):
                        return
                    backoff = 0.05
                except Exception as exc:
                    if not _is_connection_error(exc):
                        raise
                    logger.warning(
                        "Reader of %r lost its Redis connection (%r); retrying in %.2fs",
                        reader.routing,
                        exc,
                        backoff,
                    )
                    await reader.release(broken=True)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        except asyncio.CancelledError:
            broken = True
            raise
        except GeneratorExit:
            # Its loop was closed without shutting down: nothing can be awaited any more.
            abandoned = True
            raise
        finally:
            if self.readers.get(reader.routing) is reader:
                del self.readers[reader.routing]
            if not abandoned:
                rescued, reader.rescued = reader.rescued, None
                if rescued is not None:
                    await complete(rescue(reader, rescued))
                await complete(reader.release(broken=broken))

    async def aclose(self) -> None:
        """Stop readers and close this loop's clients (idempotent)."""
        if self._finalizer is not None:
            finalizer, self._finalizer = self._finalizer, None
            await finalizer.aclose()
        else:
            await self._shutdown()

    async def _shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._on_closed is not None:
            self._on_closed(self)
        pending = {task for task in self._tasks if not task.done()}
        # Cancel until done, a bounded number of times: a task whose cancellation was
        # swallowed below it gets another one instead of hanging close() forever.
        for _ in range(_SHUTDOWN_ROUNDS):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=_SHUTDOWN_WAIT)
        if pending:
            logger.warning("%d background task(s) ignored cancellation at close", len(pending))
        for client in self.clients:
            try:
                await client.aclose()
            except Exception as exc:
                logger.debug("Closing a Redis client failed: %r", exc)


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


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(
        exc, (ConnectionError, OSError, asyncio.TimeoutError, RedisConnectionError, RedisTimeout)
    )
