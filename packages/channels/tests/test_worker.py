"""The Worker: serving named channels, bad messages, graceful stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from channels.consumer import AsyncConsumer, SyncConsumer
from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter
from channels.worker import Worker


class Collect(AsyncConsumer):
    async def task(self, message: dict[str, Any]) -> None:
        self.scope["log"].append((self.scope["channel"], message["n"]))
        if message["n"] == "block":
            await self.scope["release"].wait()
            self.scope["log"].append("released")


class SyncCollect(SyncConsumer):
    def task(self, message: dict[str, Any]) -> None:
        self.scope["log"].append((self.scope["channel"], message["n"]))


def _router(log: list[Any], release: asyncio.Event) -> Any:
    async def add_context(scope: Any, receive: Any, send: Any) -> None:
        scope = dict(scope, log=log, release=release)
        await ChannelNameRouter({"jobs": Collect.as_asgi(), "sync-jobs": SyncCollect.as_asgi()})(
            scope, receive, send
        )

    return add_context


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.005)


async def test_worker_serves_channels_in_order() -> None:
    layer = get_channel_layer()
    log: list[Any] = []
    worker = Worker(_router(log, asyncio.Event()), ["jobs", "sync-jobs"], layer)
    serving = asyncio.ensure_future(worker.arun())
    for n in range(3):
        await layer.send("jobs", {"type": "task", "n": n})  # type: ignore[union-attr]
        await layer.send("sync-jobs", {"type": "task", "n": n})  # type: ignore[union-attr]
    await _until(lambda: len(log) == 6)
    assert [n for channel, n in log if channel == "jobs"] == [0, 1, 2]
    assert [n for channel, n in log if channel == "sync-jobs"] == [0, 1, 2]
    worker.request_stop()
    await serving


async def test_message_without_type_is_dropped_and_worker_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    layer = get_channel_layer()
    log: list[Any] = []
    worker = Worker(_router(log, asyncio.Event()), ["jobs"], layer)
    serving = asyncio.ensure_future(worker.arun())
    with caplog.at_level(logging.ERROR, logger="channels.worker"):
        await layer.send("jobs", {"n": "untyped"})  # type: ignore[union-attr]
        await layer.send("jobs", {"type": "task", "n": "after"})  # type: ignore[union-attr]
        await _until(lambda: log)
    assert log == [("jobs", "after")]
    assert "expected a dict with a 'type'" in caplog.text
    worker.request_stop()
    await serving


async def test_stop_lets_the_in_flight_handler_finish() -> None:
    layer = get_channel_layer()
    log: list[Any] = []
    release = asyncio.Event()
    worker = Worker(_router(log, release), ["jobs"], layer)
    serving = asyncio.ensure_future(worker.arun())
    await layer.send("jobs", {"type": "task", "n": "block"})  # type: ignore[union-attr]
    await _until(lambda: log)
    worker.request_stop()
    # The worker waits for the handler; give it every chance to finish early.
    for _ in range(20):
        await asyncio.sleep(0)
    assert not serving.done()
    release.set()
    await serving
    assert log == [("jobs", "block"), "released"]
    # Messages sent after the stop stay in the layer for the next worker.
    await layer.send("jobs", {"type": "task", "n": "later"})  # type: ignore[union-attr]
    assert (await layer.receive("jobs"))["n"] == "later"  # type: ignore[union-attr]


def test_worker_needs_a_layer_and_channels() -> None:
    with pytest.raises(ValueError, match="needs a channel layer, got None"):
        Worker(Collect.as_asgi(), ["jobs"], None)
    with pytest.raises(ValueError, match="one or more channel names, got \\[\\]"):
        Worker(Collect.as_asgi(), [], get_channel_layer())


async def test_second_stop_request_cancels_in_flight_handlers() -> None:
    layer = get_channel_layer()
    log: list[Any] = []
    worker = Worker(_router(log, asyncio.Event()), ["jobs"], layer)
    serving = asyncio.ensure_future(worker.arun())
    await layer.send("jobs", {"type": "task", "n": "block"})  # type: ignore[union-attr]
    await _until(lambda: log)
    worker.request_stop()
    worker.request_stop()
    await serving
    assert log == [("jobs", "block")]  # never released, so cancelled
