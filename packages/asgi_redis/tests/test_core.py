"""RedisChannelLayer behaviour, in all four topologies (single, sharded, Sentinel, Cluster)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgi_redis.core import RedisChannelLayer
from asgiref.layers import ChannelFull, InvalidChannelName, InvalidGroupName, InvalidMessage

MakeLayer = Callable[..., Awaitable[RedisChannelLayer]]


@pytest.fixture
def make_layer(layers: Any) -> MakeLayer:
    return functools.partial(layers, RedisChannelLayer)


@pytest.fixture
async def layer(make_layer: MakeLayer) -> RedisChannelLayer:
    return await make_layer()


async def test_send_receive_round_trip(layer: RedisChannelLayer) -> None:
    await layer.send("test.channel", {"type": "test.message", "text": "hi", "data": b"\x00\xff"})
    message = await layer.receive("test.channel")
    assert message == {"type": "test.message", "text": "hi", "data": b"\x00\xff"}


async def test_messages_keep_order(layer: RedisChannelLayer) -> None:
    for index in range(20):
        await layer.send("test.order", {"type": "n", "n": index})
    received = [(await layer.receive("test.order"))["n"] for _ in range(20)]
    assert received == list(range(20))


async def test_process_local_channels(layer: RedisChannelLayer) -> None:
    first = await layer.new_channel()
    second = await layer.new_channel("other.")
    assert first != second and "!" in first and second.startswith("other.")
    await layer.send(first, {"type": "one"})
    await layer.send(second, {"type": "two"})
    assert await layer.receive(second) == {"type": "two"}
    assert await layer.receive(first) == {"type": "one"}


async def test_capacity_raises_channel_full(make_layer: MakeLayer) -> None:
    layer = await make_layer(capacity=3)
    for index in range(3):
        await layer.send("test.full", {"type": "n", "n": index})
    with pytest.raises(ChannelFull, match=r"test\.full"):
        await layer.send("test.full", {"type": "n", "n": 3})
    # Nothing was lost or overwritten by the refused send.
    assert [(await layer.receive("test.full"))["n"] for _ in range(3)] == [0, 1, 2]


async def test_channel_capacity_patterns(make_layer: MakeLayer) -> None:
    layer = await make_layer(capacity=10, channel_capacity={"tiny.*": 1})
    await layer.send("tiny.one", {"type": "a"})
    with pytest.raises(ChannelFull):
        await layer.send("tiny.one", {"type": "b"})
    for _ in range(5):
        await layer.send("roomy", {"type": "c"})


async def test_expired_messages_are_not_delivered(make_layer: MakeLayer) -> None:
    layer = await make_layer(expiry=1)
    await layer.send("test.expiry", {"type": "old"})
    await asyncio.sleep(1.3)
    await layer.send("test.expiry", {"type": "new"})
    assert await layer.receive("test.expiry") == {"type": "new"}


async def test_expired_messages_free_capacity(make_layer: MakeLayer) -> None:
    layer = await make_layer(expiry=1, capacity=1)
    await layer.send("test.expcap", {"type": "old"})
    with pytest.raises(ChannelFull):
        await layer.send("test.expcap", {"type": "refused"})
    await asyncio.sleep(1.3)
    await layer.send("test.expcap", {"type": "new"})
    assert await layer.receive("test.expcap") == {"type": "new"}


async def test_groups(layer: RedisChannelLayer) -> None:
    channels = [await layer.new_channel() for _ in range(3)] + ["test.plain"]
    for channel in channels:
        await layer.group_add("test-group", channel)
    await layer.group_discard("test-group", channels[1])
    await layer.group_send("test-group", {"type": "hello"})
    for channel in (channels[0], channels[2], channels[3]):
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "hello"}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channels[1]), 0.3)


async def test_group_send_to_many_members_across_processes(make_layer: MakeLayer) -> None:
    one, two = await make_layer(), await make_layer()
    members = [await one.new_channel() for _ in range(150)]
    members += [await two.new_channel() for _ in range(150)]
    for channel in members:
        await one.group_add("big", channel)
    await one.group_send("big", {"type": "fan", "n": 1})
    received = await asyncio.wait_for(
        asyncio.gather(*((one if i < 150 else two).receive(c) for i, c in enumerate(members))),
        20,
    )
    assert received == [{"type": "fan", "n": 1}] * 300


async def test_group_expiry(make_layer: MakeLayer) -> None:
    layer = await make_layer(group_expiry=1)
    channel = await layer.new_channel()
    await layer.group_add("short", channel)
    await asyncio.sleep(1.3)
    await layer.group_send("short", {"type": "late"})
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)


async def test_group_send_skips_full_members(make_layer: MakeLayer) -> None:
    layer = await make_layer(capacity=1)
    await layer.group_add("g", "test.fullmember")
    await layer.group_add("g", "test.freemember")
    await layer.send("test.fullmember", {"type": "first"})
    await layer.group_send("g", {"type": "second"})
    assert await layer.receive("test.freemember") == {"type": "second"}
    assert await layer.receive("test.fullmember") == {"type": "first"}


async def test_cross_instance_delivery(make_layer: MakeLayer) -> None:
    sender, receiver = await make_layer(), await make_layer()
    channel = await receiver.new_channel()
    await sender.send(channel, {"type": "x"})
    await sender.send("test.shared", {"type": "y"})
    assert await receiver.receive(channel) == {"type": "x"}
    assert await receiver.receive("test.shared") == {"type": "y"}


async def test_cancelled_receives_lose_and_reorder_nothing(
    layer: RedisChannelLayer, receives_survive_cancellation: Any
) -> None:
    local = await layer.new_channel()
    for channel in ("test.cancel", local):
        await receives_survive_cancellation(
            layer, channel, rounds=60, spins=6, send_every=3, sleeps=4
        )


async def test_concurrent_receivers_share_messages(layer: RedisChannelLayer) -> None:
    tasks = [asyncio.ensure_future(layer.receive("test.workers")) for _ in range(5)]
    await asyncio.sleep(0.05)
    for index in range(5):
        await layer.send("test.workers", {"type": "n", "n": index})
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sorted(result["n"] for result in results) == list(range(5))


async def test_flush_removes_messages_and_groups(layer: RedisChannelLayer) -> None:
    await layer.send("test.flush", {"type": "gone"})
    await layer.group_add("flushed", "test.flush")
    await layer.flush()
    await layer.group_send("flushed", {"type": "nobody"})
    await layer.send("test.flush", {"type": "kept"})
    assert await layer.receive("test.flush") == {"type": "kept"}


async def test_bad_input_is_rejected_and_layer_keeps_serving(layer: RedisChannelLayer) -> None:
    with pytest.raises(InvalidChannelName):
        await layer.send("bad name!!", {"type": "x"})
    with pytest.raises(InvalidGroupName):
        await layer.group_add("bad group!", "test.ok")
    with pytest.raises(InvalidMessage, match="message\\['when'\\]"):
        await layer.send("test.ok", {"type": "x", "when": object()})
    with pytest.raises(InvalidMessage):
        await layer.send("test.ok", ["not", "a", "dict"])  # type: ignore[arg-type]
    await layer.send("test.ok", {"type": "fine"})
    assert await layer.receive("test.ok") == {"type": "fine"}


async def test_cannot_receive_on_another_instances_local_channel(make_layer: MakeLayer) -> None:
    owner, other = await make_layer(), await make_layer()
    channel = await owner.new_channel()
    with pytest.raises(InvalidChannelName, match="another layer instance"):
        await other.receive(channel)
