"""Upstream's WebSocket protocol module: ``WebSocketFactory`` and ``WebSocketProtocol``.

``WebSocketFactory(server, **autobahn_options)`` is the Autobahn factory the server uses, and
``WebSocketProtocol`` the Autobahn protocol it builds. Here Autobahn only frames a socket once
the application has accepted it; the handshake and the ASGI messages are handled by the HTTP
connection (see the package README).
"""

from ._autobahn import WebSocketFactory
from ._autobahn import _AutobahnSide as WebSocketProtocol

__all__ = ["WebSocketFactory", "WebSocketProtocol"]
