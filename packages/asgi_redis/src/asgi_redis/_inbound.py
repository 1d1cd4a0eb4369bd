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
from collections import Counter, deque
from collections.abc import Callable

__all__ = ["Buffered", "Inbound", "Ready", "now_ms", "wake"]

logger = logging.getLogger("asgi_redis")


class Ready:
    """A message put into a local buffer as it is (``receive_buffer[c].put_nowait``)."""

    __slots__ = ("message",)

    def __init__(self, message: object) -> None:
        self.message = message


# (deadline in epoch ms, payload as read from Redis or a Ready message)
Buffered = tuple[int, "bytes | Ready"]


def now_ms() -> int:
    return int(time.time() * 1000)


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
        self._interest: Counter[str] = Counter()
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
            now = now_ms()
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

    def wait(self, channel: str, routing: str) -> asyncio.Future[None]:
        """Register a waiter for *channel*; its future resolves when a message may be there."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters.setdefault(channel, deque()).append(future)
            self._interest[routing] += 1
        return future

    def abandon(self, channel: str, routing: str, future: asyncio.Future[None]) -> int:
        """Withdraw a cancelled waiter; return the remaining interest in *routing*."""
        with self._lock:
            if future.done() and not future.cancelled():
                # Woken but cancelled before taking: hand the wake-up to the next waiter.
                self._drop_interest(routing)
                if self._buffers.get(channel):
                    self._wake_one(channel, routing)
            else:
                waiters = self._waiters.get(channel)
                if waiters is not None and future in waiters:
                    waiters.remove(future)
                    if not waiters:
                        del self._waiters[channel]
                elif self._buffers.get(channel):
                    # Already dequeued by a wake-up that found it cancelled (or whose
                    # cross-loop wake() came too late): pass that wake-up on.
                    self._wake_one(channel, routing)
                self._drop_interest(routing)
            return self._interest[routing]

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

    def interest(self, routing: str) -> int:
        return self._interest[routing]

    def waiting(self, channel: str) -> int:
        """Receivers of *channel* waiting and not yet woken."""
        waiters = self._waiters.get(channel)
        return len(waiters) if waiters else 0

    # Reading side ---------------------------------------------------------------

    def push(self, channel: str, routing: str, deadline: int, payload: bytes | Ready) -> None:
        """Buffer one message for *channel* and wake one of its waiters."""
        with self._lock:
            buffer = self._buffers.setdefault(channel, deque())
            if len(buffer) >= self._capacity_for(channel):
                buffer.popleft()
                self.overflowed += 1
                logger.warning(
                    "Local buffer of channel %r is full (capacity %d): dropped its oldest "
                    "message. Is anything receiving on it?",
                    channel,
                    self._capacity_for(channel),
                )
            buffer.append((deadline, payload))
            self._wake_one(channel, routing)
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

    def _drop_interest(self, routing: str) -> None:
        self._interest[routing] -= 1
        if self._interest[routing] <= 0:
            del self._interest[routing]

    def _wake_one(self, channel: str, routing: str) -> None:
        waiters = self._waiters.get(channel)
        while waiters:
            future = waiters.popleft()
            if future.done():  # cancelled; its abandon() drops the interest
                continue
            loop = future.get_loop()
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
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
