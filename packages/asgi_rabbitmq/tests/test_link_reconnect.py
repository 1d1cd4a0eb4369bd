"""Chaos: the broker restarts during traffic and the layer recovers on its own.

Runs against a private RabbitMQ node (see ``rabbit_node`` in conftest.py) so that
restarting it disturbs nobody else on the shared broker.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from asgi_rabbitmq.core import RabbitmqChannelLayer

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq_node]


async def _first_after(
    layer: RabbitmqChannelLayer, channel: str, restart_mark: int, timeout: float = 60
) -> dict[str, Any]:
    """Receive on *channel* until a message numbered after the restart arrives."""

    async def loop() -> dict[str, Any]:
        while True:
            message = await layer.receive(channel)
            if message["n"] >= restart_mark:
                return message

    return await asyncio.wait_for(loop(), timeout)


async def test_broker_restart_recovers_channels_groups_and_pending_receives(
    rabbit_node: Any,
) -> None:
    sender = RabbitmqChannelLayer(rabbit_node.url, prefix="chaos")
    receiver = RabbitmqChannelLayer(rabbit_node.url, prefix="chaos")
    try:
        local = await receiver.new_channel()
        member = await receiver.new_channel()
        await receiver.group_add("room", member)
        # A receive that is already waiting when the broker goes away.
        pending = asyncio.ensure_future(receiver.receive(local))
        await sender.send(local, {"n": -1})
        assert (await asyncio.wait_for(pending, 10))["n"] == -1
        pending = asyncio.ensure_future(receiver.receive("jobs"))
        await asyncio.sleep(0.2)

        counter = itertools.count()
        stop = asyncio.Event()

        async def traffic() -> None:
            # Sends during the outage wait for the link; some may be lost.
            while not stop.is_set():
                n = next(counter)
                await sender.send(local, {"n": n})
                await sender.group_send("room", {"n": n})
                await asyncio.sleep(0.01)

        pump = asyncio.ensure_future(traffic())
        await asyncio.sleep(0.3)
        await asyncio.to_thread(rabbit_node.stop_app)
        await asyncio.sleep(1)
        await asyncio.to_thread(rabbit_node.start_app)
        restart_mark = next(counter)

        # Direct messages and the re-bound group both flow again.
        assert (await _first_after(receiver, local, restart_mark))["n"] >= restart_mark
        assert (await _first_after(receiver, member, restart_mark))["n"] >= restart_mark
        stop.set()
        await pump

        # The receive pending across the restart resumes on the restored consumer.
        await sender.send("jobs", {"n": "after"})
        assert (await asyncio.wait_for(pending, 30)) == {"n": "after"}
        # The layer keeps working for new groups too.
        other = await receiver.new_channel()
        await receiver.group_add("lobby", other)
        await sender.group_send("lobby", {"n": "lobby"})
        assert await asyncio.wait_for(receiver.receive(other), 10) == {"n": "lobby"}
    finally:
        await sender.close()
        await receiver.close()


async def test_a_group_whose_members_expired_before_a_restart_is_bound_again(
    rabbit_node: Any,
) -> None:
    layer = RabbitmqChannelLayer(rabbit_node.url, prefix="chaos2", group_expiry=0.5)
    try:
        old = await layer.new_channel()
        await layer.group_add("room", old)
        await asyncio.sleep(1)  # the only membership expires; no discard happened
        await asyncio.to_thread(rabbit_node.stop_app)
        await asyncio.to_thread(rabbit_node.start_app)
        new = await layer.new_channel()  # returns once the link is back
        await layer.group_add("room", new)
        await layer.group_send("room", {"n": 1})
        assert await asyncio.wait_for(layer.receive(new), 10) == {"n": 1}
    finally:
        await layer.close()
