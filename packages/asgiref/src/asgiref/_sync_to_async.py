"""``sync_to_async``: await a blocking function, run in a thread.

Invariants:

* The function runs in a copy of the awaiting coroutine's context (or in the context the
  caller supplied); the changes it makes to context variables are replayed into the
  awaiting coroutine afterwards, also when it raises.
* While the function runs, its thread records the awaiting loop, so an ``async_to_sync``
  call made inside runs its coroutine on that loop instead of starting another.
* Cancelling the awaiting coroutine (``asyncio.wait_for`` timeouts included) returns control
  to it at once; a function that already started runs to completion in its thread (Python
  cannot interrupt a thread), one still queued never starts. Except, as in asgiref 3.x,
  when the function is itself blocked in an ``async_to_sync`` call running on the awaiting
  loop: the cancellation is handed to that call's task instead, and if the task absorbs it
  (``asyncio.shield`` around work that must finish) the function completes normally and
  its result is returned.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ._context import copy_bound_self, restore_context, run_handling
from ._coroutines import is_async_callable, markcoroutinefunction
from ._current_thread_executor import CurrentThreadExecutor
from ._storage import adopt_context
from ._thread_sensitive import context_executors, context_var, thread_sensitive_executor

__all__ = ["SyncToAsync", "awaiting_loop", "sync_to_async"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _ThreadState(threading.local):
    """What this thread is doing for an awaiting loop (see :func:`awaiting_loop`).

    Class-level defaults: reading a value a thread never set finds the default instead of
    raising (and catching) an ``AttributeError``, which ``async_to_sync`` would pay per call.
    """

    loop: asyncio.AbstractEventLoop | None = None
    pid: int | None = None
    task_context: list[asyncio.Task[Any]] | None = None


_thread_state = _ThreadState()


def awaiting_loop() -> asyncio.AbstractEventLoop | None:
    """The loop awaiting the ``sync_to_async`` call this thread is running, if any.

    None in a process forked from inside such a call: the loop belongs to the parent and
    never runs in the child (its recorded state still says "running").
    """
    loop = _thread_state.loop
    if loop is not None and _thread_state.pid != os.getpid():
        return None
    return loop


def awaiting_task_context() -> list[asyncio.Task[Any]] | None:
    """Where an ``async_to_sync`` call on the awaiting loop registers its task, so that
    cancelling the awaiting ``sync_to_async`` call reaches it."""
    if awaiting_loop() is None:
        return None
    return _thread_state.task_context


class SyncToAsync(Generic[_P, _R]):
    """Wrap a sync callable so that awaiting the wrapper runs it in a thread.

    ``thread_sensitive=True`` (the default) runs it in the one thread that all
    thread-sensitive code of this call chain shares (see :mod:`asgiref.sync`);
    ``thread_sensitive=False`` runs it in ``executor`` or, without one, in the loop's default
    executor. ``context`` is the :class:`contextvars.Context` to run the function in (the
    function's changes then stay in it); by default a copy of the caller's context, whose
    changes are copied back to the caller.
    """

    #: 3.x's names for the enclosing ThreadSensitiveContext and each context's executor.
    thread_sensitive_context = context_var
    context_to_thread_executor = context_executors

    def __init__(
        self,
        func: Callable[_P, _R],
        thread_sensitive: bool = True,
        executor: Executor | None = None,
        context: contextvars.Context | None = None,
    ) -> None:
        if not callable(func) or is_async_callable(func):
            # The message is asgiref 3.x's, word for word: code matches on it.
            raise TypeError("sync_to_async can only be applied to sync functions.")
        if thread_sensitive and executor is not None:
            raise TypeError(
                "executor must not be set when thread_sensitive is True "
                "(pass thread_sensitive=False to run in your executor)"
            )
        self.func = func
        self._thread_sensitive = thread_sensitive
        self._executor = executor
        functools.update_wrapper(self, func)
        # After update_wrapper, which copies the wrapped callable's __dict__: a ``context``
        # attribute of the wrapped object must not stand in for the context argument.
        self.context = context
        copy_bound_self(func, self)
        markcoroutinefunction(self)

    async def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        loop = asyncio.get_running_loop()
        context = self.context if self.context is not None else contextvars.copy_context()
        # The bound call (a functools.partial, as in 3.x: APM agents rewrite its keywords
        # in a thread_handler override) and the function that runs it in ``context``.
        child = functools.partial(self.func, *args, **kwargs)

        def run_in_context(child: Callable[[], _R]) -> _R:
            return context.run(_adopted, child)

        task_context: list[asyncio.Task[Any]] = []
        call = functools.partial(
            self.thread_handler, loop, sys.exc_info(), task_context, run_in_context, child
        )
        future = self._start(loop, call)
        try:
            return await _await_call(future, task_context)
        finally:
            # A cancelled call may still be running in its thread: only a finished call's
            # context is stable enough to copy back. A context supplied by the caller keeps
            # the function's changes to itself.
            if self.context is None and future.done() and not future.cancelled():
                restore_context(context)

    def _start(self, loop: asyncio.AbstractEventLoop, call: Callable[[], _R]) -> asyncio.Future[_R]:
        if not self._thread_sensitive:
            return loop.run_in_executor(self._executor, call)
        executor = thread_sensitive_executor()
        try:
            submitted = executor.submit(call)
        except RuntimeError:
            if not isinstance(executor, CurrentThreadExecutor) or not executor.closed:
                raise
            # The enclosing async_to_sync returned between the choice and the submit (a
            # leftover task of it is calling us): use the next thread in line.
            submitted = thread_sensitive_executor().submit(call)
        return asyncio.wrap_future(submitted, loop=loop)

    def thread_handler(
        self,
        loop: asyncio.AbstractEventLoop,
        exc_info: Any,
        task_context: list[asyncio.Task[Any]],
        func: Callable[..., _R],
        *args: Any,
        **kwargs: Any,
    ) -> _R:
        """Runs in the worker thread: ``func(*args, **kwargs)``, i.e. ``func(child)``.

        The shape follows asgiref 3.x, for subclasses that wrap it (Channels'
        ``DatabaseSyncToAsync`` closes stale database connections around
        ``super().thread_handler(loop, *args, **kwargs)``; APM agents read ``args[-1]``,
        the ``functools.partial`` of the wrapped function and its arguments).
        """
        state = _thread_state
        previous = (state.loop, state.pid, state.task_context)
        state.loop, state.pid, state.task_context = loop, os.getpid(), task_context
        try:
            return run_handling(exc_info[1], func, *args, **kwargs)
        finally:
            state.loop, state.pid, state.task_context = previous

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        # Decorating a method: bind like a function would, keeping the coroutine marking.
        if instance is None:
            return self
        bound: Any = functools.partial(self.__call__, instance)  # type: ignore[arg-type]
        return markcoroutinefunction(bound)


def _adopted(child: Callable[[], _R]) -> _R:
    adopt_context()
    return child()


async def _await_call(future: asyncio.Future[_R], task_context: list[asyncio.Task[Any]]) -> _R:
    """Await the thread's result; on cancellation, see the module docstring."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if future.done() or not task_context:
            future.cancel()
            raise
        inner = task_context[0]
        inner.cancel()
        try:
            await inner
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException:
            pass  # the function receives it from async_to_sync; its outcome is below
        # The inner task absorbed the cancellation: the function finishes normally.
        return await future


@overload
def sync_to_async(
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: contextvars.Context | None = None,
) -> Callable[[Callable[_P, _R]], Callable[_P, Coroutine[Any, Any, _R]]]: ...


@overload
def sync_to_async(
    func: Callable[_P, _R],
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: contextvars.Context | None = None,
) -> Callable[_P, Coroutine[Any, Any, _R]]: ...


def sync_to_async(
    func: Callable[_P, _R] | None = None,
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: contextvars.Context | None = None,
) -> Any:
    """Turn a sync callable into an awaitable one; usable as ``@sync_to_async`` or
    ``@sync_to_async(thread_sensitive=False)``."""

    def wrap(f: Callable[_P, _R]) -> SyncToAsync[_P, _R]:
        return SyncToAsync(f, thread_sensitive=thread_sensitive, executor=executor, context=context)

    if func is None:
        return wrap
    return wrap(func)
