"""The background worker behind ``manage.py runworker``.

One application instance per named channel receives that channel's
messages in order (scope ``{"type": "channel", "channel": name}``).

Shutdown (SIGTERM or SIGINT) is graceful: the worker stops taking messages
from the layer, lets every instance finish the messages it already holds,
then cancels the idle instances (so their cleanup runs) and returns. A
second signal stops waiting and cancels the handlers still running.
An instance counts as idle while it waits in ``receive`` with nothing
queued: channels' consumers only ask for the next message after the
previous handler returned.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from asgiref.server import StatelessServer

from ._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Worker", "serve_until_signalled"]

logger = logging.getLogger("channels.worker")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Worker(StatelessServer):
    """Serve named channels from a channel layer to ``application``."""

    def __init__(
        self,
        application: ASGIApp,
        channels: Iterable[str],
        channel_layer: Any,
        max_applications: int = 1000,
    ) -> None:
        super().__init__(self._track_idle(application), max_applications)
        self.channels = list(channels)
        self.channel_layer = channel_layer
        if channel_layer is None:
            raise ValueError("Worker needs a channel layer, got None: configure CHANNEL_LAYERS")
        if not self.channels or not all(isinstance(name, str) for name in self.channels):
            raise ValueError(f"Worker needs one or more channel names, got {self.channels!r}")
        self._idle: set[str] = set()
        self._idle_changed = asyncio.Event()
        self._forced = False
        self._stop: asyncio.Event | None = None

    def _track_idle(self, application: ASGIApp) -> ASGIApp:
        async def tracked(scope: Scope, receive: Receive, send: Send) -> None:
            key = scope["channel"]

            async def tracked_receive() -> Message:
                self._idle.add(key)
                self._idle_changed.set()
                try:
                    return await receive()
                finally:
                    self._idle.discard(key)

            try:
                await application(scope, tracked_receive, send)
            finally:
                self._idle_changed.set()

        return tracked

    # Running ---------------------------------------------------------------------

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then drain and return."""
        asyncio.run(serve_until_signalled([self]))

    def request_stop(self, signum: int | None = None) -> None:
        """Begin a graceful stop; called again, cancel the handlers still running."""
        name = signal.Signals(signum).name if signum is not None else "stop request"
        if self._stop is None:
            self._stop = asyncio.Event()
        if self._stop.is_set():
            logger.warning("Received %s again: cancelling in-flight handlers", name)
            self._forced = True
            self._idle_changed.set()
            return
        logger.info("Received %s: finishing in-flight messages", name)
        self._stop.set()

    async def handle(self) -> None:
        if self._stop is None:
            self._stop = asyncio.Event()
        logger.info("Listening on channels %s", ", ".join(self.channels))
        listeners = [asyncio.ensure_future(self.listener(name)) for name in self.channels]
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait([*listeners, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in [*listeners, stopper]:
                task.cancel()
            await asyncio.gather(*listeners, stopper, return_exceptions=True)
        for task in listeners:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        await self.drain()
        logger.info("Worker stopped")

    async def listener(self, channel: str) -> None:
        """Receive from *channel* forever; each message goes to that channel's app instance."""
        while True:
            message = await self.channel_layer.receive(channel)
            if not isinstance(message, dict) or not message.get("type"):
                logger.error(
                    "Dropped a message on channel %r: expected a dict with a 'type', got %r",
                    channel,
                    message,
                )
                continue
            scope = {"type": "channel", "channel": channel}
            queue = self.get_or_create_application_instance(channel, scope)
            await queue.put(message)

    async def drain(self) -> None:
        """Wait until every instance is idle or finished, then cancel them."""
        while not self._forced and not self._drained():
            self._idle_changed.clear()
            await self._idle_changed.wait()
        futures = [details["future"] for details in self.application_instances.values()]
        for scope_id in list(self.application_instances):
            self.delete_application_instance(scope_id)
        await asyncio.gather(*futures, return_exceptions=True)

    def _drained(self) -> bool:
        for scope_id, details in self.application_instances.items():
            if details["future"].done():
                continue
            if scope_id not in self._idle or not details["input_queue"].empty():
                return False
        return True

    async def application_send(self, scope: Any, message: Any) -> None:
        raise ValueError(
            f"Worker applications cannot send to the server (channel {scope.get('channel')!r} "
            f"sent {message.get('type')!r}); use the channel layer to reply"
        )


class _Stoppable(Protocol):
    async def arun(self) -> None: ...

    def request_stop(self, signum: int | None = None) -> None: ...


async def serve_until_signalled(servers: Sequence[_Stoppable]) -> None:
    """Run every server in this loop; each SIGTERM/SIGINT is passed to all of them."""
    loop = asyncio.get_running_loop()

    def stop(signum: int) -> None:
        for server in servers:
            server.request_stop(signum)

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await asyncio.gather(*(server.arun() for server in servers))
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)
