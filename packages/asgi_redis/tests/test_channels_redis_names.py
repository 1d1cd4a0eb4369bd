"""The names and behaviours code written for channels_redis 4 relies on, on real Redis."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from asgi_redis.core import BoundedQueue, ChannelFull, RedisChannelLayer
from asgi_redis.exceptions import ChannelNotOwned, MessageDecryptionError
from asgi_redis.pubsub import RedisPubSubChannelLayer
from asgi_redis.serializers import (
    BaseMessageSerializer,
    JSONSerializer,
    MsgPackSerializer,
    SerializerDoesNotExist,
    SerializersRegistry,
    registry,
)
from asgi_redis.utils import _close_redis, _consistent_hash, create_pool, decode_hosts
from asgiref.layers import InvalidChannelLayerError

Make = Callable[..., Awaitable[Any]]

PLAIN = {"a": True, "b": None, "c": {"d": []}}


@pytest.fixture
def topology(redis_url: str) -> dict[str, Any]:
    return {"hosts": [redis_url]}


@pytest.fixture
def make(layers: Any) -> Make:
    return functools.partial(layers, RedisChannelLayer)


# Serializers ---------------------------------------------------------------------


def test_serializers_write_the_channels_redis_formats_after_the_random_prefix() -> None:
    packed = MsgPackSerializer(random_prefix_length=12).serialize(PLAIN)
    assert len(packed) == 12 + len(msgpack.packb(PLAIN)) and packed[12:] == msgpack.packb(PLAIN)
    assert JSONSerializer().serialize(PLAIN) == json.dumps(PLAIN).encode()
    assert MsgPackSerializer(random_prefix_length=4).deserialize(
        b"1234" + msgpack.packb(PLAIN)
    ) == (PLAIN)


def test_json_serializer_carries_bytes_values() -> None:
    serializer = JSONSerializer()
    message = {"type": "websocket.send", "bytes": b"\x00\xff"}
    assert serializer.deserialize(serializer.serialize(message)) == message


def test_encrypted_serializer_round_trips_and_hides_the_plaintext() -> None:
    serializer = JSONSerializer(symmetric_encryption_keys=["k"], random_prefix_length=4)
    data = serializer.serialize({"secret": "marker"})
    assert b"marker" not in data
    assert serializer.deserialize(data) == {"secret": "marker"}
    with pytest.raises(MessageDecryptionError):
        JSONSerializer(symmetric_encryption_keys=["other"], random_prefix_length=4).deserialize(
            data
        )


async def test_a_json_subclass_can_pass_its_encoder_to_json(make: Make) -> None:
    import datetime

    class DateEncoder(json.JSONEncoder):
        def default(self, value: Any) -> Any:
            if isinstance(value, datetime.date):
                return value.isoformat()
            return super().default(value)

    class DatesAsText(JSONSerializer):
        def as_bytes(self, message: Any, *args: Any, **kwargs: Any) -> bytes:
            return super().as_bytes(message, *args, cls=DateEncoder, **kwargs)

    registry.register_serializer("test-dates", DatesAsText)
    layer = await make(serializer_format="test-dates")
    await layer.send("test.dates", {"type": "x", "on": datetime.date(2024, 5, 1)})
    assert await layer.receive("test.dates") == {"type": "x", "on": "2024-05-01"}
    packed = MsgPackSerializer().as_bytes({"n": 1}, use_bin_type=False)
    assert MsgPackSerializer().from_bytes(packed, raw=False) == {"n": 1}


def test_registry_accepts_classes_with_both_methods_only() -> None:
    class Noop:
        def serialize(self, message: Any) -> Any:
            return message

        def deserialize(self, message: Any) -> Any:
            return message

    class Half:
        def serialize(self, message: Any) -> Any:
            return message

    own = SerializersRegistry()
    own.register_serializer("noop", Noop)
    assert own.get_serializer("noop").serialize("x") == "x"
    with pytest.raises(AssertionError):
        own.register_serializer("half", Half)
    with pytest.raises(SerializerDoesNotExist):
        own.get_serializer("missing")
    assert isinstance(SerializerDoesNotExist("x"), (KeyError, InvalidChannelLayerError))


async def test_a_format_registered_in_the_registry_is_used_and_encrypted(make: Make) -> None:
    class Upper(BaseMessageSerializer):
        def as_bytes(self, message: Any) -> bytes:
            return json.dumps(message).upper().encode()

        def from_bytes(self, data: bytes) -> Any:
            return {key.lower(): value.lower() for key, value in json.loads(data).items()}

    registry.register_serializer("test-upper", Upper)
    layer = await make(serializer_format="test-upper", symmetric_encryption_keys=["k"])
    assert isinstance(layer._serializer, Upper) and layer._serializer.crypter is not None
    await layer.send("test.upper", {"type": "x"})
    assert await layer.receive("test.upper") == {"type": "x"}


async def test_a_subclass_overriding_serialize_and_deserialize_is_honoured(make: Make) -> None:
    class Tagged(RedisChannelLayer):
        def serialize(self, message: dict[str, Any]) -> bytes:
            return b"TAG" + super().serialize(message)

        def deserialize(self, data: bytes) -> Any:
            assert data.startswith(b"TAG")
            return {**super().deserialize(data[3:]), "seen": True}

    layer = await make()
    tagged = Tagged(hosts=layer.hosts and [h.url for h in layer.hosts], prefix=layer.prefix)
    try:
        await tagged.send("test.tagged", {"type": "x"})
        assert await tagged.receive("test.tagged") == {"type": "x", "seen": True}
    finally:
        await tagged.close()


def test_layer_serialize_uses_the_random_prefix_and_pubsub_none() -> None:
    layer = RedisChannelLayer()
    assert layer.serialize(PLAIN)[12:] == msgpack.packb(PLAIN)
    assert layer.deserialize(b"x" * 12 + msgpack.packb(PLAIN)) == PLAIN
    assert RedisPubSubChannelLayer().serialize(PLAIN) == msgpack.packb(PLAIN)


# utils ---------------------------------------------------------------------------


def test_utils_consistent_hash_is_channels_redis_crc_index() -> None:
    assert [_consistent_hash(v, 10) for v in ("key_one", "key_two", b"key_one")] == [6, 4, 6]
    assert _consistent_hash("anything", 1) == 0


async def test_utils_decode_hosts_and_create_pool_connect(redis_url: str) -> None:
    from redis.asyncio import Redis

    assert decode_hosts(None) == [{"address": "redis://localhost:6379"}]
    assert decode_hosts([("h", 1), "redis://x"]) == [
        {"host": "h", "port": 1},
        {"address": "redis://x"},
    ]
    with pytest.raises(ValueError, match="list"):
        decode_hosts("redis://x")
    client = Redis(connection_pool=create_pool(decode_hosts([redis_url])[0]))
    assert await client.ping()
    await _close_redis(client)


# core ----------------------------------------------------------------------------


async def test_send_at_capacity_raises_core_channel_full(make: Make) -> None:
    layer = await make(capacity=1)
    await layer.send("test.full", {"type": "x"})
    with pytest.raises(ChannelFull):
        await layer.send("test.full", {"type": "x"})


async def test_receiving_another_instances_local_channel_is_an_assertion_error(
    make: Make,
) -> None:
    layer = await make()
    with pytest.raises(ChannelNotOwned) as raised:
        await layer.receive("not-client-prefix!local_part")
    assert isinstance(raised.value, AssertionError)


async def test_group_key_is_where_the_members_are(make: Make) -> None:
    layer = await make()
    await layer.group_add("test-g", "test.member")
    state = layer._get_layer()
    assert layer._group_key("test-g") == f"{layer.prefix}:group:test-g".encode()
    assert await state.shards[0].redis.zrange(layer._group_key("test-g"), 0, -1) == [b"test.member"]


async def test_group_send_logs_how_many_members_were_full(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    layer = await make(capacity=1)
    channel = await layer.new_channel()
    await layer.group_add("test-g", channel)
    await layer.group_add("test-g", "test.other")
    await layer.send(channel, {"type": "fills"})
    with caplog.at_level(logging.INFO, logger="asgi_redis"):
        await layer.group_send("test-g", {"type": "x"})
    assert [r.getMessage() for r in caplog.records] == [
        "1 of 2 channels over capacity in group test-g"
    ]


async def test_receive_buffer_is_a_bounded_queue_per_channel(make: Make) -> None:
    layer = await make(capacity=3)
    buffer = layer.receive_buffer["test.buffered"]
    assert isinstance(buffer, BoundedQueue) and buffer.empty() and buffer.maxsize == 3
    for index in range(5):
        buffer.put_nowait({"type": "n", "n": index})
    assert buffer.full() and buffer.qsize() == 3 and "test.buffered" in layer.receive_buffer
    # What was put there is what receive() returns next, oldest first (0 and 1 dropped).
    assert await layer.receive("test.buffered") == {"type": "n", "n": 2}
    assert layer.receive_buffer["test.buffered"].get_nowait() == {"type": "n", "n": 3}
    del layer.receive_buffer["test.buffered"]
    with pytest.raises(asyncio.QueueEmpty):
        buffer.get_nowait()


async def test_receive_buffer_shows_messages_read_ahead_from_redis(make: Make) -> None:
    layer = await make()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "one"})
    await layer.send(channel, {"type": "two"})
    assert await layer.receive(channel) == {"type": "one"}
    for _ in range(100):
        if layer.receive_buffer[channel].qsize():
            break
        await asyncio.sleep(0.01)
    assert layer.receive_buffer[channel].get_nowait() == {"type": "two"}


async def test_close_pools_closes_this_loops_connections_and_the_layer_goes_on(
    make: Make,
) -> None:
    layer = await make()
    await layer.send("test.pools", {"type": "x"})
    assert asyncio.get_running_loop() in layer._layers
    await layer.close_pools()
    assert asyncio.get_running_loop() not in layer._layers
    assert await layer.receive("test.pools") == {"type": "x"}


def test_a_loop_that_shuts_down_leaves_layers(redis_url: str, prefix: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)

    async def use() -> int:
        await layer.send("test.loop", {"type": "x"})
        await layer.flush()
        return len(layer._layers)

    assert asyncio.run(use()) == 1
    assert len(layer._layers.values()) == 0  # a dict, as channels_redis code reads it


async def test_a_receive_waiting_across_close_gets_a_later_message(make: Make) -> None:
    layer = await make()
    waiting = asyncio.ensure_future(layer.receive("test.across"))
    await asyncio.sleep(0.05)
    await layer.close()
    await layer.send("test.across", {"type": "later"})
    assert await asyncio.wait_for(waiting, 5) == {"type": "later"}


# pubsub ----------------------------------------------------------------------------


async def test_pubsub_loop_layer_and_shards_are_reachable(layers: Any) -> None:
    layer = await layers(RedisPubSubChannelLayer)
    assert layer._get_layer().channel_layer is layer
    channel = await layer.new_channel()
    await layer.group_add("test-g", channel)
    # Closing the shard's client drops the subscription; it comes back by itself.
    await _close_redis(layer._shards[0]._redis)
    for _ in range(200):
        await layer.group_send("test-g", {"type": "back"})
        try:
            assert await asyncio.wait_for(layer.receive(channel), 0.05) == {"type": "back"}
            break
        except asyncio.TimeoutError:
            continue
    else:
        pytest.fail("the subscription did not come back after its client was closed")


def test_pubsub_receives_on_a_loop_that_was_paused_while_another_sent(
    redis_url: str, prefix: str
) -> None:
    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
    loop = asyncio.new_event_loop()
    try:
        channel = loop.run_until_complete(layer.new_channel())
        thread = threading.Thread(target=asyncio.run, args=(layer.send(channel, {"type": "x"}),))
        thread.start()
        thread.join()
        assert loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 5)) == {"type": "x"}
        loop.run_until_complete(layer.close())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


_ABANDONED_LOOP = """
import asyncio, gc, sys
from asgi_redis.pubsub import RedisPubSubChannelLayer
layer = RedisPubSubChannelLayer(hosts=[sys.argv[1]], prefix=sys.argv[2])
loop = asyncio.new_event_loop()
channel = loop.run_until_complete(layer.new_channel())
loop.run_until_complete(layer.send(channel, {"type": "x"}))
loop.run_until_complete(layer.send("test.normal", {"type": "x"}))
loop.run_until_complete(layer.receive(channel))
loop.run_until_complete(layer.receive("test.normal"))
loop.close()
gc.collect()
assert len(layer._layers) == 0  # closing the loop closed its state, as in channels_redis


async def again():
    await layer.send("test.normal", {"type": "y"})
    assert len(layer._layers) == 1  # the closed loop's state was dropped
    await layer.flush()


asyncio.run(again())
print("done")
"""


def test_a_loop_closed_without_shutting_down_leaves_no_complaining_task(
    redis_url: str, prefix: str
) -> None:
    """As in channels_redis' sync tests, a loop is closed while the layer's subscription
    and readers run: close() stops them first, so nothing is left to complain when
    collected ("coroutine ignored GeneratorExit", "Task was destroyed but it is pending")."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _ABANDONED_LOOP, redis_url, prefix],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "done", result.stderr
    assert "GeneratorExit" not in result.stderr
    assert "was never awaited" not in result.stderr
    assert "was destroyed" not in result.stderr


async def test_connection_reaches_the_shard_consistent_hash_names(
    redis_url: str, second_shard: Any, prefix: str
) -> None:
    layer = RedisChannelLayer(hosts=[redis_url, second_shard.url], prefix=prefix)
    try:
        assert layer.ring_size == 2
        names = [f"test.shard{index}" for index in range(20)]
        for name in names:
            await layer.send(name, {"type": "x"})
        indexes = {layer.consistent_hash(name) for name in names}
        assert indexes == {0, 1}  # both shards are used
        for name in names:
            client = layer.connection(layer.consistent_hash(name))
            assert await client.llen(layer._route(name)[2]) == 1
        assert await layer.connection(1).ping()
        with pytest.raises(ValueError, match="2 shards"):
            layer.connection(2)
    finally:
        await layer.flush()
        await layer.close()
