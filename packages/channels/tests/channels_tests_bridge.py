"""The ASGI app the browser test serves with a real daphne: pages, the bridge script, sockets.

``make_application`` is the picklable factory handed to ``daphne.testing.serve``.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import channels

JS_DIR = Path(channels.__file__).resolve().parent / "static" / "channels" / "js"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bridge</title>{loader}</head><body></body></html>
"""
CLASSIC = '<script src="/js/websocketbridge.js"></script>'
MODULE = """<script type="module">
import { WebSocketBridge } from "/js/websocketbridge.mjs";
window.moduleBridge = WebSocketBridge;
</script>"""

_connections = itertools.count(1)


def _consumers() -> dict[str, Any]:
    from channels.generic.multiplex import AsyncJsonWebsocketDemultiplexer
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    class Echo(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            self.number = next(_connections)
            await self.accept()

        async def receive_json(self, content: Any) -> None:
            if isinstance(content, dict) and content.get("cmd") == "close":
                await self.close(content.get("code", 4000))
                return
            await self.send_json({"echo": content, "connection": self.number})

    class Shout(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any) -> None:
            await self.send_json(str(content).upper())

    class Multi(AsyncJsonWebsocketDemultiplexer):
        applications: ClassVar[dict[str, Any]] = {
            "echo": Echo.as_asgi(),
            "shout": Shout.as_asgi(),
        }

    # /ws/dashboard/ is the URL the README's JavaScript example connects to.
    return {
        "/ws/echo/": Echo.as_asgi(),
        "/ws/multi/": Multi.as_asgi(),
        "/ws/dashboard/": Multi.as_asgi(),
    }


async def _respond(send: Any, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def make_application() -> Any:
    import django

    django.setup(set_prefix=False)
    sockets = _consumers()

    async def application(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket":
            if path not in sockets:
                await send({"type": "websocket.close", "code": 4404})
                return
            await sockets[path](scope, receive, send)
        elif scope["type"] == "http":
            await _serve_http(path, send)

    return application


async def _serve_http(path: str, send: Any) -> None:
    if path in ("/", "/module/"):
        loader = CLASSIC if path == "/" else MODULE
        page = PAGE.replace("{loader}", loader)
        await _respond(send, 200, "text/html; charset=utf-8", page.encode())
    elif path in ("/js/websocketbridge.js", "/js/websocketbridge.mjs"):
        body = (JS_DIR / path.rsplit("/", 1)[1]).read_bytes()
        await _respond(send, 200, "text/javascript; charset=utf-8", body)
    else:
        await _respond(send, 404, "text/plain", b"not found")
