"""Running out of shared memory, oversized messages and bad input.

Every case gets a clear error, loses nothing already queued, and the layer
keeps serving afterwards.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest
from asgi_ipc.core import IPCChannelLayer, SharedMemoryFull
from asgiref.layers import (
    ChannelFull,
    InvalidChannelLayerError,
    InvalidChannelName,
    InvalidGroupName,
    InvalidMessage,
    MessageTooLarge,
)

Make = Callable[..., IPCChannelLayer]
SMALL = {"message_memory": 16 * 1024, "group_memory": 16 * 1024, "capacity": 10_000}


async def test_message_memory_exhaustion_is_channel_full_and_recoverable(make_layer: Make) -> None:
    layer = make_layer(**SMALL)
    sent = 0
    with pytest.raises(SharedMemoryFull, match="message_memory is exhausted") as info:
        for sent in range(10_000):
            await layer.send("full.a", {"n": sent, "pad": b"x" * 200})
    assert isinstance(info.value, ChannelFull)
    assert sent > 10
    layer.check_integrity()
    # Nothing queued was lost, and draining makes room again.
    for n in range(sent):
        assert (await layer.receive("full.a"))["n"] == n
    await layer.send("full.a", {"n": "again", "pad": b"x" * 200})
    assert (await layer.receive("full.a"))["n"] == "again"
    assert layer.check_integrity()["messages"] == 0


async def test_message_larger_than_a_block_is_message_too_large(make_layer: Make) -> None:
    layer = make_layer(**SMALL)
    await layer.send("big.a", {"n": 1})
    with pytest.raises(MessageTooLarge, match="at most"):
        await layer.send("big.a", {"blob": b"x" * 20_000})
    assert await layer.receive("big.a") == {"n": 1}


async def test_capacity_is_per_channel_and_a_full_channel_recovers(make_layer: Make) -> None:
    layer = make_layer(capacity=2, channel_capacity={"roomy.*": 4})
    await layer.send("tight", {"n": 1})
    await layer.send("tight", {"n": 2})
    with pytest.raises(ChannelFull, match="capacity of 2"):
        await layer.send("tight", {"n": 3})
    for n in range(4):
        await layer.send("roomy.a", {"n": n})
    with pytest.raises(ChannelFull):
        await layer.send("roomy.a", {"n": 4})
    assert await layer.receive("tight") == {"n": 1}
    await layer.send("tight", {"n": 3})
    assert [(await layer.receive("tight"))["n"] for _ in range(2)] == [2, 3]


async def test_group_memory_exhaustion_is_a_clear_error(make_layer: Make) -> None:
    layer = make_layer(**SMALL)
    added = 0
    with pytest.raises(SharedMemoryFull, match="group"):
        for added in range(100_000):
            await layer.group_add(f"g{added % 50}", f"member.{'m' * 80}.{added}")
    layer.check_integrity()
    await layer.group_discard("g0", f"member.{'m' * 80}.0")
    await layer.group_add("g0", "late.member")
    await layer.group_send("g0", {"n": 1})
    assert await layer.receive("late.member") == {"n": 1}


async def test_channel_table_exhaustion_is_a_clear_error(make_layer: Make) -> None:
    layer = make_layer(**SMALL)
    with pytest.raises(SharedMemoryFull, match="channel table is full"):
        for n in range(100_000):
            await layer.send(f"many.{n}", {})
    layer.check_integrity()
    assert await layer.receive("many.0") == {}
    await layer.send("many.0", {"n": "room again"})
    assert await layer.receive("many.0") == {"n": "room again"}


@pytest.mark.parametrize(
    ("message", "match"),
    [
        ("not a dict", "must be a dict"),
        ({1: "int key"}, "keys must be str"),
        ({"a": object()}, r"message\['a'\]"),
        ({"__asgi_x": 1}, "reserved"),
    ],
)
async def test_bad_messages_are_rejected_and_nothing_is_queued(
    make_layer: Make, message: object, match: str
) -> None:
    layer = make_layer()
    with pytest.raises(InvalidMessage, match=match):
        await layer.send("bad.msg", message)  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match=match):
        await layer.group_send("bad.group", message)  # type: ignore[arg-type]
    assert layer.check_integrity()["messages"] == 0
    await layer.send("bad.msg", {"ok": True})
    assert await layer.receive("bad.msg") == {"ok": True}


@pytest.mark.parametrize("name", ["", "has space", "x" * 100, "a!b!c", 7])
async def test_bad_channel_names_are_rejected(make_layer: Make, name: object) -> None:
    layer = make_layer()
    with pytest.raises(InvalidChannelName):
        await layer.send(name, {})  # type: ignore[arg-type]
    with pytest.raises(InvalidChannelName):
        await layer.receive(name)  # type: ignore[arg-type]
    with pytest.raises(InvalidChannelName):
        await layer.group_add("fine", name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "a!b", "x" * 100, None])
async def test_bad_group_names_are_rejected(make_layer: Make, name: object) -> None:
    layer = make_layer()
    with pytest.raises(InvalidGroupName):
        await layer.group_add(name, "fine")  # type: ignore[arg-type]
    with pytest.raises(InvalidGroupName):
        await layer.group_send(name, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prefix": "has/slash"}, "prefix must be"),
        ({"prefix": ""}, "prefix must be"),
        ({"message_memory": 10}, "message_memory must be between"),
        ({"group_memory": "big"}, "group_memory must be an int"),
        ({"mode": 0o444}, "owner read and write"),
        ({"mode": "0600"}, "permission int"),
        ({"expiry": 0}, "expiry must be a positive number"),
        ({"group_expiry": -1}, "group_expiry must be a positive number"),
        ({"lock_timeout": None}, "lock_timeout"),
        ({"spin": -0.001}, "spin must be a number of seconds"),
        ({"spin": 1.0}, "spin must be a number of seconds"),
        ({"spin": True}, "spin must be a number of seconds"),
        ({"capacity": 0}, "capacity must be a positive int"),
        ({"serializer": "nope"}, "Unknown serializer"),
    ],
)
def test_bad_configuration_is_rejected_at_construction(
    kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidChannelLayerError, match=match):
        IPCChannelLayer(**kwargs)  # type: ignore[arg-type]


async def test_expired_messages_of_abandoned_channels_give_their_memory_back(
    make_layer: Make,
) -> None:
    # Regression: only a push or pop on a channel expired its messages, so
    # channels nobody used again (a crashed consumer's inbox) held memory forever.
    layer = make_layer(**SMALL, expiry=0.5)
    sent = 0
    with pytest.raises(SharedMemoryFull):
        for sent in range(10_000):
            await layer.send(f"abandoned.{sent % 7}", {"pad": b"x" * 200})
    assert sent > 10
    await asyncio.sleep(1.5)
    for n in range(sent):
        await layer.send("fresh", {"n": n, "pad": b"x" * 200})
        assert (await layer.receive("fresh"))["n"] == n
    stats = layer.check_integrity()
    assert stats["messages"] < sent


async def test_expiring_more_messages_than_the_undo_log_holds_is_fine(make_layer: Make) -> None:
    layer = make_layer(message_memory=8 << 20, capacity=100_000, expiry=0.5)
    for n in range(12_000):
        await layer.send("backlog", {"n": n})
    await asyncio.sleep(1.5)
    await layer.send("backlog", {"n": "last"})
    assert await layer.receive("backlog") == {"n": "last"}
    assert layer.check_integrity()["messages"] == 0


async def test_json_serializer_round_trips_bytes(make_layer: Make) -> None:
    layer = make_layer(serializer="json")
    await layer.send("json.a", {"text": "é", "blob": b"\x00\xff", "nested": [1, {"b": None}]})
    assert await layer.receive("json.a") == {
        "text": "é",
        "blob": b"\x00\xff",
        "nested": [1, {"b": None}],
    }


async def test_a_large_message_fits_after_many_small_ones_came_and_went(make_layer: Make) -> None:
    # Free blocks merge lazily; when a big message finds no block, the free
    # small blocks are coalesced before giving up.
    layer = make_layer(**SMALL)
    for round_ in range(3):
        for n in range(40):
            await layer.send(f"small.{n}", {"n": n, "pad": b"x" * 100})
        for n in range(40):
            assert (await layer.receive(f"small.{n}"))["n"] == n
        await layer.send("large", {"round": round_, "pad": b"x" * 6000})
        assert (await layer.receive("large"))["round"] == round_
    layer.check_integrity()


async def test_group_send_reaches_every_member_of_a_large_group(make_layer: Make) -> None:
    # Fan-out runs in batches of lock holds; no member may be skipped.
    layer = make_layer(message_memory=4 << 20)
    members = [f"big.member.{n}" for n in range(150)]
    for member in members:
        await layer.group_add("big.group", member)
    await layer.group_send("big.group", {"n": 1})
    for member in members:
        assert await layer.receive(member) == {"n": 1}
    assert layer.check_integrity()["messages"] == 0


async def test_a_segment_larger_than_dev_shm_is_refused_at_attach(
    make_layer: Make, names_of: Callable[[str], list[str]], prefix: str
) -> None:
    # Pages are reserved up front: a full /dev/shm is an error here, never a
    # SIGBUS later when a page is first touched.
    free = os.statvfs("/dev/shm").f_bavail * os.statvfs("/dev/shm").f_frsize
    layer = make_layer(message_memory=free + (1 << 30))
    with pytest.raises(InvalidChannelLayerError, match="/dev/shm has"):
        await layer.send("huge.a", {})
    assert names_of(prefix) == []


async def test_a_message_in_another_serializer_is_a_clear_error_and_not_fatal(
    make_layer: Make,
) -> None:
    json_layer, msgpack_layer = make_layer(serializer="json"), make_layer()
    await json_layer.send("mixed.a", {"a": 1})
    await msgpack_layer.send("mixed.a", {"b": 2})
    with pytest.raises(InvalidMessage, match="same serializer"):
        await msgpack_layer.receive("mixed.a")
    assert await msgpack_layer.receive("mixed.a") == {"b": 2}
