"""InMemoryChannelLayer behaviour beyond the conformance suite.

The conformance suite (conformance/tests/test_in_memory_conformance.py) covers
the layer guarantees; these tests cover what is specific to this layer: its
configuration, several event loops and threads, housekeeping, fan-out copies.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref import layers
from asgiref.layers import (
    BaseChannelLayer,
    ChannelFull,
    ChannelLayer,
    InvalidChannelLayerError,
    InvalidChannelName,
    InvalidMessage,
    _memory,
)
from asgiref.layers._memory import InMemoryChannelLayer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(_memory, "monotonic", fake)
    yield fake


def test_public_name_and_upstream_shape() -> None:
    layer = layers.InMemoryChannelLayer()
    assert isinstance(layer, BaseChannelLayer)
    assert isinstance(layer, ChannelLayer)
    assert layer.extensions == ["groups", "flush"]
    assert (layer.expiry, layer.group_expiry, layer.capacity) == (60, 86400, 100)
    InMemoryChannelLayer(hosts=["ignored"], prefix="ignored")  # upstream ignored extra kwargs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expiry": 0}, "expiry must be a positive number of seconds, got 0"),
        ({"expiry": "60"}, "expiry must be a positive number of seconds, got '60'"),
        ({"group_expiry": -1}, "group_expiry must be a positive number of seconds, got -1"),
        ({"capacity": 0}, "capacity must be a positive int, got 0"),
        ({"channel_capacity": {"a*": 0}}, "must be a positive int, got 0"),
    ],
)
def test_bad_configuration_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match=message):
        InMemoryChannelLayer(**kwargs)


async def test_values_are_not_checked_by_default_but_keys_are() -> None:
    layer = InMemoryChannelLayer()
    when = datetime.datetime(2020, 1, 1)
    await layer.send("c", {"when": when, "things": {1, 2}})
    assert await layer.receive("c") == {"when": when, "things": {1, 2}}
    with pytest.raises(InvalidMessage, match="keys must be str"):
        await layer.send("c", {b"type": "x"})  # type: ignore[dict-item]
    with pytest.raises(InvalidMessage, match="must be a dict, got list"):
        await layer.send("c", [("type", "x")])  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match="must be a dict, got str"):
        await layer.group_send("g", "x")  # type: ignore[arg-type]


async def test_new_channel_prefix_forms() -> None:
    layer, other = InMemoryChannelLayer(), InMemoryChannelLayer()
    default = await layer.new_channel()
    assert default.startswith("specific.") and ".." not in default and "!" in default
    assert (await layer.new_channel("chat")).startswith("chat.")
    assert await layer.new_channel() != await other.new_channel()
    with pytest.raises(InvalidChannelName):
        await layer.new_channel("bad prefix")
    with pytest.raises(InvalidChannelName):
        await layer.new_channel("x" * 95)


async def test_a_woken_receiver_that_is_cancelled_hands_the_message_on() -> None:
    layer = InMemoryChannelLayer()
    first = asyncio.ensure_future(layer.receive("c"))
    second = asyncio.ensure_future(layer.receive("c"))
    await asyncio.sleep(0)
    await layer.send("c", {"n": 1})  # wakes `first`...
    first.cancel()  # ...which is cancelled before it runs
    assert await asyncio.wait_for(second, 5) == {"n": 1}
    assert first.cancelled()


async def test_flush_keeps_pending_receivers_working() -> None:
    # Upstream's flush replaced the queues, so a receive pending across a
    # flush waited forever on an orphaned queue.
    layer = InMemoryChannelLayer()
    await layer.send("other", {"stale": True})
    pending = asyncio.ensure_future(layer.receive("c"))
    await asyncio.sleep(0)
    await layer.flush()
    await layer.send("c", {"after": "flush"})
    assert await asyncio.wait_for(pending, 5) == {"after": "flush"}
    await layer.send("other", {"fresh": True})
    assert await layer.receive("other") == {"fresh": True}


async def test_group_members_get_independent_copies() -> None:
    layer = InMemoryChannelLayer()
    for member in ("a", "b", "c"):
        await layer.group_add("g", member)
    flat = {"type": "flat", "n": 1}
    nested = {"type": "nested", "items": [1]}
    await layer.group_send("g", flat)
    await layer.group_send("g", nested)
    received = [await layer.receive(member) for member in ("a", "b", "c") for _ in (0, 1)]
    assert all(message is not flat and message is not nested for message in received)
    received[0]["n"] = 99
    received[1]["items"].append(2)
    assert received[2] == flat and received[3] == nested
    assert received[4] == flat and received[5] == nested


async def test_group_send_skips_only_the_full_members() -> None:
    layer = InMemoryChannelLayer(capacity=10, channel_capacity={"tiny*": 1})
    await layer.group_add("g", "tiny")
    await layer.group_add("g", "roomy")
    await layer.group_send("g", {"n": 1})
    await layer.group_send("g", {"n": 2})  # tiny is full: skipped, no error
    with pytest.raises(ChannelFull, match="'tiny' is at its capacity of 1"):
        await layer.send("tiny", {"n": 3})
    assert [await layer.receive("roomy") for _ in (1, 2)] == [{"n": 1}, {"n": 2}]
    assert await layer.receive("tiny") == {"n": 1}


async def test_group_send_follows_capacity_changed_after_construction() -> None:
    layer = InMemoryChannelLayer(capacity=5)
    await layer.group_add("g", "a")
    await layer.group_send("g", {"n": 1})
    layer.capacity = 1  # group_send looks the capacity up per call, not once per layer
    await layer.group_send("g", {"n": 2})
    layer.channel_capacity = {"a": 3}
    await layer.group_send("g", {"n": 3})
    await layer.group_send("g", {"n": 4})
    assert [await layer.receive("a") for _ in (1, 2, 3)] == [{"n": 1}, {"n": 3}, {"n": 4}]


async def test_group_send_asks_a_subclass_get_capacity_per_member() -> None:
    class PerMember(InMemoryChannelLayer):
        def get_capacity(self, channel: str) -> int:
            return 1 if channel == "small" else 10

    layer = PerMember()
    for member in ("small", "large"):
        await layer.group_add("g", member)
    for n in (1, 2):
        await layer.group_send("g", {"n": n})
    assert [await layer.receive("large") for _ in (1, 2)] == [{"n": 1}, {"n": 2}]
    assert await layer.receive("small") == {"n": 1}
    assert "small" not in layer.channels  # its second message was refused, not queued


async def test_group_send_wakes_every_waiting_member_with_its_own_copy() -> None:
    layer = InMemoryChannelLayer()
    names = [f"member.{index}" for index in range(50)]
    for name in names:
        await layer.group_add("g", name)
    receives = [asyncio.ensure_future(layer.receive(name)) for name in names]
    await asyncio.sleep(0)  # all waiting
    await layer.group_send("g", {"type": "hello", "nested": {"k": [1]}})
    received = await asyncio.gather(*receives)
    assert all(message == {"type": "hello", "nested": {"k": [1]}} for message in received)
    assert len({id(message) for message in received}) == len(names)
    assert len({id(message["nested"]) for message in received}) == len(names)


def test_group_send_wakes_members_waiting_on_other_loops() -> None:
    layer = InMemoryChannelLayer()
    got: list[dict[str, Any]] = []
    waiting = threading.Barrier(3)

    async def member(name: str) -> None:
        pending = asyncio.ensure_future(layer.receive(name))
        await asyncio.sleep(0)
        waiting.wait(10)
        got.append(await asyncio.wait_for(pending, 10))

    async def join() -> None:
        for name in ("x", "y"):
            await layer.group_add("g", name)

    asyncio.run(join())
    threads = [threading.Thread(target=asyncio.run, args=(member(n),)) for n in ("x", "y")]
    for thread in threads:
        thread.start()
    waiting.wait(10)
    asyncio.run(layer.group_send("g", {"n": 1}))
    for thread in threads:
        thread.join(15)
    assert got == [{"n": 1}, {"n": 1}]


async def test_expired_messages_and_channels_are_cleaned_without_receives(
    clock: FakeClock,
) -> None:
    layer = InMemoryChannelLayer(expiry=10)
    for index in range(1000):
        await layer.send(f"abandoned.{index}", {"n": index})
    assert len(layer._channels) == 1000
    clock.now += 10
    await layer.send("live", {"n": -1})  # housekeeping rides on any call
    assert list(layer._channels) == ["live"]
    assert len(layer._heads) == 1


async def test_expiry_is_per_message(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10, capacity=2)
    await layer.send("c", {"n": 1})
    clock.now += 5
    await layer.send("c", {"n": 2})
    clock.now += 5  # n=1 expires now; n=2 has 5 s left
    await layer.send("c", {"n": 3})  # fits: the expired message no longer counts
    assert await layer.receive("c") == {"n": 2}
    clock.now += 9.9
    assert await layer.receive("c") == {"n": 3}


async def test_group_expiry_and_refresh(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(group_expiry=100)
    await layer.group_add("g", "stays")
    await layer.group_add("g", "goes")
    clock.now += 60
    await layer.group_add("g", "stays")  # refreshed until +160
    clock.now += 50
    await layer.group_send("g", {"n": 1})
    assert await layer.receive("stays") == {"n": 1}
    await layer.send("goes", {"marker": True})
    assert await layer.receive("goes") == {"marker": True}
    assert len(layer._groups) == 1


def test_successive_event_loops() -> None:
    # As under async_to_sync in tests: every call runs in a new loop.
    layer = InMemoryChannelLayer()
    asyncio.run(layer.send("c", {"n": 1}))
    assert asyncio.run(layer.receive("c")) == {"n": 1}

    async def receive_with_timeout() -> dict[str, Any]:
        return await asyncio.wait_for(layer.receive("c"), 0.01)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(receive_with_timeout())  # leaves no waiter bound to a dead loop
    asyncio.run(layer.send("c", {"n": 2}))
    assert asyncio.run(layer.receive("c")) == {"n": 2}
    assert not layer._channels["c"].waiters


async def test_drained_channels_are_forgotten_after_expiry(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10)
    for index in range(100):
        await layer.send(f"c{index}", {"n": index})
        assert await layer.receive(f"c{index}") == {"n": index}
    clock.now += 10
    await layer.send("live", {})
    assert list(layer._channels) == ["live"]
    assert len(layer._heads) == 1


async def test_a_channel_only_ever_received_on_is_forgotten_on_cancel() -> None:
    layer = InMemoryChannelLayer()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive("lonely"), 0.01)
    assert "lonely" not in layer._channels


def test_a_receive_in_a_closed_loop_does_not_block_delivery() -> None:
    layer = InMemoryChannelLayer()
    dead = asyncio.new_event_loop()
    task = dead.create_task(layer.receive("c"))
    dead.run_until_complete(asyncio.sleep(0.01))
    dead.close()  # the task never finishes: its loop is gone
    asyncio.run(layer.send("c", {"n": 1}))
    assert asyncio.run(layer.receive("c")) == {"n": 1}
    assert not task.done()


def test_receive_in_one_thread_is_woken_by_send_in_another() -> None:
    layer = InMemoryChannelLayer()
    got: list[dict[str, Any]] = []
    waiting = threading.Event()

    async def receiver() -> None:
        pending = asyncio.ensure_future(layer.receive("c"))
        await asyncio.sleep(0)
        waiting.set()
        got.append(await asyncio.wait_for(pending, 10))

    thread = threading.Thread(target=asyncio.run, args=(receiver(),))
    thread.start()
    assert waiting.wait(10)
    asyncio.run(layer.send("c", {"from": "main thread"}))
    thread.join(15)
    assert got == [{"from": "main thread"}]


def test_many_threads_each_message_exactly_once() -> None:
    layer = InMemoryChannelLayer(capacity=10_000)
    senders, per_sender, readers = 4, 500, 3
    received: list[tuple[int, int]] = []
    lock = threading.Lock()

    async def send_all(sender: int) -> None:
        for index in range(per_sender):
            await layer.send("shared", {"s": sender, "n": index})

    async def read_until_done() -> None:
        while True:
            try:
                message = await asyncio.wait_for(layer.receive("shared"), 1)
            except asyncio.TimeoutError:
                return
            with lock:
                received.append((message["s"], message["n"]))

    threads = [
        threading.Thread(target=asyncio.run, args=(read_until_done(),)) for _ in range(readers)
    ]
    threads += [threading.Thread(target=asyncio.run, args=(send_all(s),)) for s in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(received) == [(s, n) for s in range(senders) for n in range(per_sender)]
    for sender in range(senders):
        stream = [n for s, n in received if s == sender]
        assert len(stream) == per_sender


def test_async_to_sync_callers_share_one_layer() -> None:
    # The way upstream's tests and sync consumers use the in-memory layer.
    from asgiref.sync import async_to_sync

    layer = InMemoryChannelLayer()
    async_to_sync(layer.group_add)("g", "c")
    async_to_sync(layer.group_send)("g", {"n": 1})
    assert async_to_sync(layer.receive)("c") == {"n": 1}
    got: list[dict[str, Any]] = []
    receiving = threading.Thread(target=lambda: got.append(async_to_sync(layer.receive)("c")))
    receiving.start()
    async_to_sync(layer.send)("c", {"n": 2})
    receiving.join(15)
    assert got == [{"n": 2}]


async def test_check_values_rejects_what_network_layers_cannot_carry() -> None:
    layer = InMemoryChannelLayer(check_values=True)
    with pytest.raises(InvalidMessage, match=r"message\['when'\] is a datetime"):
        await layer.send("c", {"when": datetime.datetime(2020, 1, 1)})
    with pytest.raises(InvalidMessage, match=r"message\['s'\] is a set"):
        await layer.group_send("g", {"s": {1}})
    await layer.send("c", {"ok": [1, b"2", {"3": None}]})
    assert await layer.receive("c") == {"ok": [1, b"2", {"3": None}]}


async def test_channels_view_has_upstreams_shape_and_follows_expiry(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10, capacity=3)
    await layer.send("inbox", {"type": "a"})
    await layer.send("inbox", {"type": "b"})
    view = layer.channels
    assert list(view) == ["inbox"]
    queue = view["inbox"]
    assert (queue.qsize(), queue.empty(), queue.full(), queue.maxsize) == (2, False, False, 3)
    assert [message["type"] for _, message in queue._queue] == ["a", "b"]
    view.clear()  # a snapshot: the layer keeps its messages
    assert layer.channels["inbox"].qsize() == 2
    clock.now += 10
    assert layer.channels == {}


async def test_groups_view_maps_groups_to_channels_and_join_times(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(group_expiry=100)
    before = time.time()
    await layer.group_add("room", "alice")
    await layer.group_add("room", "bob")
    groups = layer.groups
    assert sorted(groups["room"]) == ["alice", "bob"]
    assert all(abs(joined - before) < 5 for joined in groups["room"].values())
    clock.now += 100
    assert layer.groups == {}


async def test_upstream_housekeeping_helpers_exist_and_work(clock: FakeClock) -> None:
    layer = InMemoryChannelLayer(expiry=10)
    await layer.send("inbox", {"type": "a"})
    await layer.group_add("room", "alice")
    await layer.group_add("lobby", "alice")
    await layer.group_add("lobby", "bob")
    clock.now += 10
    layer._clean_expired()
    assert layer._channels == {}
    layer._remove_from_groups("alice")
    assert layer.groups == {"lobby": {"bob": pytest.approx(time.time(), abs=30)}}


def test_deprecated_name_checks_warn_and_still_validate() -> None:
    layer = BaseChannelLayer()
    with pytest.deprecated_call(match="use require_valid_channel_name instead"):
        assert layer.valid_channel_name("chat.room") is True
    with pytest.deprecated_call(match="use require_valid_group_name instead"):
        assert layer.valid_group_name("room") is True
    with pytest.deprecated_call(), pytest.raises(InvalidChannelName):
        layer.valid_channel_name("bad name")
    assert layer.invalid_name_error.format("Group").startswith(
        "Group name must be a valid unicode string with length < 100 "
    )
