"""Threads that run thread-sensitive work: one per ``ThreadSensitiveContext``, one global.

Worker threads serve a :class:`CurrentThreadExecutor` queue rather than being a one-thread
pool: when a worker is blocked inside a nested ``async_to_sync`` it keeps running the work
submitted to it, so a nested chain cannot deadlock on its own worker.

Invariants: the global worker starts lazily (never at import), is forgotten in a forked
child (its thread does not exist there) and is stopped at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from ._current_thread_executor import CurrentThreadExecutor

__all__ = ["WorkerExecutor", "global_worker_executor", "stop_global_worker"]

_T = TypeVar("_T")


class WorkerExecutor(Executor):
    """A dedicated thread that runs submitted work in order, serving nested calls too."""

    def __init__(self, name: str) -> None:
        self._stop: Future[None] = Future()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._queue = CurrentThreadExecutor._for_thread(self.thread)
        self.thread.start()

    def _run(self) -> None:
        self._queue._adopt_current_thread()
        self._queue.run_until_future(self._stop)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        return self._queue.submit(fn, *args, **kwargs)

    @property
    def closed(self) -> bool:
        return self._queue.closed

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Finish the queued work, then end the thread (joined when ``wait``)."""
        if not self._stop.done():
            self._stop.set_result(None)
        if wait and threading.current_thread() is not self.thread:
            self.thread.join()


_global_lock = threading.Lock()
_global_worker: WorkerExecutor | None = None
_hooks_installed = False


def global_worker_executor() -> WorkerExecutor:
    """The process-wide thread for thread-sensitive calls outside any context or call."""
    global _global_worker, _hooks_installed
    worker = _global_worker
    if worker is not None:
        return worker
    with _global_lock:
        if _global_worker is None:
            if not _hooks_installed:
                _hooks_installed = True
                atexit.register(stop_global_worker)
                if hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_forget_after_fork)
            _global_worker = WorkerExecutor("asgiref-thread-sensitive")
        return _global_worker


def stop_global_worker() -> None:
    """Stop the process-wide thread-sensitive worker (at exit, or between tests)."""
    global _global_worker
    with _global_lock:
        worker, _global_worker = _global_worker, None
    if worker is not None:
        worker.shutdown(wait=True)


def _forget_after_fork() -> None:
    global _global_worker, _global_lock
    _global_lock = threading.Lock()
    _global_worker = None
