"""Detecting and marking coroutine functions, portable across Python 3.10 to 3.13+.

Python 3.12 added :func:`inspect.markcoroutinefunction` and deprecated
``asyncio.iscoroutinefunction`` (removed in 3.16). Older versions only honour the
``asyncio.coroutines._is_coroutine`` marker. Both markers are set and checked here so that
objects marked by this module are recognised by ``inspect`` and ``asyncio`` alike.
"""

from __future__ import annotations

import asyncio.coroutines
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "is_async_callable",
    "iscoroutinefunction",
    "markcoroutinefunction",
    "unmark_coroutine_function",
]

_F = TypeVar("_F", bound=Callable[..., Any])

# The pre-3.12 marker; absent on 3.16+, where inspect's own marker is the only one.
_LEGACY_MARKER: object = getattr(asyncio.coroutines, "_is_coroutine", None)
_inspect_mark = getattr(inspect, "markcoroutinefunction", None)


def _unwrap(func: Any) -> Any:
    while True:
        if inspect.ismethod(func):
            func = func.__func__
        elif isinstance(func, (functools.partial, functools.partialmethod)):
            func = func.func
        else:
            return func


def iscoroutinefunction(func: object) -> bool:
    """Return True for ``async def`` functions and callables marked as coroutine functions.

    Methods and :func:`functools.partial` objects are unwrapped first, so a partial of an
    ``async def`` function counts, as do :class:`asgiref.sync.SyncToAsync` instances.
    """
    if inspect.iscoroutinefunction(func):
        return True
    target = _unwrap(func)
    if inspect.iscoroutinefunction(target):
        return True
    return _LEGACY_MARKER is not None and getattr(target, "_is_coroutine", None) is _LEGACY_MARKER


def markcoroutinefunction(func: _F) -> _F:
    """Mark ``func`` so that :func:`iscoroutinefunction` (and ``inspect``'s) returns True.

    Use it on sync callables that return a coroutine when called. Returns ``func`` itself.
    """
    if _inspect_mark is not None:
        func = _inspect_mark(func)
    if _LEGACY_MARKER is not None:
        func._is_coroutine = _LEGACY_MARKER  # type: ignore[attr-defined]
    return func


def is_async_callable(obj: object) -> bool:
    """True for coroutine functions and for objects whose class has an async ``__call__``."""
    if iscoroutinefunction(obj):
        return True
    call = type(obj).__call__ if callable(obj) else None
    return call is not None and iscoroutinefunction(call)


def unmark_coroutine_function(obj: object) -> None:
    """Drop coroutine markers that ``functools.update_wrapper`` copied onto a sync wrapper.

    ``update_wrapper`` copies the wrapped object's ``__dict__``; wrapping a marked object
    (a ``SyncToAsync``) in a sync one (an ``AsyncToSync``) would otherwise make the sync
    wrapper look like a coroutine function.
    """
    attributes = vars(obj)
    attributes.pop("_is_coroutine", None)
    attributes.pop("_is_coroutine_marker", None)
