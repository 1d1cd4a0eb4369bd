"""Bridging sync and async code: ``async_to_sync``, ``sync_to_async`` and friends.

Thread-sensitive ``sync_to_async`` calls run in the enclosing
:class:`ThreadSensitiveContext`'s thread; without one, in the thread blocked in the outermost
enclosing ``async_to_sync``; otherwise in one process-wide thread. Context variables flow
both ways across every boundary.
"""

from ._async_to_sync import AsyncSingleThreadContext, AsyncToSync, async_to_sync
from ._coroutines import iscoroutinefunction, markcoroutinefunction
from ._sync_to_async import SyncToAsync, sync_to_async
from ._thread_sensitive import ThreadSensitiveContext

__all__ = [
    "AsyncSingleThreadContext",
    "AsyncToSync",
    "SyncToAsync",
    "ThreadSensitiveContext",
    "async_to_sync",
    "iscoroutinefunction",
    "markcoroutinefunction",
    "sync_to_async",
]
