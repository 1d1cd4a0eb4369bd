"""When a send yields to its event loop before writing (asgi_ipc._turns)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable

from asgi_ipc._turns import TurnGate
from asgi_ipc.core import IPCChannelLayer

Make = Callable[..., IPCChannelLayer]


async def test_the_first_send_of_a_turn_does_not_yield_and_a_second_one_does() -> None:
    gate = TurnGate()
    assert gate.must_yield() is False
    assert gate.must_yield() is True
    await asyncio.sleep(0)  # the loop turns
    assert gate.must_yield() is False


async def test_each_event_loop_has_its_own_turn() -> None:
    gate = TurnGate()
    seen: list[bool] = []

    async def in_other_loop() -> None:
        seen.append(gate.must_yield())

    assert gate.must_yield() is False
    # Another loop (another thread, as async_to_sync uses) sends while this
    # loop is blocked and so has not turned: it is not held to this loop's turn,
    thread = threading.Thread(target=asyncio.run, args=(in_other_loop(),))
    thread.start()
    thread.join()
    assert seen == [False]
    # and this loop's own turn is not reset by it.
    assert gate.must_yield() is True


async def test_a_burst_of_sends_lets_other_tasks_run_at_least_every_other_send(
    make_layer: Make,
) -> None:
    layer = make_layer(capacity=1000)
    turns: list[int] = []
    sent = 0

    async def watcher() -> None:
        while sent < 20:
            turns.append(sent)
            await asyncio.sleep(0)

    watching = asyncio.create_task(watcher())
    await asyncio.sleep(0)
    for sent in range(1, 21):
        await layer.send("turns.a", {"n": sent})
    await watching
    # The watcher saw the count at least every second send.
    assert all(later - earlier <= 2 for earlier, later in itertools.pairwise(turns))
    assert turns[-1] >= 18


async def test_a_send_that_yielded_while_close_ran_sends_through_a_fresh_attachment(
    make_layer: Make,
) -> None:
    layer = make_layer()
    await layer.send("turns.warm", {"n": 0})
    assert await layer.receive("turns.warm") == {"n": 0}
    # Same turn: the first send writes at once, the second yields, and close()
    # runs while it waits; that send must not use the closed attachment.
    first = asyncio.ensure_future(layer.send("turns.b", {"n": 1}))
    second = asyncio.ensure_future(layer.send("turns.b", {"n": 2}))
    closing = asyncio.ensure_future(layer.close())
    await asyncio.gather(first, second, closing)
    # The close removed the segment (and the first message with it); the
    # second send attached afresh.
    assert await asyncio.wait_for(layer.receive("turns.b"), 10) == {"n": 2}
