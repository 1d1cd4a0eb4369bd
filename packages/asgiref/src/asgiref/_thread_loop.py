"""Each plain thread's own event loop: ``async_to_sync`` runs its coroutine in the thread.

A plain thread calling ``async_to_sync`` is blocked until the coroutine is done, so the
coroutine can run right there, on a loop the thread keeps for its later calls: no thread
hand-off at all, which on a machine whose idle CPUs sleep is most of the cost of a call.
The thread is then both the caller and the loop, which is fine until the coroutine needs
the caller for sync work (a thread-sensitive ``sync_to_async``): the caller must run it
while the loop goes on. At that moment the loop is *handed off*: the thread stops running
it (between two turns, with its running-loop marker cleared), a driver thread runs it
until the call is done, and the caller serves its work queue, exactly as when the loop
lives elsewhere from the start.

Invariants:

* A thread loop runs in at most one thread at a time, and only during a call of its own
  thread: between calls it is idle, which is what lets the owner drive it again. A loop
  whose call was interrupted while handed off stays with its driver until the call is
  done; the owner's next calls meanwhile use the shared loop.
* Between calls nothing runs on it. A loop that is left with timers pending after a call
  (heartbeats, keep-alives) *graduates*: from then on it runs for good in a loop thread of
  its own, and the owner's calls go there (see ``_loop_thread``).
* Thread loops share one default executor, so a process with many threads does not grow
  a thread pool per thread.
* A loop is closed when its owner thread is gone (the thread-local holding it is freed),
  and never in a forked child (its selector and self-pipe are shared with the parent).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._current_thread_executor import CurrentThreadExecutor
from ._loop_thread import LoopThread, finish_leftovers
from ._singleton import ProcessSingleton
from ._task_scope import has_free_tasks, needs_factory, scoped_task_factory

__all__ = ["ThreadLoop", "is_handed_off", "own_thread_loop"]

#: Extra turns a loop gets after a call for what the call's end queued (see _graduate_if_alive).
_SETTLING_TURNS = 4
#: How long an idle driver thread waits for another hand-off before it ends.
_DRIVER_IDLE_SECONDS = 30.0


class _Drive:
    """One call's turn on a thread loop, while its owner runs it (see ``request_hand_off``)."""

    __slots__ = ("active", "loop", "requested", "thread_id")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.thread_id = threading.get_ident()
        self.active = True
        self.requested = False

    def request_hand_off(self) -> None:
        """Work was queued for the owner thread: make it leave the loop (any thread)."""
        self.requested = True
        if threading.get_ident() == self.thread_id:
            self.loop.stop()  # on the loop, between callbacks: it ends after this turn
            return
        try:
            self.loop.call_soon_threadsafe(self._stop_if_active)
        except RuntimeError:
            pass  # the loop is closed: its call is over

    def _stop_if_active(self) -> None:
        # A request that raced with the end of the call lands on a later turn: ignore it.
        if self.active:
            self.loop.stop()


class _Released:
    """Done once the driver thread has given a handed-off loop back."""

    __slots__ = ("flag",)

    def __init__(self) -> None:
        self.flag = False

    def done(self) -> bool:
        return self.flag


class ThreadLoop:
    """The event loop of one plain thread (see the module docstring)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_task_factory(scoped_task_factory)  # type: ignore[arg-type]
        self.loop.set_default_executor(_SHARED_POOL.get())
        self.pid = os.getpid()
        #: The loop runs a call (here or handed off): the owner's calls go elsewhere.
        self.busy = False
        #: Set once the loop has graduated to a thread of its own.
        self.background: LoopThread | None = None
        self._abandoned = False
        self._lock = threading.Lock()

    def start(self, coro: Any, context: Any) -> asyncio.Task[Any]:
        """The call's task, created in ``context`` (the loop is idle: no thread hop)."""
        self.busy = True
        if needs_factory(context):
            task: asyncio.Task[Any] = context.run(self.loop.create_task, coro)
        else:  # what the factory would make, minus the recording it would skip anyway
            task = context.run(asyncio.Task, coro, loop=self.loop)
        return task

    def run(self, task: asyncio.Task[Any], executor: CurrentThreadExecutor, until: Any) -> None:
        """Run the loop here until ``task`` is done, handing it off if ``executor``'s
        thread (this one) is needed meanwhile; then serve ``executor`` until ``until`` is
        done. Ctrl-C (or any exception escaping the loop) cancels the task first."""
        loop = self.loop
        drive = _Drive(loop)
        work = executor._work
        work.driving = drive
        interrupted: BaseException | None = None
        try:
            while not task.done() and not drive.requested:
                try:
                    loop.run_forever()
                except BaseException as exc:  # Ctrl-C or SystemExit out of a callback
                    interrupted = interrupted or exc
                    if not task.done():
                        task.cancel()
                        task.add_done_callback(_stop_loop)
        finally:
            drive.active = False
            work.driving = None
        if task.done():
            self._finish_here(executor, until, interrupted)
        else:
            self._hand_off(task, executor, interrupted)

    def _finish_here(
        self, executor: CurrentThreadExecutor, until: Any, interrupted: BaseException | None
    ) -> None:
        self.busy = False
        # Run whatever other threads queued for us as the call ended, then close.
        executor._serve_until(until)
        if interrupted is not None:
            raise interrupted
        self._graduate_if_alive()

    def _hand_off(
        self,
        task: asyncio.Task[Any],
        executor: CurrentThreadExecutor,
        interrupted: BaseException | None,
    ) -> None:
        released = _Released()

        def release() -> None:  # on the driver, once the call's task is done
            with self._lock:
                released.flag = True
                _handed_off.discard(self.loop)
                if self._abandoned:
                    self._abandoned = False
                    self.busy = False
            executor._notify()

        # Until released, the loop counts as running for calls nested in our sync work.
        _handed_off.add(self.loop)
        _DRIVERS.get().drive(self.loop, task, release)
        try:
            executor._serve_until(released)
        except BaseException:
            # Interrupted while serving: the driver finishes the cancelled call, and frees
            # the loop for our next calls when it is done.
            with self._lock:
                if not released.flag:
                    self._abandoned = True
            if not released.flag:
                self.loop.call_soon_threadsafe(task.cancel)
            else:
                self.busy = False
            raise
        self.busy = False
        if interrupted is not None:
            raise interrupted
        self._graduate_if_alive()

    def _graduate_if_alive(self) -> None:
        """Move the loop to a thread of its own if something on it must go on running.

        Callbacks queued as the call ended (an async generator's finaliser, a leftover's
        last step) get a few more turns first, as ``asyncio.run`` gives them."""
        loop = self.loop
        ready = loop._ready  # type: ignore[attr-defined]
        for _ in range(_SETTLING_TURNS):
            if not ready:
                break
            loop.call_soon(loop.stop)
            loop.run_forever()
        if ready or _has_timers(loop) or has_free_tasks(loop):
            self.background = LoopThread("asgiref-thread-loop", loop=loop)
            _graduated.add(self.background)

    def close(self, wait: bool) -> None:
        """End the loop like ``asyncio.run`` ends its own: cancel what is left, finalise
        async generators, close. ``wait=False`` (a thread-local being freed, possibly in
        another thread) only closes what can be closed without running anything."""
        if self.pid != os.getpid():
            return
        loop = self.loop
        background = self.background
        if background is not None:
            loop._default_executor = None  # type: ignore[attr-defined]  # shared: keep it
            if wait:
                background.stop()
            else:
                background.stop_soon()
            return
        if loop.is_closed() or loop.is_running() or self.busy:
            return
        try:
            if wait and asyncio._get_running_loop() is None:
                loop.run_until_complete(finish_leftovers())
        finally:
            loop._default_executor = None  # type: ignore[attr-defined]
            loop.close()

    def __del__(self) -> None:
        # The owner thread is gone: its thread-local is being freed.
        self.close(wait=False)


def _stop_loop(task: asyncio.Future[Any]) -> None:
    task.get_loop().stop()


#: Loops handed off to a driver and not yet given back.
_handed_off: set[asyncio.AbstractEventLoop] = set()
#: Loop threads that graduated thread loops run in (stopped at exit).
_graduated: weakref.WeakSet[LoopThread] = weakref.WeakSet()
#: Every live thread loop of the process (closed at exit).
_live: weakref.WeakSet[ThreadLoop] = weakref.WeakSet()


def is_handed_off(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` is a thread loop on its way to a driver (about to run)."""
    return loop in _handed_off


def _has_timers(loop: asyncio.AbstractEventLoop) -> bool:
    scheduled = getattr(loop, "_scheduled", ())
    return any(not handle.cancelled() for handle in scheduled)


class _Local(threading.local):
    thread_loop: ThreadLoop | None = None


_local = _Local()
#: Thread loops a forked child inherited: never closed (their selector is the parent's).
_orphans: list[ThreadLoop] = []


def own_thread_loop() -> ThreadLoop:
    """The calling thread's loop, created on its first call (and afresh in a forked child)."""
    here = _local.thread_loop
    if here is None or here.pid != os.getpid() or here.loop.is_closed():
        if here is not None and here.pid != os.getpid():
            _orphans.append(here)
        here = _local.thread_loop = _new_thread_loop()
    return here


def _new_thread_loop() -> ThreadLoop:
    global _exit_hook_registered
    here = ThreadLoop()
    if not _exit_hook_registered:  # a forked child inherits the registration
        _exit_hook_registered = True
        # Registered after the shared pool's hook (made by ThreadLoop()): runs before it.
        atexit.register(_close_all)
    _live.add(here)
    return here


_exit_hook_registered = False


def _close_all() -> None:
    for here in list(_live):
        here.close(wait=True)
    for background in list(_graduated):
        background.stop()


def _shut_pool(pool: ThreadPoolExecutor) -> None:
    pool.shutdown(wait=True)


_SHARED_POOL: ProcessSingleton[ThreadPoolExecutor] = ProcessSingleton(
    lambda: ThreadPoolExecutor(thread_name_prefix="asgiref-thread-loop-executor"), _shut_pool
)


class _Driver:
    """A thread that runs handed-off loops until their call is done; reused while busy."""

    def __init__(self, pool: _DriverPool) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pool = pool
        self.thread = threading.Thread(target=self._run, name="asgiref-loop-driver", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                job = self.jobs.get(timeout=_DRIVER_IDLE_SECONDS)
            except queue.Empty:
                if self._pool.retire(self):
                    return
                continue  # taken for a job just now: it is on its way
            if job is None:
                return  # the process is exiting
            loop, task, release = job
            try:
                _run_until_done(loop, task)
            finally:
                del loop, task
                release()
                del release
            self._pool.idle(self)


def _run_until_done(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    while not task.done():
        try:
            loop.run_forever()
        except BaseException:  # SystemExit out of a callback: end the call, keep the thread
            if not task.done():
                task.cancel()


class _DriverPool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Driver] = []

    def drive(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], release: Callable[[], None]
    ) -> None:
        with self._lock:
            driver = self._idle.pop() if self._idle else None
        if driver is None:
            driver = _Driver(self)
        driver.jobs.put((loop, task, release))

    def idle(self, driver: _Driver) -> None:
        with self._lock:
            self._idle.append(driver)

    def stop(self) -> None:
        """End the idle drivers (at exit); busy ones end with their call."""
        with self._lock:
            idle, self._idle = self._idle, []
        for driver in idle:
            driver.jobs.put(None)
        for driver in idle:
            driver.thread.join()

    def retire(self, driver: _Driver) -> bool:
        with self._lock:
            if driver in self._idle:
                self._idle.remove(driver)
                return True
            return False


_DRIVERS: ProcessSingleton[_DriverPool] = ProcessSingleton(_DriverPool, _DriverPool.stop)
