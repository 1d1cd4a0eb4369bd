"""An executor whose work runs in the thread that is blocked waiting for a result.

Invariants:

* Every thread has at most one work queue (:class:`_ThreadWork`); all
  :class:`CurrentThreadExecutor` objects created in that thread share it. A thread that is
  blocked in a nested ``run_until_future`` therefore still runs work submitted to an outer
  executor of the same thread: this is what makes sync -> async -> sync -> async chains
  deadlock-free, because whichever loop is innermost serves everything the thread owes.
* Only the innermost serving loop of a thread waits on the queue; outer loops are busy
  running the work item that led to the nested call. A finished future wakes the waiting
  loop with a ``_WAKE`` token; stale tokens are harmless (loops re-check their own future).
* An executor accepts work from creation until its ``run_until_future`` returns. Accepting
  (``submit``) and closing happen under the same lock, and the last executor of a thread to
  close fails whatever is still queued, so no item is ever accepted and then stranded. The
  outermost loop drains the queue before it returns; nested loops return as soon as their
  own future is done (they must not starve the caller they are nested in).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Protocol, TypeVar

__all__ = ["CurrentThreadExecutor"]

_T = TypeVar("_T")


class Finishing(Protocol):
    """Something that is done at some point (a future, an ``async_to_sync`` outcome)."""

    def done(self) -> bool: ...


class Driving(Protocol):
    """The thread is running an event loop of its own for an ``async_to_sync`` call (see
    ``_thread_loop``) instead of serving its queue: work queued for it must get it out."""

    def request_hand_off(self) -> None: ...


class _WorkItem:
    __slots__ = ("args", "fn", "future", "kwargs")

    def __init__(self, future: Future[Any], fn: Callable[..., Any], args: Any, kwargs: Any) -> None:
        self.future = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)
        finally:
            # Break reference cycles (the exception's traceback holds this frame).
            del self.fn, self.args, self.kwargs

    def fail(self, error: BaseException) -> None:
        if self.future.set_running_or_notify_cancel():
            self.future.set_exception(error)


_WAKE = object()
#: Longest time a blocked thread goes without running pending signal handlers.
_SIGNAL_CHECK_INTERVAL = 0.25


class _ThreadWork:
    """The queue of work owed by one thread, shared by all its executors."""

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread
        self.lock = threading.Lock()
        self.items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.open_executors = 0
        self.serving_depth = 0
        #: Set while the thread runs its own loop for a call (it serves nothing then).
        self.driving: Driving | None = None

    def fail_queued(self) -> None:
        """Fail every queued item (called with ``lock`` held, when nobody serves anymore)."""
        items = self.items
        # Only this thread takes items, so a non-empty queue cannot empty under our feet.
        while not items.empty():
            item = items.get_nowait()
            if item is not _WAKE:
                item.fail(RuntimeError("CurrentThreadExecutor quit before running this work"))


_tls = threading.local()


def _current_work() -> _ThreadWork:
    work: _ThreadWork | None = getattr(_tls, "work", None)
    if work is None:
        work = _ThreadWork(threading.current_thread())
        _tls.work = work
    return work


class CurrentThreadExecutor(Executor):
    """Run submitted callables in the thread that created the executor.

    That thread must call :meth:`run_until_future`; work submitted from other threads runs
    there until the given future completes. ``old_executor`` is accepted for compatibility
    with asgiref 3.x: executors of the same thread always share their work, so an outer
    executor's work keeps flowing while a nested one runs.
    """

    def __init__(self, old_executor: CurrentThreadExecutor | None = None) -> None:
        self._init_for(_current_work())

    @classmethod
    def _for_thread(cls, thread: threading.Thread) -> CurrentThreadExecutor:
        """An executor for a thread that has not started yet (it adopts the queue)."""
        executor = cls.__new__(cls)
        executor._init_for(_ThreadWork(thread))
        return executor

    def _init_for(self, work: _ThreadWork) -> None:
        self._work = work
        self._open = True
        with work.lock:
            work.open_executors += 1

    @property
    def closed(self) -> bool:
        """True once :meth:`run_until_future` has returned; submissions then fail."""
        return not self._open

    def _adopt_current_thread(self) -> None:
        _tls.work = self._work

    def run_until_future(self, future: Future[Any]) -> None:
        """Run submitted work in this thread until ``future`` is done."""
        work = self._work
        if threading.current_thread() is not work.thread:
            raise RuntimeError(
                "CurrentThreadExecutor.run_until_future must be called from the thread that "
                f"created the executor ({work.thread.name!r}), not from "
                f"{threading.current_thread().name!r}"
            )
        if not self._open:
            raise RuntimeError("CurrentThreadExecutor.run_until_future was already called")
        future.add_done_callback(self._wake)
        self._serve_until(future)

    def _serve_until(self, until: Finishing) -> None:
        """Serve until ``until.done()``; whoever makes it done must then call :meth:`_notify`.

        The unchecked core of :meth:`run_until_future`: only for the executor's own thread,
        at most once (``async_to_sync`` knows both hold).
        """
        work = self._work
        work.serving_depth += 1  # only this thread touches serving_depth
        try:
            self._serve(until)
        finally:
            work.serving_depth -= 1
            self._close()

    def _serve(self, future: Finishing) -> None:
        work = self._work
        items = work.items
        while True:
            if future.done():
                if work.serving_depth > 1:
                    return
                item = self._next_or_close()
                if item is None:
                    return
            else:
                try:
                    # Bounded waits: a signal (Ctrl-C) that lands just before the thread
                    # blocks would otherwise wait for the next item before its handler runs.
                    item = items.get(timeout=_SIGNAL_CHECK_INTERVAL)
                except queue.Empty:
                    continue
            if item is not _WAKE:
                item.run()

    def _next_or_close(self) -> Any:
        """Outermost loop, future done: the next queued item, or None after closing."""
        work = self._work
        with work.lock:
            # Only this thread takes items: a non-empty queue stays so until get_nowait().
            if not work.items.empty():
                return work.items.get_nowait()
            self._close_locked()
            return None

    def _close(self) -> None:
        if not self._open:
            return  # closed for good: _open never turns true again
        with self._work.lock:
            if self._open:
                self._close_locked()

    def _close_locked(self) -> None:
        work = self._work
        self._open = False
        work.open_executors -= 1
        if work.open_executors == 0:
            # Nobody is left to run this thread's work: fail it instead of stranding it.
            work.fail_queued()

    def _close_after_failed_start(self) -> None:
        """Close an executor whose run_until_future will never be called."""
        self._close()

    def _wake(self, _future: Future[Any]) -> None:
        self._notify()

    def _notify(self) -> None:
        """Tell the serving thread that what it serves until may be done (any thread)."""
        self._work.items.put(_WAKE)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Queue ``fn(*args, **kwargs)`` to run in the executor's thread."""
        work = self._work
        driving = work.driving
        if driving is None and threading.current_thread() is work.thread:
            raise RuntimeError(
                "You cannot submit onto CurrentThreadExecutor from its own thread "
                f"({work.thread.name!r}); call the function directly"
            )
        future: Future[_T] = Future()
        with work.lock:
            if not self._open:
                raise RuntimeError(
                    "CurrentThreadExecutor already quit: its run_until_future has returned"
                )
            work.items.put(_WorkItem(future, fn, args, kwargs))
        if driving is not None:
            driving.request_hand_off()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No-op: the executor stops when :meth:`run_until_future` returns."""
