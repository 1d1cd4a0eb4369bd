"""The socket protocol: one per client connection, whatever it speaks.

``Connection`` owns the transport and everything that is about the socket rather than a
protocol: the optimistic writer (``_fastwrite``), the write gate that pauses senders while the
transport's buffer is full (``_flow``), pausing reading, the head deadline and the HTTP
timeout, half-close, and registration with the server for graceful shutdown. Bytes go to
the current ``Handler``: first ``Http1State`` (the IO-free HTTP/1.1 state machine, which this
object serves through ``Http1Actions``), and after a switch HTTP/2 or a WebSocket
(``_upgrades`` builds those). The switch itself is :meth:`switch_to`, in one place.

The data path of one HTTP/1.1 request, and its response::

    socket -> Connection.dataReceived -> Http1State (parser callbacks, limits)
           -> HttpCycle (the ASGI receive/send pair) -> application
    application -> HttpCycle.send -> Http1State.write_body (framing, keep-alive)
           -> Connection.write -> socket
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from twisted.internet import interfaces, protocol
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from ._context import Handler, ServerContext, TransportInfo
from ._deadline import Deadline
from ._fastwrite import make_writer
from ._flow import WriteGate
from ._h1seams import UpgradeRequest
from ._h1state import Http1State
from ._httpcycle import HttpCycle
from ._transport import close_transport, transport_info
from ._types import Scope
from ._upgrades import first_bytes, switch

#: At a graceful shutdown, how long a connection that has sent nothing yet may take to send its
#: first request head. The client has only just connected, so its request may already be on
#: its way; closing at once would fail it, and a fresh connection's failure is not one that
#: clients retry (a reused keep-alive connection's is).
FIRST_REQUEST_GRACE = 1.0


@implementer(interfaces.IHalfCloseableProtocol)
class Connection(protocol.Protocol):
    """One client socket: HTTP/1.x at first, then whatever it switched to."""

    transport: Any

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.config = context.config
        self.info = TransportInfo(None, None, False)
        self.writes = WriteGate()  # the transport's producer: paused while it cannot write
        self.http1: Http1State | None = None
        self.handler: Handler | None = None  # who gets the bytes: http1, or its successor
        self.head_deadline = Deadline(context.event_loop(), self._head_timed_out)
        self.sniffed = b""  # the first bytes, while they may still be the HTTP/2 preface
        self._first_data = True  # until its first bytes show it is HTTP/1.x
        self._http_timer: Any = None
        self._started = 0.0
        self._closing = False
        self._reading_paused = False
        self._read_closed = False
        self._shutting_down = False

    # Twisted protocol ------------------------------------------------------------------------

    def connectionMade(self) -> None:
        self.info = transport_info(self.transport)
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
        self.http1 = self.handler = Http1State(self, self.context, self.info, self.head_deadline)
        self.context.connections.add(self)
        self.head_deadline.set(self.config.request_header_timeout)

    def dataReceived(self, data: bytes) -> None:
        handler = self.handler
        if self._first_data and handler is self.http1:
            http1 = first_bytes(self, data)
            if http1 is None:
                return
            data, self._first_data = http1, False
            if handler is not None and self.handler is handler:
                self._deliver_to(handler)
        if handler is not None:
            handler.dataReceived(data)

    def _deliver_to(self, handler: Handler) -> None:
        """Let Twisted hand later reads to *handler* directly, without a call through here
        (once the first bytes are routed, this method would only pass them on)."""
        self.dataReceived = handler.dataReceived  # type: ignore[method-assign]

    def readConnectionLost(self) -> None:
        """The client half-closed: HTTP/1.1 still answers what it sent; others close."""
        if self._read_closed:
            return
        self._read_closed = True
        if self.http1 is not None and self.handler is self.http1:
            self.http1.read_ended()
        else:
            close_transport(self.transport)

    def writeConnectionLost(self) -> None:
        pass  # only after loseWriteConnection, which daphne never calls

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self._closing = True
        self.__dict__.pop("dataReceived", None)
        self.context.connections.discard(self)
        self._cancel_timers()
        # Dropping both references lets the connection be freed by reference counting: the
        # handlers' application instances may outlive it, but they never reach back here.
        http1, handler = self.http1, self.handler
        self.http1 = self.handler = None
        if handler is not None and handler is not http1:
            handler.connectionLost(reason)
        if http1 is not None:
            http1.connectionLost(reason)
        self.writes.wake()
        self.head_deadline.close()

    # Switching protocols ---------------------------------------------------------------------

    def switch_to(self, handler: Handler, *, keep_gate: bool) -> None:
        """Give every later byte to *handler*; HTTP/1.1 timers stop here.

        *keep_gate*: the successor writes through this connection's gate (a WebSocket); if
        not, it brings its own producer (HTTP/2's flow control) and the gate is unregistered.
        """
        if not keep_gate:
            self.transport.unregisterProducer()
        self._first_data = False
        self.head_deadline.cancel()
        self.handler = handler
        self._deliver_to(handler)

    def upgrade(self, request: UpgradeRequest, rest: bytes) -> None:
        switch(self, request, rest)

    # Http1Actions: what the HTTP/1.1 state machine asks of the socket -------------------------

    @property
    def writing_paused(self) -> bool:
        return self.writes.paused

    async def wait_writable(self) -> None:
        while self.writes.paused and not self._closing:
            await self.writes.wait()

    def pause_reading(self) -> None:
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pauseProducing()

    def resume_reading(self) -> None:
        # After a half-close, reading again would only report the end of input once more.
        if self._reading_paused and not self._closing and not self._read_closed:
            self._reading_paused = False
            self.transport.resumeProducing()

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._cancel_timers()
            close_transport(self.transport, self.writes)

    def abort(self) -> None:
        self._closing = True
        self.transport.abortConnection()

    def run(self, cycle: HttpCycle) -> None:
        http1 = self.http1
        assert http1 is not None
        if self.context.action_logger is not None:
            self._started = time.monotonic()
        cycle.task = self.context.spawn(
            cycle.scope, cycle.receive, cycle.send, partial(http1.app_exited, cycle)
        )
        timeout = self.config.http_timeout
        if timeout is not None:
            self._http_timer = self.context.event_loop().call_later(
                timeout, self._http_timed_out, cycle
            )

    def finished(self, cycle: HttpCycle) -> None:
        if self._http_timer is not None:
            self._http_timer.cancel()
            self._http_timer = None
        if self.context.action_logger is not None:  # the access log is on
            self.context.log_http(cycle, time.monotonic() - self._started)

    def reap(self, cycle: HttpCycle) -> None:
        self.context.reap_later(cycle.task)

    def app_error(self, scope: Scope, exc: BaseException | None) -> None:
        self.context.log_app_error(scope, exc)

    # Timers ----------------------------------------------------------------------------------

    def _head_timed_out(self) -> None:
        if self.http1 is not None and self.handler is self.http1:
            self.http1.head_timed_out()

    def _http_timed_out(self, cycle: HttpCycle) -> None:
        self._http_timer = None
        if self.http1 is not None:
            self.http1.app_timed_out(cycle)

    def _cancel_timers(self) -> None:
        self.head_deadline.cancel()
        if self._http_timer is not None:
            self._http_timer.cancel()
        self._http_timer = None

    # Graceful shutdown -----------------------------------------------------------------------

    def busy(self) -> bool:
        """Whether work is in flight (graceful shutdown waits for these, not idle sockets).

        A connection told to shut down before its first bytes counts as busy until they come
        or its grace lapses (then it closes, and leaves the server's set).
        """
        if self._first_data and self._shutting_down and not self._closing:
            return True
        return self.handler is not None and self.handler.busy()

    def shutdown(self) -> None:
        """Stop after the work in flight; idle connections close now, except one that has
        sent nothing yet: it gets ``FIRST_REQUEST_GRACE`` for its first request head (its head
        deadline moves that close), which is answered and then closed."""
        self._shutting_down = True
        if self._first_data and self.handler is self.http1 and not self._closing:
            self.head_deadline.set(min(FIRST_REQUEST_GRACE, self.config.request_header_timeout))
            return
        if self.handler is not None:
            self.handler.shutdown()


__all__ = ["Connection"]
