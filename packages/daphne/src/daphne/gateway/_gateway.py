"""The gateway: an ASGI application that runs no application code itself.

daphne serves it unchanged, so the gateway inherits daphne's protocols,
timeouts and graceful drain; only the application moved out. Per
connection it picks a live worker (see ``_registry``), forwards the scope
and each ASGI event over the channel layer, and writes the worker's replies
to the socket (see ``_link``).

Why the per-connection channel name is the gateway's: a consumer that
joined groups keeps its membership when its connection moves to another
worker, because the next instance receives on the same (non-process-local)
channel name. Group messages sent during the move wait in the layer instead
of being lost between a leave and a re-join; that is what lets a rolling
deploy deliver every chat message.

Started lazily on the first connection (or the lifespan startup): nothing
happens at construction or import.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import MutableMapping
from typing import Any

from . import _wire
from ._link import Link
from ._registry import WorkerRegistry
from ._state import Phase

__all__ = ["GatewayApplication"]

logger = logging.getLogger("daphne.gateway")

_ASGI_TYPES = ("http", "websocket")


class GatewayApplication:
    """ASGI application that forwards every connection to gateway workers.

    ``stale_after``: seconds without a heartbeat before a worker counts as
    dead and its WebSockets resume elsewhere. ``no_worker_timeout``: how long
    a connection waits for a live worker before WebSockets close with 1012
    and HTTP gets 503. ``move_buffer``: client events kept per connection
    while it moves; one more closes it with 1013.
    """

    def __init__(
        self,
        channel_layer: Any,
        *,
        stale_after: float = 3.0,
        no_worker_timeout: float = 10.0,
        move_buffer: int = 1000,
    ) -> None:
        if channel_layer is None:
            raise ValueError("GatewayApplication needs a channel layer, got None")
        self.layer = channel_layer
        self.channel = ""
        self.registry = WorkerRegistry(stale_after)
        self.no_worker_timeout = no_worker_timeout
        self.move_buffer = move_buffer
        self.links: dict[str, Link] = {}
        self._ids = itertools.count(1)
        self._workers_changed = asyncio.Event()
        self._started: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] not in _ASGI_TYPES:
            raise ValueError(f"the gateway serves http and websocket scopes, got {scope['type']!r}")
        await self.start()
        link = Link(self, str(next(self._ids)), dict(scope), send, self.move_buffer)
        self.links[link.state.conn] = link
        pump = asyncio.ensure_future(link.pump_client(receive))
        try:
            await link.begin()
            await link.pump_replies()
        finally:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            self.links.pop(link.state.conn, None)
            await link.abandon()

    # Lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the gateway's channel and start listening; idempotent."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            self.channel = await self.layer.new_channel("daphne.gateway.")
            await self.layer.group_add(_wire.GATEWAY_GROUP, self.channel)
            self._tasks = [
                asyncio.ensure_future(self._read()),
                asyncio.ensure_future(self._watch()),
            ]
            self._started.set_result(None)
        await self._started

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.channel:
            await self.layer.group_discard(_wire.GATEWAY_GROUP, self.channel)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # Workers -----------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def pick_worker(self, exclude: frozenset[str]) -> str | None:
        """A live worker, waiting up to ``no_worker_timeout`` for one to appear."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.no_worker_timeout
        while True:
            worker = self.registry.pick(self._now(), exclude)
            if worker is not None or loop.time() >= deadline:
                return worker
            self._workers_changed.clear()
            try:
                await asyncio.wait_for(self._workers_changed.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                pass

    def owned(self, link: Link, worker: str | None, delta: int) -> None:
        if worker is not None:
            self.registry.assigned(worker, delta)

    def _owned_by(self, worker: str) -> list[Link]:
        return [
            link
            for link in self.links.values()
            if link.state.owner == worker and link.state.phase is Phase.ASSIGNED
        ]

    async def _read(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            try:
                await self._dispatch(message)
            except Exception:
                logger.exception("gateway could not handle %r", message.get("type"))

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == _wire.HEARTBEAT:
            leaving = bool(message.get("leaving"))
            if self.registry.heartbeat(message["worker"], self._now(), leaving=leaving):
                logger.info("worker %s is live", message["worker"])
                self._workers_changed.set()
            if leaving:
                await self._release_all(message["worker"])
        elif kind == _wire.GONE:
            self.registry.forget(message["worker"])
            self._resume_all(message["worker"], "crash")
        elif kind in (_wire.SEND, _wire.RELEASED, _wire.FINISHED):
            link = self.links.get(message.get("conn", ""))
            if link is not None:
                link.inbox.put_nowait(message)

    async def _release_all(self, worker: str) -> None:
        """A worker is leaving: move its WebSockets, then promise it nothing new."""
        for link in self._owned_by(worker):
            if link.state.kind == "websocket" and link.state.accepted:
                await link.release()
        await self.layer.send(worker, {"type": _wire.LEAVE_ACK, "reply": self.channel})

    def _resume_all(self, worker: str, reason: str) -> None:
        for link in self._owned_by(worker):
            if link.orphan():
                link.move_elsewhere(reason, frozenset({worker}))

    async def _watch(self) -> None:
        """Find workers whose heartbeats stopped; keep the gateway group membership fresh."""
        interval = self.registry.stale_after / 4
        while True:
            await asyncio.sleep(interval)
            for worker in self.registry.stale(self._now()):
                logger.warning("worker %s stopped heartbeating; resuming its connections", worker)
                self.registry.forget(worker)
                self._resume_all(worker, "crash")
            await self.layer.group_add(_wire.GATEWAY_GROUP, self.channel)
