"""Where thread-sensitive ``sync_to_async`` calls run.

Thread-sensitive code (Django's ORM, anything keeping per-thread state) must always run in
the same thread. As in asgiref 3.13, the thread is chosen in this order:

1. the thread blocked in the enclosing ``async_to_sync`` call (the "bridge"; it is idle
   while it waits, and it owns the thread-bound state, e.g. the request's or the test's
   database connection). Of nested bridges the outermost still open one wins, even when
   an inner call came from a ``thread_sensitive=False`` helper thread;
2. otherwise the enclosing :class:`ThreadSensitiveContext`'s thread (servers enter one per
   request, so requests do not queue behind each other), or its ``executor``;
3. otherwise, in a task started in a fresh context by code inside an ``async_to_sync``
   call, that call's thread (as 3.x's per-call loop did);
4. otherwise one process-wide worker thread.

``ThreadSensitiveContext(executor=...)`` hides the enclosing bridge for its block, so its
calls go to the given executor even inside ``async_to_sync``; a bridge opened inside the
block is used again as usual.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import threading
import weakref
from concurrent.futures import Executor
from types import TracebackType
from typing import Any

from ._context import internal_var
from ._current_thread_executor import CurrentThreadExecutor
from ._worker import WorkerExecutor, global_worker_executor

__all__ = [
    "ExecutorBinding",
    "ThreadSensitiveContext",
    "bridge_of_current_task",
    "context_executors",
    "context_var",
    "enter_bridge",
    "has_bridge",
    "record_task_bridge",
    "thread_sensitive_executor",
]

#: (innermost, outermost open) bridge executors of the enclosing async_to_sync calls.
_Bridge = tuple[CurrentThreadExecutor, CurrentThreadExecutor]
_bridge_var: contextvars.ContextVar[_Bridge | None] = internal_var("asgiref.sync.bridge")
#: The enclosing ThreadSensitiveContext (``SyncToAsync.thread_sensitive_context``).
context_var: contextvars.ContextVar[ThreadSensitiveContext] = internal_var(
    "asgiref.sync.thread_sensitive_context"
)
#: Each context's executor while it has one (``SyncToAsync.context_to_thread_executor``).
context_executors: weakref.WeakKeyDictionary[ThreadSensitiveContext, Executor] = (
    weakref.WeakKeyDictionary()
)
#: Bridges of tasks started in a fresh context from inside an async_to_sync call.
_task_bridges: weakref.WeakKeyDictionary[asyncio.Task[Any], _Bridge] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_serial = itertools.count(1)


def enter_bridge(executor: CurrentThreadExecutor, task: asyncio.Task[Any] | None) -> None:
    """Make ``executor`` (a new ``async_to_sync`` call's) the current bridge of ``task``,
    the current task (the caller looked it up already)."""
    inherited = _bridge_var.get(None)
    outer = inherited[1] if inherited is not None and not inherited[1].closed else executor
    bridge = (executor, outer)
    _bridge_var.set(bridge)
    if task is not None:
        _task_bridges[task] = bridge


def record_task_bridge(task: asyncio.Task[Any], context: contextvars.Context | None) -> None:
    """Called as ``task`` is created (on asgiref's loops): remember the bridge it belongs to.

    That is the bridge in its own context or, for a task started in a fresh context (an
    ``ApplicationCommunicator``'s application), the one its creator belongs to.
    """
    own = context.get(_bridge_var, None) if context is not None else _bridge_var.get(None)
    bridge = own or bridge_of_current_task()
    if bridge is not None:
        _task_bridges[task] = bridge


def has_bridge(context: contextvars.Context) -> bool:
    """Whether ``context`` belongs to an ``async_to_sync`` call's bridge."""
    return context.get(_bridge_var, None) is not None


def bridge_of_current_task() -> _Bridge | None:
    if asyncio._get_running_loop() is None:
        return None  # a task made for an idle loop (see _thread_loop)
    task = asyncio.current_task()
    return _task_bridges.get(task) if task is not None else None


def _open_bridge_executor(bridge: _Bridge | None) -> CurrentThreadExecutor | None:
    if bridge is None:
        return None
    inner, outer = bridge
    if not outer.closed:
        return outer
    return None if inner.closed else inner


class ExecutorBinding:
    """``AsyncToSync.executors``: ``current`` is the innermost bridge executor, or None."""

    @property
    def current(self) -> CurrentThreadExecutor | None:
        bridge = _bridge_var.get(None)
        return None if bridge is None else bridge[0]

    @current.setter
    def current(self, executor: CurrentThreadExecutor | None) -> None:
        _bridge_var.set(None if executor is None else (executor, executor))


class ThreadSensitiveContext:
    """Async context manager: thread-sensitive calls inside it share one thread of their own.

    Re-entrant: a nested context without an executor uses the enclosing one's thread. With
    ``executor`` (which must run one call at a time, e.g. ``ThreadPoolExecutor(max_workers=1)``)
    the block uses that executor even inside another context or an ``async_to_sync`` call,
    and restores the enclosing choice on exit. The caller owns the executor: it is not shut
    down. Such a context can be entered only once, and tasks started inside it must finish
    inside it: their later thread-sensitive calls raise :class:`RuntimeError`.
    """

    def __init__(self, *, executor: Executor | None = None) -> None:
        self._executor = executor
        self.token: contextvars.Token[ThreadSensitiveContext] | None = None
        self._bridge_token: contextvars.Token[_Bridge | None] | None = None
        self._exited = False

    async def __aenter__(self) -> ThreadSensitiveContext:
        if self._executor is None:
            if context_var.get(None) is None:
                self.token = context_var.set(self)
            return self
        if self.token is not None:
            raise RuntimeError("ThreadSensitiveContext is already entered")
        if self._exited:
            # Entering again would send tasks that outlived the first block to the second.
            raise RuntimeError("ThreadSensitiveContext with an executor cannot be entered again")
        self.token = context_var.set(self)
        context_executors[self] = self._executor
        self._bridge_token = _bridge_var.set(None)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.token is None:
            return
        executor = context_executors.pop(self, None)
        context_var.reset(self.token)
        self.token = None
        if self._bridge_token is not None:
            _bridge_var.reset(self._bridge_token)
            self._bridge_token = None
        if self._executor is not None:
            self._exited = True
        elif executor is not None:
            # Our own worker: it finishes what is queued, then ends (not awaited: the
            # worker may itself be waiting for this loop).
            executor.shutdown(wait=False)

    def _executor_for_call(self) -> Executor:
        if self._exited:
            raise RuntimeError(
                "ThreadSensitiveContext has exited. Tasks created inside a context with an "
                "executor must finish before it exits."
            )
        with _lock:
            executor = context_executors.get(self)
            if executor is None:
                # First call, or a task that outlived the context: a worker of its own,
                # stopped when the context is gone.
                worker = WorkerExecutor(f"asgiref-thread-sensitive-context-{next(_serial)}")
                weakref.finalize(self, worker.shutdown, False)
                context_executors[self] = executor = worker
            return executor


def thread_sensitive_executor() -> Executor:
    """The executor a thread-sensitive call made here must use (see the module docstring)."""
    bridge = _open_bridge_executor(_bridge_var.get(None))
    if bridge is not None:
        return bridge
    context = context_var.get(None)
    if context is not None:
        return context._executor_for_call()
    bridge = _open_bridge_executor(bridge_of_current_task())
    if bridge is not None:
        return bridge
    return global_worker_executor()
