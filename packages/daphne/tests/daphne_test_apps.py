"""ASGI applications the tests serve through real daphne processes (imported by path).

Paths select behaviours; ``?record=<file>`` makes an app append what it observed (one JSON
line per event) so tests can assert on the application's side of an exchange.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs


def _query(scope):
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}


def _record(scope, event):
    path = _query(scope).get("record")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(event) + "\n")


async def _respond(send, status=200, body=b"", headers=()):
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


def _scope_json(scope):
    return json.dumps(
        {
            "type": scope["type"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "root_path": scope["root_path"],
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "client": scope["client"],
            "server": scope["server"],
            "scheme": scope["scheme"],
            "http_version": scope.get("http_version", "1.1"),  # optional in a WebSocket scope
            "method": scope.get("method"),
            "state": scope.get("state"),
            "subprotocols": scope.get("subprotocols"),
        }
    ).encode()


async def _lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scope["state"]["started"] = "yes"
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _http(scope, receive, send):
    path = scope["path"]
    if path == "/echo":
        chunks = []
        while True:
            message = await receive()
            chunks.append(message["body"])
            if not message["more_body"]:
                break
        body = b"".join(chunks)
        await _respond(send, 200, body, [(b"x-chunks", str(len(chunks)).encode())])
    elif path == "/loop":
        loop = type(asyncio.get_running_loop())
        await _respond(send, 200, f"{loop.__module__}.{loop.__qualname__}".encode())
    elif path.startswith("/scope"):
        await _respond(send, 200, _scope_json(scope), [(b"content-type", b"application/json")])
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/length":
        await _respond(send, 200, b"12345", [(b"content-length", b"5")])
    elif path == "/no-read":
        _record(scope, {"event": "started"})
        await asyncio.sleep(3600)
    elif path == "/sleep":
        await asyncio.sleep(3600)
    elif path == "/error":
        raise RuntimeError("deliberate failure in /error")
    elif path == "/error-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("deliberate failure after start")
    elif path == "/noresponse":
        return
    elif path == "/bad-header":
        await _respond(send, 200, b"", [(b"x-evil", b"a\r\nset-cookie: x")])
    elif path == "/wait-disconnect":
        _record(scope, {"event": "started"})
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                _record(scope, {"event": "disconnect"})
                return
    elif path == "/respond-then-read":
        # Answers after the first body message, then records the rest of the body.
        message = await receive()
        await _respond(send, 200, b"answered")
        while True:
            _record(scope, {"type": message["type"], "body": message.get("body", b"").decode()})
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return
            message = await receive()
    elif path == "/flood":
        total = int(_query(scope).get("mb", "64")) * 1024 * 1024
        chunk = b"x" * 65536
        sent = 0
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while sent < total:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += len(chunk)
            _record(scope, {"sent": sent})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/slow-response":
        _record(scope, {"event": "started"})
        await asyncio.sleep(float(_query(scope).get("s", "0.5")))
        await _respond(send, 200, b"finished")
    else:
        await _respond(send, 200, b"Hello, world!", [(b"content-type", b"text/plain")])


async def _websocket(scope, receive, send):
    path = scope["path"]
    message = await receive()
    assert message["type"] == "websocket.connect"
    _record(scope, {"event": "connect"})
    if path == "/ws/reject":
        await send({"type": "websocket.close"})
        return
    if path == "/ws/deny":
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"www-authenticate", b"Bearer"), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"token ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"required"})
        return
    if path == "/ws/error-before":
        raise RuntimeError("deliberate failure before accept")
    if path == "/ws/slow-accept":
        await asyncio.sleep(0.3)
    if path == "/ws/never":
        await asyncio.sleep(3600)
    if path == "/ws/bad-subprotocol":
        await send({"type": "websocket.accept", "subprotocol": "never-offered"})
        return
    accept = {"type": "websocket.accept"}
    if path == "/ws/headers":
        accept["headers"] = [(b"x-accepted", b"yes"), (b"set-cookie", b"a=1")]
        if scope["subprotocols"]:
            accept["subprotocol"] = scope["subprotocols"][-1]
    await send(accept)
    if path == "/ws/close":
        await send({"type": "websocket.close", "code": 4001, "reason": "bye now"})
    if path == "/ws/error":
        raise RuntimeError("deliberate failure after accept")
    if path == "/ws/bad-close":
        await send({"type": "websocket.close", "code": 999})
    if path == "/ws/long-reason":
        await send({"type": "websocket.close", "code": 4002, "reason": "\u00e9" * 100})
    if path == "/ws/bad-send":
        await send({"type": "websocket.send", "text": "a", "bytes": b"b"})
    if path == "/ws/scope":
        await send({"type": "websocket.send", "text": _scope_json(scope).decode()})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            _record(
                scope,
                {"event": "disconnect", "code": message["code"], "reason": message.get("reason")},
            )
            return
        if path == "/ws/flood":
            for _ in range(int(message["text"])):
                await send({"type": "websocket.send", "bytes": b"x" * 65536})
                _record(scope, {"event": "sent"})
            continue
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)
    elif scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)


async def no_lifespan_app(scope, receive, send):
    assert scope["type"] in ("http", "websocket"), "this app rejects lifespan"
    await app(scope, receive, send)


async def failing_startup_app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
        return
    await app(scope, receive, send)


async def recording_app(scope, receive, send):
    """Like ``app`` but records lifespan events to the file named by DAPHNE_TEST_RECORD."""
    import os

    if scope["type"] == "lifespan":
        path = os.environ["DAPHNE_TEST_RECORD"]
        while True:
            message = await receive()
            with open(path, "a") as f:
                f.write(json.dumps({"event": message["type"]}) + "\n")
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await app(scope, receive, send)


async def gc_app(scope, receive, send):
    """``app`` plus ``/gc``: collect cyclic garbage now and answer how many objects it freed.

    The first call also turns automatic collection off, so the next call counts everything
    that connections left behind in reference cycles since then. ``tasks`` counts the
    application instances (asyncio tasks) still alive, finished or not.
    """
    if scope["type"] == "http" and scope["path"] == "/gc":
        import collections
        import gc
        import logging

        # A forked server inherits pytest's log capturing, which keeps every record, and with
        # it every logged exception's frames; log to stderr like a production process instead.
        logging.root.handlers[:] = [logging.StreamHandler()]
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what was collected, to name it
        collected = gc.collect()
        kinds = collections.Counter(type(o).__qualname__ for o in gc.garbage)
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()  # now really free them (SAVEALL only kept them for the report)
        tasks = sum(isinstance(o, asyncio.Task) for o in gc.get_objects())
        report = {"collected": collected, "kinds": dict(kinds.most_common(12)), "tasks": tasks}
        await _respond(send, body=json.dumps(report).encode())
        return
    await app(scope, receive, send)
