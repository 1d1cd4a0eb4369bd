# mypy: disable-error-code="no-untyped-call"
"""HTTP/2 (over TLS with ALPN ``h2``, or cleartext h2c), via Twisted's HTTP/2 implementation.

When TLS negotiates ``h2``, or a cleartext connection starts with the HTTP/2 preface or
upgrades with ``Upgrade: h2c`` (``_upgrades``), the HTTP/1.1 connection hands its transport
to a Twisted HTTP/2 channel (which runs the h2 state machine, flow control and stream
multiplexing, on daphne's ``_h2conn.DaphneH2State``) whose request objects bridge each stream
to an ASGI ``http`` cycle: the same ``HttpCycle`` rules as HTTP/1.1. Twisted's request
collects a stream's body before dispatch, so HTTP/2 bodies reach the application as one
``http.request`` message. An extended CONNECT with ``:protocol websocket`` (RFC 8441) is
instead a WebSocket: its request opens an ``H2WebSocketConnection`` as soon as its headers
arrive, and its DATA frames carry the WebSocket frames both ways.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ._context import ServerContext, Socket, TransportInfo
from ._flow import WriteGate
from ._h2websocket import open_tunnel, tunnel_ended
from ._httpcycle import HttpCycle, ResponseState
from ._scope import RequestTargetError, build_http_scope
from ._types import RawHeaders

logger = logging.getLogger("daphne.http2")


def _request_class() -> Any:
    from twisted.web import http

    class AsgiRequest(http.Request):
        """One HTTP/2 stream, answered by an ASGI application instance."""

        server: ServerContext
        connection: H2Connection
        tunnel: Any = None  # the WebSocket of an extended CONNECT stream

        def parseCookies(self) -> None:
            # Called once the stream's headers are converted: the earliest point at which an
            # extended CONNECT can be told apart (it never ends, so process() never comes).
            super().parseCookies()
            stream: Any = self.channel
            protocol = self.connection.channel.conn.protocols.pop(stream.streamID, None)
            if protocol is not None:
                self.gone = False
                self.connection.active += 1
                self.notifyFinish().addBoth(tunnel_ended, self)
                # Twisted registers the stream's queues after this call returns.
                self.server.event_loop().call_soon(open_tunnel, self, protocol)

        def handleContentChunk(self, data: bytes) -> None:
            if self.tunnel is not None:
                self.tunnel.dataReceived(data)
                return
            # Twisted buffers the whole stream body before process(); enforce the body limit
            # while it arrives rather than after it was stored.
            limit = self.server.config.max_body_size
            self.received = getattr(self, "received", 0) + len(data)
            if getattr(self, "too_large", False):
                return
            if limit is not None and self.received > limit:
                self.too_large = True
                self.setResponseCode(413)
                self.setHeader(b"content-type", b"text/plain; charset=utf-8")
                self.write(f"Payload Too Large\nrequest body larger than {limit} bytes\n".encode())
                self.finish()
                return
            super().handleContentChunk(data)

        def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
            if self.tunnel is not None:
                self.tunnel.transport.loseConnection()  # END_STREAM: the client's FIN
                return
            if getattr(self, "too_large", False):
                return  # Already answered 413; the stored body was discarded.
            super().requestReceived(command, path, version)

        def process(self) -> None:
            self.cycle: HttpCycle | None = None
            self.writes = WriteGate()  # HTTP/2 flow control pauses it
            headers: RawHeaders = [
                (name, value)
                for name, values in self.requestHeaders.getAllRawHeaders()
                for value in values
            ]
            info = self.connection.info
            try:
                scope = build_http_scope(
                    method=self.method.decode("ascii"),
                    target=self.uri,
                    http_version="2",
                    headers=headers,
                    client=info.client,
                    server=info.server,
                    secure=info.secure,
                    root_path=self.server.config.root_path,
                    proxy=self.server.config.proxy,
                    state=self.server.lifespan_state,
                )
            except RequestTargetError as exc:
                self.setResponseCode(400)
                self.write(str(exc).encode())
                self.finish()
                return
            self.cycle = cycle = HttpCycle(
                scope,
                self,
                expect_continue=False,
                keep_alive=True,
                max_chunk=self.server.config.request_buffer_size,
            )
            self.started = time.monotonic()
            content: Any = self.content
            content.seek(0)
            cycle.feed_body(content.read())
            cycle.end_body()
            self.notifyFinish().addErrback(self._lost)
            self.connection.active += 1
            cycle.task = self.server.spawn(scope, cycle.receive, cycle.send, self._exited)

        def _lost(self, failure: Any) -> None:
            if self.cycle is not None:
                self.cycle.disconnect()
                self.server.reap_later(self.cycle.task)
            self.writes.wake()
            self._done()

        def _exited(self, exc: BaseException | None) -> None:
            cycle = self.cycle
            assert cycle is not None
            if cycle.state is ResponseState.COMPLETE or cycle.disconnected:
                return
            self.server.log_app_error(cycle.scope, exc)
            if cycle.state is ResponseState.WAITING:
                cycle.state = ResponseState.COMPLETE
                cycle.status = 500
                self.server.log_http(cycle, time.monotonic() - self.started)
                self.setResponseCode(500)
                self.setHeader(b"content-type", b"text/plain; charset=utf-8")
                self.write(b"Internal Server Error\n")
                self.finish()
                self._done()
            else:
                channel: Any = self.channel
                channel.transport.loseConnection()

        def _done(self) -> None:
            self.connection.finished_one()

        # ResponseSink ------------------------------------------------------------------------

        @property
        def writing_paused(self) -> bool:
            return self.writes.paused

        def send_continue(self, cycle: HttpCycle) -> None:
            pass  # The whole body was collected before dispatch.

        def body_drained(self, cycle: HttpCycle) -> None:
            pass

        def write_head(self, cycle: HttpCycle, status: int, headers: RawHeaders) -> None:
            self.setResponseCode(status)
            config = self.server.config
            if config.server_name:
                self.responseHeaders.addRawHeader(b"server", config.server_name)
            self.responseHeaders.addRawHeader(b"date", self.server.date.line()[6:-2])
            for name, value in headers:
                self.responseHeaders.addRawHeader(name, value)
            self.registerProducer(self.writes, True)

        def write_body(self, cycle: HttpCycle, data: bytes, more: bool) -> None:
            if data:
                self.write(data)
            if not more:
                self.unregisterProducer()
                self.finish()
                self.server.log_http(cycle, time.monotonic() - self.started)
                self._done()

        async def wait_writable(self) -> None:
            while self.writes.paused and self.cycle is not None and not self.cycle.disconnected:
                await self.writes.wait()

    return AsgiRequest


class H2Connection:
    """The HTTP/1.1 connection's stand-in once it speaks HTTP/2: forwards to Twisted's channel."""

    def __init__(self, server: ServerContext, transport: Any, info: TransportInfo) -> None:
        from ._h2conn import twisted_channel

        request_class = _request_class()
        self.server = server
        self.transport = transport
        self.info = info
        self.active = 0
        self.stopping = False
        self.tunnels: set[Any] = set()  # open WebSockets (RFC 8441), told when shutting down
        channel: Any = twisted_channel(server.reactor, server.config.keep_alive_timeout)
        self.channel = channel
        connection = self

        def make_request(*args: Any, **kwargs: Any) -> Any:
            request = request_class(*args, **kwargs)
            request.server = server
            request.connection = connection
            return request

        channel.requestFactory = make_request

    def start(self, data: bytes) -> None:
        self.channel.makeConnection(self.transport)
        self.transport.registerProducer(self.channel, True)
        self.channel.dataReceived(data)

    def dataReceived(self, data: bytes) -> None:
        self.channel.dataReceived(data)

    def connectionLost(self, reason: Any) -> None:
        self.channel.connectionLost(reason)

    def tunnel_opened(self, websocket: Any) -> None:
        # The idle timeout is for HTTP; a quiet WebSocket is not idle (over HTTP/1.1 it has
        # no idle limit either, only --websocket_timeout and the ping timeout).
        self.tunnels.add(websocket)
        self.channel.setTimeout(None)

    def tunnel_closed(self, websocket: Any) -> None:
        self.tunnels.discard(websocket)
        if not self.tunnels:
            self.channel.setTimeout(self.server.config.keep_alive_timeout)

    def finished_one(self) -> None:
        self.active -= 1
        if self.stopping and self.active <= 0:
            self._close()

    def busy(self) -> bool:
        return self.active > 0

    def shutdown(self) -> None:
        self.stopping = True
        for tunnel in list(self.tunnels):
            tunnel.shutdown()
        if self.active <= 0:
            self._close()

    def _close(self) -> None:
        # The h2 channel is the transport's producer, and TLS defers loseConnection until the
        # producer goes away, which it only does on connection loss; release it first.
        self.transport.unregisterProducer()
        self.transport.loseConnection()


def switch_if_negotiated(connection: Socket, data: bytes) -> bool:
    """Hand the connection to HTTP/2 if TLS negotiated ``h2``; return whether it did."""
    if not connection.info.secure:
        return False
    if getattr(connection.transport, "negotiatedProtocol", None) != b"h2":
        return False
    take_over(connection).start(data)
    return True


def take_over(connection: Socket) -> H2Connection:
    """Make an HTTP/2 connection the connection's handler (not started yet).

    Twisted's HTTP/2 channel is the transport's producer from then on (its own flow control).
    """
    h2 = H2Connection(connection.context, connection.transport, connection.info)
    connection.switch_to(h2, keep_gate=False)
    return h2


__all__ = ["H2Connection", "switch_if_negotiated", "take_over"]
