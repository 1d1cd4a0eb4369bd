"""The kit's HTTP application: one behaviour per path, chosen by the check.

Every response carries ``x-kit-path`` (the path the app saw), so a check can tell
which request a response belongs to (a smuggled request is recognised by its path).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from typing import Any

from ._app_common import Receive, Scope, Send, events, query, record, scope_json

_FILE_BODY = b"pathsend and zerocopy body from asgi-conformance\n" * 20


async def _start(send: Send, scope: Scope, status: int = 200, **kw: Any) -> None:
    headers = [(b"x-kit-path", scope["path"].encode("utf-8", "replace")), *kw.pop("headers", [])]
    await send({"type": "http.response.start", "status": status, "headers": headers, **kw})


async def _respond(send: Send, scope: Scope, body: bytes, status: int = 200) -> None:
    await _start(send, scope, status)
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _read_body(receive: Receive) -> tuple[bytes, list[list[Any]], bool]:
    """The whole body, the (size, more_body) of each message, and whether the client left."""
    body, chunks = bytearray(), list[list[Any]]()
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            return bytes(body), chunks, True
        body += message.get("body", b"")
        chunks.append([len(message.get("body", b"")), bool(message.get("more_body", False))])
        if not message.get("more_body", False):
            return bytes(body), chunks, False


async def _stream(scope: Scope, send: Send) -> None:
    params = query(scope)
    count, size = int(params.get("chunks", "3")), int(params.get("size", "5"))
    await _start(send, scope)
    for index in range(count):
        piece = bytes([97 + index % 26]) * size
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _forever(scope: Scope, receive: Receive, send: Send) -> None:
    """Stream until the client leaves; record how the app learned of it."""
    key = query(scope).get("key", "")

    async def watch() -> None:
        message: Any = await receive()
        while message["type"] != "http.disconnect":
            message = await receive()
        record(key, "http.disconnect")

    watcher = asyncio.ensure_future(watch())
    await _start(send, scope)
    try:
        for _ in range(6000):  # at most about a minute
            await send({"type": "http.response.body", "body": b"x" * 16384, "more_body": True})
            await asyncio.sleep(0.01)
            if watcher.done():
                break
    except Exception as exc:
        record(key, f"send raised {type(exc).__name__}")
    try:
        await asyncio.wait_for(watcher, 10)
    except asyncio.TimeoutError:
        record(key, "no http.disconnect within 10 s")


async def _files(scope: Scope, send: Send, kind: str) -> None:
    extensions = scope.get("extensions") or {}
    name = f"http.response.{kind}"
    if name not in extensions:
        await _respond(send, scope, f"no {name} extension in scope".encode(), 501)
        return
    directory = os.environ.get("ASGI_CONFORMANCE_DIR") or tempfile.gettempdir()
    path = os.path.join(directory, f"asgi-conformance-{os.getpid()}.txt")
    with open(path, "wb") as handle:  # noqa: ASYNC230 (a tiny file, once)
        handle.write(_FILE_BODY)
    await _start(send, scope, headers=[(b"content-length", str(len(_FILE_BODY)).encode())])
    if kind == "pathsend":
        await send({"type": "http.response.pathsend", "path": path})
        return
    with open(path, "rb") as handle:  # noqa: ASYNC230
        await send({"type": "http.response.zerocopy", "file": handle})


async def _trailers(scope: Scope, send: Send) -> None:
    if "http.response.trailers" not in (scope.get("extensions") or {}):
        await _respond(send, scope, b"no http.response.trailers extension in scope", 501)
        return
    await _start(send, scope, trailers=True)
    await send({"type": "http.response.body", "body": b"body before trailers", "more_body": False})
    trailers = [(b"x-kit-trailer", b"done")]
    await send({"type": "http.response.trailers", "headers": trailers, "more_trailers": False})


async def http_app(scope: Scope, receive: Receive, send: Send) -> None:
    path, params = scope["path"], query(scope)
    if path == "/forever":
        await _forever(scope, receive, send)
        return
    body, chunks, left = await _read_body(receive)
    if left:
        record(params.get("key", ""), "http.disconnect")
        return
    if path.startswith("/scope"):
        await _respond(send, scope, scope_json(scope, chunks=chunks, body_size=len(body)))
    elif path == "/echo":
        await _respond(send, scope, body)
    elif path == "/stream":
        await _stream(scope, send)
    elif path == "/status":
        code = int(params.get("code", "200"))
        await _respond(send, scope, b"" if code in (204, 304) else b"status", code)
    elif path == "/raise-before":
        raise RuntimeError("Traceback-marker: the kit's app fails before the response")
    elif path == "/raise-after":
        await _start(send, scope)
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("Traceback-marker: the kit's app fails after the response start")
    elif path in ("/pathsend", "/zerocopy"):
        await _files(scope, send, path[1:])
    elif path == "/trailers":
        await _trailers(scope, send)
    elif path == "/inject":
        await _start(send, scope, headers=[(b"x-inject", b"a\r\nx-evil: 1\r\n\r\nbody")])
        await send({"type": "http.response.body", "body": b"safe", "more_body": False})
    elif path == "/events":
        await _respond(send, scope, json.dumps(events(params.get("key", ""))).encode())
    else:
        await _respond(send, scope, b"ok")


__all__ = ["http_app"]
