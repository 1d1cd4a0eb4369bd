"""Benchmark: asgiref's InMemoryChannelLayer against raw asyncio.Queue doing the same work.

Run from the repository root:

    .venv/bin/python bench/asgiref_layers.py            # full run
    .venv/bin/python bench/asgiref_layers.py --quick    # smaller counts

Each scenario is timed for the layer and for the asyncio.Queue peer in the same
process and run; the report gives both times and the ratio layer / peer (lower
is better; 1.0 would mean the layer costs nothing over a bare queue). The best
of ``--repeat`` runs is kept for each side, which filters out noise from other
processes on a shared machine.

Scenarios:

* ``round trip``: one task sends then receives on the same channel, N times.
* ``ping-pong``: two tasks bounce a message over two channels, N times; every
  message wakes a waiting receiver.
* ``fan-out M``: M member tasks wait on their channels; one ``group_send`` and
  the time until every member has received it. The peer puts a copy of the
  message on M queues.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.layers import InMemoryChannelLayer

MESSAGE: dict[str, Any] = {"type": "chat.message", "text": "hello world", "room": "lobby", "n": 1}


async def layer_round_trip(count: int) -> float:
    layer = InMemoryChannelLayer(capacity=count + 1)
    start = time.perf_counter()
    for _ in range(count):
        await layer.send("bench.rt", MESSAGE)
        await layer.receive("bench.rt")
    return time.perf_counter() - start


async def queue_round_trip(count: int) -> float:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=count + 1)
    start = time.perf_counter()
    for _ in range(count):
        await queue.put(dict(MESSAGE))
        await queue.get()
    return time.perf_counter() - start


async def _ping_pong(
    count: int,
    send: Callable[[str, dict[str, Any]], Awaitable[None]],
    receive: Callable[[str], Awaitable[dict[str, Any]]],
) -> float:
    async def echo() -> None:
        for _ in range(count):
            await send("bench.pong", await receive("bench.ping"))

    task = asyncio.ensure_future(echo())
    await asyncio.sleep(0)
    start = time.perf_counter()
    for _ in range(count):
        await send("bench.ping", MESSAGE)
        await receive("bench.pong")
    elapsed = time.perf_counter() - start
    await task
    return elapsed


async def layer_ping_pong(count: int) -> float:
    layer = InMemoryChannelLayer()
    return await _ping_pong(count, layer.send, layer.receive)


async def queue_ping_pong(count: int) -> float:
    queues: dict[str, asyncio.Queue[dict[str, Any]]] = {
        "bench.ping": asyncio.Queue(100),
        "bench.pong": asyncio.Queue(100),
    }

    async def send(name: str, message: dict[str, Any]) -> None:
        await queues[name].put(dict(message))

    async def receive(name: str) -> dict[str, Any]:
        return await queues[name].get()

    return await _ping_pong(count, send, receive)


async def _fan_out(
    members: int,
    receive: Callable[[int], Awaitable[dict[str, Any]]],
    broadcast: Callable[[], Awaitable[None]],
) -> float:
    tasks = [asyncio.ensure_future(receive(index)) for index in range(members)]
    await asyncio.sleep(0)  # every member is now waiting
    start = time.perf_counter()
    await broadcast()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def layer_fan_out(members: int) -> float:
    layer = InMemoryChannelLayer()
    for index in range(members):
        await layer.group_add("bench-group", f"bench.member.{index}")

    async def receive(index: int) -> dict[str, Any]:
        return await layer.receive(f"bench.member.{index}")

    return await _fan_out(members, receive, lambda: layer.group_send("bench-group", MESSAGE))


async def queue_fan_out(members: int) -> float:
    queues: list[asyncio.Queue[dict[str, Any]]] = [asyncio.Queue(100) for _ in range(members)]

    async def broadcast() -> None:
        for queue in queues:
            queue.put_nowait(dict(MESSAGE))

    async def receive(index: int) -> dict[str, Any]:
        return await queues[index].get()

    return await _fan_out(members, receive, broadcast)


def best_of(repeat: int, scenario: Callable[[int], Awaitable[float]], size: int) -> float:
    return min(asyncio.run(scenario(size)) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (best kept)")
    args = parser.parse_args()
    count = 2_000 if args.quick else 20_000
    rows: list[
        tuple[str, Callable[[int], Awaitable[float]], Callable[[int], Awaitable[float]], int]
    ]
    rows = [
        (f"round trip x{count}", layer_round_trip, queue_round_trip, count),
        (f"ping-pong x{count}", layer_ping_pong, queue_ping_pong, count),
    ]
    rows += [(f"fan-out {m}", layer_fan_out, queue_fan_out, m) for m in (1, 100, 1000)]
    print(f"{'scenario':<22}{'layer':>12}{'asyncio.Queue':>16}{'ratio':>9}")
    for label, layer_side, queue_side, size in rows:
        layer_time = best_of(args.repeat, layer_side, size)
        queue_time = best_of(args.repeat, queue_side, size)
        print(
            f"{label:<22}{layer_time * 1000:>10.2f}ms{queue_time * 1000:>14.2f}ms"
            f"{layer_time / queue_time:>8.2f}x"
        )


if __name__ == "__main__":
    main()
