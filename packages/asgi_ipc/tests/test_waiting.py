"""Waiting marks on a shared (normal) channel: who is woken, and what is left behind.

A receiver that finds a channel empty marks its client slot in the channel's
waiter map; a send names every marked slot; the receiver that takes a message
clears its own mark, and an entry with no messages and no marks is removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from asgi_ipc.core import IPCChannelLayer

Make = Callable[..., IPCChannelLayer]

KEY = b"work.queue"
FAR = 1e12  # an expiry no test reaches


async def test_a_taker_clears_only_its_own_mark_and_the_last_one_removes_the_entry(
    make_layer: Make,
) -> None:
    layer = make_layer()
    await layer.new_channel()  # attach
    session = layer._attached()
    first, second = 5, 9  # two client slots waiting on one channel
    with session.state.locked() as state:
        queues = state.queues
        assert queues.pop(KEY, 0.0, first, False) is None
        assert queues.pop(KEY, 0.0, second, False) is None
        at = queues.table.find(KEY)
        assert queues.waiters(at) == (1 << first) | (1 << second)
        assert queues.push(KEY, KEY, b"job", FAR, 10, 0.0) == (1 << first) | (1 << second)
        assert queues.pop(KEY, 0.0, first, False) == (FAR, KEY, b"job")
        # The other waiter is still named by the next send.
        assert queues.waiters(queues.table.find(KEY)) == 1 << second
        assert queues.push(KEY, KEY, b"next", FAR, 10, 0.0) == 1 << second
        assert queues.pop(KEY, 0.0, second, False) == (FAR, KEY, b"next")
        assert queues.table.find(KEY) == 0
        assert state.check()["messages"] == 0


async def test_a_taker_that_leaves_messages_behind_only_unmarks_itself(make_layer: Make) -> None:
    layer = make_layer()
    await layer.new_channel()
    session = layer._attached()
    with session.state.locked() as state:
        queues = state.queues
        assert queues.pop(KEY, 0.0, 3, False) is None
        queues.push(KEY, KEY, b"a", FAR, 10, 0.0)
        queues.push(KEY, KEY, b"b", FAR, 10, 0.0)
        assert queues.pop(KEY, 0.0, 3, False) == (FAR, KEY, b"a")
        at = queues.table.find(KEY)
        assert at and queues.waiters(at) == 0
        # keep_waiting: several local receivers of one queue keep the mark.
        assert queues.pop(KEY, 0.0, 3, True) == (FAR, KEY, b"b")
        assert queues.table.find(KEY) == 0  # nothing queued, nobody marked
        assert state.check()["messages"] == 0


async def test_competing_clients_get_each_message_of_a_normal_channel_exactly_once(
    make_layer: Make,
) -> None:
    sender = make_layer(capacity=1000)
    workers = [make_layer(capacity=1000) for _ in range(3)]
    total = 90
    received: list[tuple[int, int]] = []
    all_in = asyncio.Event()

    async def work(index: int, layer: IPCChannelLayer) -> None:
        while True:
            message = await layer.receive("work.jobs")
            received.append((index, message["n"]))
            if len(received) == total:
                all_in.set()

    tasks = [asyncio.create_task(work(i, layer)) for i, layer in enumerate(workers)]
    for n in range(total):
        await sender.send("work.jobs", {"n": n})
        if n % 10 == 9:
            # Let every worker drain the queue and go back to sleep, so the
            # next sends must wake sleeping receivers (no lost wake-up).
            while len(received) <= n:
                await asyncio.sleep(0)
    await asyncio.wait_for(all_in.wait(), 30)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(n for _, n in received) == list(range(total))
    assert sender.check_integrity()["messages"] == 0
