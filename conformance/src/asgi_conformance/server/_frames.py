"""WebSocket frames as raw bytes (RFC 6455 §5), client side.

``frame`` builds any frame, including invalid ones (unmasked, reserved bits, wrong
lengths); ``read_frame`` reads the server's frames without judging them, so a check
decides what was wrong. ``open_websocket`` performs a plain, valid handshake.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass

from ._kit import Kit
from ._wire import Connection, Response

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


@dataclass(frozen=True)
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None


def frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bool = True
) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    bit = 0x80 if mask else 0
    size = len(payload)
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))


def masked_fast(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A masked frame with an all-zero masking key (valid, and cheap for large payloads)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    return head + b"\x00\x00\x00\x00" + payload


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def read_frame(conn: Connection, timeout: float | None = None) -> Frame | None:
    """The next frame, or None when the connection ended or stayed silent."""
    head = conn.read_exact(2, timeout)
    if head is None:
        return None
    size = head[1] & 0x7F
    if size == 126:
        extra = conn.read_exact(2, timeout)
        size = struct.unpack("!H", extra)[0] if extra else 0
    elif size == 127:
        extra = conn.read_exact(8, timeout)
        size = struct.unpack("!Q", extra)[0] if extra else 0
    key = conn.read_exact(4, timeout) if head[1] & 0x80 else None
    payload = conn.read_exact(size, timeout) if size else b""
    if payload is None:
        return None
    if key:
        payload = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
    return Frame(bool(head[0] & 0x80), (head[0] >> 4) & 0x7, head[0] & 0x0F, payload)


def next_close(conn: Connection, timeout: float = 10.0) -> Frame | None:
    """Skip data and control frames up to the server's close frame (None: no close frame)."""
    for _ in range(10_000):
        found = read_frame(conn, timeout)
        if found is None or found.opcode == CLOSE:
            return found
    return None


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def handshake(
    path: str,
    *headers: tuple[str, str],
    method: str = "GET",
    version: str = "HTTP/1.1",
    omit: tuple[str, ...] = (),
) -> bytes:
    fields = {
        "Host": "kit.test",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    for name in omit:
        fields.pop(name)
    for name, value in headers:
        fields[name] = value
    lines = [f"{method} {path} {version}", *(f"{name}: {value}" for name, value in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def upgrade(kit: Kit, raw: bytes) -> tuple[Connection, Response | None]:
    kit.require("websocket")
    conn = kit.connect()
    conn.send(raw)
    return conn, conn.read_response()


def open_websocket(kit: Kit, path: str = "/ws/echo", *headers: tuple[str, str]) -> Connection:
    conn, response = upgrade(kit, handshake(path, *headers))
    if response is None or response.status != 101:
        conn.close()
        raise AssertionError(f"expected 101 for a valid handshake to {path}, got {response}")
    return conn


__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUATION",
    "KEY",
    "PING",
    "PONG",
    "TEXT",
    "Frame",
    "accept_for",
    "close_payload",
    "frame",
    "handshake",
    "masked_fast",
    "next_close",
    "open_websocket",
    "read_frame",
    "upgrade",
]
