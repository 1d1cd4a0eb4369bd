"""Threads that run thread-sensitive work: one per ``ThreadSensitiveContext``, one global.

Worker threads serve a :class:`CurrentThreadExecutor` queue rather than being a one-thread
pool: when a worker is blocked inside a nested ``async_to_sync`` it keeps running the work
submitted to it, so a nested chain cannot deadlock on its own worker.

Invariants: the global worker starts lazily (never at import), is forgotten in a forked
child (its thread does not exist there) and is stopped at interpreter exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from ._current_thread_executor import CurrentThreadExecutor
from ._singleton import ProcessSingleton

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


_GLOBAL_WORKER: ProcessSingleton[WorkerExecutor] = ProcessSingleton(
    lambda: WorkerExecutor("asgiref-thread-sensitive"),
    lambda worker: worker.shutdown(wait=True),
)


def global_worker_executor() -> WorkerExecutor:
    """The process-wide thread for thread-sensitive calls outside any context or call."""
    return _GLOBAL_WORKER.get()


def stop_global_worker() -> None:
    """Stop the process-wide thread-sensitive worker (at exit, or between tests)."""
    _GLOBAL_WORKER.stop()
