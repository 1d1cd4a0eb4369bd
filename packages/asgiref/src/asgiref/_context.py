"""Carrying context-variable changes back across a sync/async boundary.

A function run in another thread (or task) runs in a *copy* of the caller's context, so
its ``ContextVar.set`` calls are invisible to the caller. After it returns, the differences
are replayed into the caller's context, which makes the boundary transparent: the caller
sees what the callee set, exactly as with a plain call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._storage import ThreadBoundStorage, rehome

_R = TypeVar("_R")

__all__ = [
    "INTERNAL_VARS",
    "await_handling",
    "copy_bound_self",
    "internal_var",
    "restore_context",
    "run_handling",
]

# Variables that describe *where* code runs (the executor of the enclosing async_to_sync,
# the task scope...). They are inherited downwards but must never leak back up to a caller,
# or the caller would believe it runs inside the callee's machinery.
INTERNAL_VARS: set[contextvars.ContextVar[Any]] = set()

_MISSING = object()


def internal_var(name: str) -> contextvars.ContextVar[Any]:
    """Create a context variable that :func:`restore_context` never copies back."""
    var: contextvars.ContextVar[Any] = contextvars.ContextVar(name)
    INTERNAL_VARS.add(var)
    return var


def restore_context(context: contextvars.Context) -> None:
    """Set, in the current context, every variable whose value differs in ``context``.

    ``Local`` storage is rehomed to the current thread on the way (see ``_storage``);
    thread-bound storage stays behind.

    Values are compared by identity, not ``==``: equality may be expensive, may raise, or may
    not return a bool (numpy arrays), and an equal-but-distinct object is still a change.
    """
    for var, value in context.items():
        if var in INTERNAL_VARS or type(value) is ThreadBoundStorage:
            continue
        value = rehome(value)
        if var.get(_MISSING) is not value:
            var.set(value)


def run_handling(
    handling: BaseException | None, func: Callable[..., _R], *args: Any, **kwargs: Any
) -> _R:
    """Call ``func`` as if from inside the ``except`` block that is handling ``handling``.

    Sync code reads the exception being handled with ``sys.exc_info()`` (Django's
    ``got_request_exception`` receivers do); the exception must stay visible on the other
    side of a thread or loop boundary, as it would be in a plain call.
    """
    if handling is None:
        return func(*args, **kwargs)
    saved = (handling.__traceback__, handling.__context__)
    try:
        raise handling
    except BaseException:
        # Raising prepended a frame and maybe chained a context: put the originals back.
        handling.__traceback__, handling.__context__ = saved
        return func(*args, **kwargs)


async def await_handling(
    handling: BaseException | None, func: Callable[..., Awaitable[_R]], *args: Any, **kwargs: Any
) -> _R:
    """Await ``func(...)`` as if from inside the ``except`` block handling ``handling``."""
    if handling is None:
        return await func(*args, **kwargs)
    saved = (handling.__traceback__, handling.__context__)
    try:
        raise handling
    except BaseException:
        handling.__traceback__, handling.__context__ = saved
        return await func(*args, **kwargs)


def copy_bound_self(source: object, target: object) -> None:
    """Give a wrapper of a bound method the method's ``__self__``, as asgiref 3.x does
    (Django reads ``wrapped.__self__`` to name the middleware in error messages)."""
    bound_self = getattr(source, "__self__", None)
    if bound_self is not None:
        target.__self__ = bound_self  # type: ignore[attr-defined]
