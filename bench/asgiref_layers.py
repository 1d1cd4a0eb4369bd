"""Benchmark: asgiref's InMemoryChannelLayer against raw asyncio.Queue doing the same work.

Run from the repository root:

    .venv/bin/python bench/asgiref_layers.py            # full run
    .venv/bin/python bench/asgiref_layers.py --quick    # smaller counts
    .venv/bin/python bench/asgiref_layers.py --no-upstream   # without the upstream peer

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

Upstream (Channels 4.3.2's ``InMemoryChannelLayer``, which upstream asgiref 3.13.0 does
not have) runs the fan-out scenarios in a peer process with a venv from PyPI (built once,
see ``_upstream_peer``); its rounds alternate with ours and the report adds its time
and the speed-up ``upstream / layer`` (higher is better for us).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _upstream_peer import ASGIREF_UPSTREAM, Peer, build_venv, serve_peer

MESSAGE: dict[str, Any] = {"type": "chat.message", "text": "hello world", "room": "lobby", "n": 1}


def layer_class() -> Any:
    """This repository's layer; in an upstream peer, Channels' (asgiref 3 has none)."""
    try:
        from asgiref.layers import InMemoryChannelLayer
    except ImportError:
        from channels.layers import InMemoryChannelLayer  # type: ignore[no-redef]
    return InMemoryChannelLayer


async def layer_round_trip(count: int) -> float:
    layer = layer_class()(capacity=count + 1)
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
    layer = layer_class()()
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
    layer = layer_class()()
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


Scenario = Callable[[int], Awaitable[float]]


def run_peer() -> None:
    """``--peer``: time the fan-out with the layer this interpreter has (upstream's)."""
    import asgiref
    import channels

    versions = f"channels {channels.__version__}, asgiref {asgiref.__version__}"
    serve_peer(versions, lambda members: asyncio.run(layer_fan_out(members)))


def measure_row(
    repeat: int, layer_side: Scenario, queue_side: Scenario, size: int, peer: Peer | None
) -> tuple[float, float, float | None]:
    """Best times of ``repeat`` rounds; each round runs the layer, the queue, the peer."""
    layer_time = queue_time = upstream_time = float("inf")
    for _ in range(repeat):
        layer_time = min(layer_time, asyncio.run(layer_side(size)))
        queue_time = min(queue_time, asyncio.run(queue_side(size)))
        if peer is not None:
            upstream_time = min(upstream_time, peer.measure(size))
    return layer_time, queue_time, None if peer is None else upstream_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (best kept)")
    parser.add_argument(
        "--no-upstream", action="store_true", help="skip upstream Channels' layer (needs PyPI once)"
    )
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        run_peer()
        return
    peer = None if args.no_upstream else Peer(__file__, "fan-out", build_venv(*ASGIREF_UPSTREAM))
    count = 2_000 if args.quick else 20_000
    rows: list[tuple[str, Scenario, Scenario, int, bool]] = [
        (f"round trip x{count}", layer_round_trip, queue_round_trip, count, False),
        (f"ping-pong x{count}", layer_ping_pong, queue_ping_pong, count, False),
    ]
    rows += [(f"fan-out {m}", layer_fan_out, queue_fan_out, m, True) for m in (1, 100, 1000)]
    if peer is not None:
        print(f"# upstream: {peer.versions}")
    print(
        f"{'scenario':<22}{'layer':>12}{'asyncio.Queue':>16}{'ratio':>9}{'upstream':>13}{'speed-up':>10}"
    )
    for label, layer_side, queue_side, size, with_peer in rows:
        times = measure_row(args.repeat, layer_side, queue_side, size, peer if with_peer else None)
        layer_time, queue_time, upstream_time = times
        line = (
            f"{label:<22}{layer_time * 1000:>10.2f}ms{queue_time * 1000:>14.2f}ms"
            f"{layer_time / queue_time:>8.2f}x"
        )
        if upstream_time is not None:
            line += f"{upstream_time * 1000:>11.2f}ms{upstream_time / layer_time:>9.1f}x"
        print(line)
    if peer is not None:
        peer.close()


if __name__ == "__main__":
    main()
