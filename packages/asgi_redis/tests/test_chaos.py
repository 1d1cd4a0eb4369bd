"""Redis restarts in the middle of traffic (a private server, killed and restarted)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgi_redis.core import RedisChannelLayer
from asgi_redis.pubsub import RedisPubSubChannelLayer
from redis.exceptions import RedisError

pytestmark = pytest.mark.chaos


async def _until(predicate: Any, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def _restart(server: Any) -> None:
    server.kill()
    await asyncio.sleep(0.5)
    await asyncio.to_thread(server.start)


async def test_core_layer_survives_restart_under_traffic(restartable: Any, prefix: str) -> None:
    layer = RedisChannelLayer(hosts=[restartable.url], prefix=prefix, capacity=10000)
    local = await layer.new_channel()
    await layer.group_add("chaos", local)
    got: dict[str, list[int]] = {"chaos.work": [], local: []}
    failures: list[BaseException] = []
    stop = asyncio.Event()

    async def consume(channel: str) -> None:
        while True:
            got[channel].append((await layer.receive(channel))["n"])

    async def produce() -> None:
        n = 0
        while not stop.is_set():
            try:
                await layer.send("chaos.work", {"type": "w", "n": n})
                await layer.group_send("chaos", {"type": "g", "n": n})
            except (RedisError, ConnectionError, OSError) as exc:
                failures.append(exc)  # the outage is reported to the sender
                await asyncio.sleep(0.05)
            n += 1
            await asyncio.sleep(0.002)

    with restartable.client() as client:
        run_id = client.info("server")["run_id"]
    consumers = [asyncio.ensure_future(consume(c)) for c in got]
    producer = asyncio.ensure_future(produce())
    await _until(lambda: len(got["chaos.work"]) > 20 and len(got[local]) > 20)
    await _restart(restartable)
    stop.set()
    await producer
    with restartable.client() as client:
        assert client.info("server")["run_id"] != run_id, "no restart happened"
    # Sends during the outage either failed clearly (RedisError) or were retried.
    assert all(isinstance(exc, (RedisError, ConnectionError, OSError)) for exc in failures)
    # After the restart: memberships are gone with the data; re-add and send markers.
    await layer.group_add("chaos", local)
    for n in range(100000, 100020):
        await layer.send("chaos.work", {"type": "w", "n": n})
        await layer.group_send("chaos", {"type": "g", "n": n})
    markers = list(range(100000, 100020))
    await _until(lambda: all(got[c][-20:] == markers for c in got))
    assert not any(task.done() for task in consumers), "a consumer crashed"
    for task in consumers:
        task.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    await layer.close()


async def test_pubsub_layer_reports_and_recovers_from_restart(
    restartable: Any, prefix: str
) -> None:
    events: list[str] = []

    async def on_disconnect() -> None:
        events.append("disconnect")

    layer = RedisPubSubChannelLayer(
        hosts=[restartable.url],
        prefix=prefix,
        on_disconnect=on_disconnect,
        on_reconnect=lambda: events.append("reconnect"),
    )
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    await layer.send(channel, {"type": "before"})
    assert await layer.receive(channel) == {"type": "before"}
    await _restart(restartable)
    await _until(lambda: events[-1:] == ["reconnect"])
    assert events[0] == "disconnect"
    received = asyncio.ensure_future(layer.receive(channel))
    for attempt in range(50):  # subscriptions are restored asynchronously after reconnect
        await layer.group_send("room", {"type": "after", "n": attempt})
        done, _ = await asyncio.wait([received], timeout=0.1)
        if done:
            break
    assert received.result()["type"] == "after"
    await layer.close()
