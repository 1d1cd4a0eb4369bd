"""What an HTTP/1.1 connection can turn into, and how it gets there.

- HTTP/2 over TLS, when ALPN picked ``h2`` (decided on the first bytes);
- HTTP/2 by prior knowledge (h2c), when the first bytes are the connection preface;
- a WebSocket, after an RFC 6455 upgrade request;
- HTTP/2 after ``Upgrade: h2c`` (RFC 7540 3.2): 101, then the request is stream 1.

The connection (``_connection``) keeps ``sniffed`` (its first bytes, while they could still
be the preface) and performs the switch itself (``Socket.switch_to``); this module builds
the successor. The rules about bytes and headers live in ``_h2c`` and ``_handshake``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._context import Socket
from ._h1seams import UpgradeRequest
from ._h2c import (
    Sniffed,
    UpgradeRefused,
    body_length,
    h2_available,
    settings_payload,
    sniff,
    stream_one_headers,
)
from ._http2 import switch_if_negotiated, take_over
from ._transport import close_transport
from ._websocket import WebSocketConnection
from ._wire import error_response

logger = logging.getLogger("daphne.http2")
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"


def first_bytes(connection: Socket, data: bytes) -> bytes | None:
    """Route a connection's first bytes: None if HTTP/2 took them (or they may still be the
    preface), else the bytes for the HTTP/1.1 parser (everything received so far)."""
    if connection.sniffed == b"" and switch_if_negotiated(connection, data):
        return None
    if connection.config.h2c == "off" or connection.info.secure or not h2_available():
        return data
    seen: bytes = connection.sniffed + data
    verdict = sniff(seen)
    if verdict is Sniffed.UNDECIDED:
        connection.sniffed = seen  # bounded: shorter than the 24-byte preface
        return None
    connection.sniffed = b""
    if verdict is Sniffed.HTTP1:
        return seen
    take_over(connection).start(seen)
    return None


def switch(connection: Socket, request: UpgradeRequest, rest: bytes) -> None:
    """Hand the connection to the protocol its upgrade request asked for (``request.kind``,
    from ``_h1state.upgrade_kind``); ``rest`` is what followed the request head."""
    if request.kind == "websocket":
        websocket = WebSocketConnection(
            connection.context,
            connection.transport,
            connection.write,
            connection.info,
            request.method,
            request.target,
            request.headers,
            request.http_version,
            gate=connection.writes,
        )
        connection.switch_to(websocket, keep_gate=True)
        websocket.start(rest)
    else:
        _H2cUpgrade(connection, request).feed(rest)


class _H2cUpgrade:
    """An accepted ``Upgrade: h2c`` whose request body (Content-Length) is still arriving.

    RFC 7540 3.2: the body is sent whole before any HTTP/2 frame, so the bytes after the head
    are the body first and the client's preface after it. The switch (101) waits for the
    body, which ``max_body_size`` bounds, and which must arrive within
    ``request_header_timeout`` of the head (408 otherwise: nothing reaches the application
    before the switch, so no other timer would end a body that trickles); the head's own
    limits were applied by the HTTP/1.1 side. Refusals (400, 408, 413) are answered over
    HTTP/1.1 and close the connection.
    """

    def __init__(self, connection: Socket, request: UpgradeRequest) -> None:
        self.connection = connection
        self.method = request.method
        self.target = request.target
        self.headers = request.headers
        self.body = bytearray()
        self.remaining = 0
        self.failed = False
        self._timer: asyncio.TimerHandle | None = None
        connection.switch_to(self, keep_gate=True)  # every later byte is the body, then HTTP/2
        try:
            self.settings = settings_payload(self.headers)
            self.remaining = body_length(self.headers)
            limit = connection.config.max_body_size
            if limit is not None and self.remaining > limit:
                self._refuse(413, f"request body larger than {limit} bytes")
        except UpgradeRefused as exc:
            self._refuse(400, str(exc))
        if self.remaining and not self.failed:
            self._timer = connection.context.event_loop().call_later(
                connection.config.request_header_timeout, self._timed_out
            )

    def _timed_out(self) -> None:
        self._timer = None
        if not self.failed:
            self._refuse(408, "the h2c upgrade request's body did not arrive in time")

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: int, detail: str) -> None:
        logger.debug("refusing h2c upgrade with %s: %s", status, detail)
        self._stop_timer()
        self.failed = True
        self.connection.transport.write(error_response(status, detail))
        close_transport(self.connection.transport, self.connection.writes)

    def feed(self, data: bytes) -> None:
        if self.failed:
            return
        take = data[: self.remaining]
        self.body += take
        self.remaining -= len(take)
        if not self.remaining:
            self._switch(data[len(take) :])

    dataReceived = feed

    def _switch(self, rest: bytes) -> None:
        self._stop_timer()
        connection = self.connection
        h2 = take_over(connection)
        headers = stream_one_headers(self.method, self.target, self.headers)
        try:
            h2.channel.conn.upgrade(self.settings, headers, bytes(self.body))
        except Exception as exc:  # h2's and hyperframe's errors for settings it refuses
            connection.switch_to(self, keep_gate=True)
            self._refuse(400, f"expected valid HTTP2-Settings: {exc}")
            return
        connection.transport.write(_SWITCHING)
        h2.start(rest)

    def connectionLost(self, reason: Any) -> None:
        self._stop_timer()
        self.failed = True

    def busy(self) -> bool:
        return not self.failed

    def shutdown(self) -> None:
        pass  # the request is on its way; HTTP/2 takes over and drains it


__all__ = ["first_bytes", "switch"]
