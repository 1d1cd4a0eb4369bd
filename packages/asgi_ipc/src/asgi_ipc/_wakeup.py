"""Wake-ups without polling: one named FIFO per attached client.

A sender that finds a client's bit in a channel's waiter map writes a byte
to that client's FIFO (``/dev/shm/asgi_ipc.<prefix>.w.<token>``). The client
keeps the FIFO open and registered with each event loop that waits on it
(``add_reader``), so the kernel wakes the loop directly: no thread, no
polling, no CPU while idle. Armed futures are one-shot and are armed *before*
the receiver looks at the queue, so a write that lands between the look and
the wait is never lost.

Why a FIFO rather than a semaphore: a semaphore can only be waited on by a
blocked thread, which adds a thread hop to every wake-up; and opening a
FIFO whose owner died fails at once (ENXIO), so stale waiters cost nothing.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import weakref

__all__ = ["Poster", "Waker", "resolve"]


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def resolve(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    """Complete *future* from any thread."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _set(future)
        return
    try:
        loop.call_soon_threadsafe(_set, future)
    except RuntimeError:
        pass  # that loop is closed; nobody waits on the future any more


class Waker:
    """This client's FIFO and the futures waiting for a write to it."""

    def __init__(self, path: str, mode: int) -> None:
        self.path = path
        os.mkfifo(path, mode)
        try:
            os.chmod(path, mode)  # mkfifo applies the umask
            # Read-write, so the FIFO always has a writer and never reads EOF.
            self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except BaseException:
            os.unlink(path)
            raise
        self._armed: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._mutex = threading.Lock()
        self._closed = False
        self._pending = 0

    def arm(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._mutex:
            self._armed.append((loop, future))
            watch = loop not in self._loops and not self._closed
            if watch:
                self._loops.add(loop)
        if watch:
            loop.add_reader(self._fd, self._readable)
        return future

    def disarm(self, future: asyncio.Future[None]) -> None:
        with self._mutex:
            self._armed = [pair for pair in self._armed if pair[1] is not future]

    def _readable(self) -> None:
        # One read: the callback only runs when bytes are waiting, and the
        # loop's watch is level-triggered, so anything beyond 4096 bytes calls
        # it again. A second read would only raise BlockingIOError.
        try:
            os.read(self._fd, 4096)
        except OSError:
            pass
        self.wake_local()

    def poll(self) -> bool:
        """Take a pending wake-up now, without waiting for the loop to see the FIFO
        readable; True if there was one (every armed future is then resolved)."""
        if self._closed:  # set before the descriptor is closed (its number may be reused)
            return False
        try:
            got = os.read(self._fd, 4096)
        except OSError:  # BlockingIOError: nothing written; or closed meanwhile
            return False
        self.wake_local()
        return bool(got)

    def wake_local(self) -> None:
        """Resolve every armed future (a client wakes itself without the FIFO)."""
        with self._mutex:
            armed, self._armed = self._armed, []
        for loop, future in armed:
            resolve(loop, future)

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            loops = [loop for loop in self._loops if not loop.is_closed()]
            self._loops = weakref.WeakSet()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        foreign = []
        for loop in loops:
            if loop is running:
                loop.remove_reader(self._fd)
            else:
                foreign.append(loop)
        self.wake_local()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        # The descriptor is closed only after every loop that watches it has
        # let go: closed early, its number could be reused by another file
        # that a late remove_reader would then unregister.
        self._pending = len(foreign)
        for loop in foreign:
            try:
                loop.call_soon_threadsafe(self._release, loop)
            except RuntimeError:
                self._release(None)
        if not foreign:
            os.close(self._fd)

    def _release(self, loop: asyncio.AbstractEventLoop | None) -> None:
        if loop is not None:
            loop.remove_reader(self._fd)
        with self._mutex:
            self._pending -= 1
            last = self._pending == 0
        if last:
            os.close(self._fd)


class Poster:
    """Writes to other clients' FIFOs, keeping them open between sends."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def post(self, path: str) -> None:
        fd = self._open.get(path)
        if fd is None:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENXIO):
                    return  # the client closed or died; its slot is reclaimed later
                raise
            if len(self._open) > 1024:
                self.close()
            self._open[path] = fd
        try:
            os.write(fd, b"\0")
        except BlockingIOError:
            pass  # the FIFO is full of unread wake-ups: one more adds nothing
        except OSError:
            # The reader is gone (EPIPE); forget the descriptor.
            del self._open[path]
            os.close(fd)

    def close(self) -> None:
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()
