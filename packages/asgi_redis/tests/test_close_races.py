"""close() racing calls under way: nothing reopened behind its back, nobody left waiting.

The conformance suite's teardown races find these at random points; these tests pin
each case at the point where it used to go wrong.
"""

from __future__ import annotations

import asyncio

import pytest
from asgi_redis.core import RedisChannelLayer
from asgi_redis.pubsub import RedisPubSubChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError


async def test_a_call_under_way_at_close_closes_the_connections_it_reopened(
    redis_url: str, prefix: str
) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    await layer.send("race.warm", {"type": "warm"})
    shard = layer._get_layer().shards[0]
    client = shard.client
    async with client.in_use():
        await layer.close()
        # What a call racing close() does: redis-py reconnects the closed client.
        assert await shard.redis.ping()
        pool = client._pool
        assert pool is not None
        assert any(c.is_connected for c in pool._available_connections)
    assert not any(c.is_connected for c in pool._available_connections), (
        "the call that ended after close() left its reopened connection open"
    )
    with pytest.raises(RedisConnectionError, match=r"closed by close\(\)"):
        async with client.in_use():
            pass
    # The layer itself carries on with new connections.
    await layer.send("race.after", {"type": "after"})
    assert await asyncio.wait_for(layer.receive("race.after"), 5) == {"type": "after"}
    await layer.flush()
    await layer.close()


async def test_pubsub_local_receive_waiting_at_close_raises_and_can_resubscribe(
    redis_url: str, prefix: str
) -> None:
    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))
    for _ in range(5):
        await asyncio.sleep(0)  # subscribed already: now it waits for a message
    assert not waiting.done()
    await layer.close()
    with pytest.raises(RedisConnectionError, match=r"call receive\(\) again"):
        await asyncio.wait_for(waiting, 5)
    # A new receive subscribes again and gets what is published afterwards.
    again = asyncio.ensure_future(layer.receive(channel))
    for attempt in range(50):  # until the new subscription is confirmed
        await layer.send(channel, {"type": "after", "n": attempt})
        done, _ = await asyncio.wait([again], timeout=0.1)
        if done:
            break
    assert again.result()["type"] == "after"
    await layer.close()
