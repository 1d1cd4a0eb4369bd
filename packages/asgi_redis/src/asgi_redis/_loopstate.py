"""Everything a layer holds for one event loop: clients, readers, background tasks.

Redis connections belong to the loop that opened them, so each loop the layer is
used from (the main loop, every ``async_to_sync`` call, a Celery task, a test)
gets its own clients. They are closed when the loop shuts down: a suspended
async generator is registered with the loop, and ``asyncio.run`` /
``loop.shutdown_asyncgens()`` finalize it, which closes the clients on that same
loop; a loop closed by hand without that runs the same clean-up first (``_loopclose``).
Nothing leaks when a loop ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout

from ._loopclose import forget_before_close, run_before_close
from ._reader import Reader, complete
from ._shards import Lease, Shard, ShardClient

__all__ = ["LoopState"]


logger = logging.getLogger("asgi_redis")

_MAX_BACKOFF = 2.0
#: close() re-cancels background tasks this often, waiting this long each time.
_SHUTDOWN_ROUNDS = 5
_SHUTDOWN_WAIT = 1.0


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
        self._loop: asyncio.AbstractEventLoop | None = None
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
        self._loop = asyncio.get_running_loop()
        # Also when a hand-driven loop is closed without shutting down its generators.
        run_before_close(self._loop, self, self.aclose)
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
        if self._loop is not None:
            forget_before_close(self._loop, self)
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


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(
        exc, (ConnectionError, OSError, asyncio.TimeoutError, RedisConnectionError, RedisTimeout)
    )
