"""Which tasks belong to an ``async_to_sync`` call, so that the call can clean them up.

On a loop asgiref owns, ``async_to_sync`` gives ``asyncio.run`` semantics to the tasks its
coroutine starts: whatever is still pending when the coroutine returns is cancelled and
awaited before the call returns, exactly as when asgiref 3.x closed its per-call loop. So a
fire-and-forget task (an unawaited ASGI application in a test, a request's helper task)
never keeps running into the next call, while the loop itself (and every loop-bound resource
without a task of its own: connection pools, locks, queues) lives on.

Invariant: a task belongs to the scope found in the context it is created in. Tasks inherit
their creator's context, so a task started by a task of the call belongs to the call too. A
task created in a fresh ``contextvars.Context()`` belongs to no call and runs until it ends
or the loop is closed: the way to keep a background task alive across calls.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Coroutine
from typing import Any

from ._context import internal_var
from ._thread_sensitive import has_bridge, record_task_bridge

__all__ = ["TaskScope", "has_free_tasks", "needs_factory", "scoped_task_factory"]

_scope_var = internal_var("asgiref.sync.task_scope")
#: Per loop, the tasks that belong to no call (made in a fresh context).
_free_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.WeakSet[Any]] = (
    weakref.WeakKeyDictionary()
)


class TaskScope:
    """The tasks started, directly or not, by one ``async_to_sync`` call."""

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        # Made on the first member: most calls start no task at all.
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] | None = None

    def enter(self) -> None:
        """Make tasks created from the current context (and its copies) members."""
        _scope_var.set(self)

    def add(self, task: asyncio.Task[Any]) -> None:
        """Record ``task`` as a member (weakly: a finished, dropped task leaves)."""
        if self._tasks is None:
            self._tasks = weakref.WeakSet()
        self._tasks.add(task)

    def has_members(self) -> bool:
        """Whether any member task is still referenced (finished or not)."""
        return bool(self._tasks)

    async def cancel_leftovers(self) -> None:
        """Cancel the members still pending and wait until they have finished.

        Cancelled tasks may start others while they unwind, hence the rounds; a task that
        swallows cancellation forever would block here, as it would block ``asyncio.run``.
        """
        members = self._tasks
        if members is None:
            return
        current = asyncio.current_task()
        while True:
            pending = [task for task in members if task is not current and not task.done()]
            if not pending:
                return
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def scoped_task_factory(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
) -> asyncio.Task[Any]:
    """Task factory recording each new task in the scope of the context it starts in, and
    the ``async_to_sync`` call it belongs to (see ``_thread_sensitive``)."""
    task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kwargs)
    context: contextvars.Context | None = kwargs.get("context")
    scope = context.get(_scope_var) if context is not None else _scope_var.get(None)
    if scope is not None:
        scope.add(task)
    else:
        _free_tasks.setdefault(loop, weakref.WeakSet()).add(task)
    record_task_bridge(task, context)
    return task


def has_free_tasks(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a task that belongs to no call is still pending on ``loop``."""
    tasks = _free_tasks.get(loop)
    return tasks is not None and any(not task.done() for task in tasks)


def needs_factory(context: contextvars.Context) -> bool:
    """Whether a task created in ``context`` must be registered by the task factory.

    False for a context that carries no scope and no bridge (a plain thread's): the
    factory would record nothing for it, so such a task may be made without the factory.
    """
    return context.get(_scope_var, None) is not None or has_bridge(context)
