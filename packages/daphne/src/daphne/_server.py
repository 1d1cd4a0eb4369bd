"""The server: endpoints, application instances, lifespan and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, interfaces, protocol
from zope.interface import implementer  # type: ignore[import-untyped]

from ._autobahn import build_autobahn_factory
from ._config import ServerConfig
from ._connection import Connection
from ._context import ActionLogger, Served, TimedWebSocket
from ._endpoints import endpoint_from_string
from ._h2c import h2_available
from ._httpcycle import HttpCycle
from ._lifespan import Lifespan
from ._serverargs import server_arguments, server_signature
from ._timeouts import TimeoutQueue
from ._transport import close_transport
from ._types import Application, Receive, Scope, Send
from ._wire import DateHeader

logger = logging.getLogger("daphne.server")


@implementer(interfaces.IProtocolNegotiationFactory)
class HTTPFactory(protocol.ServerFactory):
    """Builds a connection per client; over TLS it offers ALPN ``h2`` when HTTP/2 is available.

    ``HTTPFactory(server)`` is what upstream's ``daphne.http_protocol.HTTPFactory`` takes.
    """

    def __init__(self, server: Server) -> None:
        self.server = server

    def buildProtocol(self, addr: Any) -> protocol.Protocol:
        return Connection(self.server)

    def acceptableProtocols(self) -> list[bytes]:
        """The ALPN protocols offered to TLS clients, most preferred first.

        ``[b"h2", b"http/1.1"]`` when the HTTP/2 extra (``h2``) is installed, else only
        ``[b"http/1.1"]``; Twisted calls it (``IProtocolNegotiationFactory``) per TLS port.
        """
        return [b"h2", b"http/1.1"] if h2_available() else [b"http/1.1"]


class Server:
    """Serve an ASGI 3 application on Twisted endpoints (``tcp:8000``, ``ssl:...``, ``unix:...``).

    The reactor is installed by :meth:`run`, never at import.
    """

    def __init__(
        self,
        application: Application,
        endpoints: list[str] | None = None,
        *args: Any,
        **options: Any,
    ) -> None:
        """Positional arguments follow upstream's order; see ``help(Server)`` for all options.

        Every option is a :class:`~daphne._config.ServerConfig` field (``docs/daphne-cli.md``
        lists them); a bad one raises TypeError or ValueError naming it.
        """
        if not callable(application):
            raise TypeError(f"expected a callable ASGI application, got {application!r}")
        wiring, config = server_arguments(args, options)
        from ._reactor import check_loop

        check_loop(config.loop)
        self.loop_kind = config.loop
        self.application = application
        self.endpoints = sorted(endpoints or [])
        if not self.endpoints:
            raise ValueError("expected at least one endpoint description string, got none")
        self.signal_handlers = wiring.signal_handlers
        self.action_logger: ActionLogger | None = wiring.action_logger
        self.verbosity = config.verbosity
        self.ready_callable = wiring.ready_callable
        self.request_buffer_size = config.request_buffer_size
        # Upstream's name for "startup failed" (the CLI exits with status 1 when it is set).
        self.abort_start = False
        self.startup_error: BaseException | None = None
        self.config: ServerConfig = config
        self.lifespan = Lifespan(application, config.lifespan)
        self.lifespan_state: dict[str, Any] | None = None
        self.connections: set[Served] = set()
        self.listeners: list[Any] = []
        self.listening_addresses: list[tuple[str, int]] = []
        self.accepting = False
        self.date = DateHeader()
        self.reactor: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stopping: defer.Deferred[None] | None = None
        self.http_factory: HTTPFactory | None = None
        self.ws_factory: Any = None
        self.reaper: TimeoutQueue[asyncio.Task[None]] | None = None
        # WebSocket deadlines (None when the limit is off): not accepted in time, open too long.
        self.ws_connect_timeouts: TimeoutQueue[TimedWebSocket] | None = None
        self.ws_lifetimes: TimeoutQueue[TimedWebSocket] | None = None

    __init__.__signature__ = server_signature()  # type: ignore[attr-defined]

    # Running ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Install the asyncio reactor if needed, listen, and block until stopped."""
        from ._reactor import install_asyncio_reactor

        self.reactor = install_asyncio_reactor(self.loop_kind)
        self.loop = self.reactor._asyncioEventloop
        self._create_timeouts(self.loop)
        self.reactor.addSystemEventTrigger("before", "shutdown", self._before_shutdown)
        self.reactor.callWhenRunning(self._start)
        self.reactor.run(installSignalHandlers=self.signal_handlers)

    def _create_timeouts(self, loop: asyncio.AbstractEventLoop) -> None:
        config = self.config
        self.reaper = TimeoutQueue(loop, config.application_close_timeout, _cancel_if_running)
        if config.websocket_connect_timeout > 0:  # upstream's -1 means "no limit"
            self.ws_connect_timeouts = TimeoutQueue(
                loop, config.websocket_connect_timeout, _ws_connect_timed_out
            )
        if config.websocket_timeout is not None and config.websocket_timeout > 0:
            self.ws_lifetimes = TimeoutQueue(loop, config.websocket_timeout, _ws_lifetime_over)

    def _start(self) -> None:
        defer.ensureDeferred(self._startup()).addErrback(self._startup_failed)

    async def _startup(self) -> None:
        self.ws_factory = build_autobahn_factory(self)
        await defer.Deferred.fromFuture(asyncio.ensure_future(self.lifespan.startup()))
        if self.lifespan.supported:
            self.lifespan_state = self.lifespan.state
        factory = HTTPFactory(self)
        self.http_factory = factory
        self.accepting = True
        for description in self.endpoints:
            logger.info("Configuring endpoint %s", description)
            endpoint = endpoint_from_string(self.reactor, description)
            port = await endpoint.listen(factory)
            self.listeners.append(port)
            host = port.getHost()
            if hasattr(host, "port"):
                self.listening_addresses.append((host.host, host.port))
                logger.info("Listening on TCP address %s:%s", host.host, host.port)
        if self.ready_callable is not None:
            self.ready_callable()

    def _startup_failed(self, failure: Any) -> None:
        logger.critical("Server failed to start: %s", failure.getErrorMessage())
        self.startup_error = failure.value
        self.abort_start = True
        if self.reactor.running:
            self.reactor.stop()

    def stop(self) -> None:
        """Shut down gracefully (as SIGTERM does) and stop the reactor."""
        if self.reactor is not None and self.reactor.running:
            self.reactor.callFromThread(self.reactor.stop)

    # Application instances -------------------------------------------------------------------

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop under the reactor (timers use it directly: cheaper than callLater)."""
        assert self.loop is not None, "the server is not running"
        return self.loop

    def spawn(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        on_exit: Callable[[BaseException | None], None],
    ) -> asyncio.Task[None]:
        """Run one application instance; ``on_exit`` gets its exception (None when clean)."""
        assert self.loop is not None and self.reaper is not None
        # Reporting from inside the task (rather than a done-callback) saves one trip through
        # the loop's ready queue per request.
        return self.loop.create_task(
            _run_instance(self.application, scope, receive, send, on_exit, self.reaper)
        )

    def reap_later(self, task: asyncio.Task[None] | None) -> None:
        """Give an instance whose client left ``application_close_timeout`` to finish.

        The instance leaves the queue as soon as it returns, so a finished task is not kept
        alive (with its coroutine and context) for the rest of the grace period.
        """
        if task is None or task.done():
            return
        assert self.reaper is not None
        self.reaper.add(task)

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        """Hand one event (``"http"``/``"websocket"``, an action, details) to the action logger."""
        if self.action_logger is not None:
            self.action_logger(protocol, action, details)

    def log_http(self, cycle: HttpCycle, time_taken: float) -> None:
        """Report a finished HTTP exchange to the action logger (access log)."""
        if self.action_logger is None:
            return
        scope = cycle.scope
        client = scope["client"]
        self.action_logger(
            "http",
            "complete",
            {
                "path": scope["path"],
                "status": cycle.status,
                "method": scope["method"],
                "client": f"{client[0]}:{client[1]}" if client else None,
                "time_taken": time_taken,
                "size": cycle.response_bytes,
            },
        )

    def log_app_error(self, scope: Scope, exc: BaseException | None) -> None:
        """Log, on the ``daphne.server`` logger at ERROR, that an application instance failed.

        *exc* is what the instance raised, with its traceback; ``None`` means it returned
        without completing the response it owed (the protocol then answers or aborts the
        connection itself). The message names the scope's type and path. Never raises.
        """
        if exc is None:
            logger.error(
                "Application instance for %s %s returned without completing its response",
                scope.get("type"),
                scope.get("path"),
            )
        else:
            logger.error(
                "Exception inside application for %s %s",
                scope.get("type"),
                scope.get("path"),
                exc_info=exc,
            )

    # Graceful shutdown -----------------------------------------------------------------------

    def _before_shutdown(self) -> defer.Deferred[None]:
        if self._stopping is None:
            self._stopping = defer.ensureDeferred(self._graceful_shutdown())
        return self._stopping

    async def _graceful_shutdown(self) -> None:
        self.accepting = False
        for port in self.listeners:
            await defer.maybeDeferred(port.stopListening)
        for connection in list(self.connections):
            connection.shutdown()
        waited = 0.0
        # Idle sockets do not hold shutdown up (a TLS close can wait on the peer forever);
        # only requests, pipelines and WebSocket close handshakes in flight do.
        while waited < self.config.shutdown_timeout and any(
            connection.busy() for connection in self.connections
        ):
            await _sleep(self.reactor, 0.05)
            waited += 0.05
        # Let written responses drain (loseConnection flushes first); then cut what is left.
        for connection in list(self.connections):
            close_transport(connection.transport)
        grace = 0.0
        while self.connections and grace < 1.0:
            await _sleep(self.reactor, 0.05)
            grace += 0.05
        for connection in list(self.connections):
            connection.transport.abortConnection()
        try:
            await defer.Deferred.fromFuture(asyncio.ensure_future(self.lifespan.shutdown()))
        except Exception as exc:
            logger.error("Lifespan shutdown failed: %s", exc)


async def _run_instance(
    application: Application,
    scope: Scope,
    receive: Receive,
    send: Send,
    on_exit: Callable[[BaseException | None], None],
    reaper: TimeoutQueue[asyncio.Task[None]],
) -> None:
    try:
        await application(scope, receive, send)
    except asyncio.CancelledError:
        on_exit(None)
        raise
    except BaseException as exc:
        on_exit(exc)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
    else:
        on_exit(None)
    finally:
        if reaper.due:  # only instances that outlived their connection are in it
            reaper.discard(asyncio.current_task())  # type: ignore[arg-type]


def _ws_connect_timed_out(connection: TimedWebSocket) -> None:
    connection.connect_timed_out()


def _ws_lifetime_over(connection: TimedWebSocket) -> None:
    connection.lifetime_expired()


def _cancel_if_running(task: asyncio.Task[None]) -> None:
    if not task.done():
        task.cancel()


def _sleep(reactor: Any, seconds: float) -> defer.Deferred[None]:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


__all__ = ["HTTPFactory", "Server"]
