"""Upstream's HTTP protocol module: ``HTTPFactory`` and ``WebRequest``.

``HTTPFactory(server)`` is the factory the server listens with (HTTP/1.1, with WebSocket
upgrades and HTTP/2 over TLS). ``WebRequest`` is kept for code that imports or subclasses it;
this server parses requests itself and does not use it.
"""

from ._legacy import WebRequest
from ._server import HTTPFactory

__all__ = ["HTTPFactory", "WebRequest"]
