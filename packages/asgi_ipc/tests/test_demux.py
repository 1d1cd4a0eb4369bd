"""Receiving: no polling when idle, local demultiplexing, hand-off, many loops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from asgi_ipc import _session
from asgi_ipc.core import IPCChannelLayer

Make = Callable[..., IPCChannelLayer]


@pytest.fixture
def pops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every look at a shared queue made by a receiver."""
    seen: list[str] = []
    original = _session.Session.pop

    def counting(self: _session.Session, key: str, keep_waiting: bool) -> Any:
        seen.append(key)
        return original(self, key, keep_waiting)

    monkeypatch.setattr(_session.Session, "pop", counting)
    return seen


async def test_an_idle_receive_looks_at_the_queue_once_then_sleeps(
    make_layer: Make, pops: list[str]
) -> None:
    receiver, sender = make_layer(), make_layer()
    waiting = asyncio.create_task(receiver.receive("idle.a"))
    await asyncio.sleep(0.5)
    # No busy polling: one look, then it blocks until a sender posts.
    assert pops == ["idle.a"]
    await sender.send("idle.a", {"n": 1})
    assert await asyncio.wait_for(waiting, 10) == {"n": 1}
    assert pops == ["idle.a", "idle.a"]


async def test_many_local_channels_each_get_their_own_message(make_layer: Make) -> None:
    receiver, sender = make_layer(), make_layer()
    channels = [await receiver.new_channel() for _ in range(50)]
    tasks = [asyncio.create_task(receiver.receive(channel)) for channel in channels]
    await asyncio.sleep(0.05)
    for index, channel in reversed(list(enumerate(channels))):
        await sender.send(channel, {"i": index})
    results = await asyncio.wait_for(asyncio.gather(*tasks), 20)
    assert [result["i"] for result in results] == list(range(50))


async def test_cancelling_the_pumping_receive_hands_the_queue_to_another(
    make_layer: Make,
) -> None:
    receiver, sender = make_layer(), make_layer()
    first, second = await receiver.new_channel(), await receiver.new_channel()
    pumping = asyncio.create_task(receiver.receive(first))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(receiver.receive(second))
    await asyncio.sleep(0.05)
    pumping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pumping
    await sender.send(second, {"to": "second"})
    assert await asyncio.wait_for(waiting, 10) == {"to": "second"}
    await sender.send(first, {"to": "first"})
    assert await asyncio.wait_for(receiver.receive(first), 10) == {"to": "first"}


async def test_two_receivers_of_one_normal_channel_share_its_messages(make_layer: Make) -> None:
    worker, sender = make_layer(), make_layer()
    tasks = [asyncio.create_task(worker.receive("work.queue")) for _ in range(2)]
    await asyncio.sleep(0.05)
    await sender.send("work.queue", {"job": 1})
    await sender.send("work.queue", {"job": 2})
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sorted(result["job"] for result in results) == [1, 2]


def test_one_layer_serves_event_loops_in_several_threads(make_layer: Make) -> None:
    # async_to_sync runs each call on its own loop and thread; the layer must
    # wake the right loop.
    layer = make_layer()
    results: list[dict[str, Any]] = []

    def receive_in_thread() -> None:
        results.append(asyncio.run(asyncio.wait_for(layer.receive("threads.a"), 20)))

    thread = threading.Thread(target=receive_in_thread)
    thread.start()

    async def send_later() -> None:
        await asyncio.sleep(0.2)
        await layer.send("threads.a", {"from": "other loop"})

    asyncio.run(send_later())
    thread.join(30)
    assert results == [{"from": "other loop"}]
    asyncio.run(layer.close())


async def test_a_receiver_in_the_sending_client_is_woken_without_the_fifo(
    make_layer: Make,
) -> None:
    layer = make_layer()
    channel = await layer.new_channel()
    waiting = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0.05)
    await layer.send(channel, {"self": True})
    assert await asyncio.wait_for(waiting, 10) == {"self": True}


async def test_a_loop_of_sends_lets_this_process_receive_meanwhile(make_layer: Make) -> None:
    # Shared-memory sends never block; without a yield a burst of sends
    # starved this process's own receivers until the burst ended.
    layer = make_layer(capacity=1000)
    received: list[int] = []
    sent_when_received: list[int] = []
    sent = 0

    async def consume() -> None:
        while len(received) < 20:
            received.append((await layer.receive("fair.a"))["n"])
            sent_when_received.append(sent)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    for sent in range(1, 21):
        await layer.send("fair.a", {"n": sent})
    await asyncio.wait_for(consumer, 10)
    assert received == list(range(1, 21))
    assert sent_when_received[0] < 20


async def test_a_receive_waiting_when_the_layer_closes_fails_clearly(make_layer: Make) -> None:
    layer = make_layer()
    waiting = asyncio.create_task(layer.receive("closing.a"))
    await asyncio.sleep(0.05)
    await layer.close()
    with pytest.raises(RuntimeError, match="closed while this receive was waiting"):
        await asyncio.wait_for(waiting, 10)
    # The layer can be used again; it attaches afresh.
    await layer.send("closing.a", {"n": 1})
    assert await layer.receive("closing.a") == {"n": 1}
