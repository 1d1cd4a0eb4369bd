"""Database helpers for code that runs inside consumers.

Django's request cycle closes stale connections when a request starts and
ends; consumers live far longer than a request, so every hop into a thread
that may touch the database does the same around the call.

Invariant: a connection inside an atomic block is never closed. Closing it
would abort the transaction under the code that opened it (upstream did this
to the transaction of Django's TestCase, whose queries then failed with
"closed database"); its staleness is checked once the block ends.

Consumers call ``aclose_old_connections`` before every message, and the hop to
the thread-sensitive thread it takes is most of what a broadcast costs per
recipient when no handler touches the database. So the hop is skipped when it
can have no effect: ``close_if_unusable_or_obsolete`` does nothing to a wrapper
whose ``connection`` is None, and :class:`_OpenConnections` knows every wrapper
that may hold one. It watches from the app's ``ready()`` (or the first call, if
``channels`` is not an installed app): every wrapper that connects afterwards
(``connection_created``, sent in whatever thread connects), plus the
already-initialized wrappers of the thread that starts the watch.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, ParamSpec, TypeVar, overload

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

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


class _OpenConnections:
    """The database wrappers that may hold an open connection, once watching has started.

    Read on every consumer message, so reads take no lock: writers (under the lock) replace
    the tuple of weak references, and a reader sees one whole tuple or the next.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # connection_created arrives from any thread
        self._refs: tuple[weakref.ref[BaseDatabaseWrapper], ...] = ()
        self.watching = False

    def watch(self) -> None:
        """Start (idempotently) in the calling thread: note its wrappers, then every new one."""
        with self._lock:
            self._add(connections.all(initialized_only=True))
            if not self.watching:
                connection_created.connect(self._created)  # weak: dies with the watch
                self.watching = True

    def stop(self) -> None:
        """Forget everything (tests); the next call closes and watches again."""
        with self._lock:
            connection_created.disconnect(self._created)
            self._refs = ()
            self.watching = False

    def _created(self, sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
        with self._lock:
            self._add([connection])

    def _add(self, wrappers: Iterable[BaseDatabaseWrapper]) -> None:
        alive = [wrapper for ref in self._refs if (wrapper := ref()) is not None]
        alive += [wrapper for wrapper in wrappers if all(wrapper is not a for a in alive)]
        self._refs = tuple(weakref.ref(wrapper) for wrapper in alive)

    def none_open(self) -> bool:
        """True only if closing old connections, in any thread, would do nothing now."""
        if not self.watching:
            return False
        for ref in self._refs:
            wrapper = ref()
            # A collected wrapper's connection is gone with it.
            if wrapper is not None and wrapper.connection is not None:
                return False
        return True


open_connections = _OpenConnections()


def _close_and_watch() -> None:
    close_old_connections()
    open_connections.watch()


async def aclose_old_connections() -> None:
    """Close stale database connections, from async code.

    Takes no thread hop while no database connection is open anywhere.
    """
    if open_connections.none_open():
        return
    await sync_to_async(_close_and_watch)()
