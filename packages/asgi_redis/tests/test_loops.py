"""One layer used from many event loops: async_to_sync-style calls, threads, loop teardown."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from typing import Any

import redis
from asgi_redis.core import RedisChannelLayer


def _connected_clients(url: str, name_marker: str) -> int:
    with redis.Redis.from_url(url) as client:
        return sum(1 for entry in client.client_list() if entry.get("name") == name_marker)


def test_each_asyncio_run_gets_working_connections_and_closes_them(
    redis_url: str, prefix: str
) -> None:
    layer = RedisChannelLayer(hosts=[{"address": redis_url, "client_name": prefix}], prefix=prefix)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "unclosed", no "attached to a different loop"
        for index in range(5):
            asyncio.run(layer.send("test.loops", {"type": "n", "n": index}))
        received = [asyncio.run(layer.receive("test.loops"))["n"] for _ in range(5)]
        channel = asyncio.run(layer.new_channel())
        asyncio.run(layer.send(channel, {"type": "local"}))
        assert asyncio.run(layer.receive(channel)) == {"type": "local"}
        asyncio.run(layer.flush())
        gc.collect()
    assert received == [0, 1, 2, 3, 4]
    # Every loop's connections were closed when its loop shut down.
    assert _connected_clients(redis_url, prefix) == 0


def test_threads_with_their_own_loops(redis_url: str, prefix: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            asyncio.run(layer.send("test.threads", {"type": "n", "n": index}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    async def drain() -> list[Any]:
        values = [(await layer.receive("test.threads"))["n"] for _ in range(8)]
        await layer.flush()
        await layer.close()
        return values

    assert sorted(asyncio.run(drain())) == list(range(8))


def test_receive_in_one_loop_sees_messages_read_ahead_in_another(
    redis_url: str, prefix: str
) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    channel = asyncio.run(layer.new_channel())

    async def send_two_receive_one() -> Any:
        await layer.send(channel, {"type": "n", "n": 1})
        await layer.send(channel, {"type": "n", "n": 2})
        return await layer.receive(channel)

    assert asyncio.run(send_two_receive_one())["n"] == 1

    async def receive_rest() -> Any:
        message = await asyncio.wait_for(layer.receive(channel), 5)
        await layer.flush()
        await layer.close()
        return message

    assert asyncio.run(receive_rest())["n"] == 2


def test_close_finishes_a_task_that_swallowed_its_first_cancellation() -> None:
    """close() re-cancels: one lost CancelledError must not hang shutdown forever."""
    from asgi_redis._loopstate import LoopState

    async def main() -> tuple[int, bool]:
        state = LoopState([])
        state.start()
        swallowed = 0

        async def stubborn() -> None:
            nonlocal swallowed
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    swallowed += 1
                    if swallowed > 1:
                        raise

        task = state.spawn(stubborn(), "stubborn")
        await asyncio.sleep(0)
        await asyncio.wait_for(state.aclose(), 10)
        return swallowed, task.cancelled()

    swallowed, cancelled = asyncio.run(main())
    assert swallowed == 2 and cancelled


def test_a_pop_cancelled_in_flight_keeps_its_item(redis_url: str, prefix: str) -> None:
    """The server may have popped an item for a reader that is cancelled (its loop
    ends, close()): the pop is finished, and the item is given back, not dropped."""
    from asgi_redis._reader import Reader

    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)

    async def main() -> tuple[bytes | None, Any]:
        await layer.send("test.rescue", {"type": "kept"})
        state = layer._get_layer()
        shard = state.shards[0]
        _, _, key = layer._route("test.rescue")
        reader = Reader("test.rescue", shard, key, [])
        reader.lease = await shard.client.lease(key)
        popping = asyncio.ensure_future(reader.pop(2))
        await asyncio.sleep(0)  # it sends BRPOP and waits for the reply, not yet read
        popping.cancel()
        try:
            await popping
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the pop finished before it could be cancelled")
        rescued = reader.rescued
        assert rescued is not None
        await layer._reading.rescue(reader, rescued)
        await reader.release(broken=True)
        message = await asyncio.wait_for(layer.receive("test.rescue"), 5)
        await layer.flush()
        await layer.close()
        return rescued, message

    rescued, message = asyncio.run(main())
    assert rescued is not None and rescued.endswith(b"kept")
    assert message == {"type": "kept"}


def test_a_loop_closed_by_hand_closes_the_layers_state_first(
    redis_url: str, prefix: str, caplog: Any
) -> None:
    """A loop driven with run_until_complete and closed without shutdown_asyncgens (as
    channels_redis users and its tests do): the layers' readers and pub/sub subscribers are
    stopped and their connections closed on close(), not destroyed still pending later."""
    from asgi_redis.pubsub import RedisPubSubChannelLayer

    hosts = [{"address": redis_url, "client_name": prefix}]
    core = RedisChannelLayer(hosts=hosts, prefix=prefix)
    pubsub = RedisPubSubChannelLayer(hosts=hosts, prefix=prefix)
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    channels = [run(core.new_channel()), run(pubsub.new_channel())]
    for layer, channel in zip((core, pubsub), channels, strict=True):
        run(layer.send(channel, {"type": "hello"}))
        assert run(asyncio.wait_for(layer.receive(channel), 5)) == {"type": "hello"}
    assert _connected_clients(redis_url, prefix) > 0
    caplog.set_level("ERROR", logger="asyncio")
    loop.close()
    gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert _connected_clients(redis_url, prefix) == 0
    assert loop.is_closed()


def test_a_burst_over_sentinel_waits_for_a_free_connection(
    sentinel_setup: dict[str, Any], prefix: str
) -> None:
    """More concurrent commands than ``max_connections`` wait for a connection on Sentinel,
    as on a single server, instead of failing with "Too many connections"."""
    host = {**sentinel_setup, "max_connections": 2}
    layer = RedisChannelLayer(hosts=[host], prefix=prefix)

    async def burst() -> list[Any]:
        names = [await layer.new_channel() for _ in range(10)]
        await asyncio.gather(*(layer.send(n, {"type": "b", "n": i}) for i, n in enumerate(names)))
        got = await asyncio.gather(*(asyncio.wait_for(layer.receive(n), 10) for n in names))
        await layer.flush()
        await layer.close()
        return [m["n"] for m in got]

    assert asyncio.run(burst()) == list(range(10))
