"""Routers that compose consumers into one ASGI application."""

from ._routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter, get_default_application

__all__ = ["ChannelNameRouter", "ProtocolTypeRouter", "URLRouter", "get_default_application"]
