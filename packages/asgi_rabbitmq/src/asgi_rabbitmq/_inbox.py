"""Per-channel local buffers shared by every event loop of one layer.

Messages arrive on whichever loop's consumer the broker picked and are taken
by ``receive`` calls that may run on another loop in another thread, so all
state sits behind one ``threading.Lock`` and waiters are woken on their own
loop with ``call_soon_threadsafe``.

Invariants:

* a channel has buffered entries or waiting receivers, never both (``put``
  hands an entry straight to the oldest live waiter);
* an entry handed to a receiver that is cancelled before it resumes goes back
  to the *front* of its buffer, so cancelling ``receive`` never loses or
  reorders a message;
* every entry leaves the inbox exactly once, through ``get`` or by expiring or
  by ``clear``, and its ``release`` callback runs then (normal channels use it
  to acknowledge the broker delivery only when a receiver really has it).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Entry", "Inbox"]

_FIRST = asyncio.FIRST_COMPLETED


@dataclass(eq=False)
class Entry:
    payload: bytes
    deadline: float
    #: Runs once when the entry leaves the inbox; ``True`` means a receiver took it.
    release: Callable[[bool], None] | None = None
    #: An entry whose delivery can no longer be acknowledged is dropped (the
    #: broker redelivers it elsewhere); see ``Link`` for who sets this.
    alive: Callable[[], bool] | None = None

    def usable(self, now: float) -> bool:
        return now < self.deadline and (self.alive is None or self.alive())


@dataclass(eq=False)
class _Waiter:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Entry] = field(repr=False)


class Inbox:
    """Bounded FIFO buffers keyed by channel name, safe across threads and loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffers: dict[str, deque[Entry]] = {}
        self._waiters: dict[str, deque[_Waiter]] = {}

    def __len__(self) -> int:
        with self._lock:
            return sum(len(buffer) for buffer in self._buffers.values())

    def buffered(self, channel: str) -> int:
        with self._lock:
            buffer = self._buffers.get(channel)
            return 0 if buffer is None else len(buffer)

    def put(self, channel: str, entry: Entry, capacity: int) -> bool:
        """Deliver or buffer *entry*; return ``False`` if the channel is full."""
        with self._lock:
            if self._hand_over(channel, entry):
                return True
            buffer = self._buffers.setdefault(channel, deque())
            if len(buffer) >= capacity:
                self._drop_expired(channel, buffer)
                if len(buffer) >= capacity:
                    return False
            buffer.append(entry)
            return True

    def _hand_over(self, channel: str, entry: Entry) -> bool:
        # Caller holds the lock.
        waiters = self._waiters.get(channel)
        while waiters:
            waiter = waiters.popleft()
            if waiter.future.done():
                continue
            if not waiters:
                del self._waiters[channel]
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is waiter.loop:
                waiter.future.set_result(entry)
            else:
                try:
                    waiter.loop.call_soon_threadsafe(self._settle, channel, waiter, entry)
                except RuntimeError:  # that loop is closed: its receiver is gone
                    continue
            return True
        self._waiters.pop(channel, None)
        return False

    def _settle(self, channel: str, waiter: _Waiter, entry: Entry) -> None:
        # Runs on the waiter's loop; the waiter may have been cancelled meanwhile.
        if waiter.future.done():
            self._give_back(channel, entry)
        else:
            waiter.future.set_result(entry)

    def _give_back(self, channel: str, entry: Entry) -> None:
        with self._lock:
            if not self._hand_over(channel, entry):
                self._buffers.setdefault(channel, deque()).appendleft(entry)

    def _drop_expired(self, channel: str, buffer: deque[Entry]) -> None:
        now = time.monotonic()
        kept = [entry for entry in buffer if entry.usable(now)]
        if len(kept) != len(buffer):
            for entry in buffer:
                if not entry.usable(now) and entry.release is not None:
                    entry.release(False)
            buffer.clear()
            buffer.extend(kept)

    def _pop_usable(self, channel: str) -> Entry | None:
        # Caller holds the lock.
        buffer = self._buffers.get(channel)
        now = time.monotonic()
        while buffer:
            entry = buffer.popleft()
            if entry.usable(now):
                return entry
            if entry.release is not None:
                entry.release(False)
        self._buffers.pop(channel, None)
        return None

    async def get(self, channel: str, until: asyncio.Future[None] | None = None) -> bytes | None:
        """Wait for the next live entry of *channel* and return its payload.

        ``None`` if *until* (a future of the running loop) is done before an
        entry arrives; no entry is taken then.
        """
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                entry = self._pop_usable(channel)
                if entry is None:
                    waiter = _Waiter(loop, loop.create_future())
                    self._waiters.setdefault(channel, deque()).append(waiter)
            if entry is None:
                try:
                    if until is not None:
                        await asyncio.wait((waiter.future, until), return_when=_FIRST)
                        if not waiter.future.done():
                            self._abandon(channel, waiter)
                            return None
                    entry = await waiter.future
                except asyncio.CancelledError:
                    self._abandon(channel, waiter)
                    raise
                if not entry.usable(time.monotonic()):
                    if entry.release is not None:
                        entry.release(False)
                    continue
            if entry.release is not None:
                entry.release(True)
            return entry.payload

    def _abandon(self, channel: str, waiter: _Waiter) -> None:
        future = waiter.future
        if future.done() and not future.cancelled():
            # The entry reached us but the task was cancelled before resuming.
            self._give_back(channel, future.result())
            return
        future.cancel()
        with self._lock:
            waiters = self._waiters.get(channel)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[channel]

    def clear(self) -> None:
        """Drop every buffered entry (``flush``); waiting receivers keep waiting."""
        with self._lock:
            buffers, self._buffers = self._buffers, {}
        for buffer in buffers.values():
            for entry in buffer:
                if entry.release is not None:
                    entry.release(False)
