"""A layer with a restartable in-process "broker", to exercise the lifecycle tests.

The broker is a named, process-global store (an in-memory layer) behind a
connection epoch. ``restart(name)`` takes it down for a moment from any
thread, drops everything it held (as a broker without persistence does) and
brings it back under a new epoch: every connection opened before is dead.
``BrokeredLayer`` recovers the way a network layer should: its calls fail
with ``ConnectionError`` while the broker is down, its receives wait through
the outage, and its first call afterwards reconnects. A supervisor task (like
a connection's heartbeat) notices a restart too, and ``close()`` ends it.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from asgiref.layers import BaseChannelLayer, CapacityPattern, InMemoryChannelLayer

_REGISTRY_LOCK = threading.Lock()
_BROKERS: dict[str, _Broker] = {}
#: How often receives and the supervisor look at the connection.
_POLL = 0.02


class _Broker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.up = True
        self.epoch = 0
        self.store: InMemoryChannelLayer | None = None


def _broker(name: str) -> _Broker:
    with _REGISTRY_LOCK:
        return _BROKERS.setdefault(name, _Broker())


def restart(name: str, downtime: float = 0.3) -> None:
    """Take broker *name* down for *downtime* seconds, losing what it held."""
    broker = _broker(name)
    with broker.lock:
        broker.up = False
        broker.epoch += 1
        broker.store = None
    time.sleep(downtime)
    with broker.lock:
        broker.up = True


class BrokeredLayer(BaseChannelLayer):
    extensions = ["groups", "flush"]

    def __init__(
        self,
        broker: str,
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        self.broker = broker
        self._store_options: dict[str, Any] = {
            "expiry": expiry,
            "group_expiry": group_expiry,
            "capacity": capacity,
            "channel_capacity": channel_capacity,
        }
        self._client = secrets.token_hex(6)
        self._epoch: int | None = None  # the connection: None when closed
        self._supervisor: asyncio.Task[None] | None = None

    # The connection ---------------------------------------------------------------

    def _reconnect(self, epoch: int) -> None:
        self._epoch = epoch

    def _store(self) -> InMemoryChannelLayer:
        broker = _broker(self.broker)
        with broker.lock:
            if not broker.up:
                raise ConnectionError(f"broker {self.broker!r} is down")
            if self._epoch != broker.epoch:
                self._reconnect(broker.epoch)
            if broker.store is None:
                broker.store = InMemoryChannelLayer(**self._store_options)
            return broker.store

    def _connected(self) -> InMemoryChannelLayer:
        store = self._store()
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.ensure_future(self._supervise())
        return store

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(_POLL)
            self._heartbeat()

    def _heartbeat(self) -> None:
        try:
            self._store()
        except ConnectionError:
            pass  # the next heartbeat tries again

    # The interface ----------------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._connected().send(channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        while True:
            try:
                store = self._connected()
            except ConnectionError:
                await asyncio.sleep(_POLL)  # wait through the outage
                continue
            try:
                # Cancel-safe: the in-memory receive never loses a message to a cancel.
                return await asyncio.wait_for(store.receive(channel), _POLL * 2)
            except asyncio.TimeoutError:
                continue

    async def new_channel(self, prefix: str = "specific.") -> str:
        return f"{prefix}{self._client}!{secrets.token_hex(8)}"

    async def group_add(self, group: str, channel: str) -> None:
        await self._connected().group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        await self._connected().group_discard(group, channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._connected().group_send(group, message)

    async def flush(self) -> None:
        await self._connected().flush()

    async def close(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        self._epoch = None


class NeverReconnectsLayer(BrokeredLayer):
    """Once its connection died with a restart, every call fails for ever."""

    def _reconnect(self, epoch: int) -> None:
        if self._epoch is not None:
            raise ConnectionError(f"connection to broker {self.broker!r} lost")
        super()._reconnect(epoch)


class CrashingSupervisorLayer(BrokeredLayer):
    """Its supervisor dies on a restart, unobserved; the calls start a new one."""

    def _heartbeat(self) -> None:
        broker = _broker(self.broker)
        if self._epoch is not None and self._epoch != broker.epoch:
            self._supervisor = None  # dropped: nobody retrieves its exception
            raise ConnectionError(f"heartbeat to broker {self.broker!r} failed")
        super()._heartbeat()
