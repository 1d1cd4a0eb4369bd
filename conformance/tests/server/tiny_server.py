"""A tiny asyncio HTTP/1.1 + WebSocket ASGI server with switchable bugs, for self-tests.

    python tiny_server.py --port PORT --app module:attr [--bug NAME ...]

Without bugs it is correct for every check the self-tests select; each bug breaks
exactly one rule, the way real servers have broken it:

- ``upgrade-on-post``: a POST with WebSocket headers is switched to WebSocket;
- ``ignore-cl-conflict``: Content-Length wins over Transfer-Encoding, the connection stays open;
- ``leak-trailers``: trailer fields are kept, unbounded, for the life of the process;
- ``no-host-check``: HTTP/1.1 requests without Host, or with two, are served;
- ``drop-last-on-half-close``: the request read last before end-of-input is not answered;
- ``pass-header-crlf``: header values from the app are written as they are (CR/LF included);
- ``skip-utf8`` / ``close-1000``: see tiny_websocket.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from typing import Any
from urllib.parse import unquote

from tiny_websocket import Session

LEAKED: list[bytes] = []
TRAILER_LIMIT = 64 * 1024


class Refuse(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def parse_head(head: bytes) -> tuple[str, str, str, list[tuple[bytes, bytes]]]:
    lines = head[:-4].split(b"\r\n")
    method, target, version = lines[0].decode("latin-1").split(" ")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise Refuse(400)
        headers.append((name.lower(), value.strip()))
    return method, target, version, headers


def check_head(version: str, headers: list[tuple[bytes, bytes]], bugs: set[str]) -> None:
    hosts = [value for name, value in headers if name == b"host"]
    if "no-host-check" not in bugs and version == "HTTP/1.1" and len(hosts) != 1:
        raise Refuse(400)
    names = [name for name, _ in headers]
    conflict = b"transfer-encoding" in names and b"content-length" in names
    if conflict and "ignore-cl-conflict" not in bugs:
        raise Refuse(400)


async def read_body(reader: Any, headers: list[tuple[bytes, bytes]], bugs: set[str]) -> bytes:
    fields = dict(headers)
    if b"content-length" in fields and (
        "ignore-cl-conflict" in bugs or b"transfer-encoding" not in fields
    ):
        return await reader.readexactly(int(fields[b"content-length"]))
    if fields.get(b"transfer-encoding") != b"chunked":
        return b""
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        body += (await reader.readexactly(size + 2))[:-2]
    trailers = b""
    while not trailers.endswith(b"\r\n\r\n") and trailers != b"\r\n":
        data = await reader.read(65536)
        if not data:
            raise asyncio.IncompleteReadError(trailers, None)
        if "leak-trailers" in bugs:
            LEAKED.append(data)
        trailers += data
        if len(trailers) > TRAILER_LIMIT and "leak-trailers" not in bugs:
            raise Refuse(431)
        if "leak-trailers" in bugs:
            trailers = trailers[-4:]
    return body


async def run_http(app: Any, scope: dict[str, Any], body: bytes, bugs: set[str]) -> bytes:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception:
        return b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"
    start = sent[0]
    values = b"".join(value for _, value in start.get("headers", []))
    if (b"\r" in values or b"\n" in values) and "pass-header-crlf" not in bugs:
        return b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"
    content = b"".join(m.get("body", b"") for m in sent[1:])
    head = f"HTTP/1.1 {start['status']} OK\r\n".encode()
    head += b"".join(k + b": " + v + b"\r\n" for k, v in start.get("headers", []))
    return head + f"content-length: {len(content)}\r\n\r\n".encode() + content


async def ends_input(reader: Any) -> bool:
    """True when this request was the last before end-of-input (the buggy server's test)."""
    if reader._buffer:
        return False
    await asyncio.sleep(0.2)  # the bug needs to see the client's FIN; fine in a broken server
    return bool(reader.at_eof())


def scope_of(kind: str, method: str, target: str, headers: Any, writer: Any) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "ws" if kind == "websocket" else "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": writer.get_extra_info("peername")[:2],
        "server": writer.get_extra_info("sockname")[:2],
        "subprotocols": [],
    }


async def serve(app: Any, bugs: set[str], reader: Any, writer: Any) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, version, headers = parse_head(head)
            check_head(version, headers, bugs)
            fields = dict(headers)
            if fields.get(b"upgrade", b"").lower() == b"websocket" and (
                method == "GET" or "upgrade-on-post" in bugs
            ):
                scope = scope_of("websocket", method, target, headers, writer)
                session = Session(reader, writer, scope, bugs)
                await session.run(app, fields.get(b"sec-websocket-key", b"").decode())
                return
            body = await read_body(reader, headers, bugs)
            if "drop-last-on-half-close" in bugs and await ends_input(reader):
                break
            scope = scope_of("http", method, target, headers, writer)
            writer.write(await run_http(app, scope, body, bugs))
            await writer.drain()
            if fields.get(b"connection", b"").lower() == b"close":
                break
    except Refuse as refusal:
        writer.write(f"HTTP/1.1 {refusal.status} Refused\r\ncontent-length: 0\r\n\r\n".encode())
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--bug", action="append", default=[])
    args = parser.parse_args()
    module, _, attr = args.app.partition(":")
    app = getattr(importlib.import_module(module), attr)
    bugs = set(args.bug)
    server = await asyncio.start_server(
        lambda r, w: serve(app, bugs, r, w), "127.0.0.1", args.port, limit=1 << 20
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
