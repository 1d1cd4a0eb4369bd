"""Database helpers for code that runs inside consumers.

Django's request cycle closes stale connections when a request starts and
ends; consumers live far longer than a request, so every hop into a thread
that may touch the database does the same around the call.

Invariant: a connection inside an atomic block is never closed. Closing it
would abort the transaction under the code that opened it (upstream did this
to the transaction of Django's TestCase, whose queries then failed with
"closed database"); its staleness is checked once the block ends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, overload

from asgiref.sync import sync_to_async
from django.db import connections

__all__ = ["aclose_old_connections", "close_old_connections", "database_sync_to_async"]

P = ParamSpec("P")
R = TypeVar("R")


def close_old_connections() -> None:
    """Django's ``close_old_connections``, skipping connections inside a transaction."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _closing(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


@overload
def database_sync_to_async(
    func: Callable[P, R], *, thread_sensitive: bool = True
) -> Callable[P, Coroutine[Any, Any, R]]: ...


@overload
def database_sync_to_async(
    func: None = None, *, thread_sensitive: bool = True
) -> Callable[[Callable[P, R]], Callable[P, Coroutine[Any, Any, R]]]: ...


def database_sync_to_async(
    func: Callable[P, R] | None = None, *, thread_sensitive: bool = True
) -> Any:
    """Like ``sync_to_async``, closing stale connections before and after the call.

    Use it as ``database_sync_to_async(func)``, as a bare decorator, or as
    ``@database_sync_to_async(thread_sensitive=False)``. The result keeps
    *func*'s parameter types and returns a coroutine of its return type.
    """
    if func is None:
        return functools.partial(database_sync_to_async, thread_sensitive=thread_sensitive)
    if not callable(func):
        raise TypeError(f"database_sync_to_async expects a callable, got {func!r}")
    return sync_to_async(_closing(func), thread_sensitive=thread_sensitive)


async def aclose_old_connections() -> None:
    """Close stale database connections, from async code."""
    await sync_to_async(close_old_connections)()
