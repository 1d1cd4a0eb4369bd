"""Daphne: an HTTP/1.1, HTTP/2 and WebSocket server for ASGI applications."""

__version__ = "4.3.0"

__all__ = ["__version__"]
