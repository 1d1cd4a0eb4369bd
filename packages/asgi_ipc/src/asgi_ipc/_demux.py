"""Receiving inside one process: one pump per shared queue, local buffers per channel.

All process-local channels of a client share one shared-memory queue (their
non-local name). At most one task per queue (the *pump*) takes messages out
of shared memory; it files each under its full channel name and wakes that
channel's receivers. Other receivers of the same queue wait on a local
future, and when the pump leaves, it hands the job to one of them.

Cancel safety: a message leaves shared memory and enters a local buffer in
one synchronous step, and it leaves the buffer only in the synchronous step
that returns it; a cancelled receive therefore never loses a message.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from asgiref.layers import non_local_name

from ._spin import Spinner
from ._wakeup import Waker, resolve

__all__ = ["Demux"]

Pop = Callable[[str, bool], "tuple[float, bytes, bytes] | None"]
_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]
# Every this many buffered messages, expired ones nobody received are swept.
_SWEEP_EVERY: Final = 1000


@dataclass
class _Queue:
    buffers: dict[str, deque[tuple[float, bytes]]] = field(default_factory=dict)
    waiters: dict[str, list[_Waiter]] = field(default_factory=dict)
    pumping: bool = False
    filed: int = 0

    def take(self, channel: str, now: float) -> bytes | None:
        buffer = self.buffers.get(channel)
        while buffer:
            expires, data = buffer.popleft()
            if expires > now:
                if not buffer:
                    del self.buffers[channel]
                return data
        self.buffers.pop(channel, None)
        return None

    def sweep(self, now: float) -> None:
        for channel in list(self.buffers):
            kept = deque(item for item in self.buffers[channel] if item[0] > now)
            if kept:
                self.buffers[channel] = kept
            else:
                del self.buffers[channel]

    def wake_one(self) -> None:
        for channel, waiters in self.waiters.items():
            if waiters:
                resolve(*waiters.pop(0))
                if not waiters:
                    del self.waiters[channel]
                return


class Demux:
    """Local receive coordination for one layer instance (safe across loops/threads)."""

    def __init__(
        self, pop: Pop, waker: Waker, sync: Callable[[], None], spinner: Spinner | None = None
    ) -> None:
        self._pop = pop
        self._waker = waker
        self._spinner = spinner or Spinner()
        # Called before every look at the local buffers: drops them when
        # another client flushed (a flush empties every channel, buffered or not).
        self._sync = sync
        self._queues: dict[str, _Queue] = {}
        self._mutex = threading.Lock()

    def clear(self) -> None:
        with self._mutex:
            for queue in self._queues.values():
                queue.buffers.clear()

    async def receive(self, channel: str) -> bytes:
        key = non_local_name(channel)
        loop = asyncio.get_running_loop()
        while True:
            self._sync()
            with self._mutex:
                queue = self._queues.get(key)
                if queue is None:
                    queue = self._queues[key] = _Queue()
                data = queue.take(channel, time.monotonic())
                if data is not None:
                    return data
                pump = not queue.pumping
                if pump:
                    queue.pumping = True
                else:
                    future: asyncio.Future[None] = loop.create_future()
                    queue.waiters.setdefault(channel, []).append((loop, future))
            if pump:
                try:
                    await self._pump(key, queue, channel)
                finally:
                    with self._mutex:
                        queue.pumping = False
                        queue.wake_one()
            else:
                await self._wait(queue, channel, future)

    async def _wait(self, queue: _Queue, channel: str, future: asyncio.Future[None]) -> None:
        try:
            await future
        except BaseException:
            with self._mutex:
                waiters = queue.waiters.get(channel, [])
                waiters[:] = [pair for pair in waiters if pair[1] is not future]
                if not waiters:
                    queue.waiters.pop(channel, None)
                # Woken but cancelled: pass the wake-up on so it is not lost.
                if future.done() and not future.cancelled() and not queue.pumping:
                    queue.wake_one()
            raise

    async def _pump(self, key: str, queue: _Queue, channel: str) -> None:
        while True:
            armed = self._waker.arm()
            try:
                got = self._pop(key, bool(queue.waiters))
                if got is None:
                    await self._spinner.wait(armed, self._waker.poll)
                    continue
            finally:
                self._waker.disarm(armed)
            expires, name, data = got
            target = name.decode("ascii")
            with self._mutex:
                queue.buffers.setdefault(target, deque()).append((expires, data))
                queue.filed += 1
                if queue.filed % _SWEEP_EVERY == 0:
                    queue.sweep(time.monotonic())
                for waiter in queue.waiters.pop(target, []):
                    resolve(*waiter)
            if target == channel:
                return
