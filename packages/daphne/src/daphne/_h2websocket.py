"""WebSockets over HTTP/2 (RFC 8441): an extended CONNECT stream carries the frames.

The ASGI side and the framing are the HTTP/1.1 machinery unchanged (``WebSocketConnection``
and Autobahn): only the handshake rules and the transport differ. ``StreamTransport`` makes
one HTTP/2 stream look like the socket that machinery writes to. What it writes before the
frames is an HTTP/1.1 response head (Autobahn's 101, an error, or the application's denial),
and the stream turns that head into HTTP/2 response headers:

- a 101 becomes ``:status 200`` without ``Upgrade``, ``Connection`` and
  ``Sec-WebSocket-Accept`` (RFC 8441 5: there is no key, so no accept); subprotocol and
  extension answers stay;
- any other status is the response itself (a refusal); a chunked body is unframed, since
  HTTP/2 frames bodies itself (RFC 9113 8.2.2 forbids ``Transfer-Encoding``).

Closing the socket ends the stream (END_STREAM); aborting it resets the stream. Pausing
reading stops acknowledging the stream's DATA, so HTTP/2 flow control pushes back on the
client instead of daphne buffering without limit.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import error
from twisted.python.failure import Failure

from ._handshake import HandshakeError, check_version, extension_offers, offered_subprotocols
from ._request import host_problem
from ._types import RawHeaders
from ._websocket import WebSocketConnection

# RFC 8441 has no Sec-WebSocket-Key; Autobahn computes an accept value from one, which the
# 101-to-200 translation drops.
_NO_KEY = "AAAAAAAAAAAAAAAAAAAAAA=="
_DROPPED = frozenset(
    {b"connection", b"upgrade", b"sec-websocket-accept", b"transfer-encoding", b"keep-alive"}
)


def check_extended_connect(
    protocol: bytes, headers: RawHeaders, require_host: bool = True
) -> list[str]:
    """The offered subprotocols of an RFC 8441 request, or HandshakeError naming the fault."""
    if protocol.lower() != b"websocket":
        raise HandshakeError(400, f"expected :protocol websocket, got {protocol!r}")
    problem = host_problem("2", headers, require_host)
    if problem is not None:
        raise HandshakeError(400, problem)
    check_version(headers)
    return offered_subprotocols(headers)


class H2WebSocketConnection(WebSocketConnection):
    """The ASGI ``websocket`` exchange of one extended CONNECT stream."""

    protocol = b"websocket"

    def check_request(self) -> list[str]:
        return check_extended_connect(self.protocol, self.headers, self.server.config.require_host)

    def handshake_fields(self) -> tuple[str, str | None]:
        return _NO_KEY, extension_offers(self.headers)


def open_tunnel(request: Any, protocol: bytes) -> None:
    """Start the WebSocket of an extended CONNECT stream whose headers just arrived."""
    if request.gone:
        return  # reset before it could start
    connection = request.connection
    headers: RawHeaders = [
        (name.lower(), value)
        for name, values in request.requestHeaders.getAllRawHeaders()
        for value in values
    ]
    request.defaultContentType = None  # Twisted would add text/html to the 200
    transport = StreamTransport(request, connection.transport)
    websocket = H2WebSocketConnection(
        connection.server,
        transport,
        transport.write,
        connection.info,
        b"CONNECT",
        request.channel.path,
        headers,
        "2",
    )
    websocket.protocol = protocol
    request.tunnel = websocket
    connection.tunnel_opened(websocket)
    websocket.start(b"")


def tunnel_ended(result: Any, request: Any) -> None:
    """The stream is over: finished by us, ended or reset by the client, or the socket went."""
    request.gone = True
    transport = getattr(request.tunnel, "transport", None)
    if transport is not None:
        transport.closed = True
    if request.tunnel is not None:
        request.connection.tunnel_closed(request.tunnel)
        done = Failure(error.ConnectionDone())  # type: ignore[no-untyped-call]
        reason = result if isinstance(result, Failure) else done
        request.tunnel.connectionLost(reason)
    request.connection.finished_one()


class StreamTransport:
    """One HTTP/2 stream (a Twisted request) as the transport a WebSocket connection writes."""

    def __init__(self, request: Any, connection_transport: Any) -> None:
        self.request = request
        self._socket = connection_transport
        self._head = bytearray()
        self._head_done = False
        self._chunks: bytearray | None = None  # a chunked body being unframed
        self.closed = False

    # Writing ---------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if not self._head_done:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            data = bytes(self._head[end + 4 :])
            self._start_response(bytes(self._head[:end]))
            self._head_done = True
        if self._chunks is not None:
            self._chunks += data
            data = self._unchunk()
        if data:
            self.request.write(data)

    def writeSequence(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def _start_response(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        request = self.request
        request.setResponseCode(200 if status == 101 else status)
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"transfer-encoding" and b"chunked" in value.lower():
                self._chunks = bytearray()
            if name not in _DROPPED:
                request.responseHeaders.addRawHeader(name, value.strip())
        request.write(b"")  # the HEADERS frame leaves now, before any DATA

    def _unchunk(self) -> bytes:
        """Remove chunked framing (RFC 9112 7.1) from what daphne itself framed."""
        buffer = self._chunks
        assert buffer is not None
        out = bytearray()
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                break
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            if size == 0:
                buffer.clear()
                break
            if len(buffer) < line_end + 2 + size + 2:
                break
            out += buffer[line_end + 2 : line_end + 2 + size]
            del buffer[: line_end + 2 + size + 2]
        return bytes(out)

    # Closing ---------------------------------------------------------------------------------

    def loseConnection(self) -> None:
        if self.closed:
            return
        self.closed = True
        request = self.request
        if request.producer is not None:
            request.unregisterProducer()
        if not request.finished:
            try:
                request.finish()
            except RuntimeError:
                pass  # the client reset the stream first: there is nothing left to end

    def abortConnection(self) -> None:
        if not self.closed:
            self.closed = True
            self.request.channel.abortConnection()

    # Flow control: the stream's own producer and consumer -----------------------------------

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        if not self.closed and self.request.producer is None:
            self.request.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        if self.request.producer is not None:
            self.request.unregisterProducer()

    def pauseProducing(self) -> None:
        self.request.channel.pauseProducing()

    def resumeProducing(self) -> None:
        self.request.channel.resumeProducing()

    def getPeer(self) -> Any:
        return self._socket.getPeer()

    def getHost(self) -> Any:
        return self._socket.getHost()


__all__ = [
    "H2WebSocketConnection",
    "StreamTransport",
    "check_extended_connect",
    "open_tunnel",
    "tunnel_ended",
]
