"""A base class for servers that run many ASGI application instances."""

from ._server import StatelessServer

__all__ = ["StatelessServer"]
