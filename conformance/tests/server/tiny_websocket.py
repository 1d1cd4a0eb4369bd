"""The WebSocket half of the tiny test server: frames in, ASGI events out (RFC 6455).

Correct for what the self-tests select, with two switchable bugs: ``skip-utf8``
(invalid UTF-8 text reaches the app) and ``close-1000`` (every close is answered 1000).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
VALID_CODES = set(range(1000, 1004)) | set(range(1007, 1012)) | set(range(3000, 5000))


def frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        return bytes([0x80 | opcode, size]) + payload
    if size < 65536:
        return bytes([0x80 | opcode, 126]) + struct.pack("!H", size) + payload
    return bytes([0x80 | opcode, 127]) + struct.pack("!Q", size) + payload


async def read_frame(reader: asyncio.StreamReader) -> tuple[bool, int, int, bytes]:
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    if size > 32 * 1024 * 1024:
        raise ValueError("too big")
    key = await reader.readexactly(4) if second & 0x80 else b""
    payload = await reader.readexactly(size)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bool(first & 0x80), (first >> 4) & 7, first & 0x0F, payload


class Session:
    def __init__(self, reader: Any, writer: Any, scope: dict[str, Any], bugs: set[str]) -> None:
        self.reader, self.writer, self.scope, self.bugs = reader, writer, scope, bugs
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.events.put_nowait({"type": "websocket.connect"})
        self.accepted = self.closed = False

    async def run(self, app: Any, key: str) -> None:
        self.key = key
        try:
            await app(self.scope, self.events.get, self.send)
        except Exception:
            pass
        if not self.accepted and not self.closed:
            self.writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n")
        self.writer.close()

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            accept = base64.b64encode(hashlib.sha1(self.key.encode() + GUID).digest()).decode()
            head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            head += f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
            if message.get("subprotocol"):
                head += f"Sec-WebSocket-Protocol: {message['subprotocol']}\r\n"
            self.writer.write(head.encode() + b"\r\n")
            self.accepted = True
            self.pumping = asyncio.ensure_future(self.pump())
        elif kind == "websocket.send" and self.accepted:
            text = message.get("text")
            self.writer.write(
                frame(1, text.encode()) if text is not None else frame(2, message["bytes"])
            )
        elif kind == "websocket.close":
            if not self.accepted:
                self.writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            elif not self.closed:
                self.writer.write(frame(8, struct.pack("!H", message.get("code", 1000))))
            self.closed = True

    def fail(self, code: int) -> None:
        self.writer.write(frame(8, struct.pack("!H", code)))
        self.events.put_nowait({"type": "websocket.disconnect", "code": code})

    async def pump(self) -> None:
        parts: list[bytes] = []
        opcode = 0
        while True:
            try:
                fin, rsv, op, payload = await read_frame(self.reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                self.events.put_nowait({"type": "websocket.disconnect", "code": 1006})
                return
            if rsv or op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
                return self.fail(1002)
            if op == 9:
                self.writer.write(frame(10, payload))
            elif op == 8:
                return self.answer_close(payload)
            elif op in (1, 2, 0):
                opcode = op or opcode
                parts.append(payload)
                if fin:
                    if not self.deliver(opcode, b"".join(parts)):
                        return self.fail(1007)
                    parts = []

    def deliver(self, opcode: int, data: bytes) -> bool:
        if opcode == 2:
            self.events.put_nowait({"type": "websocket.receive", "bytes": data})
            return True
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if "skip-utf8" not in self.bugs:
                return False
            text = data.decode("utf-8", "replace")
        self.events.put_nowait({"type": "websocket.receive", "text": text})
        return True

    def answer_close(self, payload: bytes) -> None:
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        if len(payload) == 1 or (len(payload) >= 2 and code not in VALID_CODES):
            return self.fail(1002)
        reply = 1000 if "close-1000" in self.bugs or code == 1005 else code
        self.writer.write(frame(8, struct.pack("!H", reply)))
        self.events.put_nowait({"type": "websocket.disconnect", "code": code})
        self.writer.close()
