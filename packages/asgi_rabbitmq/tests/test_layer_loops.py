"""One layer used from several event loops: async_to_sync and a second thread's loop."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

from asgi_rabbitmq.core import RabbitmqChannelLayer
from asgiref.sync import async_to_sync


def test_async_to_sync_calls_share_one_layer(prefix: str, broker: str) -> None:
    # Each async_to_sync call from plain sync code runs on a loop of its own;
    # a channel made in one call must be reachable in the next ones.
    layer = RabbitmqChannelLayer(broker, prefix=prefix)
    try:
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.send)(channel, {"type": "one"})
        async_to_sync(layer.send)("sync.jobs", {"type": "two"})
        assert async_to_sync(layer.receive)(channel) == {"type": "one"}
        assert async_to_sync(layer.receive)("sync.jobs") == {"type": "two"}
        async_to_sync(layer.group_add)("sync-group", channel)
        async_to_sync(layer.group_send)("sync-group", {"type": "three"})
        assert async_to_sync(layer.receive)(channel) == {"type": "three"}
    finally:
        async_to_sync(layer.flush)()
        async_to_sync(layer.close)()
    gc.collect()


def test_two_threads_with_their_own_loops(prefix: str, broker: str) -> None:
    layer = RabbitmqChannelLayer(broker, prefix=prefix)
    results: dict[str, Any] = {}
    channel_ready = threading.Event()
    done = threading.Event()

    async def receiver() -> None:
        results["channel"] = await layer.new_channel()
        channel_ready.set()
        results["local"] = [await layer.receive(results["channel"]) for _ in range(3)]
        results["normal"] = await layer.receive("threads.jobs")
        await asyncio.to_thread(done.wait, 30)
        await layer.close()

    async def sender() -> None:
        await asyncio.to_thread(channel_ready.wait, 30)
        for n in range(3):
            await layer.send(results["channel"], {"n": n})
        await layer.send("threads.jobs", {"n": "job"})

    thread = threading.Thread(target=asyncio.run, args=(receiver(),))
    thread.start()
    try:
        asyncio.run(sender())
    finally:
        done.set()
        thread.join(60)
    assert results["local"] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert results["normal"] == {"n": "job"}


async def test_receive_on_one_loop_gets_messages_consumed_by_another(
    prefix: str, broker: str
) -> None:
    # The second loop's consumer may be the one the broker hands a message to;
    # the waiter on this loop must still get it.
    layer = RabbitmqChannelLayer(broker, prefix=prefix)
    sender = RabbitmqChannelLayer(broker, prefix=prefix)
    try:
        channel = await layer.new_channel()
        other = await layer.new_channel()
        stop = threading.Event()

        async def consume_elsewhere() -> None:
            task = asyncio.ensure_future(layer.receive(other))
            await asyncio.to_thread(stop.wait, 30)
            task.cancel()
            await layer.close()

        thread = threading.Thread(target=asyncio.run, args=(consume_elsewhere(),))
        thread.start()
        try:
            waiting = asyncio.ensure_future(layer.receive(channel))
            for n in range(20):
                await sender.send(channel, {"n": n})
            got = [await asyncio.wait_for(waiting, 10)]
            got += [await asyncio.wait_for(layer.receive(channel), 10) for _ in range(19)]
            assert got == [{"n": n} for n in range(20)]
        finally:
            stop.set()
            await asyncio.to_thread(thread.join, 60)
    finally:
        await layer.close()
        await sender.flush()
        await sender.close()


async def test_a_pending_receive_takes_over_when_the_consuming_loop_ends(
    prefix: str, broker: str
) -> None:
    layer = RabbitmqChannelLayer(broker, prefix=prefix)
    sender = RabbitmqChannelLayer(broker, prefix=prefix)
    try:
        channel = await layer.new_channel()
        first = await layer.new_channel()

        async def consume_once() -> None:
            # This loop becomes the process-queue consumer, then goes away.
            await layer.send(first, {"n": "first"})
            assert await layer.receive(first) == {"n": "first"}

        thread = threading.Thread(target=asyncio.run, args=(consume_once(),))
        thread.start()
        await asyncio.to_thread(thread.join, 60)
        waiting = asyncio.ensure_future(layer.receive(channel))
        await sender.send(channel, {"n": "after the owner left"})
        assert await asyncio.wait_for(waiting, 10) == {"n": "after the owner left"}
    finally:
        await layer.close()
        await sender.flush()
        await sender.close()
