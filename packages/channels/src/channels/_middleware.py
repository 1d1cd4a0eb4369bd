"""Base class for ASGI middleware that adds to the connection scope."""

from __future__ import annotations

from typing import Any

from ._types import ASGIApp, Receive, Scope, Send

__all__ = ["BaseMiddleware"]


class BaseMiddleware:
    """Middleware that hands the inner application a copy of the scope.

    Copying keeps the outer scope unchanged, so middleware instances can be
    nested and shared between connections.
    """

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        return await self.inner(dict(scope), receive, send)
