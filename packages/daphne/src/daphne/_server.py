"""The server: endpoints, application instances, lifespan and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from twisted.internet import defer, interfaces, protocol
from zope.interface import implementer  # type: ignore[import-untyped]

from ._autobahn import build_autobahn_factory
from ._config import ServerConfig
from ._connection import Connection
from ._context import ActionLogger, Served
from ._endpoints import endpoint_from_string
from ._gc import tune_for_serving
from ._h2_fence import check_twisted_h2
from ._h2c import h2_available
from ._lifespan import Lifespan
from ._serverargs import server_arguments, server_signature
from ._serving import Serving
from ._transport import close_transport
from ._types import Application

logger = logging.getLogger("daphne.server")


@implementer(interfaces.IProtocolNegotiationFactory)
class HTTPFactory(protocol.ServerFactory):
    """Builds a connection per client; over TLS it offers ALPN ``h2`` when HTTP/2 is available.

    ``HTTPFactory(server)`` is what upstream's ``daphne.http_protocol.HTTPFactory`` takes.
    """

    def __init__(self, server: Server) -> None:
        self.server = server

    def buildProtocol(self, addr: Any) -> protocol.Protocol:
        serving = self.server.serving
        assert serving is not None, "the server is not running"
        return Connection(serving)

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
        self.listeners: list[Any] = []
        self.listening_addresses: list[tuple[str, int]] = []
        self.reactor: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        # What connections get of the running server (built in run(), once there is a loop).
        self.serving: Serving | None = None
        self._stopping: defer.Deferred[None] | None = None
        self.http_factory: HTTPFactory | None = None

    __init__.__signature__ = server_signature()  # type: ignore[attr-defined]

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        """Hand one event (``"http"``/``"websocket"``, an action, details) to the action logger.

        Upstream's ``Server.log_action``: ``WebSocketFactory(server).log_action`` calls it.
        """
        if self.action_logger is not None:
            self.action_logger(protocol, action, details)

    @property
    def ws_factory(self) -> Any:
        """Autobahn's server factory (upstream's ``Server.ws_factory``); None until started."""
        return None if self.serving is None else self.serving.ws_factory

    @property
    def connections(self) -> set[Served]:
        """The open client connections (empty until started)."""
        return set() if self.serving is None else self.serving.connections

    # Running ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Install the asyncio reactor if needed, listen, and block until stopped."""
        from ._reactor import install_asyncio_reactor

        self.reactor = install_asyncio_reactor(self.loop_kind)
        self.loop = self.reactor._asyncioEventloop
        self.serving = Serving(
            self.application, self.config, self.loop, self.action_logger, self.reactor
        )
        self.reactor.addSystemEventTrigger("before", "shutdown", self._before_shutdown)
        self.reactor.callWhenRunning(self._start)
        self.reactor.run(installSignalHandlers=self.signal_handlers)

    def _start(self) -> None:
        defer.ensureDeferred(self._startup()).addErrback(self._startup_failed)

    async def _startup(self) -> None:
        serving = self.serving
        assert serving is not None
        serving.ws_factory = build_autobahn_factory(serving)
        if h2_available():  # fail now, naming the gap, rather than on the first HTTP/2 client
            check_twisted_h2()
        await defer.Deferred.fromFuture(asyncio.ensure_future(self.lifespan.startup()))
        if self.lifespan.supported:
            serving.lifespan_state = self.lifespan.state
        # After the application and its lifespan resources exist, before the first client.
        tuning = tune_for_serving(self.config.gc_threshold)
        if tuning is not None:
            logger.debug("Set up for serving: %s", tuning.describe())
        factory = HTTPFactory(self)
        self.http_factory = factory
        serving.accepting = True
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

    # Graceful shutdown -----------------------------------------------------------------------

    def _before_shutdown(self) -> defer.Deferred[None]:
        if self._stopping is None:
            self._stopping = defer.ensureDeferred(self._graceful_shutdown())
        return self._stopping

    async def _graceful_shutdown(self) -> None:
        serving = self.serving
        assert serving is not None
        serving.accepting = False
        for port in self.listeners:
            await defer.maybeDeferred(port.stopListening)
        connections = serving.connections
        for connection in list(connections):
            connection.shutdown()
        waited = 0.0
        # Idle sockets do not hold shutdown up (a TLS close can wait on the peer forever);
        # only requests, pipelines and WebSocket close handshakes in flight do.
        while waited < self.config.shutdown_timeout and any(
            connection.busy() for connection in connections
        ):
            await _sleep(self.reactor, 0.05)
            waited += 0.05
        # Let written responses drain (loseConnection flushes first); then cut what is left.
        for connection in list(connections):
            close_transport(connection.transport)
        grace = 0.0
        while connections and grace < 1.0:
            await _sleep(self.reactor, 0.05)
            grace += 0.05
        for connection in list(connections):
            connection.transport.abortConnection()
        try:
            await defer.Deferred.fromFuture(asyncio.ensure_future(self.lifespan.shutdown()))
        except Exception as exc:
            logger.error("Lifespan shutdown failed: %s", exc)


def _sleep(reactor: Any, seconds: float) -> defer.Deferred[None]:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


__all__ = ["HTTPFactory", "Server"]
