"""What a connection may ask of the server that accepted it, and what the server asks back.

Connections (``_connection``) and the protocol handlers they carry (HTTP/1.1, HTTP/2,
WebSocket) are given a ``ServerContext`` rather than the whole ``Server``: the options,
running an application instance, giving a finished client's instance its grace period,
logging, the clock and the WebSocket timeouts. ``Server`` keeps startup, listening and
shutdown; it satisfies this protocol structurally, so nothing here imports it and the arrows
point one way (``_server`` -> ``_connection`` -> handlers -> this module).

``Handler`` is the other direction: what the socket protocol asks of whichever protocol
currently owns the connection's bytes.

This module imports neither Twisted nor Autobahn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ._config import ServerConfig
from ._types import Address, Receive, Scope, Send
from ._wire import DateHeader

if TYPE_CHECKING:
    from ._httpcycle import HttpCycle
    from ._timeouts import TimeoutQueue

#: ``(protocol, action, details)``: ``("http", "complete", {...})``, ``("websocket", ...)``.
ActionLogger = Callable[[str, str, dict[str, Any]], None]
#: Called once when an application instance ends: its exception, or None when it returned.
OnExit = Callable[[BaseException | None], None]


@dataclass(frozen=True)
class TransportInfo:
    """Facts about a connection's transport, read once when it is made (``_transport``)."""

    client: Address | None
    server: Address | None
    secure: bool


class Handler(Protocol):
    """The protocol that currently owns a connection's bytes (HTTP/1.1, HTTP/2, WebSocket)."""

    def dataReceived(self, data: bytes) -> None:
        """Bytes from the client, in order."""

    def connectionLost(self, reason: Any) -> None:
        """The socket is gone; tell the application instances and let go of them."""

    def busy(self) -> bool:
        """Whether work is in flight that graceful shutdown waits for (idle sockets do not)."""

    def shutdown(self) -> None:
        """Finish what is in flight, accept nothing new; close now when idle."""


class Served(Protocol):
    """An open connection as graceful shutdown sees it."""

    transport: Any

    def busy(self) -> bool: ...
    def shutdown(self) -> None: ...


class TimedWebSocket(Hashable, Protocol):
    """A WebSocket as its server-wide timeout queues see it (``_websocket``)."""

    def connect_timed_out(self) -> None: ...
    def lifetime_expired(self) -> None: ...


class Socket(Protocol):
    """A client connection as the protocols it can switch to see it (``_connection``)."""

    context: ServerContext
    config: ServerConfig
    transport: Any  # Twisted's transport
    info: TransportInfo
    writes: Any  # the connection's WriteGate (``_flow``), the transport's producer
    sniffed: bytes  # its first bytes, while they may still be the HTTP/2 preface
    write: Callable[[bytes], None]  # the optimistic writer (``_fastwrite``)

    def switch_to(self, handler: Handler, *, keep_gate: bool) -> None:
        """Give every later byte to *handler* (``keep_gate``: it writes through ``writes``)."""


class ServerContext(Protocol):
    """The server as a connection sees it (``Server`` is the implementation)."""

    config: ServerConfig
    date: DateHeader
    accepting: bool  # False once graceful shutdown began: responses then say Connection: close
    lifespan_state: dict[str, Any] | None
    action_logger: ActionLogger | None
    reactor: Any  # Twisted's reactor (HTTP/2's idle timer and Autobahn's timers run on it)
    ws_factory: Any  # Autobahn's server factory (``_autobahn.build_autobahn_factory``)
    ws_connect_timeouts: TimeoutQueue[TimedWebSocket] | None  # not accepted in time (None: off)
    ws_lifetimes: TimeoutQueue[TimedWebSocket] | None  # open too long (None: no limit)
    connections: set[Served]  # every open socket protocol, for graceful shutdown

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop under the reactor (timers use it directly)."""
        ...

    def spawn(
        self, scope: Scope, receive: Receive, send: Send, on_exit: OnExit
    ) -> asyncio.Task[None]:
        """Run one application instance."""
        ...

    def reap_later(self, task: asyncio.Task[None] | None) -> None:
        """Give an instance whose client left ``application_close_timeout`` to finish."""

    def log_http(self, cycle: HttpCycle, time_taken: float) -> None:
        """Report a finished HTTP exchange to the access log."""

    def log_app_error(self, scope: Scope, exc: BaseException | None) -> None:
        """Log that an application instance failed (``None``: returned without answering)."""

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        """Hand one event to the action logger, if there is one."""


__all__ = [
    "ActionLogger",
    "Handler",
    "OnExit",
    "Served",
    "ServerContext",
    "Socket",
    "TimedWebSocket",
    "TransportInfo",
]
