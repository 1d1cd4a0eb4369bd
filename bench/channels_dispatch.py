"""Benchmark: what channels' consumers cost over a bare ASGI application.

Run from the repository root:

    .venv/bin/python bench/channels_dispatch.py            # full run
    .venv/bin/python bench/channels_dispatch.py --quick    # smaller counts

Results: ``<--output>/channels_dispatch.json`` and one chart per scenario (bench/_results.py).

Every scenario drives its application through the same in-process queues
(``asgiref.testing.ApplicationCommunicator``), so the driver's cost is in both
sides. The *peer* is a hand-written ASGI WebSocket echo with no framework at
all, measured in the same process and run. Reported: both times and the ratio
scenario / peer (lower is better; 1.0 would mean the consumer machinery is
free). The best of ``--repeat`` runs is kept for each side.

Scenarios:

* ``async echo``: ``AsyncWebsocketConsumer`` echoing N text frames.
* ``async echo, no DB hop``: as ``async echo`` with ``close_old_db_connections
  = False`` (no executor hop to close stale database connections per message).
* ``sync echo``: ``WebsocketConsumer`` (handlers in the thread-sensitive
  executor) echoing N text frames.
* ``async echo, no layer``: as ``async echo`` with ``CHANNEL_LAYERS = {}``.
* ``group fan-out M``: one ``group_send`` to M connected
  ``AsyncWebsocketConsumer`` members, until all of them sent the frame; the
  peer is M bare apps fed the same message through their queues.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import django
from _results import Series, Workload, add_output_options, machine, publish
from django.conf import settings


def _configure(layers: bool) -> None:
    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=[],
            DATABASES={},
            CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        )
        django.setup()
    from channels.layers import channel_layers

    channel_layers.backends = {}
    layer_config = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CHANNEL_LAYERS = layer_config if layers else {}


async def bare_echo(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive" or message["type"] == "chat.message":
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            return


def _consumers() -> tuple[Any, Any]:
    from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer

    class AsyncEcho(AsyncWebsocketConsumer):
        groups = ["room"]

        async def receive(self, text_data: Any = None, bytes_data: Any = None) -> None:
            await self.send(text_data=text_data)

        async def chat_message(self, event: dict[str, Any]) -> None:
            await self.send(text_data=event["text"])

    class SyncEcho(WebsocketConsumer):
        def receive(self, text_data: Any = None, bytes_data: Any = None) -> None:
            self.send(text_data=text_data)

    return AsyncEcho, SyncEcho


async def echo(app: Any, count: int) -> float:
    from asgiref.testing import ApplicationCommunicator

    communicator = ApplicationCommunicator(app, {"type": "websocket", "path": "/"})
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    start = time.perf_counter()
    for _ in range(count):
        await communicator.send_input({"type": "websocket.receive", "text": "hello"})
        await communicator.receive_output()
    elapsed = time.perf_counter() - start
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait()
    return elapsed


async def fan_out(app: Any, members: int, rounds: int, bare: bool) -> float:
    from asgiref.testing import ApplicationCommunicator
    from channels.layers import get_channel_layer

    communicators = [
        ApplicationCommunicator(app, {"type": "websocket", "path": "/"}) for _ in range(members)
    ]
    for communicator in communicators:
        await communicator.send_input({"type": "websocket.connect"})
        await communicator.receive_output()
    layer = get_channel_layer()
    message = {"type": "chat.message", "text": "hello"}
    start = time.perf_counter()
    for _ in range(rounds):
        if bare:
            for communicator in communicators:
                await communicator.send_input(dict(message))
        else:
            assert layer is not None
            await layer.group_send("room", message)
        for communicator in communicators:
            await communicator.receive_output()
    elapsed = time.perf_counter() - start
    for communicator in communicators:
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await communicator.wait()
    return elapsed


async def best(repeat: int, run: Callable[[], Awaitable[float]]) -> float:
    return min([await run() for _ in range(repeat)])


async def main(quick: bool, repeat: int) -> list[tuple[str, float, float]]:
    """Run every scenario; print and return the rows (scenario, channels s, peer s)."""
    count = 500 if quick else 3000
    members, rounds = (20, 20) if quick else (100, 50)
    _configure(layers=True)
    async_echo, sync_echo = _consumers()
    rows: list[tuple[str, float, float]] = []

    peer = await best(repeat, lambda: echo(bare_echo, count))
    rows.append(("async echo", await best(repeat, lambda: echo(async_echo.as_asgi(), count)), peer))
    no_db = async_echo.as_asgi(close_old_db_connections=False)
    rows.append(("async echo, no DB hop", await best(repeat, lambda: echo(no_db, count)), peer))
    rows.append(("sync echo", await best(repeat, lambda: echo(sync_echo.as_asgi(), count)), peer))
    _configure(layers=False)
    no_layer = await best(repeat, lambda: echo(async_echo.as_asgi(groups=[]), count))
    rows.append(("async echo, no layer", no_layer, peer))
    _configure(layers=True)
    fan_peer = await best(repeat, lambda: fan_out(bare_echo, members, rounds, bare=True))
    fan = await best(repeat, lambda: fan_out(async_echo.as_asgi(), members, rounds, bare=False))
    rows.append((f"group fan-out {members}", fan, fan_peer))

    print(f"{'scenario':<24}{'channels s':>12}{'peer s':>10}{'ratio':>8}")
    for name, ours, theirs in rows:
        print(f"{name:<24}{ours:>12.4f}{theirs:>10.4f}{ours / theirs:>8.2f}")
    print(
        f"(echo: {count} frames; fan-out: {members} members x {rounds} messages; best of {repeat})"
    )
    return rows


def workloads(rows: list[tuple[str, float, float]]) -> list[Workload]:
    """One chart per scenario: channels against the bare ASGI app, in milliseconds."""
    return [
        Workload(
            name=name,
            unit="ms",
            lower_is_better=True,
            metrics=["ms"],
            series=[
                Series("channels (ours)", "ours", {"ms": ours * 1000}),
                Series("bare ASGI app", "peer", {"ms": theirs * 1000}),
            ],
            notes={"ratio": ours / theirs},
        )
        for name, ours, theirs in rows
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; best is kept")
    add_output_options(parser)
    arguments = parser.parse_args()
    started = machine()
    results = asyncio.run(main(arguments.quick, arguments.repeat))
    publish(
        "channels_dispatch",
        workloads(results),
        started,
        arguments,
        quick=arguments.quick,
        repeat=arguments.repeat,
    )
