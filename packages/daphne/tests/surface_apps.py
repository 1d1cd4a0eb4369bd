"""Applications for test_upstream_surface.py (imported by path in server processes)."""

from __future__ import annotations

import json


async def _reply(send, payload):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def _websocket(receive, send):
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": json.dumps(sorted(message))})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await _websocket(receive, send)
        return
    path = scope["path"]
    if path == "/messages":
        sizes = []
        while True:
            message = await receive()
            sizes.append([len(message["body"]), message["more_body"]])
            if not message["more_body"]:
                break
        await _reply(send, sizes)
    elif path == "/addresses":
        await _reply(
            send,
            {
                "client": [type(scope["client"]).__name__, scope["client"]],
                "server": [type(scope["server"]).__name__, scope["server"]],
            },
        )
    elif path in ("/str-name", "/bool-value"):
        bad = [["foo", b"bar"]] if path == "/str-name" else [[b"foo", True]]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": bad})
        except Exception as exc:
            await _reply(send, [type(exc).__name__, isinstance(exc, ValueError), str(exc)])
