"""Gateway mode over the in-memory layer, gateway and workers in one event loop.

The gateway is driven as an ASGI application (daphne's side of it) through
asgiref's ApplicationCommunicator; workers are real GatewayWorker runtimes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.layers import InMemoryChannelLayer
from asgiref.testing import ApplicationCommunicator
from daphne.gateway import GatewayApplication, GatewayWorker

WS_SCOPE = {
    "type": "websocket",
    "path": "/ws/",
    "raw_path": b"/ws/",
    "query_string": b"",
    "headers": [(b"host", b"example.com")],
    "client": ("127.0.0.1", 5000),
    "server": ("127.0.0.1", 80),
    "subprotocols": [],
    "asgi": {"version": "3.0"},
}
HTTP_SCOPE = {**WS_SCOPE, "type": "http", "method": "GET", "path": "/", "raw_path": b"/"}


def tagging_app(tag: str, seen: list[dict[str, Any]]) -> Any:
    """Echo app: replies ``<tag>:<text>``; records every scope it is given."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)
        if scope["type"] == "http":
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": tag.encode()})
            return
        while True:
            event = await receive()
            if event["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            elif event["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": f"{tag}:{event['text']}"})
            else:
                return

    return app


class Fleet:
    def __init__(self) -> None:
        self.layer = InMemoryChannelLayer(capacity=10_000)
        self.gateway = GatewayApplication(self.layer, stale_after=0.6, no_worker_timeout=2.0)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.workers: dict[str, GatewayWorker] = {}
        self.seen: dict[str, list[dict[str, Any]]] = {}

    async def start_worker(self, tag: str) -> GatewayWorker:
        self.seen[tag] = []
        worker = GatewayWorker(tagging_app(tag, self.seen[tag]), self.layer, heartbeat_interval=0.1)
        self.workers[tag] = worker
        self.tasks[tag] = asyncio.ensure_future(worker.arun())
        await self.gateway.start()
        while not worker.channel or not self.gateway.registry.is_live(worker.channel, _now()):
            await asyncio.sleep(0.01)
        return worker

    async def stop_all(self) -> None:
        for worker in self.workers.values():
            worker.request_stop()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.gateway.stop()


def _now() -> float:
    return asyncio.get_running_loop().time()


@pytest.fixture
async def fleet() -> Any:
    fleet = Fleet()
    yield fleet
    await fleet.stop_all()


async def open_socket(fleet: Fleet) -> ApplicationCommunicator:
    client = ApplicationCommunicator(fleet.gateway, dict(WS_SCOPE))
    await client.send_input({"type": "websocket.connect"})
    assert await client.receive_output(5) == {"type": "websocket.accept"}
    return client


async def echo(client: ApplicationCommunicator, text: str) -> str:
    await client.send_input({"type": "websocket.receive", "text": text})
    reply = await client.receive_output(5)
    assert reply["type"] == "websocket.send", reply
    return str(reply["text"])


async def test_http_request_is_answered_by_a_worker(fleet: Fleet) -> None:
    await fleet.start_worker("v1")
    client = ApplicationCommunicator(fleet.gateway, dict(HTTP_SCOPE))
    await client.send_input({"type": "http.request", "body": b""})
    assert (await client.receive_output(5))["status"] == 200
    assert (await client.receive_output(5))["body"] == b"v1"


async def test_websocket_is_relayed_and_the_scope_names_its_stable_channel(fleet: Fleet) -> None:
    await fleet.start_worker("v1")
    client = await open_socket(fleet)
    assert await echo(client, "hi") == "v1:hi"
    extensions = fleet.seen["v1"][0]["extensions"]
    assert extensions["daphne.gateway"]["channel_name"].startswith("daphne.conn.")
    assert "resumed" not in extensions
    assert fleet.seen["v1"][0]["headers"] == [(b"host", b"example.com")]


async def test_a_stopping_worker_hands_its_websockets_to_a_live_one(fleet: Fleet) -> None:
    await fleet.start_worker("v1")
    client = await open_socket(fleet)
    assert await echo(client, "before") == "v1:before"
    await fleet.start_worker("v2")
    fleet.workers["v1"].request_stop()
    await fleet.tasks["v1"]
    assert await echo(client, "after") == "v2:after"
    resumed = fleet.seen["v2"][-1]["extensions"]["resumed"]
    assert resumed == {"reason": "redeploy"}


async def test_messages_sent_during_a_move_arrive_in_order(fleet: Fleet) -> None:
    await fleet.start_worker("v1")
    client = await open_socket(fleet)
    await fleet.start_worker("v2")
    fleet.workers["v1"].request_stop()
    for n in range(50):
        await client.send_input({"type": "websocket.receive", "text": str(n)})
    replies = [(await client.receive_output(5))["text"] for _ in range(50)]
    assert [r.split(":")[1] for r in replies] == [str(n) for n in range(50)]
    await asyncio.wait_for(fleet.tasks["v1"], 10)
    assert await echo(client, "after") == "v2:after"


async def test_a_worker_stopped_hard_hands_its_sockets_over_as_resumed(fleet: Fleet) -> None:
    await fleet.start_worker("v1")
    client = await open_socket(fleet)
    await fleet.start_worker("v2")
    owner = fleet.gateway.links["1"].state.owner
    victim = "v1" if owner == fleet.workers["v1"].channel else "v2"
    survivor = "v2" if victim == "v1" else "v1"
    fleet.tasks[victim].cancel()  # no drain: the instances are cancelled
    await asyncio.gather(fleet.tasks[victim], return_exceptions=True)
    assert await echo(client, "x") == f"{survivor}:x"
    assert fleet.seen[survivor][-1]["extensions"]["resumed"] == {"reason": "redeploy"}


async def test_without_workers_http_gets_503_and_websockets_close_1012() -> None:
    layer = InMemoryChannelLayer()
    gateway = GatewayApplication(layer, no_worker_timeout=0.2)
    try:
        http = ApplicationCommunicator(gateway, dict(HTTP_SCOPE))
        await http.send_input({"type": "http.request", "body": b""})
        assert (await http.receive_output(5))["status"] == 503
        ws = ApplicationCommunicator(gateway, dict(WS_SCOPE))
        await ws.send_input({"type": "websocket.connect"})
        assert await ws.receive_output(5) == {"type": "websocket.accept"}
        assert await ws.receive_output(5) == {"type": "websocket.close", "code": 1012}
    finally:
        await gateway.stop()
