"""group_send cost follows destinations, not members; local buffers stay bounded."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from asgi_redis.core import RedisChannelLayer


def _command_calls(server: Any) -> dict[str, int]:
    with server.client() as client:
        stats = client.info("commandstats")
    return {name: int(value["calls"]) for name, value in stats.items()}


async def test_group_send_to_1000_members_is_one_script_call(restartable: Any, prefix: str) -> None:
    sender = RedisChannelLayer(hosts=[restartable.url], prefix=prefix)
    receiver = RedisChannelLayer(hosts=[restartable.url], prefix=prefix)
    members = [await receiver.new_channel() for _ in range(1000)]
    for channel in members:
        await sender.group_add("crowd", channel)
    await sender.group_send("crowd", {"type": "warmup"})  # loads the script
    waiting = [asyncio.ensure_future(receiver.receive(c)) for c in members]
    await asyncio.gather(*waiting)
    before = _command_calls(restartable)
    await sender.group_send("crowd", {"type": "fan"})
    after = _command_calls(restartable)
    client_calls = {
        name: after.get(name, 0) - before.get(name, 0)
        for name in after
        if after.get(name, 0) != before.get(name, 0) and name != "cmdstat_info"
    }
    # One EVALSHA; inside it one LPUSH into the single destination inbox.
    assert client_calls.get("cmdstat_evalsha") == 1, client_calls
    assert client_calls.get("cmdstat_lpush") == 1, client_calls
    results = await asyncio.gather(*(receiver.receive(c) for c in members))
    assert results == [{"type": "fan"}] * 1000
    for layer in (sender, receiver):
        await layer.flush()
        await layer.close()


async def test_unread_local_channel_buffer_is_bounded(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=5)
    busy, ignored = await layer.new_channel(), await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(busy))
    await asyncio.sleep(0.05)  # the inbox reader is running
    caplog.set_level(logging.WARNING, logger="asgi_redis")
    for index in range(40):
        # The reader drains the inbox, so sends keep succeeding...
        await layer.send(ignored, {"type": "n", "n": index})
        await asyncio.sleep(0.002)
    await layer.send(busy, {"type": "wake"})
    assert await receiving == {"type": "wake"}
    await asyncio.sleep(0.05)
    # ...but what nobody reads is capped at the channel's capacity, oldest dropped.
    assert layer._inbound.buffered(ignored) == 5
    assert layer._inbound.overflowed == 35
    assert "is full" in caplog.text
    kept = [(await layer.receive(ignored))["n"] for _ in range(5)]
    assert kept == [35, 36, 37, 38, 39]
    await layer.flush()
    await layer.close()


async def test_read_ahead_messages_for_normal_channels_go_back_to_redis(
    redis_url: str, prefix: str
) -> None:
    one = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    two = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    pending = asyncio.ensure_future(one.receive("test.handoff"))
    await asyncio.sleep(0.05)
    pending.cancel()
    await asyncio.gather(pending, return_exceptions=True)
    for index in range(3):
        await one.send("test.handoff", {"type": "n", "n": index})
    # Another process gets every message, in order, even if `one` read some ahead.
    got = [(await asyncio.wait_for(two.receive("test.handoff"), 5))["n"] for _ in range(3)]
    assert got == [0, 1, 2]
    for layer in (one, two):
        await layer.flush()
        await layer.close()


async def test_burst_of_concurrent_sends_waits_for_connections(redis_url: str, prefix: str) -> None:
    """Regression: 150 concurrent sends used to fail with MaxConnectionsError."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=1000)
    await asyncio.gather(*(layer.send("test.burst", {"type": "n", "n": i}) for i in range(150)))
    got = sorted([(await layer.receive("test.burst"))["n"] for _ in range(150)])
    assert got == list(range(150))
    await layer.flush()
    await layer.close()
