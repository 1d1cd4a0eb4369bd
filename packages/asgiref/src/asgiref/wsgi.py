"""Serve a WSGI application as an ASGI application."""

from ._wsgi import ClientDisconnected, WsgiToAsgi, WsgiToAsgiInstance

__all__ = ["ClientDisconnected", "WsgiToAsgi", "WsgiToAsgiInstance"]
