"""Tasks that belong to the layer, not to whichever call happened to start them.

A layer starts its long-lived work lazily, inside some caller's ``send`` or
``receive``: the connection (and with it aiormq's reader, writer, heartbeat and
per-channel reader tasks, which inherit the context they are created in), the
supervisor, consumer setups and acknowledgements. A caller's scope may cancel
what it leaves behind when it returns: asgiref's ``async_to_sync`` does, on the
long-lived loops it runs calls on, for every task created in the call's context (see
``asgiref._task_scope``). So every such task starts in a fresh, empty
``contextvars.Context``: it belongs to no call and ends only when the layer
ends it, or when its loop shuts down.

Invariant: nothing the layer needs after a call returns may be created in that
call's context; connections and AMQP channels are opened inside a detached
task, never directly by a caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["detached", "foreign_cancellation", "run_detached"]

_T = TypeVar("_T")


def detached(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, _T]) -> asyncio.Task[_T]:
    """Start *coro* on *loop* as a task of no caller's context (see the module docstring)."""
    if sys.version_info >= (3, 11):
        return loop.create_task(coro, context=contextvars.Context())
    # 3.10: a task copies the context current when it is created.
    return contextvars.Context().run(loop.create_task, coro)


async def run_detached(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Call and await *factory* in a detached task; cancelling the caller does not cancel it."""

    async def call() -> _T:
        return await factory()

    return await asyncio.shield(detached(asyncio.get_running_loop(), call()))


def foreign_cancellation() -> bool:
    """Whether a ``CancelledError`` being handled was not aimed at the current task.

    Only Python 3.11+ can tell (``Task.cancelling``); before, every one counts as ours.
    """
    task = asyncio.current_task()
    if task is None or sys.version_info < (3, 11):
        return False
    return task.cancelling() == 0
