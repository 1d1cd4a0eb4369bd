"""Base class for ASGI middleware that adds to the connection scope."""

from ._middleware import BaseMiddleware

__all__ = ["BaseMiddleware"]
