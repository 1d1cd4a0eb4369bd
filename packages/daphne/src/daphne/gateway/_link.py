"""One client connection inside the gateway: the IO shell over ConnectionState.

Two loops run per connection: the client pump reads daphne's ``receive`` and
forwards (or buffers) each event; the reply pump writes the owner's messages
to daphne's ``send``. Everything that sends to a worker for this connection
holds ``lock``, so a ``gateway.release`` or a re-open can never overtake an
event that was already on its way: with the layer's per-channel FIFO, the
worker sees this connection's messages in exactly the gateway's order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from . import _wire
from ._patient import send_patiently
from ._state import BufferOverflow, ConnectionState, Phase

__all__ = ["Link", "WorkerLost"]

logger = logging.getLogger("daphne.gateway")

SERVICE_RESTART = 1012
TRY_AGAIN_LATER = 1013
Send = Callable[[dict[str, Any]], Awaitable[None]]


class WorkerLost(Exception):
    """The worker serving an HTTP request died before it answered."""


class Hub(Protocol):
    """What a connection needs from its gateway."""

    layer: Any
    channel: str

    async def pick_worker(self, exclude: frozenset[str]) -> str | None: ...

    def owned(self, link: Link, worker: str | None, delta: int) -> None: ...


class Link:
    def __init__(self, hub: Hub, conn: str, scope: dict[str, Any], send: Send, limit: int) -> None:
        self.hub = hub
        self.scope = scope
        self.send = send
        self.state = ConnectionState(conn=conn, kind=scope["type"], buffer_limit=limit)
        self.lock = asyncio.Lock()
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.mover: asyncio.Future[None] | None = None
        self.channel_name = f"daphne.conn.{hub.channel.replace('!', '.')}{conn}"

    # Assignment ------------------------------------------------------------------

    async def open_on(self, worker: str, resumed: str | None) -> None:
        """Assign to *worker* and replay what it must see first; caller holds ``lock``."""
        state = self.state
        state.assign(worker, resumed=resumed is not None)
        self.hub.owned(self, worker, +1)
        scope = _wire.gateway_scope(
            self.scope,
            conn=state.conn,
            channel_name=self.channel_name,
            epoch=state.epoch,
            resumed=resumed,
        )
        await self._to_worker({"type": _wire.OPEN, "scope": _wire.scope_to_wire(scope)})
        replay = state.take_buffer()
        if state.epoch > 1 and state.connect_seen:
            # A re-open: the client's connect went to the previous owner.
            replay.insert(0, {"type": "websocket.connect"})
        for event in replay:
            await self._to_worker({"type": _wire.EVENT, "event": event})

    async def _to_worker(self, message: dict[str, Any]) -> None:
        state = self.state
        assert state.owner is not None
        message.update(conn=state.conn, epoch=state.epoch, reply=self.hub.channel)
        await send_patiently(self.hub.layer, state.owner, message)

    def move_elsewhere(self, reason: str, exclude: frozenset[str]) -> None:
        """Start :meth:`reassign` in the background (it may wait for a live worker)."""
        self.mover = asyncio.ensure_future(self.reassign(reason, exclude))

    async def begin(self) -> None:
        """Find the first owner, waiting for one within the hub's timeout."""
        await self._place(None, frozenset())

    async def reassign(self, reason: str, exclude: frozenset[str]) -> None:
        """Find a new owner after a handback or a crash; or fail the connection."""
        state = self.state
        if state.client_gone:
            await self.inbox.put({"type": "gateway.ended"})
            return
        if state.kind != "websocket":
            # An HTTP request's body went to the dead worker: it cannot be replayed.
            lost = state.response_started
            await self.inbox.put({"type": "gateway.lost" if lost else "gateway.unavailable"})
            return
        await self._place(reason if state.accepted else None, exclude)

    async def _place(self, resumed: str | None, exclude: frozenset[str]) -> None:
        worker = await self.hub.pick_worker(exclude)
        async with self.lock:
            if self.state.phase is Phase.CLOSED:
                return
            if worker is None:
                await self.inbox.put({"type": "gateway.unavailable"})
                return
            await self.open_on(worker, resumed)

    async def release(self) -> None:
        """Ask the owner to hand this WebSocket back (it is leaving)."""
        async with self.lock:
            if self.state.phase is not Phase.ASSIGNED:
                return
            self.state.start_move()
            await self._to_worker({"type": _wire.RELEASE})

    async def abandon(self) -> None:
        """daphne ended this connection (cancelled it): end the worker's instance too."""
        state = self.state
        if state.phase is Phase.ASSIGNED and not state.client_gone:
            kind = "websocket.disconnect" if state.kind == "websocket" else "http.disconnect"
            event: dict[str, Any] = {"type": kind}
            if state.kind == "websocket":
                event["code"] = 1001
            state.client_gone = True
            await self._to_worker({"type": _wire.EVENT, "event": event})
        self._close_state()

    def orphan(self) -> bool:
        """The owner died: start buffering; return True if this connection needs a new one."""
        if self.state.phase is not Phase.ASSIGNED:
            return False
        self.state.start_move()
        self.state.releasing_epoch = None  # nothing more will come from the dead worker
        self.hub.owned(self, self.state.owner, -1)
        return True

    # Pumps -----------------------------------------------------------------------

    async def pump_client(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        while not self.state.client_gone:
            event = await receive()
            async with self.lock:
                if self.state.phase is Phase.CLOSED:
                    return
                try:
                    forward = self.state.client_event(event)
                except BufferOverflow as exc:
                    logger.warning("%s; closing it with %d", exc, TRY_AGAIN_LATER)
                    await self.inbox.put({"type": "gateway.overflow"})
                    return
                if forward:
                    await self._to_worker({"type": _wire.EVENT, "event": event})

    async def pump_replies(self) -> None:
        """Write the owner's messages to the client until the connection is over."""
        while True:
            message = await self.inbox.get()
            kind = message["type"]
            if kind == _wire.SEND:
                if self.state.worker_event(message["epoch"], message["event"]):
                    await self.send(message["event"])
            elif kind == _wire.FINISHED and self.state.accepts_from(message["epoch"]):
                if message["epoch"] == self.state.epoch:
                    self._close_state()
                    if message.get("error"):
                        raise RuntimeError(f"the worker's application raised {message['error']}")
                    return
            elif kind == _wire.RELEASED:
                self._released(message["epoch"])
            elif kind.startswith("gateway."):
                await self._fail(kind)
                return

    def _released(self, epoch: int) -> None:
        """The owner's instance ended without closing the socket: resume it elsewhere."""
        state = self.state
        if epoch == state.releasing_epoch:
            self.hub.owned(self, state.owner, -1)
        elif epoch == state.epoch and state.phase is Phase.ASSIGNED:
            self.orphan()  # handed back unasked: its worker stopped hard
        else:
            return
        self.move_elsewhere("redeploy", frozenset({state.owner or ""}))

    async def _fail(self, why: str) -> None:
        self._close_state()
        if why == "gateway.ended":
            return
        if why == "gateway.lost":
            raise WorkerLost(f"the worker serving connection {self.state.conn} died mid-response")
        code = TRY_AGAIN_LATER if why == "gateway.overflow" else SERVICE_RESTART
        if self.state.kind == "websocket":
            if not self.state.accepted:
                await self.send({"type": "websocket.accept"})
            await self.send({"type": "websocket.close", "code": code})
        elif self.state.kind == "http":
            await _unavailable(self.send)

    def _close_state(self) -> None:
        if self.state.phase is Phase.ASSIGNED:
            self.hub.owned(self, self.state.owner, -1)
        self.state.phase = Phase.CLOSED


async def _unavailable(send: Send) -> None:
    body = b"503 Service Unavailable: no application worker is running\n"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"text/plain"), (b"retry-after", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": body})
