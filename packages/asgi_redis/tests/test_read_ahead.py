"""The reader keeps a pop armed for a moment after each receive(): what that must not break."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgi_redis._reader import LINGER_SECONDS
from asgi_redis.core import RedisChannelLayer
from asgiref.layers import ChannelFull

MakeLayer = Callable[..., Awaitable[RedisChannelLayer]]


@pytest.fixture
def make_layer(layers: Any) -> MakeLayer:
    return functools.partial(layers, RedisChannelLayer)


async def test_read_ahead_of_a_normal_channel_goes_back_in_order(make_layer: MakeLayer) -> None:
    first, second, sender = await make_layer(), await make_layer(), await make_layer()
    await sender.send("test.ahead", {"type": "n", "n": -1})
    assert await first.receive("test.ahead") == {"type": "n", "n": -1}
    # first's reader now holds message 0 for a moment; nobody there receives it, so it
    # goes back to the end other consumers pop from, ahead of the rest.
    for index in range(5):
        await sender.send("test.ahead", {"type": "n", "n": index})
    await asyncio.sleep(LINGER_SECONDS * 3)
    received = [(await asyncio.wait_for(second.receive("test.ahead"), 10))["n"] for _ in range(5)]
    assert received == [0, 1, 2, 3, 4]


async def test_read_ahead_still_counts_toward_capacity(make_layer: MakeLayer) -> None:
    layer = await make_layer(capacity=2)
    await layer.send("test.ahead.full", {"type": "n", "n": 0})
    assert (await layer.receive("test.ahead.full"))["n"] == 0
    await layer.send("test.ahead.full", {"type": "n", "n": 1})
    await layer.send("test.ahead.full", {"type": "n", "n": 2})
    await asyncio.sleep(0.05)  # the reader pops message 1 ahead into the local buffer
    with pytest.raises(ChannelFull, match=r"test\.ahead\.full"):
        await layer.send("test.ahead.full", {"type": "n", "n": 3})
    assert [(await layer.receive("test.ahead.full"))["n"] for _ in range(2)] == [1, 2]


async def test_channel_names_are_compared_by_value(make_layer: MakeLayer) -> None:
    # Regression: an equal name built anew (not the cached string object) was taken
    # for another instance's process-local channel.
    layer = await make_layer()
    names = ["".join(["test.", "by.value"]) for _ in range(2)]
    assert names[0] == names[1] and names[0] is not names[1]
    for index, name in enumerate(names):
        await layer.send(name, {"type": "n", "n": index})
        assert (await layer.receive(name))["n"] == index
