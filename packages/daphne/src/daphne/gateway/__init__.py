"""Gateway mode: daphne holds the sockets, worker processes run the application.

``GatewayApplication`` is an ASGI application that daphne serves like any
other; it forwards each connection over a channel layer to a
``GatewayWorker``, which runs the real application. Workers can restart
(SIGTERM: WebSockets are handed back and resumed on another worker) or
crash (resumed after ``stale_after`` seconds) without closing a client
socket. See docs/deployment.md.

Scope keys a worker's application sees (``scope["extensions"]``):

* ``"daphne.gateway"``: ``{"connection": id, "channel_name": name}``, the
  connection's stable channel name (channels' consumers receive on it, so
  group membership survives a move);
* ``"resumed"``: ``{"reason": "redeploy" | "crash"}``, only when the
  connection was moved to this worker: the socket is already open, the
  ``websocket.accept`` the application sends is not repeated to the client.

A handed-back instance receives ``{"type": "websocket.disconnect", "code":
1012, "handback": True}``.
"""

from ._gateway import GatewayApplication
from ._wire import CONNECTION_EXTENSION, GATEWAY_GROUP, RESUMED_EXTENSION
from ._worker import GatewayWorker

__all__ = [
    "CONNECTION_EXTENSION",
    "GATEWAY_GROUP",
    "RESUMED_EXTENSION",
    "GatewayApplication",
    "GatewayWorker",
]
