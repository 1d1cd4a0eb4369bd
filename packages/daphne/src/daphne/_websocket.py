"""WebSocket connections: the ASGI side is ours, the framing is Autobahn's.

The HTTP/1.1 connection hands over an upgrade request. We validate the handshake and ask the
application (``websocket.connect``) *before* Autobahn sees a byte, so rejection (403), a custom
denial response (``websocket.http.response.*``) and accept headers are all under our control.
Only after ``websocket.accept`` is the request replayed into an Autobahn protocol, which
answers 101 and does the framing, pings, size limits and the close handshake.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from ._autobahn import FastWriteTransport
from ._context import ServerContext, TransportInfo
from ._flow import WriteGate
from ._handshake import HandshakeError, accepted_fields, check_handshake
from ._httpcycle import ProtocolError, validate_headers
from ._scope import build_websocket_scope
from ._transport import close_transport
from ._types import Message, RawHeaders
from ._wire import build_head, error_response, frame_chunk

logger = logging.getLogger("daphne.ws")
_INBOX_HIGH_WATER = 64


_APP_MESSAGES = frozenset(
    {
        "websocket.accept",
        "websocket.send",
        "websocket.close",
        "websocket.http.response.start",
        "websocket.http.response.body",
    }
)


def _close_code(code: object) -> int:
    """Validate an application's close code (RFC 6455 7.4: codes an endpoint may send)."""
    if code is None:
        return 1000
    if isinstance(code, int) and (
        code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)
        or 3000 <= code <= 4999
    ):
        return code
    raise ProtocolError(f"expected a close code of 1000-1014 (sendable) or 3000-4999, got {code!r}")


class WsState(enum.Enum):
    CONNECTING = "connecting"  # the application has not decided yet
    RESPONDING = "responding"  # sending a websocket.http.response denial
    OPEN = "open"
    CLOSING = "closing"  # we sent a close frame
    CLOSED = "closed"


class WebSocketConnection:
    """The ASGI ``websocket`` exchange for one upgraded connection."""

    def __init__(
        self,
        server: ServerContext,
        transport: Any,
        write: Callable[[bytes], None],
        info: TransportInfo,
        method: bytes,
        target: bytes,
        headers: RawHeaders,
        http_version: str,
        gate: WriteGate | None = None,
    ) -> None:
        """*gate*: the connection's write gate, already the transport's producer (HTTP/1.1);
        without one (an HTTP/2 stream) the WebSocket registers a gate of its own."""
        self.server = server
        # The HTTP connection is not kept: it holds this object, and a reference back would
        # make every connection a cycle that only the garbage collector can free.
        self.transport = transport
        self.write = write
        self.info = info
        self.method = method
        self.target = target
        self.headers = headers
        self.http_version = http_version
        self.state = WsState.CONNECTING
        self.proto: Any = None
        self.accept_params: tuple[str | None, dict[str, list[str]]] = (None, {})
        self.scope: Any = None
        self.task: asyncio.Task[None] | None = None
        self._pending = bytearray()
        self._inbox: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._own_gate = gate is None
        self.writes = WriteGate() if gate is None else gate  # paused while writes cannot drain
        self._reading_paused = False
        self._disconnect_sent = False

    # Handshake -------------------------------------------------------------------------------

    def start(self, rest: bytes) -> None:
        self._pending += rest
        try:
            subprotocols = self.check_request()
        except HandshakeError as exc:
            self._close_with_response(error_response(exc.status, str(exc), exc.headers))
            return
        config = self.server.config
        self.scope = build_websocket_scope(
            target=self.target,
            http_version=self.http_version,
            headers=self.headers,
            client=self.info.client,
            server=self.info.server,
            subprotocols=subprotocols,
            secure=self.info.secure,
            root_path=config.root_path,
            proxy=config.proxy,
            state=self.server.lifespan_state,
        )
        if self._own_gate:
            self.transport.registerProducer(self.writes, True)
        self._inbox.append({"type": "websocket.connect"})
        self.task = self.server.spawn(self.scope, self.receive, self.send, self._app_exited)
        if self.server.ws_connect_timeouts is not None:
            self.server.ws_connect_timeouts.add(self)
        self._log("connecting")

    def check_request(self) -> list[str]:
        """The offered subprotocols, or HandshakeError (RFC 6455 here; RFC 8441 for HTTP/2)."""
        return check_handshake(
            self.method, self.http_version, self.headers, self.server.config.require_host
        )

    def handshake_fields(self) -> tuple[str, str | None]:
        """The key and extension offers Autobahn's opening answer is computed from."""
        return accepted_fields(self.headers)

    def _accept(self, message: Message) -> None:
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and subprotocol not in self.scope["subprotocols"]:
            raise ProtocolError(
                f"expected a subprotocol the client offered {self.scope['subprotocols']}, "
                f"got {subprotocol!r}"
            )
        extra: dict[str, list[str]] = {}
        for name, value in validate_headers(message.get("headers", ())):
            extra.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        self.accept_params = (subprotocol, extra)
        self._cancel_timers()
        self.state = WsState.OPEN
        proto = self.server.ws_factory.buildProtocol(self.transport.getPeer())
        proto.bridge = self
        self.proto = proto
        proto.makeConnection(self.transport)
        proto.transport = FastWriteTransport(self.transport, self.write)
        rest = bytes(self._pending)
        self._pending.clear()
        key, extensions = self.handshake_fields()
        proto.open_accepted(key, list(self.scope["subprotocols"]), extensions, rest)

    def _reject(self, status: int = 403) -> None:
        self._close_with_response(error_response(status, "WebSocket connection rejected"))
        self._log("rejected")
        self._deliver_disconnect(1006, "")

    def connect_timed_out(self) -> None:
        if self.state is WsState.CONNECTING:
            logger.warning("WebSocket %s was not accepted in time", self.scope["path"])
            self._reject()

    def _close_with_response(self, data: bytes) -> None:
        self.state = WsState.CLOSED
        self.transport.write(data)
        close_transport(self.transport, self.writes)

    # Events from the connection / Autobahn ---------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self.proto is not None:
            self.proto.dataReceived(data)
        elif self.state is WsState.CONNECTING:
            # The client may pipeline frames behind the handshake; keep them for Autobahn.
            self._pending += data
            if len(self._pending) > self.server.config.websocket_max_frame_size:
                self._reject(400)

    def connectionLost(self, reason: Any) -> None:
        self._cancel_timers()
        proto = self.proto
        if proto is not None:
            proto.connectionLost(reason)
            # Autobahn's protocol and this bridge point at each other; nothing reaches the
            # protocol after the connection is gone, so the link is dropped for refcounting.
            self.proto = None
        self.state = WsState.CLOSED
        self._deliver_disconnect(1006, "")
        self.writes.wake()

    def on_open(self) -> None:
        self._log("connected")
        if self.server.ws_lifetimes is not None and self.state is WsState.OPEN:
            self.server.ws_lifetimes.add(self)

    def on_text(self, text: str) -> None:
        self._push({"type": "websocket.receive", "text": text})

    def on_message(self, payload: bytes, is_binary: bool) -> None:
        if is_binary:
            self._push({"type": "websocket.receive", "bytes": payload})
        else:
            self._push({"type": "websocket.receive", "text": payload.decode("utf-8")})

    def on_close(self, code: int | None, reason: str | None) -> None:
        self.state = WsState.CLOSED
        self._cancel_timers()
        self._deliver_disconnect(code or 1006, reason or "")

    def lifetime_expired(self) -> None:
        self.close_socket(1000, "websocket_timeout reached")

    def busy(self) -> bool:
        return self.state is not WsState.CLOSED

    def shutdown(self) -> None:
        if self.state is WsState.OPEN:
            self.close_socket(1001, "server shutting down")
        elif self.state is WsState.CONNECTING:
            self._reject(503)

    def close_socket(self, code: int, reason: str) -> None:
        if self.state is WsState.OPEN and self.proto is not None:
            self.state = WsState.CLOSING
            # A close frame's payload is at most 125 bytes: the code plus 123 of valid UTF-8.
            encoded = reason.encode("utf-8")[:123].decode("utf-8", "ignore").encode("utf-8")
            self.proto.sendCloseFrame(code, encoded)

    # The application's side ------------------------------------------------------------------

    def _push(self, message: Message) -> None:
        self._inbox.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(self._inbox) > _INBOX_HIGH_WATER and not self._reading_paused:
            # The application is not keeping up; stop reading so memory stays bounded.
            self._reading_paused = True
            self.transport.pauseProducing()

    def _deliver_disconnect(self, code: int, reason: str) -> None:
        if not self._disconnect_sent:
            self._disconnect_sent = True
            self._push({"type": "websocket.disconnect", "code": code, "reason": reason})
            if self.task is not None:
                self.server.reap_later(self.task)
            self._log("disconnected")

    async def receive(self) -> Message:
        while not self._inbox:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None
        message = self._inbox.popleft()
        if self._reading_paused and len(self._inbox) < _INBOX_HIGH_WATER // 2:
            self._reading_paused = False
            if self.state is not WsState.CLOSED:
                self.transport.resumeProducing()
        return message

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        state = self.state
        if state is WsState.CONNECTING:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self._reject()
            elif kind == "websocket.http.response.start":
                self._start_denial(message)
            elif kind == "websocket.send":
                # ASGI: sending before accepting implicitly accepts.
                self._accept({})
                await self.send(message)
            else:
                raise ProtocolError(
                    f"expected websocket.accept, websocket.close or websocket.http.response.start "
                    f"while connecting, got {kind!r}"
                )
        elif state is WsState.RESPONDING and kind == "websocket.http.response.body":
            self._denial_body(message)
        elif state is WsState.OPEN and kind == "websocket.send":
            await self._send_frame(message)
        elif state is WsState.OPEN and kind == "websocket.close":
            self.close_socket(_close_code(message.get("code")), message.get("reason") or "")
        elif state in (WsState.CLOSING, WsState.CLOSED) and kind in _APP_MESSAGES:
            return  # The peer is gone or going; dropping matches what the spec allows.
        else:
            raise ProtocolError(f"unexpected {kind!r} in WebSocket state {state.value}")

    async def _send_frame(self, message: Message) -> None:
        data = message.get("bytes")
        text = message.get("text")
        if data is not None and text is None:
            self.proto.sendMessage(bytes(data), True)
        elif text is not None and data is None:
            self.proto.sendMessage(text.encode("utf-8"), False)
        else:
            raise ProtocolError("expected exactly one of 'bytes' or 'text' in websocket.send")
        while self.writes.paused and self.state is WsState.OPEN:
            await self.writes.wait()

    def _start_denial(self, message: Message) -> None:
        status = message.get("status")
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ProtocolError(f"expected an int status in 100..599, got {status!r}")
        headers = [
            h
            for h in validate_headers(message.get("headers", ()))
            if h[0].lower() != b"transfer-encoding"
        ]
        self.state = WsState.RESPONDING
        self._cancel_timers()
        prefix = self.server.config.server_prefix() + self.server.date.line()
        self.transport.write(build_head(status, headers, prefix=prefix, chunked=True, close=True))

    def _denial_body(self, message: Message) -> None:
        more = bool(message.get("more_body", False))
        self.transport.write(frame_chunk(bytes(message.get("body", b"")), not more))
        if not more:
            self.state = WsState.CLOSED
            close_transport(self.transport, self.writes)
            self._log("rejected")
            self._deliver_disconnect(1006, "")

    def _app_exited(self, exc: BaseException | None) -> None:
        state = self.state
        if exc is None and state in (WsState.CLOSED, WsState.CLOSING):
            return
        if exc is not None or state is not WsState.CLOSED:
            self.server.log_app_error(self.scope, exc)
        if state is WsState.CONNECTING:
            self._close_with_response(error_response(500))
            self._deliver_disconnect(1006, "")
        elif state is WsState.RESPONDING:
            self.transport.abortConnection()
        elif state is WsState.OPEN:
            self.close_socket(1011 if exc is not None else 1000, "")

    # Timers ----------------------------------------------------------------------------------

    def _cancel_timers(self) -> None:
        # The server's timeout queues hold this connection until it is discarded from them.
        server = self.server
        if server.ws_connect_timeouts is not None:
            server.ws_connect_timeouts.discard(self)
        if server.ws_lifetimes is not None:
            server.ws_lifetimes.discard(self)

    def _log(self, action: str) -> None:
        if self.server.action_logger is not None and self.scope is not None:
            client = self.scope["client"]
            self.server.action_logger(
                "websocket",
                action,
                {
                    "path": self.scope["path"],
                    "client": "{}:{}".format(*tuple(client)) if client else None,
                },
            )


__all__ = ["WebSocketConnection", "WsState"]
