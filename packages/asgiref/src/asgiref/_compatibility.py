"""Adapting ASGI 2 ("double callable") applications to the ASGI 3 single-callable form.

An ASGI 2 application is ``application(scope) -> instance`` followed by
``await instance(receive, send)``; ASGI 3 is ``await application(scope, receive, send)``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._coroutines import is_async_callable

__all__ = ["double_to_single_callable", "guarantee_single_callable", "is_double_callable"]


def is_double_callable(application: Any) -> bool:
    """Guess whether ``application`` is an ASGI 2 (double-callable) application.

    Explicit ``_asgi_single_callable`` / ``_asgi_double_callable`` attributes win; classes
    are ASGI 2 (instantiating one is the first call); coroutine functions and objects with an
    async ``__call__`` are ASGI 3; anything else is assumed to be ASGI 2.
    """
    if getattr(application, "_asgi_single_callable", False):
        return False
    if getattr(application, "_asgi_double_callable", False):
        return True
    if inspect.isclass(application):
        return True
    return not is_async_callable(application)


def double_to_single_callable(application: Any) -> Any:
    """Wrap an ASGI 2 application so that it can be called the ASGI 3 way."""

    async def new_application(scope: Any, receive: Any, send: Any) -> Any:
        instance = application(scope)
        return await instance(receive, send)

    new_application._asgi_single_callable = True  # type: ignore[attr-defined]
    return new_application


def guarantee_single_callable(application: Any) -> Any:
    """Return ``application`` as an ASGI 3 single callable, wrapping ASGI 2 ones."""
    if is_double_callable(application):
        return double_to_single_callable(application)
    return application
