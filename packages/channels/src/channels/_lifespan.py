"""ASGI lifespan support: startup and shutdown hooks.

Route it as ``ProtocolTypeRouter({"lifespan": Lifespan(on_startup=[...]), ...})``.

Invariants:

* Startup hooks run in registration order; the first failure stops the rest
  and is reported as ``lifespan.startup.failed`` (the server then exits).
* Shutdown hooks run in reverse registration order (the last thing started
  is the first stopped); every hook runs even if an earlier one failed, and
  any failure is reported as ``lifespan.shutdown.failed``.
* Hooks may be sync (run in the thread-sensitive executor, so they can use
  the ORM) or async. A hook that takes one argument receives the lifespan
  ``state`` dict (shared with every connection's ``scope["state"]`` on
  servers that support it); a hook that takes none is called without it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction, sync_to_async

from ._types import Receive, Scope, Send

__all__ = ["Lifespan"]

logger = logging.getLogger("channels.lifespan")

Hook = Callable[..., Any]
H = TypeVar("H", bound=Hook)


def _wants_state(hook: Hook) -> bool:
    try:
        parameters = inspect.signature(hook).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 1 or any(p.kind is p.VAR_POSITIONAL for p in parameters)


async def _call(hook: Hook, state: dict[str, Any]) -> None:
    args = (state,) if _wants_state(hook) else ()
    if iscoroutinefunction(hook):
        await hook(*args)
    else:
        result = await sync_to_async(hook)(*args)
        if inspect.isawaitable(result):
            await result


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Lifespan:
    """An ASGI application for the ``lifespan`` scope, built from hooks."""

    def __init__(self, on_startup: Iterable[Hook] = (), on_shutdown: Iterable[Hook] = ()) -> None:
        self.startup_hooks: list[Hook] = list(on_startup)
        self.shutdown_hooks: list[Hook] = list(on_shutdown)
        for hook in [*self.startup_hooks, *self.shutdown_hooks]:
            if not callable(hook):
                raise TypeError(f"Lifespan hooks must be callables, got {hook!r}")

    def on_startup(self, hook: H) -> H:
        """Decorator: register *hook* to run at startup."""
        self.startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: H) -> H:
        """Decorator: register *hook* to run at shutdown."""
        self.shutdown_hooks.append(hook)
        return hook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "lifespan":
            raise ValueError(f"Lifespan handles 'lifespan' scopes, got {scope.get('type')!r}")
        state = scope.get("state")
        if not isinstance(state, dict):
            state = {}
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                error = await self._startup(state)
                if error is not None:
                    await send({"type": "lifespan.startup.failed", "message": error})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                error = await self._shutdown(state)
                if error is not None:
                    await send({"type": "lifespan.shutdown.failed", "message": error})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return
            else:
                raise ValueError(
                    f"Expected 'lifespan.startup' or 'lifespan.shutdown', got {message['type']!r}"
                )

    async def _startup(self, state: dict[str, Any]) -> str | None:
        for hook in self.startup_hooks:
            try:
                await _call(hook, state)
            except Exception as exc:
                logger.exception("Lifespan startup hook %r failed", hook)
                return _describe(exc)
        return None

    async def _shutdown(self, state: dict[str, Any]) -> str | None:
        errors: list[str] = []
        for hook in reversed(self.shutdown_hooks):
            try:
                await _call(hook, state)
            except Exception as exc:
                logger.exception("Lifespan shutdown hook %r failed", hook)
                errors.append(_describe(exc))
        return "; ".join(errors) if errors else None
