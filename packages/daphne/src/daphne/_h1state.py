"""The HTTP/1.1 connection state machine, without IO: bytes in, actions and bytes out.

``Http1State`` parses requests (httptools or the pure-Python parser), applies the limits,
builds each request's ``HttpCycle``, orders responses, frames them, and decides keep-alive.
It never touches a socket, a timer or the application: it asks its owner through the small
``Http1Actions`` protocol (write these bytes, pause reading, start this request's
application, switch protocols, close), reads the server through ``Http1Server`` (options,
whether it still accepts, the Date header) and moves the head deadline it is given
(``HeadDeadline``). ``_connection.Connection`` is that owner for a real socket; the tests
drive it with a recorder instead.

Actions go out as calls rather than returned event objects so that the hot path (a small
keep-alive request) allocates nothing beyond the cycle itself.

States of the connection, as this object sees it:

- **idle**: no request under way (``cycle``, ``parsing`` and ``pipeline`` empty). The head
  deadline runs: ``keep_alive_timeout`` after a response, ``request_header_timeout`` once
  the next head's first byte arrives.
- **reading a head**: ``budget.head`` counts its bytes against the request-line and header
  limits (414, 431), and the deadline is ``request_header_timeout`` (408 when it lapses).
- **running**: ``cycle`` is the request whose response is being written; its body may still
  arrive (``parsing`` is then the same cycle). Responses leave in request order:
- **pipelined**: requests that arrived while ``cycle`` runs wait in ``pipeline`` with reading
  paused; each starts when the one before completes.
- **deferred error**: a later pipelined request was malformed. Its error (400, 413, 431...)
  waits until the responses before it are written, then the connection closes.
- **upgraded**: an upgrade the server speaks (WebSocket, h2c) was asked for; the owner gets
  the request and the bytes after its head, and this object gets no more input.
- **closing**: the connection will close once written; further input is ignored.

Invariants: at most one response is being written at a time; a request's head must arrive
within ``request_header_timeout`` and fit ``max_header_size``, which bounds what a slow or
hostile client can hold; body beyond 256 KiB buffered pauses reading until the application
reads it.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from ._context import TransportInfo
from ._h1seams import (
    RELEASED_PARSER,
    HeadDeadline,
    Http1Actions,
    Http1Server,
    UpgradeRequest,
    upgrade_kind,
)
from ._httpcycle import HttpCycle, ResponseState
from ._parser import (
    PARSER_ERRORS,
    ParseError,
    RequestParser,
    UpgradeRequested,
    make_parser,
    translate_error,
)
from ._request import (
    InputBudget,
    Reject,
    check_length_and_expect,
    check_version_and_host,
    keep_alive,
    upgrade_body_length,
)
from ._scope import RequestTargetError, build_http_scope
from ._types import RawHeaders
from ._wire import UNFRAMED, build_head, error_response, response_framing

logger = logging.getLogger("daphne.http")
#: Request body buffered for an application that has not read it yet, before reading pauses.
BODY_HIGH_WATER = 256 * 1024


class Http1State:
    """One HTTP/1.x connection's requests and responses (see the module docstring)."""

    def __init__(
        self,
        actions: Http1Actions,
        server: Http1Server,
        info: TransportInfo,
        deadline: HeadDeadline,
    ) -> None:
        self.actions = actions
        self.server = server
        self.config = config = server.config
        self.info = info
        self.deadline = deadline
        self.parser: RequestParser = make_parser(self, config.use_httptools)
        self.cycle: HttpCycle | None = None  # the cycle whose response is being written
        self.parsing: HttpCycle | None = None  # the cycle whose body is being parsed
        self.pipeline: deque[HttpCycle] = deque()
        self.budget = InputBudget()
        self.closing = False
        self.read_closed = False  # the client half-closed: answer what it sent, then close
        self._url = b""
        self._headers: RawHeaders = []
        self._header_size = 0
        self._deferred_error: tuple[int, str] | None = None
        self._upgrade_to: str | None = None  # what an upgrade request switches to
        self._framing = UNFRAMED  # how the response being written delimits its body
        self._date = b""  # the Date line self._prefix was built with
        self._prefix = b""  # the server's own head lines: server (if named) and date
        self._pending_head: tuple[int, RawHeaders] | None = None
        self._body_received = 0
        self._unframed = 0  # body bytes of an unknown upgrade's request still to come

    # Input -----------------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self.closing or self._deferred_error is not None:
            return
        if self._unframed:
            self._take_unframed(data)
            return
        budget = self.budget
        if self.parsing is None:
            if not budget.head:
                # A new head starts: it gets request_header_timeout, however long it idled.
                self.deadline.set(self.config.request_header_timeout)
            budget.head += len(data)
            if not budget.line_seen and b"\n" in data:
                budget.line_seen = True
        budget.progress = False
        try:
            try:
                self.parser.feed_data(data)
            except PARSER_ERRORS as exc:
                raise translate_error(exc) from None
            if self.parsing is None:
                if budget.head:  # (0 once a head completed: nothing to check)
                    budget.check_head(self.config.max_request_line, self.config.max_header_size)
            else:
                budget.body_fed(len(data))
        except UpgradeRequested as exc:
            if self._upgrade_to is None:
                # An upgrade this server does not speak, answered as plain HTTP: the parser
                # stopped at its head, so its body (if any) is taken here.
                self._take_unframed(data[exc.args[0] :])
                return
            parser = self.parser
            request = UpgradeRequest(
                self._upgrade_to,
                parser.get_method(),
                self._url,
                self._headers,
                parser.get_http_version(),
            )
            self.actions.upgrade(request, data[exc.args[0] :])
        except (Reject, ParseError) as exc:
            self._reject(exc.status, str(exc))

    def read_ended(self) -> None:
        """The client sends nothing more (RFC 9112 9.6; a full close looks the same until a write
        fails): its complete requests, pipelined ones too, are still answered, then it closes;
        applications waiting for input hear http.disconnect; an incomplete request is dropped."""
        if self.read_closed:
            return
        self.read_closed = True
        if self.closing:
            self.actions.close()
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

    def connectionLost(self, reason: Any = None) -> None:
        """Tell every unfinished request its client left, and let go of the parser.

        The parser calls back into this object, so it would otherwise keep the connection in
        a cycle until the garbage collector's next full pass; under load those passes cost
        more than the requests. The cycles still running (the application may take a while to
        notice) only look at their own ``disconnected`` flag.
        """
        self.closing = True
        for cycle in (self.cycle, self.parsing, *self.pipeline):
            if cycle is not None and cycle.state is not ResponseState.COMPLETE:
                cycle.disconnect()
                self.actions.reap(cycle)
        self.parser = RELEASED_PARSER
        self.cycle = self.parsing = None
        self.pipeline.clear()

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
        self.deadline.clear()
        if self._header_size > self.config.max_header_size:
            raise Reject(431, f"request headers larger than {self.config.max_header_size} bytes")
        version = self.parser.get_http_version()
        check_version_and_host(version, self._headers, self.config.require_host)
        upgrade = self.parser.should_upgrade()
        if upgrade:
            self._upgrade_to = upgrade_kind(self.config, self._headers, self.info.secure)
            if self._upgrade_to is not None:
                return
        self._new_cycle(self.parser.get_method().decode("ascii"), version, upgrade)

    def on_body(self, data: bytes) -> None:
        self.budget.progress = True
        cycle = self.parsing
        if cycle is None or cycle.disconnected or cycle.took_late_body(data, BODY_HIGH_WATER):
            return  # (after the response, reading goes on towards the next request)
        self._body_received += len(data)
        limit = self.config.max_body_size
        if limit is not None and self._body_received > limit:
            raise Reject(413, f"request body larger than {limit} bytes")
        cycle.feed_body(data)
        if cycle.buffered_body() > BODY_HIGH_WATER:
            self.actions.pause_reading()

    def on_message_complete(self) -> None:
        self.budget.progress = True
        if self._unframed:
            return  # an unknown upgrade's body follows, unframed by the parser
        cycle = self.parsing
        if cycle is not None:
            cycle.end_body()
        self.parsing = None

    # Requests --------------------------------------------------------------------------------

    def _new_cycle(self, method: str, version: str, upgrade: bool) -> None:
        info = self.info
        try:
            scope = build_http_scope(
                method=method,
                target=self._url,
                http_version=version,
                headers=self._headers,
                client=info.client,
                server=info.server,
                secure=info.secure,
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
        if self.closing or not self.server.accepting:
            cycle.keep_alive = False
        if upgrade:
            # Unknown upgrade: answer as plain HTTP, then close. The parsers leave its body
            # unframed: a Content-Length body is read here; a chunked one cannot be.
            cycle.keep_alive = False
            length = upgrade_body_length(scope["headers"])
            if length is None:
                raise Reject(400, "expected Content-Length, not chunked, on an upgrade request")
            self._unframed = length
        self.parsing = cycle
        self._body_received = 0
        if self.cycle is None:
            self._run(cycle)
        else:
            self.pipeline.append(cycle)
            self.actions.pause_reading()

    def _take_unframed(self, data: bytes) -> None:
        """Body bytes of an unknown upgrade's request, which the parser does not see."""
        take = data[: self._unframed]
        self._unframed -= len(take)
        try:
            if take:
                self.on_body(take)
            if not self._unframed:
                self.on_message_complete()
        except Reject as exc:
            self._unframed = 0
            self._reject(exc.status, str(exc))

    def _run(self, cycle: HttpCycle) -> None:
        self.cycle = cycle
        self._framing = UNFRAMED
        self.actions.run(cycle)

    def app_exited(self, cycle: HttpCycle, exc: BaseException | None) -> None:
        """*cycle*'s application instance ended (*exc*: what it raised, None if it returned)."""
        if cycle.state is ResponseState.COMPLETE or cycle.disconnected:
            if exc is not None:  # cancellation after a disconnect arrives as None
                self.actions.app_error(cycle.scope, exc)
            return
        if exc is None and self.read_closed and cycle.state is ResponseState.WAITING:
            # It heard http.disconnect when the client stopped sending, and left unanswered.
            cycle.disconnect()
            self._close()
            return
        self.actions.app_error(cycle.scope, exc)
        if cycle.state is ResponseState.WAITING:
            self._respond_error(cycle, 500, "")
        else:
            # Half a response is on the wire; the only honest signal left is to abort.
            self._abort()

    def app_timed_out(self, cycle: HttpCycle) -> None:
        """``http_timeout`` passed since *cycle* started: 503 if it has not answered yet."""
        if cycle is self.cycle and cycle.state is ResponseState.WAITING:
            self._respond_error(cycle, 503, "the application did not respond in time")

    def head_timed_out(self) -> None:
        """The head deadline lapsed: 408 for a head under way, a quiet close when idle."""
        if self.cycle is not None or self.parsing is not None or self.closing:
            return
        if self.budget.head:
            # Slowloris: a head trickling in byte by byte must not hold the socket forever.
            self._reject(408, "the request head did not arrive in time")
        else:
            self._close()

    def _respond_error(self, cycle: HttpCycle, status: int, detail: str) -> None:
        cycle.state = ResponseState.COMPLETE
        cycle.status = status
        cycle.disconnect()
        self.actions.reap(cycle)
        self.actions.write(error_response(status, detail))
        self.actions.finished(cycle)
        self._close()

    # ResponseSink (what each HttpCycle writes through) ---------------------------------------

    @property
    def writing_paused(self) -> bool:
        return self.actions.writing_paused

    async def wait_writable(self) -> None:
        await self.actions.wait_writable()

    def send_continue(self, cycle: HttpCycle) -> None:
        if cycle is self.cycle:
            self.actions.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def body_drained(self, cycle: HttpCycle) -> None:
        if not self.pipeline:
            self.actions.resume_reading()

    def write_head(self, cycle: HttpCycle, status: int, headers: RawHeaders) -> None:
        # The head waits for the first body message: if that message is also the last, the
        # length is known and the response goes out with Content-Length in one write.
        self._pending_head = (status, headers)

    def _head_and_body(self, cycle: HttpCycle, first: bytes, more: bool) -> bytes:
        """The pending head, framed for what is known now, with the first body bytes."""
        assert self._pending_head is not None
        status, headers = self._pending_head
        self._pending_head = None
        version = cycle.scope["http_version"]
        framing = self._framing = response_framing(
            status, headers, cycle.head_only, version, len(first), more
        )
        if framing.close_delimited or not self.server.accepting:
            cycle.keep_alive = False
        first = framing.body(first, more)
        date = self.server.date.line()
        if date is not self._date:
            # The server line and the Date line change together at most once a second.
            self._date = date
            self._prefix = self.config.server_prefix() + date
        return build_head(
            status,
            headers,
            prefix=self._prefix,
            chunked=framing.chunked,
            close=not cycle.keep_alive,
            length=framing.length,
            body=first,
        )

    def write_body(self, cycle: HttpCycle, data: bytes, more: bool) -> None:
        if self._pending_head is not None:
            data = self._head_and_body(cycle, data, more)
        else:
            data = self._framing.body(data, more)
        if data:
            self.actions.write(data)
        if not more:
            self._finish(cycle)

    def _finish(self, cycle: HttpCycle) -> None:
        self.actions.finished(cycle)
        self.cycle = None
        if not cycle.keep_alive or self.closing:
            self._close()
            return
        if self.pipeline:
            self._run(self.pipeline.popleft())
            if not self.pipeline and self._deferred_error is None:
                self.actions.resume_reading()
            return
        if self._deferred_error is not None:
            status, detail = self._deferred_error
            self.actions.write(error_response(status, detail))
            self._close()
            return
        if self.read_closed:
            self._close()  # the last response to a half-closed client
            return
        self.actions.resume_reading()
        if self.parsing is None:
            self.deadline.set(self.config.keep_alive_timeout)

    # Errors and closing ----------------------------------------------------------------------

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
            self.actions.pause_reading()
            return
        if current is not None and current.state is not ResponseState.WAITING:
            self._abort()
            return
        if current is not None:
            current.state = ResponseState.COMPLETE
            current.disconnect()
            self.actions.reap(current)
        self.actions.write(error_response(status, detail))
        self._close()

    def _close(self) -> None:
        if not self.closing:
            self.closing = True
            self.actions.close()

    def _abort(self) -> None:
        self.closing = True
        self.actions.abort()

    # Shutdown --------------------------------------------------------------------------------

    def busy(self) -> bool:
        """Whether a request is in flight (graceful shutdown waits for these, not idle sockets)."""
        return self.cycle is not None or self.parsing is not None or bool(self.pipeline)

    def shutdown(self) -> None:
        """Stop after the response in flight; an idle connection closes now."""
        if self.cycle is None and self.parsing is None:
            self._close()


__all__ = [
    "BODY_HIGH_WATER",
    "HeadDeadline",
    "Http1Actions",
    "Http1Server",
    "Http1State",
    "UpgradeRequest",
    "upgrade_kind",
]
