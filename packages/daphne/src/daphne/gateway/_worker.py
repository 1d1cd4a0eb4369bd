"""The worker runtime: runs any ASGI application for the connections a gateway assigns.

One application instance per (gateway, connection, epoch). ``receive`` and
``send`` are bridged to the layer: events arrive on this worker's
process-local channel in the gateway's order, replies go to the gateway's
channel in the instance's order.

Lifecycle of a stop (SIGTERM):

1. the worker heartbeats with ``leaving`` set, so gateways assign it
   nothing new;
2. in-flight HTTP requests finish here;
3. each gateway sends ``gateway.release`` for this worker's open
   WebSockets. An application that reads the connection's channel (it set
   ``handback_via_channel``, as channels' consumers do) gets a
   ``websocket.handback`` message on that channel once it has handled every
   client event: it handles the group messages queued before it and leaves
   the rest to the next instance. Any other application's next ``receive()``
   returns ``websocket.disconnect`` with code 1012 and ``"handback": True``.
   Sends made until the instance returns still reach the client; then the
   worker reports ``worker.released`` and the gateway resumes the socket
   elsewhere;
4. once every instance has ended and every gateway that used this worker
   has acknowledged the leave, the worker announces ``worker.gone`` and
   exits. ``drain_timeout`` bounds the wait; a second signal cuts it short.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

from . import _wire
from ._patient import send_patiently

__all__ = ["GatewayWorker"]

logger = logging.getLogger("daphne.gateway.worker")

_RELEASE = {"type": "gateway.release"}
_SERVICE_RESTART = 1012


@dataclass
class _Instance:
    reply: str
    conn: str
    epoch: int
    kind: str
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    released: bool = False
    task: asyncio.Task[None] | None = None
    # Set while the application waits in receive() with nothing queued.
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    scope: dict[str, Any] = field(default_factory=dict)


class GatewayWorker:
    """Serve *application* to gateways over *channel_layer* until stopped."""

    def __init__(
        self,
        application: Any,
        channel_layer: Any,
        *,
        heartbeat_interval: float = 0.5,
        drain_timeout: float = 30.0,
    ) -> None:
        if channel_layer is None:
            raise ValueError("GatewayWorker needs a channel layer, got None")
        self.application = application
        self.layer = channel_layer
        self.heartbeat_interval = heartbeat_interval
        self.drain_timeout = drain_timeout
        self.channel = ""
        self.instances: dict[tuple[str, str], _Instance] = {}
        self.leaving = False
        self._gateways: set[str] = set()
        self._acked: set[str] = set()
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._forced = False
        self._background: set[asyncio.Future[None]] = set()

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT, drain, and return."""
        asyncio.run(self.arun(install_signals=True))

    def request_stop(self, signum: int | None = None) -> None:
        if self._stop.is_set():
            logger.warning("stop requested again: cancelling the remaining instances")
            self._forced = True
            self._changed.set()
        self._stop.set()

    async def arun(self, install_signals: bool = False) -> None:
        loop = asyncio.get_running_loop()
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.request_stop, signum)
        self.channel = await self.layer.new_channel("daphne.worker.")
        logger.info("gateway worker %s serving", self.channel)
        tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._heartbeat())]
        try:
            await self._stop.wait()
            self.leaving = True
            await self._announce()
            await self._drain()
        finally:
            for task in tasks:
                task.cancel()
            await self._cancel_instances()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.layer.group_send(
                _wire.GATEWAY_GROUP, {"type": _wire.GONE, "worker": self.channel}
            )
            logger.info("gateway worker %s stopped", self.channel)

    # Announcements -------------------------------------------------------------

    async def _announce(self) -> None:
        message = {"type": _wire.HEARTBEAT, "worker": self.channel, "leaving": self.leaving}
        await self.layer.group_send(_wire.GATEWAY_GROUP, message)

    async def _heartbeat(self) -> None:
        while True:
            await self._announce()
            await asyncio.sleep(self.heartbeat_interval)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        while not self._forced and (self.instances or not self._gateways <= self._acked):
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                logger.warning("drain timeout: %d instances still running", len(self.instances))
                return
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    # Incoming ------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            kind = message.get("type")
            if kind == _wire.LEAVE_ACK:
                self._acked.add(message["reply"])
                self._changed.set()
                continue
            if kind == _wire.OPEN:
                self._open(message)
                continue
            instance = self._find(message)
            if instance is None:
                continue
            if kind == _wire.EVENT:
                instance.queue.put_nowait(message["event"])
            elif kind == _wire.RELEASE:
                self._release(instance)

    def _find(self, message: dict[str, Any]) -> _Instance | None:
        # Connection ids are unique per gateway; an older epoch is a stale message.
        instance = self.instances.get((message.get("reply", ""), message.get("conn", "")))
        if instance is None or instance.epoch != message.get("epoch"):
            return None
        return instance

    def _release(self, instance: _Instance) -> None:
        gateway = instance.scope.get("extensions", {}).get(_wire.CONNECTION_EXTENSION, {})
        if gateway.get(_wire.HANDBACK_VIA_CHANNEL):
            task = asyncio.ensure_future(self._release_via_channel(instance, gateway))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        else:
            instance.queue.put_nowait(_RELEASE)

    async def _release_via_channel(self, instance: _Instance, gateway: dict[str, Any]) -> None:
        """Hand back an application that reads the connection's channel (channels' consumers).

        The handback travels behind the group messages already on that channel,
        so the application handles exactly those and leaves the rest to the next
        instance. It is sent once the application waits in receive() with every
        client event handled: no event can be in its hands when it stops.
        """
        while not (instance.idle.is_set() and instance.queue.empty()):
            instance.idle.clear()
            await instance.idle.wait()
        instance.released = True
        marker = {"type": "websocket.handback", "epoch": gateway.get("epoch")}
        await send_patiently(self.layer, gateway["channel_name"], marker)

    def _open(self, message: dict[str, Any]) -> None:
        scope = _wire.scope_from_wire(message["scope"])
        instance = _Instance(message["reply"], message["conn"], message["epoch"], scope["type"])
        instance.scope = scope
        self._gateways.add(instance.reply)
        self.instances[(instance.reply, instance.conn)] = instance
        instance.task = asyncio.ensure_future(self._serve(instance, scope))

    # One instance --------------------------------------------------------------

    async def _serve(self, instance: _Instance, scope: dict[str, Any]) -> None:
        error: str | None = None

        async def receive() -> dict[str, Any]:
            if instance.released:
                return _handback()
            if instance.queue.empty():
                instance.idle.set()
            try:
                event = await instance.queue.get()
            finally:
                instance.idle.clear()
            if event is _RELEASE:
                instance.released = True
                return _handback()
            return event

        async def send(message: dict[str, Any]) -> None:
            await self._reply(instance, _wire.SEND, event=message)

        try:
            await self.application(scope, receive, send)
        except asyncio.CancelledError:
            # The worker is stopping hard (second signal, drain timeout): the
            # socket outlives this instance, so it goes back to the gateway.
            instance.released = instance.kind == "websocket"
            error = "the worker stopped"
        except Exception as exc:
            logger.exception("application raised for connection %s", instance.conn)
            error = repr(exc)
        finally:
            self.instances.pop((instance.reply, instance.conn), None)
            self._changed.set()
        if instance.released:
            await self._reply(instance, _wire.RELEASED)
        else:
            await self._reply(instance, _wire.FINISHED, error=error)

    async def _reply(self, instance: _Instance, kind: str, **fields: Any) -> None:
        message = {"type": kind, "conn": instance.conn, "epoch": instance.epoch, **fields}
        await send_patiently(self.layer, instance.reply, message)

    async def _cancel_instances(self) -> None:
        tasks = [i.task for i in self.instances.values() if i.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _handback() -> dict[str, Any]:
    return {
        "type": "websocket.disconnect",
        "code": _SERVICE_RESTART,
        "reason": "handed back to the gateway",
        "handback": True,
    }
