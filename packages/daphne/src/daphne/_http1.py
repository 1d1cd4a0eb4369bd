"""The HTTP/1.1 connection: parsing requests, framing responses, keep-alive and pipelining.

Invariants: at most one response is being written at a time and responses leave in request
order; pipelined requests wait (with reading paused) until the one before them completes. A
request's head must arrive within ``request_header_timeout`` and fit ``max_header_size``,
which bounds what a slow or hostile client can hold. The connection is also the transport's
push producer, so the application's ``send`` waits while the client reads slowly.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from twisted.internet import interfaces, protocol
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from ._deadline import Deadline
from ._fastwrite import make_writer
from ._flow import WriteGate
from ._httpcycle import HttpCycle, ResponseState
from ._parser import ParseError, UpgradeRequested, feed, make_parser
from ._request import (
    InputBudget,
    Reject,
    check_length_and_expect,
    check_version_and_host,
    keep_alive,
)
from ._scope import RequestTargetError, build_http_scope
from ._transport import TransportInfo, close_transport
from ._types import RawHeaders
from ._upgrades import switch, upgrade_kind
from ._wire import body_allowed, build_head, error_response, frame_chunk

if TYPE_CHECKING:
    from ._server import Server

logger = logging.getLogger("daphne.http")
_BODY_HIGH_WATER = 256 * 1024


@implementer(interfaces.IHalfCloseableProtocol)
class Http1Protocol(protocol.Protocol):
    """One client connection speaking HTTP/1.x (and handing off WebSocket upgrades)."""

    transport: Any

    def __init__(self, server: Server) -> None:
        self.server = server
        self.config = server.config
        self.parser = make_parser(self, self.config.use_httptools)
        self.info: TransportInfo | None = None
        self.upgraded: Any = None
        self.cycle: HttpCycle | None = None  # the cycle whose response is being written
        self.parsing: HttpCycle | None = None  # the cycle whose body is being parsed
        self.pipeline: deque[HttpCycle] = deque()
        self.writes = WriteGate()  # the transport's producer: paused while it cannot write
        self._reading_paused = False
        self._url = b""
        self._headers: RawHeaders = []
        self._header_size = 0
        self._deferred_error: tuple[int, str] | None = None
        self.budget = InputBudget()
        self._upgrade_to: str | None = None  # what an upgrade request switches to
        self._chunked = False
        self._pending_head: tuple[int, RawHeaders] | None = None
        self._body_received = 0
        self.head_deadline = Deadline(server.event_loop(), self._head_timed_out)
        self._http_timer: Any = None
        self._started = 0.0
        self._closing = False
        self._first_data = True  # until its first bytes show it is HTTP/1.x
        self.sniffed = b""  # those bytes, while they may still be the HTTP/2 preface
        self._read_closed = False  # the client half-closed: answer what it sent, then close

    # Twisted protocol ------------------------------------------------------------------------

    def connectionMade(self) -> None:
        self.info = TransportInfo.from_transport(self.transport)
        self.write = make_writer(self.transport)
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            # Responses and frames are written whole; Nagle would only hold the last segment
            # back until the client's delayed ACK (tens of milliseconds per round trip).
            try:
                set_no_delay(True)
            except OSError:
                pass  # Not a TCP socket after all (an inherited UNIX descriptor).
        self.transport.registerProducer(self.writes, True)
        self.server.connections.add(self)
        self.head_deadline.set(self.config.request_header_timeout)

    def dataReceived(self, data: bytes) -> None:
        if self.upgraded is not None:
            self.upgraded.dataReceived(data)
            return
        if self._first_data:
            http1 = self.server.maybe_switch_to_h2(self, data)
            if http1 is None:
                return
            data, self._first_data = http1, False
        if self._closing or self._deferred_error is not None:
            return
        budget = self.budget
        if self.parsing is None:
            if not budget.head:
                # A new head starts: it gets request_header_timeout, however long it idled.
                self.head_deadline.set(self.config.request_header_timeout)
            budget.head += len(data)
            if not budget.line_seen and b"\n" in data:
                budget.line_seen = True
        budget.progress = False
        try:
            feed(self.parser, data)
            if self.parsing is None:
                budget.check_head(self.config.max_request_line, self.config.max_header_size)
            else:
                budget.body_fed(len(data))
        except UpgradeRequested as exc:
            if self._upgrade_to is not None:
                switch(self, self._upgrade_to, data[exc.args[0] :], self._url, self._headers)
            # Otherwise an unknown upgrade was answered as plain HTTP; its bytes are dropped.
        except Reject as exc:
            self._reject(exc.status, str(exc))
        except ParseError as exc:
            self._reject(exc.status, str(exc))

    def readConnectionLost(self) -> None:
        """The client sends nothing more (RFC 9112 9.6; a full close looks the same until a write
        fails): its complete requests, pipelined ones too, are still answered, then it closes;
        applications waiting for input hear http.disconnect; an incomplete request is dropped."""
        if self._read_closed:
            return
        self._read_closed = True
        if self.upgraded is not None or self._closing:
            close_transport(self.transport)
            return
        incomplete, self.parsing = self.parsing, None
        if incomplete is not None and incomplete in self.pipeline:
            self.pipeline.remove(incomplete)
        if incomplete is not None and incomplete is self.cycle:
            self._close()  # connectionLost tells its application
        elif self.cycle is None and not self.pipeline:
            self._close()
        for cycle in (self.cycle, *self.pipeline):
            if cycle is not None:
                cycle.input_ended()

    def writeConnectionLost(self) -> None:
        pass  # only after loseWriteConnection, which daphne never calls

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self._closing = True
        self.server.connections.discard(self)
        self._cancel_timers()
        if self.upgraded is not None:
            self.upgraded.connectionLost(reason)
        for cycle in (self.cycle, self.parsing, *self.pipeline):
            if cycle is not None and cycle.state is not ResponseState.COMPLETE:
                cycle.disconnect()
                self.server.reap_later(cycle.task)
        self.writes.wake()
        self._release()

    def _release(self) -> None:
        """Drop what points back at this protocol, so it is freed by reference counting.

        The parser calls back into this object and the deadline holds a bound method, so each
        would otherwise keep the connection in a cycle until the garbage collector's next full
        pass; under load those passes cost more than the requests. Nothing parses or times out
        once the connection is lost, and the cycles still running (the application may take a
        while to notice the disconnect) only look at their own ``disconnected`` flag.
        """
        self.parser = None
        self.head_deadline.close()
        self.cycle = self.parsing = None
        self.pipeline.clear()

    @property
    def writing_paused(self) -> bool:
        return self.writes.paused

    async def wait_writable(self) -> None:
        while self.writes.paused and not self._closing:
            await self.writes.wait()

    # Parser callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._header_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self.config.max_request_line:
            raise Reject(414, f"request target longer than {self.config.max_request_line} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.parsing is not None:
            # A trailer field (httptools reports them): counted, never kept.
            self.budget.trailer_field(len(name) + len(value) + 4)
            return
        if value[-1:] in (b" ", b"\t"):
            value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace; RFC 9110 5.5 drops it
        if b"\x85" in value:  # obs-text, but Latin-1 splitlines() splits there: smuggling
            raise Reject(400, f"expected no NEL (0x85) byte in the value of header {name!r}")
        self._headers.append((name, value))
        self._header_size += len(name) + len(value) + 4
        if len(self._headers) > self.config.max_headers:
            raise Reject(431, f"more than {self.config.max_headers} header fields")

    def on_headers_complete(self) -> None:
        self.budget.head_complete()
        self.head_deadline.clear()
        if self._header_size > self.config.max_header_size:
            raise Reject(431, f"request headers larger than {self.config.max_header_size} bytes")
        version = self.parser.get_http_version()
        check_version_and_host(version, self._headers, self.config.require_host)
        if self.parser.should_upgrade():
            self._upgrade_to = upgrade_kind(self.config, self._headers, self.info)
            if self._upgrade_to is not None:
                return
        self._new_cycle(self.parser.get_method().decode("ascii"), version)

    def on_body(self, data: bytes) -> None:
        self.budget.progress = True
        cycle = self.parsing
        if cycle is None or cycle.disconnected or cycle.took_late_body(data, _BODY_HIGH_WATER):
            return  # (after the response, reading goes on towards the next request)
        self._body_received += len(data)
        limit = self.config.max_body_size
        if limit is not None and self._body_received > limit:
            raise Reject(413, f"request body larger than {limit} bytes")
        cycle.feed_body(data)
        if cycle.buffered_body() > _BODY_HIGH_WATER:
            self._pause_reading()

    def on_message_complete(self) -> None:
        self.budget.progress = True
        cycle = self.parsing
        if cycle is not None:
            cycle.end_body()
        self.parsing = None

    # Request handling ------------------------------------------------------------------------

    def _new_cycle(self, method: str, version: str) -> None:
        assert self.info is not None
        try:
            scope = build_http_scope(
                method=method,
                target=self._url,
                http_version=version,
                headers=self._headers,
                client=self.info.client,
                server=self.info.server,
                secure=self.info.secure,
                root_path=self.config.root_path,
                proxy=self.config.proxy,
                state=self.server.lifespan_state,
            )
        except RequestTargetError as exc:
            raise Reject(400, str(exc)) from None
        expect = check_length_and_expect(scope["headers"], self.config.max_body_size)
        cycle = HttpCycle(
            scope,
            self,
            expect_continue=expect,
            keep_alive=keep_alive(version, scope["headers"]),
            max_chunk=self.config.request_buffer_size,
        )
        if self._closing or not self.server.accepting:
            cycle.keep_alive = False
        if self.parser.should_upgrade():
            cycle.keep_alive = False  # Unknown upgrade: answer as plain HTTP, then close.
        self.parsing = cycle
        self._body_received = 0
        if self.cycle is None:
            self._run(cycle)
        else:
            self.pipeline.append(cycle)
            self._pause_reading()

    def _run(self, cycle: HttpCycle) -> None:
        self.cycle = cycle
        self._chunked = False
        self._started = time.monotonic()
        cycle.task = self.server.spawn(
            cycle.scope, cycle.receive, cycle.send, lambda exc: self._app_exited(cycle, exc)
        )
        if self.config.http_timeout is not None:
            self._http_timer = self.server.event_loop().call_later(
                self.config.http_timeout, self._http_timed_out, cycle
            )

    def _app_exited(self, cycle: HttpCycle, exc: BaseException | None) -> None:
        if cycle.state is ResponseState.COMPLETE or cycle.disconnected:
            if exc is not None:  # cancellation after a disconnect arrives as None
                self.server.log_app_error(cycle.scope, exc)
            return
        if exc is None and self._read_closed and cycle.state is ResponseState.WAITING:
            # It heard http.disconnect when the client stopped sending, and left unanswered.
            cycle.disconnect()
            self._close()
            return
        self.server.log_app_error(cycle.scope, exc)
        if cycle.state is ResponseState.WAITING:
            self._respond_error(cycle, 500, "")
        else:
            # Half a response is on the wire; the only honest signal left is to abort.
            self._abort()

    def _http_timed_out(self, cycle: HttpCycle) -> None:
        self._http_timer = None
        if cycle is self.cycle and cycle.state is ResponseState.WAITING:
            self._respond_error(cycle, 503, "the application did not respond in time")

    def _respond_error(self, cycle: HttpCycle, status: int, detail: str) -> None:
        cycle.state = ResponseState.COMPLETE
        cycle.status = status
        cycle.disconnect()
        self.server.reap_later(cycle.task)
        self.write(error_response(status, detail))
        self._log_cycle(cycle)
        self._close()

    # ResponseSink ----------------------------------------------------------------------------

    def send_continue(self, cycle: HttpCycle) -> None:
        if cycle is self.cycle:
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def body_drained(self, cycle: HttpCycle) -> None:
        if self._reading_paused and not self.pipeline:
            self._resume_reading()

    def write_head(self, cycle: HttpCycle, status: int, headers: RawHeaders) -> None:
        # The head waits for the first body message: if that message is also the last, the
        # length is known and the response goes out with Content-Length in one write.
        self._pending_head = (status, headers)

    def _head_bytes_for(self, cycle: HttpCycle, first: bytes, more: bool) -> bytes:
        status, headers = self._pending_head  # type: ignore[misc]
        self._pending_head = None
        has_length = any(name.lower() == b"content-length" for name, _ in headers)
        allowed = body_allowed(status, cycle.head_only)
        if allowed and not has_length and not more:
            headers = [*headers, (b"content-length", b"%d" % len(first))]
            has_length = True
        self._chunked = allowed and not has_length and cycle.scope["http_version"] == "1.1"
        if allowed and not has_length and not self._chunked:
            cycle.keep_alive = False  # HTTP/1.0 without a length: the close ends the body.
        if not self.server.accepting:
            cycle.keep_alive = False
        prefix = self.config.server_prefix() + self.server.date.line()
        return build_head(
            status, headers, prefix=prefix, chunked=self._chunked, close=not cycle.keep_alive
        )

    def write_body(self, cycle: HttpCycle, data: bytes, more: bool) -> None:
        head = b""
        if self._pending_head is not None:
            head = self._head_bytes_for(cycle, data, more)
        if not body_allowed(cycle.status, cycle.head_only):
            data = b""
        elif self._chunked:
            data = frame_chunk(data, not more)
        if head:
            data = head + data
        if data:
            self.write(data)
        if not more:
            self._finish(cycle)

    def _finish(self, cycle: HttpCycle) -> None:
        if self._http_timer is not None:
            self._http_timer.cancel()
        self._http_timer = None
        self._log_cycle(cycle)
        self.cycle = None
        if not cycle.keep_alive or self._closing:
            self._close()
            return
        if self.pipeline:
            self._run(self.pipeline.popleft())
            if not self.pipeline and self._deferred_error is None:
                self._resume_reading()
            return
        if self._deferred_error is not None:
            status, detail = self._deferred_error
            self.write(error_response(status, detail))
            self._close()
            return
        if self._read_closed:
            self._close()  # the last response to a half-closed client
            return
        self._resume_reading()
        if self.parsing is None:
            self.head_deadline.set(self.config.keep_alive_timeout)

    def _log_cycle(self, cycle: HttpCycle) -> None:
        self.server.log_http(cycle, time.monotonic() - self._started)

    # Errors, timers, flow control ------------------------------------------------------------

    def _reject(self, status: int, detail: str) -> None:
        """Answer a request the server itself refuses, then close: framing may be lost."""
        logger.debug("rejecting request with %s: %s", status, detail)
        current = self.cycle
        if current is not None and self.parsing is not current:
            # The bad bytes belong to a later pipelined request: responses leave in request
            # order, so the error waits until the ones before it are complete.
            if self.parsing is not None and self.parsing in self.pipeline:
                self.pipeline.remove(self.parsing)
            self.parsing = None
            self._deferred_error = (status, detail)
            self._pause_reading()
            return
        if self.cycle is not None and self.cycle.state is not ResponseState.WAITING:
            self._abort()
            return
        if self.cycle is not None:
            self.cycle.state = ResponseState.COMPLETE
            self.cycle.disconnect()
            self.server.reap_later(self.cycle.task)
        self.write(error_response(status, detail))
        self._close()

    def _close(self) -> None:
        if not self._closing:
            self._closing = True
            self._cancel_timers()
            close_transport(self.transport, self.writes)

    def _abort(self) -> None:
        self._closing = True
        self.transport.abortConnection()

    def _head_timed_out(self) -> None:
        if self.cycle is not None or self.parsing is not None or self.upgraded is not None:
            return
        if self.budget.head:
            # Slowloris: a head trickling in byte by byte must not hold the socket forever.
            self._reject(408, "the request head did not arrive in time")
        else:
            self._close()

    def _cancel_timers(self) -> None:
        self.head_deadline.cancel()
        if self._http_timer is not None:
            self._http_timer.cancel()
        self._http_timer = None

    def _pause_reading(self) -> None:
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pauseProducing()

    def _resume_reading(self) -> None:
        # After a half-close, reading again would only report the end of input once more.
        if self._reading_paused and not self._closing and not self._read_closed:
            self._reading_paused = False
            self.transport.resumeProducing()

    # Shutdown and upgrades -------------------------------------------------------------------

    def busy(self) -> bool:
        """Whether work is in flight (graceful shutdown waits for these, not idle sockets)."""
        if self.upgraded is not None:
            return bool(self.upgraded.busy())
        return self.cycle is not None or self.parsing is not None or bool(self.pipeline)

    def shutdown(self) -> None:
        """Stop after the response in flight; idle connections close now."""
        if self.upgraded is not None:
            self.upgraded.shutdown()
        elif self.cycle is None and self.parsing is None:
            self._close()


__all__ = ["Http1Protocol"]
