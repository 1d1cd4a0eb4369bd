"""Messages read from Redis but not yet returned by ``receive()``, and who waits for them.

Invariants that make ``receive()`` cancellation-safe and ordered:

* a receiving task never owns a network read: background readers pop items from
  Redis and append them here, per channel, in pop order;
* a waiter is only *woken*; it takes the oldest buffered message itself once it
  runs, so a waiter cancelled after being woken leaves the message in the buffer
  (and passes the wake-up on) instead of losing it;
* buffers are bounded (the channel's capacity) and entries expire like messages
  in Redis, so a channel nobody reads cannot grow memory without limit.

The state is shared by every event loop the layer is used from (``async_to_sync``
creates one per call), so it is guarded by a thread lock and wakes waiters of
other loops thread-safely.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeAlias

from ._codec import Shared

__all__ = ["Buffered", "Inbound", "Payload", "Ready", "now_ms", "wake"]

logger = logging.getLogger("asgi_redis")


class Ready:
    """A message put into a local buffer as it is (``receive_buffer[c].put_nowait``)."""

    __slots__ = ("message",)

    def __init__(self, message: object) -> None:
        self.message = message


#: A buffered payload: as read from Redis, a message put there as it is, or one payload
#: shared by the members of a group fan-out.
Payload: TypeAlias = bytes | Ready | Shared
#: (deadline in epoch ms, payload)
Buffered: TypeAlias = tuple[int, Payload]


def now_ms() -> int:
    return int(time.time() * 1000)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Inbound:
    def __init__(self, capacity_for: Callable[[str], int], expiry: float) -> None:
        self._capacity_for = capacity_for
        self._sweep_every_ms = max(int(expiry * 1000), 1000)
        self._last_sweep = now_ms()
        self._lock = threading.Lock()
        self._buffers: dict[str, deque[Buffered]] = {}
        self._waiters: dict[str, deque[asyncio.Future[None]]] = {}
        # routing key -> receivers waiting or woken but not yet running; a reader runs
        # while it is > 0. Counting woken ones keeps a reader from giving back the
        # message a woken receiver is about to take.
        self._interest: dict[str, int] = {}
        #: Messages discarded because a local buffer was full (oldest dropped first).
        self.overflowed = 0
        #: Messages discarded because they expired before anyone received them.
        self.expired = 0

    # Receiving side -------------------------------------------------------------

    def take(self, channel: str) -> Buffered | None:
        """Pop the oldest unexpired buffered message of *channel*, if any."""
        with self._lock:
            buffer = self._buffers.get(channel)
            if not buffer:
                return None
            return self._take_from(buffer, channel)

    def take_or_wait(
        self, channel: str, routing: str, loop: asyncio.AbstractEventLoop
    ) -> Buffered | asyncio.Future[None]:
        """:meth:`take`, or if nothing is buffered :meth:`wait`, under one lock."""
        with self._lock:
            buffer = self._buffers.get(channel)
            if buffer:
                entry = self._take_from(buffer, channel)
                if entry is not None:
                    return entry
            return self._add_waiter(channel, routing, loop)

    def wait(
        self, channel: str, routing: str, loop: asyncio.AbstractEventLoop | None = None
    ) -> asyncio.Future[None]:
        """Register a waiter for *channel* on *loop* (the running one); its future resolves
        when a message may be there."""
        with self._lock:
            return self._add_waiter(channel, routing, loop or asyncio.get_running_loop())

    def abandon(self, channel: str, routing: str, future: asyncio.Future[None]) -> int:
        """Withdraw a cancelled waiter; return the remaining interest in *routing*."""
        with self._lock:
            if future.done() and not future.cancelled():
                # Woken but cancelled before taking: hand the wake-up to the next waiter.
                self._drop_interest(routing)
                if self._buffers.get(channel):
                    self._wake_one(channel, routing, _running_loop())
            else:
                waiters = self._waiters.get(channel)
                if waiters is not None and future in waiters:
                    waiters.remove(future)
                    if not waiters:
                        del self._waiters[channel]
                elif self._buffers.get(channel):
                    # Already dequeued by a wake-up that found it cancelled (or whose
                    # cross-loop wake() came too late): pass that wake-up on.
                    self._wake_one(channel, routing, _running_loop())
                self._drop_interest(routing)
            return self._interest.get(routing, 0)

    def wake_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake every waiter of *loop* (its readers are gone): each re-checks its buffer
        and starts a new reader. Called from *loop*."""
        with self._lock:
            for channel in list(self._waiters):
                waiters = self._waiters[channel]
                keep = deque(future for future in waiters if future.get_loop() is not loop)
                for future in waiters:
                    if future.get_loop() is loop and not future.done():
                        future.set_result(None)
                if keep:
                    self._waiters[channel] = keep
                else:
                    del self._waiters[channel]

    def settle(self, routing: str) -> None:
        """A woken waiter is running again; it no longer counts as interest."""
        with self._lock:
            self._drop_interest(routing)

    def settle_and_take(self, channel: str, routing: str) -> Buffered | None:
        """:meth:`settle`, then :meth:`take`: what a woken waiter does, under one lock."""
        with self._lock:
            self._drop_interest(routing)
            buffer = self._buffers.get(channel)
            if not buffer:
                return None
            return self._take_from(buffer, channel)

    def interest(self, routing: str) -> int:
        return self._interest.get(routing, 0)

    def waiting(self, channel: str) -> int:
        """Receivers of *channel* waiting and not yet woken."""
        waiters = self._waiters.get(channel)
        return len(waiters) if waiters else 0

    # Reading side ---------------------------------------------------------------

    def push(self, channel: str, routing: str, deadline: int, payload: Payload) -> None:
        """Buffer one message for *channel* and wake one of its waiters."""
        self.push_many(((channel, routing),), deadline, payload)

    def push_many(
        self, targets: Iterable[tuple[str, str]], deadline: int, payload: Payload
    ) -> None:
        """Buffer the message for each ``(channel, routing)`` and wake one waiter of each.

        One lock and one look at the running loop for a whole group fan-out.
        """
        running = _running_loop()
        entry = (deadline, payload)
        buffers = self._buffers
        waiters = self._waiters
        with self._lock:
            for channel, routing in targets:
                buffer = buffers.get(channel)
                if buffer is None:
                    buffer = buffers[channel] = deque()
                elif len(buffer) >= self._capacity_for(channel):  # capacities are >= 1
                    self._overflow(buffer, channel)
                buffer.append(entry)
                queue = waiters.get(channel)
                if not queue:
                    continue
                first = queue[0]
                if len(queue) == 1 and first.get_loop() is running and not first.done():
                    # The usual case, one receiver of this loop waiting: wake it at once.
                    del waiters[channel]
                    first.set_result(None)
                else:
                    self._wake_one(channel, routing, running)
        if now_ms() - self._last_sweep > self._sweep_every_ms:
            self.sweep()

    def take_all(self, channel: str) -> list[Buffered]:
        """Remove and return every unexpired buffered message of *channel*, oldest first."""
        with self._lock:
            buffer = self._buffers.pop(channel, None)
        if not buffer:
            return []
        now = now_ms()
        return [entry for entry in buffer if entry[0] > now]

    def sweep(self) -> None:
        """Drop expired entries and empty buffers of channels nobody reads."""
        now = now_ms()
        with self._lock:
            self._last_sweep = now
            for channel in list(self._buffers):
                buffer = self._buffers[channel]
                while buffer and buffer[0][0] <= now:
                    buffer.popleft()
                    self.expired += 1
                if not buffer:
                    del self._buffers[channel]

    def clear(self) -> None:
        """Forget every buffered message (``flush``); waiters keep waiting."""
        with self._lock:
            self._buffers.clear()

    def buffered(self, channel: str) -> int:
        buffer = self._buffers.get(channel)
        return len(buffer) if buffer else 0

    def channels(self) -> list[str]:
        """Channels with buffered messages."""
        with self._lock:
            return list(self._buffers)

    def discard(self, channel: str) -> None:
        """Forget the buffered messages of *channel*."""
        with self._lock:
            self._buffers.pop(channel, None)

    def capacity(self, channel: str) -> int:
        return self._capacity_for(channel)

    # Internals (lock held) -------------------------------------------------------

    def _add_waiter(
        self, channel: str, routing: str, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[None]:
        future: asyncio.Future[None] = loop.create_future()
        waiters = self._waiters.get(channel)
        if waiters is None:
            self._waiters[channel] = deque((future,))
        else:
            waiters.append(future)
        interest = self._interest
        interest[routing] = interest.get(routing, 0) + 1
        return future

    def _drop_interest(self, routing: str) -> None:
        left = self._interest.get(routing, 0) - 1
        if left > 0:
            self._interest[routing] = left
        else:
            self._interest.pop(routing, None)

    def _take_from(self, buffer: deque[Buffered], channel: str) -> Buffered | None:
        now = now_ms()
        entry: Buffered | None
        while buffer:
            entry = buffer.popleft()
            if entry[0] > now:
                break
            self.expired += 1
        else:
            entry = None
        if not buffer:
            del self._buffers[channel]
        return entry

    def _overflow(self, buffer: deque[Buffered], channel: str) -> None:
        buffer.popleft()
        self.overflowed += 1
        logger.warning(
            "Local buffer of channel %r is full (capacity %d): dropped its oldest "
            "message. Is anything receiving on it?",
            channel,
            self._capacity_for(channel),
        )

    def _wake_one(
        self, channel: str, routing: str, running: asyncio.AbstractEventLoop | None
    ) -> None:
        """Wake the first live waiter of *channel*; *running* is the caller's loop."""
        waiters = self._waiters.get(channel)
        while waiters:
            future = waiters.popleft()
            if future.done():  # cancelled; its abandon() drops the interest
                continue
            loop = future.get_loop()
            if loop is running:
                future.set_result(None)
                break
            try:
                loop.call_soon_threadsafe(wake, future)
                break
            except RuntimeError:  # that loop is closed: its waiter is gone
                self._drop_interest(routing)
                continue
        if waiters is not None and not waiters:
            self._waiters.pop(channel, None)
