"""Where thread-sensitive ``sync_to_async`` calls run.

Thread-sensitive code (Django's ORM, anything keeping per-thread state) must always run in
the same thread. The thread is chosen in this order:

1. the worker thread of the enclosing :class:`ThreadSensitiveContext` (servers enter one
   per request, so that concurrent requests do not queue behind each other, also when the
   whole server runs under an ``async_to_sync`` call such as an async test);
2. otherwise the thread blocked in the outermost enclosing ``async_to_sync`` call (it is
   idle while it waits, and it is the thread that owns the state, e.g. the WSGI request's
   database connection), even when an inner call came from a non-sensitive helper thread;
3. otherwise one process-wide worker thread.

Worker threads serve a :class:`CurrentThreadExecutor` queue rather than being a one-thread
pool: when a worker is blocked inside a nested ``async_to_sync`` it keeps running the work
submitted to it, so a nested chain cannot deadlock on its own worker.
"""

from __future__ import annotations

import atexit
import itertools
import os
import threading
from concurrent.futures import Executor, Future
from types import TracebackType
from typing import Any

from ._context import internal_var
from ._current_thread_executor import CurrentThreadExecutor

__all__ = [
    "ThreadSensitiveContext",
    "WorkerThread",
    "enclosing_call_executor",
    "set_enclosing_call_executor",
    "thread_sensitive_executor",
]

_call_executor_var = internal_var("asgiref.sync.call_executor")
_context_var = internal_var("asgiref.sync.thread_sensitive_context")


class WorkerThread:
    """A thread that runs submitted work until stopped, serving nested calls too."""

    def __init__(self, name: str) -> None:
        self._stop: Future[None] = Future()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.executor = CurrentThreadExecutor._for_thread(self.thread)
        self.thread.start()

    def _run(self) -> None:
        self.executor._adopt_current_thread()
        self.executor.run_until_future(self._stop)

    def stop(self, wait: bool = False) -> None:
        """Finish the queued work, then end the thread."""
        if not self._stop.done():
            self._stop.set_result(None)
        if wait and threading.current_thread() is not self.thread:
            self.thread.join()


def set_enclosing_call_executor(executor: CurrentThreadExecutor) -> None:
    """Record the calling thread's executor, unless an outer call's is still open.

    The outermost synchronous caller owns the thread-bound state (the WSGI request's DB
    connection and transaction), so a nested call made from a non-sensitive helper thread
    keeps sending thread-sensitive work to it. That thread is blocked in its own call, and
    blocked threads serve all their work, so this cannot deadlock.
    """
    inherited: CurrentThreadExecutor | None = _call_executor_var.get(None)
    if inherited is None or inherited.closed:
        _call_executor_var.set(executor)


def enclosing_call_executor() -> CurrentThreadExecutor | None:
    executor: CurrentThreadExecutor | None = _call_executor_var.get(None)
    return executor


class ThreadSensitiveContext:
    """Async context manager: thread-sensitive calls inside it share one thread of their own.

    Without it, thread-sensitive ``sync_to_async`` calls made from async code that has no
    ``async_to_sync`` above it share a single process-wide thread. ASGI servers enter one
    per request so that requests do not queue behind each other. Re-entrant: a nested
    context uses the outer one's thread. ``executor`` supplies the executor to use instead
    of a dedicated thread (the caller owns it; it is not shut down on exit).
    """

    def __init__(self, *, executor: Executor | None = None) -> None:
        self._executor = executor
        self._worker: WorkerThread | None = None
        self._exited = False
        self._token: Any = None
        self._lock = threading.Lock()

    async def __aenter__(self) -> ThreadSensitiveContext:
        if _context_var.get(None) is None:
            self._token = _context_var.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is None:
            return
        _context_var.reset(self._token)
        self._token = None
        with self._lock:
            worker, self._worker = self._worker, None
            self._exited = True
        if worker is not None:
            worker.stop()

    def _get_executor(self) -> Executor | None:
        """The context's executor; None once the context has exited."""
        if self._executor is not None:
            return self._executor
        with self._lock:
            if self._exited:
                # A task that outlived the context: starting a thread now would leak it.
                return None
            if self._worker is None:
                self._worker = WorkerThread(f"asgiref-thread-sensitive-context-{next(_serial)}")
            return self._worker.executor


_serial = itertools.count(1)
_global_lock = threading.Lock()
_global_worker: WorkerThread | None = None
_hooks_installed = False


def _global_executor() -> Executor:
    global _global_worker, _hooks_installed
    worker = _global_worker
    if worker is not None:
        return worker.executor
    with _global_lock:
        if _global_worker is None:
            if not _hooks_installed:
                _hooks_installed = True
                atexit.register(stop_global_worker)
                if hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_forget_after_fork)
            _global_worker = WorkerThread("asgiref-thread-sensitive")
        return _global_worker.executor


def stop_global_worker() -> None:
    """Stop the process-wide thread-sensitive worker (at exit, or between tests)."""
    global _global_worker
    with _global_lock:
        worker, _global_worker = _global_worker, None
    if worker is not None:
        worker.stop(wait=True)


def _forget_after_fork() -> None:
    global _global_worker, _global_lock
    _global_lock = threading.Lock()
    _global_worker = None


def thread_sensitive_executor() -> Executor:
    """The executor a thread-sensitive call made here must use (see the module docstring)."""
    context: ThreadSensitiveContext | None = _context_var.get(None)
    executor = context._get_executor() if context is not None else None
    if executor is not None:
        return executor
    call_executor = enclosing_call_executor()
    if call_executor is not None and not call_executor.closed:
        return call_executor
    return _global_executor()
