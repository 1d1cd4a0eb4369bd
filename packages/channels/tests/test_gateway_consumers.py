"""Channels' consumers in daphne's gateway mode, gateway and workers in one loop (in-memory layer).

A room's group messages sent while a connection moves between workers are
delivered once, in order; the new instance knows it was resumed; the old
one knows it was handed back and keeps the group membership for the next.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
from channels.layers import get_channel_layer
from daphne import gateway

SCOPE = {
    "type": "websocket",
    "path": "/ws/",
    "raw_path": b"/ws/",
    "query_string": b"",
    "headers": [],
    "client": ("127.0.0.1", 5000),
    "server": ("127.0.0.1", 80),
    "subprotocols": [],
}
LOG: list[tuple[str, Any]] = []


class Room(AsyncJsonWebsocketConsumer):
    groups = ["room"]

    async def connect(self) -> None:
        LOG.append(("connect", self.resumed))
        await self.accept()
        if not self.resumed:
            await self.send_json({"hello": True})  # once per client

    async def disconnect(self, code: int) -> None:
        LOG.append(("disconnect", code, self.handed_back))

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"n": event["n"]})


class SyncRoom(JsonWebsocketConsumer):
    groups = ["room"]

    def connect(self) -> None:
        LOG.append(("connect", self.resumed))
        self.accept()

    def disconnect(self, code: int) -> None:
        LOG.append(("disconnect", code, self.handed_back))

    def room_message(self, event: dict[str, Any]) -> None:
        self.send_json({"n": event["n"]})


async def _live(app: Any, worker: Any) -> None:
    while not worker.channel or not app.registry.is_live(worker.channel, _now()):
        await asyncio.sleep(0.01)


def _now() -> float:
    return asyncio.get_running_loop().time()


@pytest.mark.parametrize("consumer", [Room, SyncRoom], ids=["async", "sync"])
async def test_group_messages_during_a_move_arrive_once_in_order(consumer: Any) -> None:
    LOG.clear()
    layer = get_channel_layer()
    app = gateway.GatewayApplication(layer, stale_after=2.0)
    workers = [gateway.GatewayWorker(consumer.as_asgi(), layer, heartbeat_interval=0.1)]
    tasks = [asyncio.ensure_future(workers[0].arun())]
    await app.start()
    await _live(app, workers[0])
    client = ApplicationCommunicator(app, dict(SCOPE))
    await client.send_input({"type": "websocket.connect"})
    assert (await client.receive_output(5))["type"] == "websocket.accept"
    if consumer is Room:
        assert await client.receive_output(5) == {
            "type": "websocket.send",
            "text": '{"hello": true}',
        }
    workers.append(gateway.GatewayWorker(consumer.as_asgi(), layer, heartbeat_interval=0.1))
    tasks.append(asyncio.ensure_future(workers[1].arun()))
    await _live(app, workers[1])
    try:
        for n in range(10):
            await layer.group_send("room", {"type": "room.message", "n": n})
        workers[0].request_stop()
        for n in range(10, 40):
            await layer.group_send("room", {"type": "room.message", "n": n})
            await asyncio.sleep(0)
        await asyncio.wait_for(tasks[0], 10)
        got = [await client.receive_output(5) for _ in range(40)]
        assert [frame["text"] for frame in got] == [f'{{"n": {n}}}' for n in range(40)]
        assert LOG == [("connect", False), ("disconnect", 1012, True), ("connect", True)]
        await client.send_input({"type": "websocket.disconnect", "code": 1000})
        await client.wait(5)
        assert LOG[-1] == ("disconnect", 1000, False)
    finally:
        for worker in workers:
            worker.request_stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.stop()


def test_runworker_asgi_serves_the_gateway_only() -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--asgi serves the gateway only"):
        call_command("runworker", "--asgi", "some-channel")
