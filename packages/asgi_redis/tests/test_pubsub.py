"""RedisPubSubChannelLayer behaviour, in all four topologies."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgi_redis.pubsub import RedisPubSubChannelLayer
from asgiref.layers import InvalidChannelLayerError, InvalidChannelName

MakeLayer = Callable[..., Awaitable[RedisPubSubChannelLayer]]


@pytest.fixture
def make_layer(layers: Any) -> MakeLayer:
    return functools.partial(layers, RedisPubSubChannelLayer)


async def test_local_channel_round_trip(make_layer: MakeLayer) -> None:
    sender, receiver = await make_layer(), await make_layer()
    channel = await receiver.new_channel()
    await sender.send(channel, {"type": "hello", "n": 1})
    assert await asyncio.wait_for(receiver.receive(channel), 5) == {"type": "hello", "n": 1}


async def test_local_messages_keep_order(make_layer: MakeLayer) -> None:
    layer = await make_layer()
    channel = await layer.new_channel()
    for index in range(30):
        await layer.send(channel, {"type": "n", "n": index})
    assert [(await layer.receive(channel))["n"] for _ in range(30)] == list(range(30))


async def test_normal_channels_have_a_single_reader(make_layer: MakeLayer) -> None:
    """Upstream #299: with pub/sub every receiver got a copy; here each message goes once."""
    one, two = await make_layer(), await make_layer()
    tasks = [asyncio.ensure_future(layer.receive("test.work")) for layer in (one, two, one, two)]
    await asyncio.sleep(0.1)
    for index in range(4):
        await one.send("test.work", {"type": "n", "n": index})
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sorted(result["n"] for result in results) == [0, 1, 2, 3]


async def test_groups_across_instances(make_layer: MakeLayer) -> None:
    one, two, sender = await make_layer(), await make_layer(), await make_layer()
    members = [(one, await one.new_channel()), (two, await two.new_channel())]
    extra = await one.new_channel()
    for layer, channel in [*members, (one, extra)]:
        await layer.group_add("room", channel)
    await one.group_discard("room", extra)
    await sender.group_send("room", {"type": "chat", "text": "hi"})
    for layer, channel in members:
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "chat", "text": "hi"}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(one.receive(extra), 0.3)


async def test_cancelled_receive_loses_nothing(
    make_layer: MakeLayer, receives_survive_cancellation: Any
) -> None:
    layer = await make_layer()
    channel = await layer.new_channel()
    await receives_survive_cancellation(layer, channel, rounds=40, spins=5, send_every=2, sleeps=3)


async def test_receive_on_foreign_local_channel_is_refused(make_layer: MakeLayer) -> None:
    one, two = await make_layer(), await make_layer()
    channel = await one.new_channel()
    with pytest.raises(InvalidChannelName):
        await two.receive(channel)


def test_callbacks_must_be_callable(redis_url: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match="on_reconnect"):
        RedisPubSubChannelLayer(hosts=[redis_url], on_reconnect="not callable")  # type: ignore[arg-type]


async def test_pubsub_layer_holds_a_list_layer_instead_of_being_one(
    make_layer: MakeLayer,
) -> None:
    # As in channels_redis, the pub/sub layer is not a RedisChannelLayer; it is still a
    # channel layer, and the list layer's attributes are read through it.
    from asgi_redis.core import RedisChannelLayer
    from asgiref.layers import BaseChannelLayer

    layer = await make_layer(channel_capacity={"test.*": 7})
    assert not isinstance(layer, RedisChannelLayer)
    assert isinstance(layer, BaseChannelLayer)
    assert layer.client_prefix and layer.ring_size >= 1 and layer.hosts
    assert layer.get_capacity("test.x") == 7 and layer.get_capacity("other") == 100
    assert layer.receive_buffer["test.x"].empty()
    assert repr(layer).startswith("<RedisPubSubChannelLayer prefix=")


async def test_a_subclass_serializer_serves_normal_and_local_channels(layers: Any) -> None:
    class Tagged(RedisPubSubChannelLayer):
        def serialize(self, message: dict[str, Any]) -> bytes:
            return b"T" + super().serialize(message)

        def deserialize(self, data: bytes) -> Any:
            assert data[:1] == b"T", data
            return super().deserialize(data[1:])

    layer = await layers(Tagged)
    local = await layer.new_channel()
    for channel in (local, "test.tagged"):
        await layer.send(channel, {"type": "t"})
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "t"}
