"""The kit's WebSocket application: one behaviour per path, chosen by the check.

``/ws/echo`` echoes text as text and bytes as bytes; with ``?pick=NAME`` it accepts
with that subprotocol when the client offered it. With ``?key=K`` the disconnect code
(and reason) the app receives is recorded for ``/events?key=K``.
"""

from __future__ import annotations

from typing import Any

from ._app_common import Receive, Scope, Send, query, record, scope_json


async def _echo(key: str, receive: Receive, send: Send) -> None:
    while True:
        message: Any = await receive()
        if message["type"] == "websocket.disconnect":
            record(key, f"disconnect {message.get('code')} {message.get('reason', '')!s}".strip())
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"], "bytes": None})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes"), "text": None})


async def _send_before_accept(key: str, send: Send) -> None:
    try:
        await send({"type": "websocket.send", "text": "sent before accept", "bytes": None})
    except Exception as exc:
        record(key, f"send raised {type(exc).__name__}")
        raise
    record(key, "send returned")


async def websocket_app(scope: Scope, receive: Receive, send: Send) -> None:
    params = query(scope)
    key = params.get("key", "")
    connect: Any = await receive()
    if connect["type"] != "websocket.connect":
        record(key, f"first message was {connect['type']}")
        return
    path = scope["path"]
    if path == "/ws/exit":
        return  # neither accept nor close: the server decides
    if path == "/ws/reject":
        await send({"type": "websocket.close", "code": 1000, "reason": ""})
        return
    if path == "/ws/deny":
        start = {"type": "websocket.http.response.start", "status": 451, "headers": []}
        body = {"type": "websocket.http.response.body", "body": b"denied by the kit"}
        await send(start)
        await send(body)
        return
    if path == "/ws/send-before-accept":
        await _send_before_accept(key, send)
    offered = scope.get("subprotocols") or []
    chosen = params.get("pick") if params.get("pick") in offered else None
    headers = [(b"x-kit", b"accepted")] if path == "/ws/headers" else []
    await send({"type": "websocket.accept", "subprotocol": chosen, "headers": headers})
    if path == "/ws/close":
        code = int(params.get("code", "1000"))
        await send({"type": "websocket.close", "code": code, "reason": params.get("reason", "")})
        return
    if path == "/ws/raise":
        raise RuntimeError("Traceback-marker: the kit's app fails after accepting")
    if path == "/ws/scope":
        await send({"type": "websocket.send", "text": scope_json(scope).decode(), "bytes": None})
    await _echo(key, receive, send)


__all__ = ["websocket_app"]
