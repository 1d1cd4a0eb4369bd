"""Clean-up that runs when code closes its own event loop without shutting it down.

``asyncio.run`` and ``loop.shutdown_asyncgens()`` finalize a layer's per-loop state through an
async generator (see ``_loopstate``). Code that drives a loop by hand does not always do that::

    loop = asyncio.new_event_loop()
    loop.run_until_complete(layer.receive(channel))
    loop.close()

Its background tasks (readers, pub/sub subscribers) would then be destroyed still pending, and
its Redis connections dropped without a goodbye. channels_redis closes its layers when such a
loop is closed, and code written for it relies on that, so ``loop.close`` of a loop the layer
has state on first runs the registered clean-ups to completion on that loop. This is the one
place where the layer wraps something it does not own: only that loop instance's ``close``,
once, however many layers use it, and each clean-up unregisters itself when it has run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["forget_before_close", "run_before_close"]

logger = logging.getLogger("asgi_redis")

Cleanup = Callable[[], Awaitable[None]]
_HOOKS = "_asgi_redis_before_close"


def run_before_close(loop: asyncio.AbstractEventLoop, key: object, cleanup: Cleanup) -> None:
    """Have *cleanup* run on *loop* when it is closed while stopped and still open."""
    hooks = _hooks_of(loop)
    if hooks is None:
        hooks = _wrap_close(loop)
    if hooks is not None:
        hooks[id(key)] = cleanup


def forget_before_close(loop: asyncio.AbstractEventLoop, key: object) -> None:
    """Unregister what ``run_before_close`` registered for *key* (no-op if nothing was)."""
    hooks = _hooks_of(loop)
    if hooks is not None:
        hooks.pop(id(key), None)


def _hooks_of(loop: asyncio.AbstractEventLoop) -> dict[int, Cleanup] | None:
    hooks: dict[int, Cleanup] | None = getattr(loop.close, _HOOKS, None)
    return hooks


def _wrap_close(loop: asyncio.AbstractEventLoop) -> dict[int, Cleanup] | None:
    original = loop.close
    hooks: dict[int, Cleanup] = {}

    def close() -> None:
        # A running loop refuses to close, and a closed one has nothing left to run.
        if hooks and not loop.is_running() and not loop.is_closed():
            pending = list(hooks.values())
            hooks.clear()
            loop.run_until_complete(_run_all(pending))
        original()

    setattr(close, _HOOKS, hooks)
    try:
        loop.close = close  # type: ignore[method-assign]
    except AttributeError:  # a loop type without instance attributes: asyncgens only
        return None
    return hooks


async def _run_all(cleanups: list[Cleanup]) -> None:
    results = await asyncio.gather(*(cleanup() for cleanup in cleanups), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            logger.debug("Closing a layer's state with its loop failed: %r", result)
