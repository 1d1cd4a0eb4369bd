"""A group fan-out into this process: one payload unwrapped once, a message of its own per member.

The members of a group that live in one layer instance share one stored item (see
``test_fanout_and_buffers``); these tests pin what the local delivery of that item keeps:
every receiver gets its own dict, a subclass's ``deserialize`` still runs per receiver,
decryption happens once per item, and order, capacity and cancellation behave as they do
for messages sent to each channel alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgi_redis._codec import frame
from asgi_redis._inbound import now_ms
from asgi_redis.core import RedisChannelLayer
from asgi_redis.exceptions import MessageDecryptionError
from asgi_redis.pubsub import RedisPubSubChannelLayer
from asgiref.layers import non_local_name

LAYERS = [RedisChannelLayer, RedisPubSubChannelLayer]


async def _members(layer: Any, group: str, count: int) -> list[str]:
    channels = [await layer.new_channel() for _ in range(count)]
    for channel in channels:
        await layer.group_add(group, channel)
    return channels


async def _fan_out(layer: Any, count: int, message: dict[str, Any], sender: Any = None) -> Any:
    """*count* members of "room" wait in receive(); *sender* (or *layer*) sends *message*
    to the group. Returns the members and what each receive() returned or raised."""
    channels = await _members(layer, "room", count)
    waiting = [asyncio.ensure_future(layer.receive(c)) for c in channels]
    await asyncio.sleep(0.05)
    await (sender or layer).group_send("room", message)
    return channels, await asyncio.gather(*waiting, return_exceptions=True)


def _count_unwraps(layer: Any) -> list[bytes]:
    """Record every ``unwrap`` of the layer's serializer (the decrypting step)."""
    serializer = layer._serializer
    calls: list[bytes] = []
    original = serializer.unwrap

    def unwrap(data: bytes) -> bytes:
        calls.append(data)
        return original(data)  # type: ignore[no-any-return]

    serializer.unwrap = unwrap
    return calls


@pytest.mark.parametrize("cls", LAYERS)
async def test_members_get_distinct_dicts_from_one_item(
    cls: Any, redis_url: str, prefix: str
) -> None:
    layer = cls(hosts=[redis_url], prefix=prefix)
    _, got = await _fan_out(layer, 3, {"type": "m", "nested": {"items": [1, {"deep": b"x"}]}})
    assert got == [{"type": "m", "nested": {"items": [1, {"deep": b"x"}]}}] * 3
    assert len({id(message) for message in got}) == 3
    assert len({id(message["nested"]["items"]) for message in got}) == 3
    got[0]["nested"]["items"].append("mutated")
    got[0]["nested"]["items"][1]["deep"] = b"y"
    assert got[1] == got[2] == {"type": "m", "nested": {"items": [1, {"deep": b"x"}]}}
    await layer.flush()
    await layer.close()


@pytest.mark.parametrize("cls", LAYERS)
async def test_encrypted_fan_out_decrypts_once_per_item(
    cls: Any, redis_url: str, prefix: str
) -> None:
    layer = cls(hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["fan-key"])
    unwraps = _count_unwraps(layer)
    _, got = await _fan_out(layer, 20, {"type": "secret", "n": 1})
    assert got == [{"type": "secret", "n": 1}] * 20
    assert len(unwraps) == 1
    await layer.flush()
    await layer.close()


@pytest.mark.parametrize("cls", LAYERS)
async def test_a_subclass_deserialize_runs_for_every_member(
    cls: Any, redis_url: str, prefix: str
) -> None:
    calls: list[bytes] = []

    class Counting(cls):  # type: ignore[misc, valid-type]
        def deserialize(self, data: bytes) -> Any:
            calls.append(data)
            message = super().deserialize(data)
            message["seen"] = len(calls)
            return message

    layer = Counting(hosts=[redis_url], prefix=prefix)
    _, got = await _fan_out(layer, 4, {"type": "m"})
    assert len(calls) == 4
    assert sorted(message["seen"] for message in got) == [1, 2, 3, 4]
    await layer.flush()
    await layer.close()


async def test_undecryptable_fan_out_fails_each_receive_naming_its_channel(
    redis_url: str, prefix: str
) -> None:
    sender = RedisChannelLayer(hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["a"])
    receiver = RedisChannelLayer(hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["b"])
    channels, outcomes = await _fan_out(receiver, 3, {"type": "m"}, sender=sender)
    for channel, outcome in zip(channels, outcomes, strict=True):
        assert isinstance(outcome, MessageDecryptionError), outcome
        assert repr(channel) in str(outcome)
    for layer in (sender, receiver):
        await layer.flush()
        await layer.close()


async def test_fan_outs_and_sends_keep_their_order_per_channel(redis_url: str, prefix: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    channels = await _members(layer, "room", 5)
    received: dict[str, list[int]] = {channel: [] for channel in channels}

    async def consume(channel: str) -> None:
        while len(received[channel]) < 30:
            received[channel].append((await layer.receive(channel))["n"])

    consumers = [asyncio.ensure_future(consume(c)) for c in channels]
    for n in range(30):
        if n % 3 == 0:
            for channel in channels:
                await layer.send(channel, {"type": "n", "n": n})
        else:
            await layer.group_send("room", {"type": "n", "n": n})
    await asyncio.wait_for(asyncio.gather(*consumers), 10)
    assert all(numbers == list(range(30)) for numbers in received.values()), received
    await layer.flush()
    await layer.close()


async def test_unread_members_of_a_fan_out_keep_their_capacity(redis_url: str, prefix: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=100)
    # busy, small and big share this instance's inbox; other.* channels have their own.
    busy, small, big = [await layer.new_channel() for _ in range(3)]
    other = await layer.new_channel("other.")
    layer.channel_capacity = {small: 3, "other.*": 2}
    for channel in (busy, small, big, other):
        await layer.group_add("room", channel)
    for n in range(6):
        receiving = asyncio.ensure_future(layer.receive(busy))  # keeps the inbox read
        await layer.group_send("room", {"type": "n", "n": n})
        assert (await receiving)["n"] == n
    # Read into this process but not received: the last `capacity`, oldest dropped.
    assert [(await layer.receive(small))["n"] for _ in range(3)] == [3, 4, 5]
    assert [(await layer.receive(big))["n"] for _ in range(6)] == list(range(6))
    # Nobody read the other inbox: full in Redis, the later sends skipped it.
    assert [(await layer.receive(other))["n"] for _ in range(2)] == [0, 1]
    assert layer._inbound.buffered(other) == 0
    await layer.flush()
    await layer.close()


async def test_a_member_cancelled_after_its_wake_up_loses_nothing(
    redis_url: str, prefix: str
) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    channels = await _members(layer, "room", 10)
    waiting = [asyncio.ensure_future(layer.receive(c)) for c in channels]
    await asyncio.sleep(0.05)
    # Deliver the item as the inbox reader does, and cancel one woken member before it runs.
    item = frame(now_ms() + 60_000, ",".join(channels), layer.serialize({"type": "m", "n": 1}))
    layer._reading.deliver(non_local_name(channels[0]), item)
    waiting[0].cancel()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [{"type": "m", "n": 1}] * 9
    assert await asyncio.wait_for(layer.receive(channels[0]), 5) == {"type": "m", "n": 1}
    await layer.flush()
    await layer.close()


async def test_group_send_reads_capacities_once_lists_are_not_empty(
    redis_url: str, prefix: str
) -> None:
    # The script admits one item into an empty list without reading capacities; from the
    # second item on, each member's own capacity decides.
    layer = RedisChannelLayer(
        hosts=[redis_url], prefix=prefix, channel_capacity={"cap.one": 1, "cap.three": 3}
    )
    for channel in ("cap.one", "cap.three", "cap.default"):
        await layer.group_add("room", channel)
    for n in range(5):
        await layer.group_send("room", {"type": "n", "n": n})
    assert [(await layer.receive("cap.one"))["n"]] == [0]
    assert [(await layer.receive("cap.three"))["n"] for _ in range(3)] == [0, 1, 2]
    assert [(await layer.receive("cap.default"))["n"] for _ in range(5)] == list(range(5))
    for channel in ("cap.one", "cap.three"):  # nothing else was queued for them
        _, index, key = layer._route(channel)
        assert await layer.connection(index).llen(key) == 0
        assert layer._inbound.buffered(channel) == 0
    await layer.flush()
    await layer.close()
