"""The running server as its connections see it: the ``ServerContext`` implementation.

``Server`` builds one ``Serving`` when its loop exists and hands it to every connection. It
holds what connections may use (the options, the Date header, whether the server still
accepts, the lifespan state, the open connections, the WebSocket timeout queues) and does
what they may ask: run an application instance, give a finished client's instance its
grace period, and log. ``Server`` itself keeps startup, listening and shutdown.

This module imports neither Twisted nor Autobahn (``reactor`` and ``ws_factory`` are handed
in by the server).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._config import ServerConfig
from ._context import ActionLogger, OnExit, Served, TimedWebSocket
from ._httpcycle import HttpCycle
from ._timeouts import TimeoutQueue
from ._types import Application, Receive, Scope, Send
from ._wire import DateHeader

logger = logging.getLogger("daphne.server")


class Serving:
    """What connections get of a running server (see the module docstring)."""

    def __init__(
        self,
        application: Application,
        config: ServerConfig,
        loop: asyncio.AbstractEventLoop,
        action_logger: ActionLogger | None = None,
        reactor: Any = None,
    ) -> None:
        self.config = config
        self.date = DateHeader()
        self.accepting = False
        self.lifespan_state: dict[str, Any] | None = None
        self.action_logger = action_logger
        self.reactor = reactor
        self.ws_factory: Any = None  # set once the server built Autobahn's factory
        self.connections: set[Served] = set()
        self._application = application
        self._loop = loop
        self.reaper: TimeoutQueue[asyncio.Task[None]] = TimeoutQueue(
            loop, config.application_close_timeout, _cancel_if_running
        )
        # WebSocket deadlines (None when the limit is off): not accepted in time, open too long.
        self.ws_connect_timeouts: TimeoutQueue[TimedWebSocket] | None = None
        self.ws_lifetimes: TimeoutQueue[TimedWebSocket] | None = None
        if config.websocket_connect_timeout > 0:  # upstream's -1 means "no limit"
            self.ws_connect_timeouts = TimeoutQueue(
                loop, config.websocket_connect_timeout, _ws_connect_timed_out
            )
        if config.websocket_timeout is not None and config.websocket_timeout > 0:
            self.ws_lifetimes = TimeoutQueue(loop, config.websocket_timeout, _ws_lifetime_over)

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop under the reactor (timers use it directly: cheaper than callLater)."""
        return self._loop

    # Application instances -------------------------------------------------------------------

    def spawn(
        self, scope: Scope, receive: Receive, send: Send, on_exit: OnExit
    ) -> asyncio.Task[None]:
        """Run one application instance; ``on_exit`` gets its exception (None when clean)."""
        # Reporting from inside the task (rather than a done-callback) saves one trip through
        # the loop's ready queue per request.
        return self._loop.create_task(
            _run_instance(self._application, scope, receive, send, on_exit, self.reaper)
        )

    def reap_later(self, task: asyncio.Task[None] | None) -> None:
        """Give an instance whose client left ``application_close_timeout`` to finish.

        The instance leaves the queue as soon as it returns, so a finished task is not kept
        alive (with its coroutine and context) for the rest of the grace period.
        """
        if task is not None and not task.done():
            self.reaper.add(task)

    # Logging ---------------------------------------------------------------------------------

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


async def _run_instance(
    application: Application,
    scope: Scope,
    receive: Receive,
    send: Send,
    on_exit: OnExit,
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


__all__ = ["Serving"]
