"""The server: endpoints, application instances, lifespan and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer, interfaces, protocol
from zope.interface import implementer  # type: ignore[import-untyped]

from ._config import ServerConfig
from ._lifespan import Lifespan
from ._proxy import DEFAULT_TRUSTED, ProxyConfig, parse_networks
from ._timeouts import TimeoutQueue
from ._types import Application, Receive, Scope, Send
from ._wire import DateHeader

logger = logging.getLogger("daphne.server")
ActionLogger = Callable[[str, str, dict[str, Any]], None]


def _proxy_config(
    address_header: str | None,
    port_header: str | None,
    proto_header: str | None,
    trusted: Iterable[str] | str | None,
    use_forwarded: bool = False,
) -> ProxyConfig | None:
    if not (address_header or port_header or proto_header or use_forwarded):
        return None

    def lower(name: str | None) -> bytes | None:
        return name.lower().encode("latin-1") if name else None

    return ProxyConfig(
        address_header=lower(address_header),
        port_header=lower(port_header),
        proto_header=lower(proto_header),
        trusted=parse_networks(DEFAULT_TRUSTED if trusted is None else trusted),
        use_forwarded=use_forwarded,
    )


@implementer(interfaces.IProtocolNegotiationFactory)
class HTTPFactory(protocol.ServerFactory):
    """Builds a connection per client; over TLS it offers ALPN ``h2`` when HTTP/2 is available.

    ``HTTPFactory(server)`` is what upstream's ``daphne.http_protocol.HTTPFactory`` takes.
    """

    def __init__(self, server: Server) -> None:
        self.server = server

    def buildProtocol(self, addr: Any) -> protocol.Protocol:
        from ._http1 import Http1Protocol

        return Http1Protocol(self.server)

    def acceptableProtocols(self) -> list[bytes]:
        from ._http2 import h2_available

        return [b"h2", b"http/1.1"] if h2_available() else [b"http/1.1"]


class Server:
    """Serve an ASGI 3 application on Twisted endpoints (``tcp:8000``, ``ssl:...``, ``unix:...``).

    The reactor is installed by :meth:`run`, never at import.
    """

    def __init__(
        self,
        application: Application,
        endpoints: list[str] | None = None,
        signal_handlers: bool = True,
        action_logger: ActionLogger | None = None,
        http_timeout: float | None = None,
        request_buffer_size: int | None = 8192,
        websocket_timeout: float | None = 86400,
        websocket_connect_timeout: float = 20,
        ping_interval: float = 20,
        ping_timeout: float = 30,
        root_path: str = "",
        proxy_forwarded_address_header: str | None = None,
        proxy_forwarded_port_header: str | None = None,
        proxy_forwarded_proto_header: str | None = None,
        verbosity: int = 1,
        websocket_handshake_timeout: float = 5,
        websocket_max_message_size: int = 16 * 1024 * 1024,
        websocket_max_frame_size: int = 16 * 1024 * 1024,
        application_close_timeout: float = 10,
        ready_callable: Callable[[], object] | None = None,
        server_name: str | None = "daphne",
        *,
        ws_protocols: Iterable[str] | None = None,
        lifespan: str = "auto",
        proxy_trusted_ips: Iterable[str] | str | None = None,
        proxy_headers_forwarded: bool = False,
        require_host: bool = False,
        max_request_line: int = 8190,
        max_header_size: int = 65536,
        max_body_size: int | None = None,
        websocket_per_message_deflate: bool = False,
        websocket_deflate_window_bits: int = 15,
        request_header_timeout: float = 30,
        keep_alive_timeout: float = 75,
        shutdown_timeout: float = 10,
        use_httptools: bool = True,
        loop: str = "auto",
    ) -> None:
        if not callable(application):
            raise TypeError(f"expected a callable ASGI application, got {application!r}")
        from ._reactor import check_loop

        check_loop(loop)
        self.loop_kind = loop
        self.application = application
        self.endpoints = sorted(endpoints or [])
        if not self.endpoints:
            raise ValueError("expected at least one endpoint description string, got none")
        self.signal_handlers = signal_handlers
        self.action_logger = action_logger
        self.verbosity = verbosity
        self.ready_callable = ready_callable
        self.request_buffer_size = request_buffer_size
        # Upstream's name for "startup failed" (the CLI exits with status 1 when it is set).
        self.abort_start = False
        self.startup_error: BaseException | None = None
        self.config = ServerConfig(
            root_path=root_path,
            server_name=server_name.encode("latin-1") if server_name else None,
            http_timeout=http_timeout,
            application_close_timeout=application_close_timeout,
            request_header_timeout=request_header_timeout,
            keep_alive_timeout=keep_alive_timeout,
            max_request_line=max_request_line,
            max_header_size=max_header_size,
            max_body_size=max_body_size,
            require_host=require_host,
            proxy=_proxy_config(
                proxy_forwarded_address_header,
                proxy_forwarded_port_header,
                proxy_forwarded_proto_header,
                proxy_trusted_ips,
                proxy_headers_forwarded,
            ),
            use_httptools=use_httptools,
            websocket_timeout=websocket_timeout,
            websocket_connect_timeout=websocket_connect_timeout,
            websocket_handshake_timeout=websocket_handshake_timeout,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            websocket_max_message_size=websocket_max_message_size,
            websocket_max_frame_size=websocket_max_frame_size,
            websocket_per_message_deflate=websocket_per_message_deflate,
            websocket_deflate_window_bits=websocket_deflate_window_bits,
            ws_protocols=tuple(ws_protocols) if ws_protocols else None,
            shutdown_timeout=shutdown_timeout,
            request_buffer_size=request_buffer_size,
        )
        self.lifespan = Lifespan(application, lifespan)
        self.lifespan_state: dict[str, Any] | None = None
        self.connections: set[Any] = set()
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
        self.ws_connect_timeouts: TimeoutQueue[Any] | None = None
        self.ws_lifetimes: TimeoutQueue[Any] | None = None

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
        from ._autobahn import build_autobahn_factory

        self.ws_factory = build_autobahn_factory(self)
        await defer.Deferred.fromFuture(asyncio.ensure_future(self.lifespan.startup()))
        if self.lifespan.supported:
            self.lifespan_state = self.lifespan.state
        from ._endpoints import endpoint_from_string

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

    def log_http(self, cycle: Any, time_taken: float) -> None:
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

    def maybe_switch_to_h2(self, connection: Any, data: bytes) -> bool:
        from ._http2 import switch_if_negotiated

        return switch_if_negotiated(self, connection, data)

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
            connection.transport.loseConnection()
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


def _ws_connect_timed_out(connection: Any) -> None:
    connection.connect_timed_out()


def _ws_lifetime_over(connection: Any) -> None:
    connection.lifetime_expired()


def _cancel_if_running(task: asyncio.Task[None]) -> None:
    if not task.done():
        task.cancel()


def _sleep(reactor: Any, seconds: float) -> defer.Deferred[None]:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


__all__ = ["HTTPFactory", "Server"]
