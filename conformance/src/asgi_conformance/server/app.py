"""The ASGI applications the kit starts inside the server under test.

Pass their import paths to your server through the ``{app}`` placeholder:

- ``asgi_conformance.server.app:application``: HTTP, WebSocket and lifespan behaviours
  chosen by the request path (see ``_app_http`` and ``_app_ws``);
- ``asgi_conformance.server.app:failing_startup``: lifespan startup fails with a message;
- ``asgi_conformance.server.app:no_lifespan``: raises on the lifespan scope, as an app
  without lifespan support does; HTTP and WebSocket behave as ``application``.

On lifespan shutdown ``application`` writes ``shutdown-complete`` into the directory
named by ``ASGI_CONFORMANCE_DIR`` (the kit sets it), so a check can see it happened
after the server process has exited.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._app_common import Receive, Send, record
from ._app_http import http_app
from ._app_ws import websocket_app

STARTUP_FAILURE = "the kit's application refuses to start on purpose"


async def _lifespan(scope: Any, receive: Receive, send: Send) -> None:
    while True:
        message: Any = await receive()
        if message["type"] == "lifespan.startup":
            record("lifespan", "startup")
            if isinstance(scope.get("state"), dict):
                scope["state"]["kit"] = "set during lifespan startup"
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            directory = os.environ.get("ASGI_CONFORMANCE_DIR")
            if directory:
                Path(directory, "shutdown-complete").write_text("ok")  # noqa: ASYNC240 (tiny, once)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: Any, receive: Receive, send: Send) -> None:
    """The kit's main application."""
    if scope["type"] == "http":
        await http_app(scope, receive, send)
    elif scope["type"] == "websocket":
        await websocket_app(scope, receive, send)
    elif scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)


async def failing_startup(scope: Any, receive: Receive, send: Send) -> None:
    """Fails lifespan startup with ``STARTUP_FAILURE``; serves like ``application`` otherwise."""
    if scope["type"] != "lifespan":
        await application(scope, receive, send)
        return
    message: Any = await receive()
    if message["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.failed", "message": STARTUP_FAILURE})


async def no_lifespan(scope: Any, receive: Receive, send: Send) -> None:
    """An application without lifespan support: it raises on the lifespan scope."""
    if scope["type"] == "lifespan":
        raise RuntimeError("this application does not support lifespan")
    await application(scope, receive, send)


APP = "asgi_conformance.server.app:application"
FAILING_STARTUP_APP = "asgi_conformance.server.app:failing_startup"
NO_LIFESPAN_APP = "asgi_conformance.server.app:no_lifespan"

__all__ = [
    "APP",
    "FAILING_STARTUP_APP",
    "NO_LIFESPAN_APP",
    "STARTUP_FAILURE",
    "application",
    "failing_startup",
    "no_lifespan",
]
